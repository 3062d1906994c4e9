// UringWriter: the io_uring half of the POSIX File. It runs one write, linked to the
// fdatasync that makes it durable, as a single submission, so the writer thread can
// encode its next batch while the kernel writes and syncs the previous one. Private
// to the storage layer; liburing types stay out of every header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "orderlog/status.h"

struct io_uring;

namespace orderlog {

// One small ring per file, at most one operation in flight. Not thread-safe.
class UringWriter {
  struct PassKey {};  // lets create() use make_unique while nothing else can construct

 public:
  // Fails when the kernel refuses a ring (old kernel, seccomp, resource limits);
  // the caller then writes synchronously. `path` only names the file in errors.
  static Result<std::unique_ptr<UringWriter>> create(const std::string& path);
  UringWriter(PassKey, std::unique_ptr<io_uring> ring, std::string path);
  // REQUIRES: !in_flight(): the kernel may still read the caller's buffer otherwise.
  ~UringWriter();
  UringWriter(const UringWriter&) = delete;
  UringWriter& operator=(const UringWriter&) = delete;

  // Queues a write of all of `data` at `offset` to `fd`, followed when `sync` by an
  // fdatasync that runs only if the write succeeded. On error nothing is in flight
  // and the ring must be discarded (it may still hold the unsubmitted entries).
  // REQUIRES: !in_flight(); `data` stays valid until wait() returns.
  Status submit(int fd, uint64_t offset, std::span<const std::byte> data, bool sync);
  // Waits for the submitted operation. Ok only if every byte was written and, when
  // requested, the fdatasync returned 0; a write error wins over the fsync's.
  // REQUIRES: in_flight().
  Status wait();

  bool in_flight() const { return completions_pending_ > 0; }
  // False after a partial submission: the ring may hold a stale entry, so the owner
  // should discard it once wait() returns.
  bool usable() const { return usable_; }

 private:
  Status write_outcome(int result) const;
  Status sync_outcome(int result) const;
  Status sync_directly() const;

  std::unique_ptr<io_uring> ring_;
  std::string path_;
  int fd_ = -1;
  uint64_t offset_ = 0;
  size_t length_ = 0;
  bool sync_requested_ = false;
  bool sync_submitted_ = false;
  int completions_pending_ = 0;
  bool usable_ = true;
};

}  // namespace orderlog
