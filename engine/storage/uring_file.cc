// The io_uring write-and-sync of the POSIX File; see uring_file.h for why it exists.
#include "storage/uring_file.h"

#include <liburing.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "orderlog/check.h"

namespace orderlog {
namespace {

// One write and one fsync is all a file ever has in flight.
constexpr unsigned kRingEntries = 4;
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
  OL_CHECK_MSG(!in_flight(), "UringWriter destroyed with an operation in flight");
  io_uring_queue_exit(ring_.get());
}

Status UringWriter::submit(int fd, uint64_t offset, std::span<const std::byte> data, bool sync) {
  OL_CHECK(!in_flight());
  OL_CHECK(usable_);
  OL_CHECK(data.size() <= UINT32_MAX);
  io_uring_sqe* write = io_uring_get_sqe(ring_.get());
  OL_CHECK(write != nullptr);  // the ring is empty between operations
  io_uring_prep_write(write, fd, data.data(), static_cast<unsigned>(data.size()), offset);
  io_uring_sqe_set_data64(write, kWriteTag);
  if (sync) {
    // The link makes the kernel skip (cancel) the fsync when the write fails or
    // comes up short, so a sync can never vouch for bytes that were not written.
    write->flags |= IOSQE_IO_LINK;
    io_uring_sqe* fsync = io_uring_get_sqe(ring_.get());
    OL_CHECK(fsync != nullptr);
    io_uring_prep_fsync(fsync, fd, IORING_FSYNC_DATASYNC);
    io_uring_sqe_set_data64(fsync, kSyncTag);
  }
  int expected = sync ? 2 : 1;
  int submitted = io_uring_submit(ring_.get());
  if (submitted <= 0) {
    usable_ = false;
    if (submitted == 0) return Status::io_error("io_uring_submit for " + path_ + " took nothing");
    return Status::from_errno(-submitted, "io_uring_submit for " + path_);
  }
  fd_ = fd;
  offset_ = offset;
  length_ = data.size();
  sync_requested_ = sync;
  sync_submitted_ = submitted == expected && sync;
  // The kernel took the write but not the fsync: finish with a direct fdatasync.
  if (submitted < expected) usable_ = false;
  completions_pending_ = submitted;
  return Status::ok();
}

Status UringWriter::wait() {
  OL_CHECK(in_flight());
  std::optional<Status> write_status;
  std::optional<Status> sync_status;
  while (completions_pending_ > 0) {
    io_uring_cqe* cqe = nullptr;
    int rc = io_uring_wait_cqe(ring_.get(), &cqe);
    if (rc == -EINTR) continue;
    // Returning now would let the caller free a buffer the kernel may still read.
    OL_CHECK_MSG(rc == 0, "io_uring_wait_cqe failed with a write in flight");
    uint64_t tag = io_uring_cqe_get_data64(cqe);
    int result = cqe->res;
    io_uring_cqe_seen(ring_.get(), cqe);
    --completions_pending_;
    if (tag == kWriteTag) write_status = write_outcome(result);
    if (tag == kSyncTag) sync_status = sync_outcome(result);
  }
  OL_CHECK(write_status.has_value());
  // The write's failure is the cause; the fsync then only reports -ECANCELED.
  if (!write_status->is_ok()) return *write_status;
  if (sync_requested_ && !sync_submitted_) return sync_directly();
  if (sync_status.has_value()) return *sync_status;
  return Status::ok();
}

Status UringWriter::write_outcome(int result) const {
  std::string context = "write " + path_ + " at offset " + std::to_string(offset_) + " via io_uring";
  if (result < 0) return Status::from_errno(-result, context);
  if (static_cast<size_t>(result) != length_) {
    return Status::io_error(context + ": short write of " + std::to_string(result) + " of " +
                            std::to_string(length_) + " bytes");
  }
  return Status::ok();
}

Status UringWriter::sync_outcome(int result) const {
  if (result < 0) return Status::from_errno(-result, "fdatasync " + path_ + " via io_uring");
  return Status::ok();
}

Status UringWriter::sync_directly() const {
  if (fdatasync(fd_) != 0) {
    int error_number = errno;  // before the message allocates
    return Status::from_errno(error_number, "fdatasync " + path_);
  }
  return Status::ok();
}

}  // namespace orderlog
