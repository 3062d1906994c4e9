// UringSync: the io_uring half of the POSIX File. It runs the fdatasync that makes a
// group-commit write durable asynchronously, so the writer thread can acknowledge
// the previous batch and form the next one while the device flushes. The write itself
// is a plain pwrite: io_uring hands buffered writes to a kernel worker thread, which
// measured slower (docs/performance.md). Private to the storage layer; liburing
// types stay out of every header.
#pragma once

#include <memory>
#include <string>

#include "orderlog/status.h"

struct io_uring;

namespace orderlog {

// One small ring per file, at most one fdatasync in flight. Not thread-safe.
class UringSync {
  struct PassKey {};  // lets create() use make_unique while nothing else can construct

 public:
  // Fails when the kernel refuses a ring (old kernel, seccomp, resource limits); the
  // caller then syncs synchronously. `path` only names the file in errors.
  static Result<std::unique_ptr<UringSync>> create(const std::string& path);
  UringSync(PassKey, std::unique_ptr<io_uring> ring, std::string path);
  // Waits for an fdatasync still in flight.
  ~UringSync();
  UringSync(const UringSync&) = delete;
  UringSync& operator=(const UringSync&) = delete;

  // Queues an fdatasync of `fd`. On error nothing is in flight and the ring must be
  // discarded (it may still hold the unsubmitted entry). REQUIRES: !in_flight().
  Status submit(int fd);
  // Waits for the fdatasync: ok only if it returned 0. REQUIRES: in_flight().
  Status wait();
  bool in_flight() const { return in_flight_; }

 private:
  std::unique_ptr<io_uring> ring_;
  std::string path_;
  bool in_flight_ = false;
};

}  // namespace orderlog
