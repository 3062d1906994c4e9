// FaultEnv: wraps another Env and injects failures into chosen operations, so tests
// can pin what the store does on EIO, ENOSPC, torn writes and fsync failure.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "orderlog/env.h"

namespace orderlog::testing {

enum class FaultOp : uint8_t {
  kWrite,     // File::write_at and the write half of start_write_and_sync
  kSync,      // File::sync_data and the sync half of start_write_and_sync
  kAllocate,  // File::allocate and File::truncate when it grows the file
  kOpen,      // Env::open_file
  kSyncDir,   // Env::sync_dir (the path is the directory's)
};

struct FaultRule {
  FaultOp op = FaultOp::kWrite;
  // Only operations on paths containing this substring count ("" matches all).
  std::string path_contains;
  // Let this many matching operations succeed, then fail the next one.
  uint64_t successes_before_failure = 0;
  int error_number = 5;  // EIO
  // For kWrite: write this many leading bytes of the failing write before failing
  // (a torn write). 0 writes nothing.
  size_t torn_bytes_kept = 0;
  // Fail every matching operation after the first failure too (a dead disk).
  bool sticky = false;
};

class FaultEnv : public Env {
 public:
  explicit FaultEnv(Env* base);  // `base` must outlive this
  ~FaultEnv() override;

  // Adds a rule; rules are independent and each fires at most once unless sticky.
  void add_rule(const FaultRule& rule);
  void clear_rules();
  // How many failures were injected so far.
  uint64_t failures_injected() const { return failures_injected_.load(); }

  Result<std::unique_ptr<File>> open_file(const std::string& path, OpenMode mode) override;
  Result<std::unique_ptr<File>> open_direct_file(const std::string& path, OpenMode mode) override;
  bool file_exists(const std::string& path) override;
  Result<std::vector<std::string>> list_dir(const std::string& dir) override;
  Status create_dir(const std::string& dir) override;
  Status rename_file(const std::string& from, const std::string& to) override;
  Status remove_file(const std::string& path) override;
  Status sync_dir(const std::string& dir) override;
  Result<std::unique_ptr<FileLock>> lock_file(const std::string& path) override;
  uint64_t now_ns() override;

  // Used by the wrapped files: returns the error to inject for this operation, if any
  // (0 = none), and the torn-write length through `torn_bytes_kept`.
  int should_fail(FaultOp op, const std::string& path, size_t* torn_bytes_kept);

 private:
  struct ArmedRule {
    FaultRule rule;
    uint64_t matched = 0;
    bool fired = false;
  };
  Env* base_;
  std::mutex mutex_;
  std::vector<ArmedRule> rules_;
  std::atomic<uint64_t> failures_injected_{0};
};

}  // namespace orderlog::testing
