// MemEnv: files live in anonymous memory and remember their last synced bytes, so a
// test can cut the power (crash_copy) at any point and reopen what a disk would keep.
// Each file's bytes sit in one fixed, lazily backed reservation so that map() hands
// out a pointer that, like a POSIX shared mapping, never moves and sees later writes.
#include "mem_env.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>
#include <optional>

#include "orderlog/check.h"

namespace orderlog::testing {
namespace {

// Address space only (MAP_NORESERVE); untouched pages cost nothing.
constexpr uint64_t kNodeCapacityBytes = uint64_t{4} << 30;

std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string name_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "/db/" and "/db" name the same directory.
std::string without_trailing_slash(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

// The root and the working directory always exist. REQUIRES: the env's mutex held.
bool has_dir(const std::map<std::string, bool>& dirs, const std::string& dir) {
  return dir.empty() || dir == "/" || dirs.contains(dir);
}

Status missing(const std::string& context) { return Status::not_found(Status::from_errno(ENOENT, context).message()); }

}  // namespace

struct MemEnv::Node {
  Node() {
    void* base = mmap(nullptr, kNodeCapacityBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                      -1, 0);
    OL_CHECK_MSG(base != MAP_FAILED, "MemEnv could not reserve address space for a file");
    bytes = static_cast<std::byte*>(base);
  }
  ~Node() { munmap(bytes, kNodeCapacityBytes); }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // REQUIRES: mutex held.
  void mark_dirty(uint64_t begin, uint64_t end) {
    dirty_begin = std::min(dirty_begin, begin);
    dirty_end = std::max(dirty_end, end);
  }
  // Resizes the current bytes; a grown tail reads as zeros. REQUIRES: mutex held.
  void resize(uint64_t new_size) {
    OL_CHECK(new_size <= kNodeCapacityBytes);
    if (new_size < size) std::memset(bytes + new_size, 0, size - new_size);
    mark_dirty(std::min(size, new_size), std::max(size, new_size));
    size = new_size;
  }
  // Copies only what changed since the last sync, so syncing an append-only log after
  // every batch stays linear in the bytes written. REQUIRES: mutex held.
  void make_durable() {
    durable.resize(size);
    uint64_t end = std::min(dirty_end, size);
    if (dirty_begin < end) std::memcpy(durable.data() + dirty_begin, bytes + dirty_begin, end - dirty_begin);
    dirty_begin = std::numeric_limits<uint64_t>::max();
    dirty_end = 0;
  }
  // Replaces current and durable bytes. REQUIRES: mutex held.
  void reset_to(const std::string& content) {
    resize(0);
    OL_CHECK(content.size() <= kNodeCapacityBytes);
    std::memcpy(bytes, content.data(), content.size());
    size = content.size();
    durable = content;
    dirty_begin = std::numeric_limits<uint64_t>::max();
    dirty_end = 0;
  }

  std::mutex mutex;
  std::byte* bytes = nullptr;  // kNodeCapacityBytes reserved; [0, size) is the file
  uint64_t size = 0;
  std::string durable;  // the file at its last successful sync_data()
  // Bytes that may differ from `durable`: [dirty_begin, dirty_end).
  uint64_t dirty_begin = std::numeric_limits<uint64_t>::max();
  uint64_t dirty_end = 0;
};

namespace {

class MemFile final : public File {
 public:
  MemFile(std::shared_ptr<MemEnv::Node> node, std::string path, bool read_only, size_t write_alignment)
      : node_(std::move(node)), path_(std::move(path)), read_only_(read_only), write_alignment_(write_alignment) {}

  Status write_at(uint64_t offset, std::span<const std::byte> data) override;
  size_t write_alignment() const override { return write_alignment_; }
  Status sync_data() override;
  Status start_write_and_sync(uint64_t offset, std::span<const std::byte> data, bool sync) override;
  Status finish_write_and_sync() override;
  Status read_at(uint64_t offset, std::span<std::byte> out) override;
  Result<uint64_t> size() override;
  Status truncate(uint64_t size) override;
  Status allocate(uint64_t size) override;
  Result<const std::byte*> map(uint64_t reserve_bytes) override;

 private:
  // What a POSIX fd opened O_RDONLY answers to a write.
  Status refuse_write(const char* operation) const {
    return Status::from_errno(EBADF, std::string(operation) + " " + path_ + " (opened read-only)");
  }
  Status check_fits(const char* operation, uint64_t end) const {
    if (end <= kNodeCapacityBytes) return Status::ok();
    return Status::from_errno(EFBIG, std::string(operation) + " " + path_ + " past the MemEnv capacity of " +
                                         std::to_string(kNodeCapacityBytes) + " bytes");
  }

