// The io_uring write and fdatasync of the POSIX File; see uring_file.h for why it exists.
#include "storage/uring_file.h"

#include <liburing.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "orderlog/check.h"

namespace orderlog {
namespace {
constexpr unsigned kRingEntries = 1;  // a file has one operation in flight at most
}  // namespace

Result<std::unique_ptr<UringWriter>> UringWriter::create(const std::string& path) {
  auto ring = std::make_unique<io_uring>();
  int rc = io_uring_queue_init(kRingEntries, ring.get(), 0);
  if (rc < 0) return Status::from_errno(-rc, "io_uring_queue_init for " + path);
  return std::make_unique<UringWriter>(PassKey{}, std::move(ring), path);
}

UringWriter::UringWriter(PassKey, std::unique_ptr<io_uring> ring, std::string path)
    : ring_(std::move(ring)), path_(std::move(path)) {
  event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (event_fd_ >= 0 && io_uring_register_eventfd(ring_.get(), event_fd_) != 0) {
    close(event_fd_);
    event_fd_ = -1;
  }
}

UringWriter::~UringWriter() {
  if (in_flight_) (void)wait();
  io_uring_queue_exit(ring_.get());
  if (event_fd_ >= 0) close(event_fd_);
}

Status UringWriter::submit_sync(int fd) {
  OL_CHECK(!in_flight_);
  io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
  OL_CHECK(sqe != nullptr);  // the ring is empty between operations
  io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
  writing_ = false;
  return submit("fdatasync");
}

Status UringWriter::submit_write(int fd, std::span<const std::byte> data, uint64_t offset) {
  OL_CHECK(!in_flight_);
  io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
  OL_CHECK(sqe != nullptr);
  io_uring_prep_write(sqe, fd, data.data(), static_cast<unsigned>(data.size()), offset);
  writing_ = true;
  write_bytes_ = data.size();
  write_offset_ = offset;
  return submit("write");
}

Status UringWriter::submit(const std::string& what) {
  if (event_fd_ >= 0) {
    uint64_t signalled = 0;  // left over from the previous completion: not this one's
    (void)!read(event_fd_, &signalled, sizeof(signalled));
  }
  int submitted = io_uring_submit(ring_.get());
  if (submitted == 0) return Status::io_error("io_uring_submit of a " + what + " for " + path_ + " took nothing");
  if (submitted < 0) return Status::from_errno(-submitted, "io_uring_submit of a " + what + " for " + path_);
  in_flight_ = true;
  return Status::ok();
}

Status UringWriter::wait() {
  OL_CHECK(in_flight_);
  io_uring_cqe* cqe = nullptr;
  int rc = io_uring_wait_cqe(ring_.get(), &cqe);
  while (rc == -EINTR) rc = io_uring_wait_cqe(ring_.get(), &cqe);
  OL_CHECK_MSG(rc == 0, "io_uring_wait_cqe failed with an operation in flight");
  const int result = cqe->res;
  io_uring_cqe_seen(ring_.get(), cqe);
  in_flight_ = false;
  if (!writing_) {
    if (result < 0) return Status::from_errno(-result, "fdatasync " + path_ + " via io_uring");
    return Status::ok();
  }
  const std::string where = path_ + " at offset " + std::to_string(write_offset_);
  if (result < 0) return Status::from_errno(-result, "write " + where + " via io_uring");
  if (static_cast<size_t>(result) != write_bytes_) {
    return Status::io_error("write " + where + " via io_uring: short write of " + std::to_string(result) + " of " +
                            std::to_string(write_bytes_) + " bytes");
  }
  return Status::ok();
}

}  // namespace orderlog
