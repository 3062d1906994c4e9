// The io_uring write and fdatasync of the POSIX File; see uring_file.h for why it exists.
#include "storage/uring_file.h"

#include <liburing.h>

#include <cerrno>

#include "orderlog/check.h"

namespace orderlog {
namespace {
constexpr unsigned kRingEntries = 2;  // a write and its fdatasync
constexpr uint64_t kWriteTag = 1;
constexpr uint64_t kSyncTag = 2;
}  // namespace

Result<std::unique_ptr<UringWriter>> UringWriter::create(const std::string& path) {
  auto ring = std::make_unique<io_uring>();
  int rc = io_uring_queue_init(kRingEntries, ring.get(), 0);
  if (rc < 0) return Status::from_errno(-rc, "io_uring_queue_init for " + path);
  return std::make_unique<UringWriter>(PassKey{}, std::move(ring), path);
}

UringWriter::UringWriter(PassKey, std::unique_ptr<io_uring> ring, std::string path)
    : ring_(std::move(ring)), path_(std::move(path)) {}

UringWriter::~UringWriter() {
  if (in_flight()) (void)wait();
  io_uring_queue_exit(ring_.get());
}

Status UringWriter::submit_sync(int fd) { return submit_write(-1, {}, 0, fd); }

Status UringWriter::submit_write(int write_fd, std::span<const std::byte> data, uint64_t offset, int sync_fd) {
  OL_CHECK(!in_flight());
  const bool write = write_fd >= 0;
  const bool sync = sync_fd >= 0;
  OL_CHECK(write || sync);
  int queued = 0;
  if (write) {
    io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
    OL_CHECK(sqe != nullptr);  // the ring is empty between operations
    io_uring_prep_write(sqe, write_fd, data.data(), static_cast<unsigned>(data.size()), offset);
    io_uring_sqe_set_data64(sqe, kWriteTag);
    if (sync) sqe->flags |= IOSQE_IO_LINK;
    ++queued;
  }
  if (sync) {
    io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
    OL_CHECK(sqe != nullptr);
    io_uring_prep_fsync(sqe, sync_fd, IORING_FSYNC_DATASYNC);
    io_uring_sqe_set_data64(sqe, kSyncTag);
    ++queued;
  }
  int submitted = io_uring_submit(ring_.get());
  if (submitted < 0) return Status::from_errno(-submitted, "io_uring_submit for " + path_);
  if (submitted != queued) {
    // A partial submission of a linked pair cannot happen with an empty ring; if the
    // kernel took only part, wait for that part so nothing runs behind our back.
    pending_ = submitted;
    write_bytes_ = data.size();
    if (submitted > 0) (void)wait();
    return Status::io_error("io_uring_submit for " + path_ + " took " + std::to_string(submitted) + " of " +
                            std::to_string(queued) + " entries");
  }
  pending_ = queued;
  write_bytes_ = write ? data.size() : 0;
  write_offset_ = offset;
  return Status::ok();
}

Status UringWriter::wait() {
  OL_CHECK(in_flight());
  Status outcome = Status::ok();
  while (pending_ > 0) {
    io_uring_cqe* cqe = nullptr;
    int rc = io_uring_wait_cqe(ring_.get(), &cqe);
    while (rc == -EINTR) rc = io_uring_wait_cqe(ring_.get(), &cqe);
    OL_CHECK_MSG(rc == 0, "io_uring_wait_cqe failed with an operation in flight");
    const int result = cqe->res;
    const uint64_t tag = io_uring_cqe_get_data64(cqe);
    io_uring_cqe_seen(ring_.get(), cqe);
    --pending_;
    if (!outcome.is_ok()) continue;  // the first failure is the one to report
    const std::string where = path_ + " at offset " + std::to_string(write_offset_);
    if (tag == kWriteTag && result < 0) {
      outcome = Status::from_errno(-result, "write " + where + " via io_uring");
    } else if (tag == kWriteTag && static_cast<size_t>(result) != write_bytes_) {
      outcome = Status::io_error("write " + where + " via io_uring: short write of " + std::to_string(result) +
                                 " of " + std::to_string(write_bytes_) + " bytes");
    } else if (tag == kSyncTag && result < 0) {
      outcome = Status::from_errno(-result, "fdatasync " + path_ + " via io_uring");
    }
  }
  write_bytes_ = 0;
  return outcome;
}

}  // namespace orderlog
