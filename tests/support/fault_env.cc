// FaultEnv: every file it opens is wrapped so that writes, syncs and allocations ask
// the rules first. Injected failures look like real ones (Status::from_errno), and a
// torn write really leaves its leading bytes in the base file, so tests see what a
// failing disk would leave behind.
#include "fault_env.h"

#include <algorithm>
#include <optional>

#include "orderlog/check.h"

namespace orderlog::testing {
namespace {

const char* op_name(FaultOp op) {
  switch (op) {
    case FaultOp::kWrite: return "write";
    case FaultOp::kSync: return "sync";
    case FaultOp::kAllocate: return "allocate";
    case FaultOp::kOpen: return "open";
    case FaultOp::kSyncDir: return "directory sync";
  }
  return "unknown op";
}

Status injected(int error_number, FaultOp op, const std::string& path) {
  return Status::from_errno(error_number, std::string("injected: ") + op_name(op) + " " + path);
}

class FaultFile final : public File {
 public:
  FaultFile(FaultEnv* env, std::unique_ptr<File> base, std::string path)
      : env_(env), base_(std::move(base)), path_(std::move(path)) {}

  Status write_at(uint64_t offset, std::span<const std::byte> data) override;
  size_t write_alignment() const override { return base_->write_alignment(); }
  Status sync_data() override;
  Status start_write_and_sync(uint64_t offset, std::span<const std::byte> data, bool sync) override;
  Status finish_write_and_sync() override;
  Status read_at(uint64_t offset, std::span<std::byte> out) override { return base_->read_at(offset, out); }
  Result<uint64_t> size() override { return base_->size(); }
  Status truncate(uint64_t size) override;
  Status allocate(uint64_t size) override;
  Result<const std::byte*> map(uint64_t reserve_bytes) override { return base_->map(reserve_bytes); }