  std::shared_ptr<MemEnv::Node> node_;  // shared: a removed or renamed file stays writable
  std::string path_;
  bool read_only_;
  size_t write_alignment_;  // kDirectIoAlignment: checked like the kernel checks O_DIRECT
  std::optional<Status> completed_;
  uint64_t map_reserve_bytes_ = 0;
};

Status MemFile::write_at(uint64_t offset, std::span<const std::byte> data) {
  if (read_only_) return refuse_write("write_at");
  OL_CHECK_MSG(offset % write_alignment_ == 0 && data.size() % write_alignment_ == 0 &&
                   reinterpret_cast<uintptr_t>(data.data()) % write_alignment_ == 0,
               "misaligned direct write");
  if (offset > kNodeCapacityBytes) return check_fits("write_at", offset);
  OL_RETURN_IF_ERROR(check_fits("write_at", offset + data.size()));
  std::lock_guard lock(node_->mutex);
  uint64_t end = offset + data.size();
  if (end > node_->size) node_->resize(end);
  // A direct write rewrites the committed head of its first page with the bytes it
  // already holds, while readers of the mapping may be reading them. The kernel never
  // shows a reader a half-rewritten page; here, bytes that keep their value are simply
  // not stored again (a store of the same value is still a race to a race detector).
  size_t same = 0;
  const std::byte* current = node_->bytes + offset;
  while (same < data.size() && current[same] == data[same]) ++same;
  if (same < data.size()) std::memcpy(node_->bytes + offset + same, data.data() + same, data.size() - same);
  node_->mark_dirty(offset, end);
  return Status::ok();
}

Status MemFile::sync_data() {
  std::lock_guard lock(node_->mutex);
  node_->make_durable();
  return Status::ok();
}

Status MemFile::start_write_and_sync(uint64_t offset, std::span<const std::byte> data, bool sync) {
  OL_CHECK_MSG(!completed_.has_value(), "at most one started write per file");
  Status status = write_at(offset, data);
  if (status.is_ok() && sync) status = sync_data();
  completed_ = std::move(status);
  return Status::ok();
}

Status MemFile::finish_write_and_sync() {
  OL_CHECK_MSG(completed_.has_value(), "finish_write_and_sync without a started write");
  Status status = std::move(*completed_);
  completed_.reset();
  return status;
}

Status MemFile::read_at(uint64_t offset, std::span<std::byte> out) {
  std::lock_guard lock(node_->mutex);
  if (offset > node_->size || out.size() > node_->size - offset) {
    return Status::io_error("read " + path_ + " at offset " + std::to_string(offset) + ": short read, wanted " +
                            std::to_string(out.size()) + " bytes, file is " + std::to_string(node_->size));
  }
  if (!out.empty()) std::memcpy(out.data(), node_->bytes + offset, out.size());
  return Status::ok();
}

Result<uint64_t> MemFile::size() {
  std::lock_guard lock(node_->mutex);
  return node_->size;
}

Status MemFile::truncate(uint64_t size) {
  if (read_only_) return refuse_write("truncate");
  OL_RETURN_IF_ERROR(check_fits("truncate", size));
  std::lock_guard lock(node_->mutex);
  node_->resize(size);
  return Status::ok();
}

Status MemFile::allocate(uint64_t size) {
  if (read_only_) return refuse_write("allocate");
  OL_RETURN_IF_ERROR(check_fits("allocate", size));
  std::lock_guard lock(node_->mutex);
  if (size > node_->size) node_->resize(size);
  return Status::ok();
}

Result<const std::byte*> MemFile::map(uint64_t reserve_bytes) {
  // Same rules as the POSIX mapping, so code tested here behaves the same there.
  if (map_reserve_bytes_ != 0 && reserve_bytes > map_reserve_bytes_) {
    return Status::invalid_argument("map " + path_ + ": already mapped with " + std::to_string(map_reserve_bytes_) +
                                    " bytes, cannot grow to " + std::to_string(reserve_bytes));
  }
  if (reserve_bytes == 0) return Status::invalid_argument("map " + path_ + ": zero bytes reserved");
  if (map_reserve_bytes_ == 0) map_reserve_bytes_ = reserve_bytes;
  return static_cast<const std::byte*>(node_->bytes);
}

}  // namespace

// Frees the lock's name when destroyed. REQUIRES: the MemEnv outlives it.
class MemFileLock final : public FileLock {
 public:
  MemFileLock(MemEnv* env, std::string path) : env_(env), path_(std::move(path)) {}
  ~MemFileLock() override {
    std::lock_guard lock(env_->mutex_);
    env_->locks_.erase(path_);
  }
  MemFileLock(const MemFileLock&) = delete;
  MemFileLock& operator=(const MemFileLock&) = delete;

