// UringWriter: the io_uring half of the POSIX File. It runs a group commit's direct
// (O_DIRECT) write, or a buffered file's fdatasync, asynchronously, so the writer
// thread can acknowledge the previous batch and form the next one while the device
// works. A buffered write never goes through it: io_uring hands those to a kernel
// worker thread, which measured slower than a plain pwrite (docs/performance.md).
// Private to the storage layer; liburing types stay out of every header.
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
  // Fails when the kernel refuses a ring (old kernel, seccomp, resource limits); the
  // caller then writes and syncs synchronously. `path` only names the file in errors.
  static Result<std::unique_ptr<UringWriter>> create(const std::string& path);
  UringWriter(PassKey, std::unique_ptr<io_uring> ring, std::string path);
  // Waits for an operation still in flight.
  ~UringWriter();
  UringWriter(const UringWriter&) = delete;
  UringWriter& operator=(const UringWriter&) = delete;

  // Queues an fdatasync of `fd`. On error nothing is in flight and the ring must be
  // discarded (it may still hold the unsubmitted entry). REQUIRES: !in_flight().
  Status submit_sync(int fd);
  // Queues a write of `data` at `offset` through `fd`. `data` must stay valid until
  // wait() returns. Errors as submit_sync().
  Status submit_write(int fd, std::span<const std::byte> data, uint64_t offset);
  // Waits for what was submitted: ok only if the write wrote every byte or the
  // fdatasync returned 0. REQUIRES: in_flight().
  Status wait();
  bool in_flight() const { return in_flight_; }
  // An eventfd that turns readable when a completion arrives, or -1 when the kernel
  // refused one (waiting still works through wait()).
  int event_fd() const { return event_fd_; }

 private:
  Status submit(const std::string& what);

  std::unique_ptr<io_uring> ring_;
  std::string path_;
  int event_fd_ = -1;
  bool in_flight_ = false;
  bool writing_ = false;       // the operation in flight is a write (else an fdatasync)
  size_t write_bytes_ = 0;
  uint64_t write_offset_ = 0;
};

}  // namespace orderlog