 private:
  FaultEnv* env_;
  std::unique_ptr<File> base_;
  std::string path_;
  std::optional<Status> completed_;
};

Status FaultFile::write_at(uint64_t offset, std::span<const std::byte> data) {
  size_t torn_bytes_kept = 0;
  int error_number = env_->should_fail(FaultOp::kWrite, path_, &torn_bytes_kept);
  if (error_number == 0) return base_->write_at(offset, data);
  // A direct write tears at block boundaries.
  torn_bytes_kept = std::min(torn_bytes_kept, data.size()) / base_->write_alignment() * base_->write_alignment();
  if (torn_bytes_kept > 0) {
    // The torn prefix is best effort: the injected error is what the caller must see.
    (void)base_->write_at(offset, data.first(torn_bytes_kept));
  }
  return injected(error_number, FaultOp::kWrite, path_);
}

Status FaultFile::sync_data() {
  int error_number = env_->should_fail(FaultOp::kSync, path_, nullptr);
  if (error_number != 0) return injected(error_number, FaultOp::kSync, path_);
  return base_->sync_data();
}

// Runs synchronously through the same checks as write_at and sync_data, so a rule
// counts the halves of a write-and-sync exactly like separate calls.
Status FaultFile::start_write_and_sync(uint64_t offset, std::span<const std::byte> data, bool sync) {
  OL_CHECK_MSG(!completed_.has_value(), "at most one started write per file");
  Status status = write_at(offset, data);
  if (status.is_ok() && sync) status = sync_data();
  completed_ = std::move(status);
  return Status::ok();
}

Status FaultFile::finish_write_and_sync() {
  OL_CHECK_MSG(completed_.has_value(), "finish_write_and_sync without a started write");
  Status status = std::move(*completed_);
  completed_.reset();
  return status;
}

Status FaultFile::truncate(uint64_t size) {
  OL_ASSIGN_OR_RETURN(uint64_t current_size, base_->size());
  if (size > current_size) {
    int error_number = env_->should_fail(FaultOp::kAllocate, path_, nullptr);
    if (error_number != 0) return injected(error_number, FaultOp::kAllocate, path_);
  }
  return base_->truncate(size);
}

Status FaultFile::allocate(uint64_t size) {
  int error_number = env_->should_fail(FaultOp::kAllocate, path_, nullptr);
  if (error_number != 0) return injected(error_number, FaultOp::kAllocate, path_);
  return base_->allocate(size);
}

}  // namespace

FaultEnv::FaultEnv(Env* base) : base_(base) { OL_CHECK(base_ != nullptr); }
FaultEnv::~FaultEnv() = default;

void FaultEnv::add_rule(const FaultRule& rule) {
  OL_CHECK_MSG(rule.error_number != 0, "a fault rule needs a non-zero errno");
  std::lock_guard lock(mutex_);
  ArmedRule armed;
  armed.rule = rule;
  rules_.push_back(std::move(armed));
}

void FaultEnv::clear_rules() {
  std::lock_guard lock(mutex_);
  rules_.clear();
}

// Every matching rule counts the operation, so rules stay independent; the first
// that fires decides the error. A sticky rule keeps failing after it fired but tears
// only its first write: a dead disk takes nothing more.
int FaultEnv::should_fail(FaultOp op, const std::string& path, size_t* torn_bytes_kept) {
  std::lock_guard lock(mutex_);
  int error_number = 0;
  for (ArmedRule& armed : rules_) {
    const FaultRule& rule = armed.rule;
    if (rule.op != op || path.find(rule.path_contains) == std::string::npos) continue;
    bool fails = false;
    bool first_failure = false;
    if (armed.fired) {
      fails = rule.sticky;
    } else if (++armed.matched > rule.successes_before_failure) {
      armed.fired = true;
      fails = true;
      first_failure = true;
    }
    if (!fails || error_number != 0) continue;
    error_number = rule.error_number;
    if (torn_bytes_kept != nullptr) *torn_bytes_kept = first_failure ? rule.torn_bytes_kept : 0;
  }
  if (error_number != 0) failures_injected_.fetch_add(1);
  return error_number;
}

Result<std::unique_ptr<File>> FaultEnv::open_file(const std::string& path, OpenMode mode) {
  int error_number = should_fail(FaultOp::kOpen, path, nullptr);
  if (error_number != 0) return injected(error_number, FaultOp::kOpen, path);
  OL_ASSIGN_OR_RETURN(std::unique_ptr<File> base, base_->open_file(path, mode));
  return std::unique_ptr<File>(std::make_unique<FaultFile>(this, std::move(base), path));
}

Result<std::unique_ptr<File>> FaultEnv::open_direct_file(const std::string& path, OpenMode mode) {
  int error_number = should_fail(FaultOp::kOpen, path, nullptr);
  if (error_number != 0) return injected(error_number, FaultOp::kOpen, path);
  OL_ASSIGN_OR_RETURN(std::unique_ptr<File> base, base_->open_direct_file(path, mode));
  return std::unique_ptr<File>(std::make_unique<FaultFile>(this, std::move(base), path));
}

bool FaultEnv::file_exists(const std::string& path) { return base_->file_exists(path); }
Result<std::vector<std::string>> FaultEnv::list_dir(const std::string& dir) { return base_->list_dir(dir); }
Status FaultEnv::create_dir(const std::string& dir) { return base_->create_dir(dir); }
Status FaultEnv::rename_file(const std::string& from, const std::string& to) { return base_->rename_file(from, to); }
Status FaultEnv::remove_file(const std::string& path) { return base_->remove_file(path); }
Status FaultEnv::sync_dir(const std::string& dir) {
  if (const int error_number = should_fail(FaultOp::kSyncDir, dir, nullptr); error_number != 0) {
    return injected(error_number, FaultOp::kSyncDir, dir);
  }
  return base_->sync_dir(dir);
}
Result<std::unique_ptr<FileLock>> FaultEnv::lock_file(const std::string& path) { return base_->lock_file(path); }
uint64_t FaultEnv::now_ns() { return base_->now_ns(); }

}  // namespace orderlog::testing