 private:
  MemEnv* env_;
  std::string path_;
};

MemEnv::MemEnv() = default;
MemEnv::~MemEnv() = default;

Result<std::unique_ptr<File>> MemEnv::open_file(const std::string& path, OpenMode mode) {
  return open(path, mode, /*write_alignment=*/1);
}

Result<std::unique_ptr<File>> MemEnv::open_direct_file(const std::string& path, OpenMode mode) {
  OL_CHECK(mode != OpenMode::kReadOnly);
  return open(path, mode, kDirectIoAlignment);
}

Result<std::unique_ptr<File>> MemEnv::open(const std::string& path, OpenMode mode, size_t write_alignment) {
  std::lock_guard lock(mutex_);
  std::string context = "open " + path;
  if (!has_dir(dirs_, parent_of(path))) return missing(context);
  auto found = files_.find(path);
  bool creates = mode == OpenMode::kCreate || mode == OpenMode::kCreateExclusive;
  if (found == files_.end() && !creates) return missing(context);
  if (found != files_.end() && mode == OpenMode::kCreateExclusive) {
    return Status::from_errno(EEXIST, context + " (create exclusive)");
  }
  if (found == files_.end()) found = files_.emplace(path, std::make_shared<Node>()).first;
  return std::unique_ptr<File>(std::make_unique<MemFile>(found->second, path, mode == OpenMode::kReadOnly, write_alignment));
}

bool MemEnv::file_exists(const std::string& path) {
  std::lock_guard lock(mutex_);
  return files_.contains(path) || (!path.empty() && has_dir(dirs_, without_trailing_slash(path)));
}

Result<std::vector<std::string>> MemEnv::list_dir(const std::string& dir) {
  std::string wanted = without_trailing_slash(dir);
  std::lock_guard lock(mutex_);
  if (!has_dir(dirs_, wanted)) return missing("opendir " + dir);
  std::vector<std::string> names;
  for (const auto& [path, node] : files_) {
    if (parent_of(path) == wanted) names.push_back(name_of(path));
  }
  for (const auto& [path, unused] : dirs_) {
    if (path != wanted && parent_of(path) == wanted) names.push_back(name_of(path));
  }
  return names;
}

Status MemEnv::create_dir(const std::string& dir) {
  std::string name = without_trailing_slash(dir);
  std::lock_guard lock(mutex_);
  // Parents are not required: tests name directories freely (e.g. "/db").
  if (files_.contains(name)) return Status::from_errno(EEXIST, "mkdir " + dir + " (a file has that name)");
  dirs_[name] = true;
  return Status::ok();
}

Status MemEnv::rename_file(const std::string& from, const std::string& to) {
  std::lock_guard lock(mutex_);
  std::string context = "rename " + from + " to " + to;
  auto found = files_.find(from);
  if (found == files_.end()) return missing(context);
  if (!has_dir(dirs_, parent_of(to))) return missing(context);
  std::shared_ptr<Node> node = found->second;
  files_.erase(found);
  files_[to] = std::move(node);
  return Status::ok();
}

Status MemEnv::remove_file(const std::string& path) {
  std::lock_guard lock(mutex_);
  if (files_.erase(path) == 0) return missing("unlink " + path);
  return Status::ok();
}

Status MemEnv::sync_dir(const std::string& dir) {
  std::lock_guard lock(mutex_);
  if (!has_dir(dirs_, without_trailing_slash(dir))) return missing("open directory " + dir + " to sync it");
  return Status::ok();
}

Result<std::unique_ptr<FileLock>> MemEnv::lock_file(const std::string& path) {
  std::lock_guard lock(mutex_);
  if (!has_dir(dirs_, parent_of(path))) return missing("open lock file " + path);
  if (locks_.contains(path)) return Status::busy(path + " is locked by another process");
  // Like flock on a created file, the lock file shows up in the directory.
  if (!files_.contains(path)) files_.emplace(path, std::make_shared<Node>());
  locks_[path] = true;
  return std::unique_ptr<FileLock>(std::make_unique<MemFileLock>(this, path));
}

uint64_t MemEnv::now_ns() {
  {
    std::lock_guard lock(mutex_);
    if (clock_ns_ != 0) return clock_ns_;
  }
  auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count());
}

std::unique_ptr<MemEnv> MemEnv::crash_copy() const {
  auto copy = std::make_unique<MemEnv>();
  std::lock_guard lock(mutex_);
  for (const auto& [path, node] : files_) {
    std::lock_guard node_lock(node->mutex);
    auto survivor = std::make_shared<Node>();
    survivor->reset_to(node->durable);
    copy->files_.emplace(path, std::move(survivor));
  }
  copy->dirs_ = dirs_;
  return copy;
}

Result<std::string> MemEnv::contents(const std::string& path) const {
  std::lock_guard lock(mutex_);
  auto found = files_.find(path);
  if (found == files_.end()) return missing("contents of " + path);
  const Node& node = *found->second;
  std::lock_guard node_lock(found->second->mutex);
  return std::string(reinterpret_cast<const char*>(node.bytes), node.size);
}

void MemEnv::set_contents(const std::string& path, const std::string& bytes) {
  std::lock_guard lock(mutex_);
  // The file must be openable afterwards, so its directory comes into being too.
  if (!has_dir(dirs_, parent_of(path))) dirs_[parent_of(path)] = true;
  std::shared_ptr<Node>& node = files_[path];
  if (node == nullptr) node = std::make_shared<Node>();
  std::lock_guard node_lock(node->mutex);
  node->reset_to(bytes);
}

void MemEnv::set_clock_ns(uint64_t now_ns) {
  std::lock_guard lock(mutex_);
  clock_ns_ = now_ns;
}

}  // namespace orderlog::testing
