// The io_uring fdatasync of the POSIX File; see uring_file.h for why it exists.
#include "storage/uring_file.h"

#include <liburing.h>

#include <cerrno>

#include "orderlog/check.h"

namespace orderlog {
namespace {
constexpr unsigned kRingEntries = 2;  // one fdatasync is all a file ever has in flight
}  // namespace

Result<std::unique_ptr<UringSync>> UringSync::create(const std::string& path) {
  auto ring = std::make_unique<io_uring>();
  int rc = io_uring_queue_init(kRingEntries, ring.get(), 0);
  if (rc < 0) return Status::from_errno(-rc, "io_uring_queue_init for " + path);
  return std::make_unique<UringSync>(PassKey{}, std::move(ring), path);
}

UringSync::UringSync(PassKey, std::unique_ptr<io_uring> ring, std::string path)
    : ring_(std::move(ring)), path_(std::move(path)) {}

UringSync::~UringSync() {
  if (in_flight_) (void)wait();
  io_uring_queue_exit(ring_.get());
}

Status UringSync::submit(int fd) {
  OL_CHECK(!in_flight_);
  io_uring_sqe* fsync = io_uring_get_sqe(ring_.get());
  OL_CHECK(fsync != nullptr);  // the ring is empty between operations
  io_uring_prep_fsync(fsync, fd, IORING_FSYNC_DATASYNC);
  int submitted = io_uring_submit(ring_.get());
  if (submitted == 0) return Status::io_error("io_uring_submit for " + path_ + " took nothing");
  if (submitted < 0) return Status::from_errno(-submitted, "io_uring_submit for " + path_);
  in_flight_ = true;
  return Status::ok();
}

Status UringSync::wait() {
  OL_CHECK(in_flight_);
  io_uring_cqe* cqe = nullptr;
  int rc = io_uring_wait_cqe(ring_.get(), &cqe);
  while (rc == -EINTR) rc = io_uring_wait_cqe(ring_.get(), &cqe);
  OL_CHECK_MSG(rc == 0, "io_uring_wait_cqe failed with an fdatasync in flight");
  const int result = cqe->res;
  io_uring_cqe_seen(ring_.get(), cqe);
  in_flight_ = false;
  if (result < 0) return Status::from_errno(-result, "fdatasync " + path_ + " via io_uring");
  return Status::ok();
}

}  // namespace orderlog
