// The production Env: POSIX files, directories and flock-based locks. A segment's
// group-commit write overlaps the caller's work with the device through io_uring when
// the kernel allows it: with direct I/O the write runs asynchronously and the
// fdatasync follows on the caller's thread; buffered, a pwrite (of a large commit: in
// chunks, each one's writeback started as soon as it is copied) is followed by an
// asynchronous fdatasync. Without a ring both run synchronously. Every path gives the
// same durability contract.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <utility>

#include "orderlog/check.h"
#include "orderlog/env.h"
#include "storage/uring_file.h"

namespace orderlog {
namespace {

// Bounds a single pwrite/pread call: Linux caps one just below 2 GiB.
constexpr size_t kSyscallBytesMax = size_t{1} << 30;
// A buffered group commit at least this large is copied into the page cache in chunks
// of kWritebackChunkBytes, each handed to the device as soon as it is copied (see
// write_starting_writeback()).
constexpr size_t kStartWritebackFromBytes = 1024 * 1024;
constexpr size_t kWritebackChunkBytes = 512 * 1024;

std::string at_offset(const std::string& path, uint64_t offset) {
  return path + " at offset " + std::to_string(offset);
}

// A missing file or directory is an expected condition callers test for
// (kNotFound); every other errno keeps from_errno's mapping. Callers copy errno
// into `error_number` before building the context, as an allocation may clobber it.
Status path_error(int error_number, const std::string& context) {
  Status status = Status::from_errno(error_number, context);
  if (error_number == ENOENT) return Status::not_found(status.message());
  return status;
}


class PosixFile final : public File {
 public:
  // `direct_fd` is a second descriptor of the same file opened O_DIRECT, or -1.
  PosixFile(int fd, int direct_fd, std::string path, bool use_io_uring)
      : fd_(fd), direct_fd_(direct_fd), path_(std::move(path)), use_io_uring_(use_io_uring) {}
  ~PosixFile() override;
  PosixFile(const PosixFile&) = delete;
  PosixFile& operator=(const PosixFile&) = delete;

  Status write_at(uint64_t offset, std::span<const std::byte> data) override;
  // write_at(), starting the device on each chunk once it is in the page cache.
  Status write_starting_writeback(uint64_t offset, std::span<const std::byte> data);
  size_t write_alignment() const override { return direct_fd_ >= 0 ? kDirectIoAlignment : 1; }
  Status sync_data() override;
  Status start_write_and_sync(uint64_t offset, std::span<const std::byte> data, bool sync) override;
  Status finish_write_and_sync() override;
  int write_ready_fd() override { return uring_ && uring_->in_flight() ? uring_->event_fd() : -1; }
  Status read_at(uint64_t offset, std::span<std::byte> out) override;
  Result<uint64_t> size() override;
  Status truncate(uint64_t size) override;
  Status allocate(uint64_t size) override;
  Result<const std::byte*> map(uint64_t reserve_bytes) override;
  Status drop_cached(uint64_t offset, uint64_t length) override;

 private:
  bool operation_started() const { return completed_.has_value() || (uring_ && uring_->in_flight()); }
  UringWriter* uring();
  void check_aligned(uint64_t offset, std::span<const std::byte> data) const;

  int fd_;
  int direct_fd_;
  std::string path_;
  bool use_io_uring_;
  std::unique_ptr<UringWriter> uring_;  // created on the first start_write_and_sync
  std::optional<Status> completed_;     // outcome of a start that ran synchronously
  bool sync_after_write_ = false;
  bool writeback_hints_ = true;  // see write_starting_writeback()
  void* map_base_ = nullptr;
  uint64_t map_reserve_bytes_ = 0;
};

PosixFile::~PosixFile() {
  // The kernel may still be reading the caller's buffer; never close under it.
  uring_.reset();  // waits for an fdatasync in flight
  if (map_base_ != nullptr) munmap(map_base_, map_reserve_bytes_);
  // close() errors are ignored: durability comes from sync_data(), never from close.
  if (direct_fd_ >= 0) close(direct_fd_);
  close(fd_);
}

// A misaligned direct write is a bug in the caller, not an I/O condition: the kernel
// would answer EINVAL, which reads like a disk problem.
void PosixFile::check_aligned(uint64_t offset, std::span<const std::byte> data) const {
  if (direct_fd_ < 0) return;
  OL_CHECK_MSG(offset % kDirectIoAlignment == 0 && data.size() % kDirectIoAlignment == 0 &&
                   reinterpret_cast<uintptr_t>(data.data()) % kDirectIoAlignment == 0,
               "misaligned direct write");
}

Status PosixFile::write_at(uint64_t offset, std::span<const std::byte> data) {
  check_aligned(offset, data);
  const int fd = direct_fd_ >= 0 ? direct_fd_ : fd_;
  size_t done = 0;
  while (done < data.size()) {
    size_t chunk = std::min(data.size() - done, kSyscallBytesMax);
    ssize_t written = pwrite(fd, data.data() + done, chunk, static_cast<off_t>(offset + done));
    int error_number = errno;
    if (written < 0 && error_number == EINTR) continue;
    if (written < 0) return Status::from_errno(error_number, "pwrite " + at_offset(path_, offset + done));
    // A regular file never accepts zero bytes without an error; bail out rather than spin.
    if (written == 0) return Status::io_error("pwrite " + at_offset(path_, offset + done) + " wrote nothing");
    done += static_cast<size_t>(written);
  }
  return Status::ok();
}

Status PosixFile::sync_data() {
  if (fdatasync(fd_) != 0) {
    int error_number = errno;
    return path_error(error_number, "fdatasync " + path_);
  }
  return Status::ok();
}

UringWriter* PosixFile::uring() {
  if (uring_ == nullptr && use_io_uring_) {
    auto created = UringWriter::create(path_);
    if (created.is_ok()) {
      uring_ = std::move(created).value();
    } else {
      use_io_uring_ = false;  // the kernel said no once; it will keep saying no
    }
  }
  return uring_.get();
}

Status PosixFile::start_write_and_sync(uint64_t offset, std::span<const std::byte> data, bool sync) {
  OL_CHECK_MSG(!operation_started(), "at most one started write per file");
  check_aligned(offset, data);
  UringWriter* ring = uring();
  if (ring != nullptr && direct_fd_ >= 0 && data.size() <= kSyscallBytesMax) {
    // The device reads the caller's buffer while the caller goes on. The fdatasync
    // follows in finish_write_and_sync(), on the caller's thread: io_uring would run
    // it on a kernel worker thread, and handing it there and back cost more per commit
    // (~50 us on our VMs, docs/performance.md) than the overlap it buys.
    if (ring->submit_write(direct_fd_, data, offset).is_ok()) {
      sync_after_write_ = sync;
      return Status::ok();
    }
    uring_.reset();  // see below
    use_io_uring_ = false;
    ring = nullptr;
  }
  // A buffered write goes to the page cache with a plain pwrite: an io_uring write of a
  // buffered file is handed to a kernel worker thread, which measured slower
  // (docs/performance.md). Only the fdatasync, the part that waits on the device,
  // runs asynchronously then.
  // (A direct file gets here only without a ring: its write bypasses the page cache
  // and goes to the device at once anyway.)
  const bool start_writeback = sync && direct_fd_ < 0 && data.size() >= kStartWritebackFromBytes;
  Status status = start_writeback ? write_starting_writeback(offset, data) : write_at(offset, data);
  if (!status.is_ok() || !sync) {
    completed_ = std::move(status);
    return Status::ok();
  }
  if (ring != nullptr) {
    if (ring->submit_sync(fd_).is_ok()) return Status::ok();
    // The kernel took nothing, but the ring may still hold the entry: drop it so it
    // can never run later, and sync synchronously from now on.
    uring_.reset();
    use_io_uring_ = false;
  }
  completed_ = sync_data();
  return Status::ok();
}

// Without it the device would see none of a large commit until the fdatasync after
// the whole copy, and sit idle while the writer copies. Only a hint: durability comes
// from that fdatasync, which also reports any writeback error (the kernel keeps it for
// this file until an fsync reports it), so a refused hint costs nothing but the
// overlap. After one refusal (a filesystem without it, a passing ENOMEM) the file
// stops asking.
Status PosixFile::write_starting_writeback(uint64_t offset, std::span<const std::byte> data) {
  for (size_t done = 0; done < data.size();) {
    const size_t chunk = std::min(kWritebackChunkBytes, data.size() - done);
    OL_RETURN_IF_ERROR(write_at(offset + done, data.subspan(done, chunk)));
    if (writeback_hints_ && sync_file_range(fd_, static_cast<off_t>(offset + done), static_cast<off_t>(chunk),
                                            SYNC_FILE_RANGE_WRITE) != 0 && errno != EINTR) {
      writeback_hints_ = false;
    }
    done += chunk;
  }
  return Status::ok();
}

Status PosixFile::finish_write_and_sync() {
  if (completed_.has_value()) {
    Status status = std::move(*completed_);
    completed_.reset();
    return status;
  }
  OL_CHECK_MSG(uring_ && uring_->in_flight(), "finish_write_and_sync without a started write");
  const bool sync = std::exchange(sync_after_write_, false);
  OL_RETURN_IF_ERROR(uring_->wait());
  return sync ? sync_data() : Status::ok();
}

Status PosixFile::read_at(uint64_t offset, std::span<std::byte> out) {
  size_t done = 0;
  while (done < out.size()) {
    size_t chunk = std::min(out.size() - done, kSyscallBytesMax);
    ssize_t got = pread(fd_, out.data() + done, chunk, static_cast<off_t>(offset + done));
    int error_number = errno;
    if (got < 0 && error_number == EINTR) continue;
    if (got < 0) return Status::from_errno(error_number, "pread " + at_offset(path_, offset + done));
    if (got == 0) {
      return Status::io_error("pread " + at_offset(path_, offset) + ": short read, wanted " +
                              std::to_string(out.size()) + " bytes, file ends after " + std::to_string(done));
    }
    done += static_cast<size_t>(got);
  }
  return Status::ok();
}

Result<uint64_t> PosixFile::size() {
  struct stat info {};
  if (fstat(fd_, &info) != 0) {
    int error_number = errno;
    return path_error(error_number, "fstat " + path_);
  }
  return static_cast<uint64_t>(info.st_size);
}

Status PosixFile::truncate(uint64_t size) {
  while (ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    if (errno != EINTR) {
      int error_number = errno;
      return path_error(error_number, "ftruncate " + path_ + " to " + std::to_string(size));
    }
  }
  return Status::ok();
}

Status PosixFile::allocate(uint64_t size) {
  if (size == 0) return Status::ok();  // fallocate rejects an empty range
  std::string context = "fallocate " + path_ + " to " + std::to_string(size) + " bytes";
  int rc = 0;
  do {
    rc = fallocate(fd_, 0, 0, static_cast<off_t>(size));
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) return Status::ok();
  if (errno != EOPNOTSUPP) {
    int error_number = errno;
    return path_error(error_number, context);
  }
  // Some filesystems (tmpfs on old kernels, NFS) lack fallocate; glibc emulates it.
  int error_number = posix_fallocate(fd_, 0, static_cast<off_t>(size));
  if (error_number != 0) return Status::from_errno(error_number, "posix_" + context);
  return Status::ok();
}

Result<const std::byte*> PosixFile::map(uint64_t reserve_bytes) {
  if (map_base_ != nullptr) {
    // Readers hold pointers into the first mapping, so it can never move or grow.
    if (reserve_bytes > map_reserve_bytes_) {
      return Status::invalid_argument("map " + path_ + ": already mapped with " + std::to_string(map_reserve_bytes_) +
                                      " bytes, cannot grow to " + std::to_string(reserve_bytes));
    }
    return static_cast<const std::byte*>(map_base_);
  }
  if (reserve_bytes == 0) return Status::invalid_argument("map " + path_ + ": zero bytes reserved");
  // MAP_SHARED: pages written later through the fd appear at the same address.
  // MAP_NORESERVE: the reservation is address space only, not memory.
  void* base = mmap(nullptr, reserve_bytes, PROT_READ, MAP_SHARED | MAP_NORESERVE, fd_, 0);
  if (base == MAP_FAILED) {
    int error_number = errno;
    return path_error(error_number, "mmap " + path_ + " reserving " + std::to_string(reserve_bytes) + " bytes");
  }
  map_base_ = base;
  map_reserve_bytes_ = reserve_bytes;
  return static_cast<const std::byte*>(map_base_);
}

Status PosixFile::drop_cached(uint64_t offset, uint64_t length) {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t begin = (offset + page - 1) / page * page;
  const uint64_t end = (offset + length) / page * page;
  if (end <= begin) return Status::ok();
  // Pages a reader touched are mapped into this process, and the page cache keeps a
  // mapped page: unmap them from the range first (the mapping stays; the next touch
  // faults the page back in from the file).
  if (map_base_ != nullptr && begin < map_reserve_bytes_) {
    const uint64_t mapped_end = std::min(end, map_reserve_bytes_);
    if (madvise(static_cast<std::byte*>(map_base_) + begin, mapped_end - begin, MADV_DONTNEED) != 0) {
      return path_error(errno, "madvise(MADV_DONTNEED) " + path_ + " at " + std::to_string(begin));
    }
  }
  const int error_number = posix_fadvise(fd_, static_cast<off_t>(begin), static_cast<off_t>(end - begin),
                                         POSIX_FADV_DONTNEED);
  if (error_number != 0) {
    return path_error(error_number, "posix_fadvise(DONTNEED) " + path_ + " at " + std::to_string(begin));
  }
  return Status::ok();
}

// Holds the flock through its own open file description; closing it releases the lock.
class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override { close(fd_); }
  PosixFileLock(const PosixFileLock&) = delete;
  PosixFileLock& operator=(const PosixFileLock&) = delete;

 private:
  int fd_;
};

class PosixEnv final : public Env {
 public:
  explicit PosixEnv(const PosixEnvOptions& options) : options_(options) {}

  Result<std::unique_ptr<File>> open_file(const std::string& path, OpenMode mode) override;
  Result<std::unique_ptr<File>> open_direct_file(const std::string& path, OpenMode mode) override;
  bool file_exists(const std::string& path) override { return access(path.c_str(), F_OK) == 0; }
  Result<std::vector<std::string>> list_dir(const std::string& dir) override;
  Status create_dir(const std::string& dir) override;
  Status rename_file(const std::string& from, const std::string& to) override;
  Status remove_file(const std::string& path) override;
  Status sync_dir(const std::string& dir) override;
  Result<std::unique_ptr<FileLock>> lock_file(const std::string& path) override;
  uint64_t now_ns() override;

 private:
  PosixEnvOptions options_;
};

int open_flags(OpenMode mode) {
  switch (mode) {
    case OpenMode::kReadOnly: return O_RDONLY;
    case OpenMode::kReadWrite: return O_RDWR;
    case OpenMode::kCreate: return O_RDWR | O_CREAT;
    case OpenMode::kCreateExclusive: return O_RDWR | O_CREAT | O_EXCL;
  }
  OL_CHECK_MSG(false, "unknown OpenMode");
  return O_RDONLY;
}

const char* mode_name(OpenMode mode) {
  switch (mode) {
    case OpenMode::kReadOnly: return "read-only";
    case OpenMode::kReadWrite: return "read-write";
    case OpenMode::kCreate: return "create";
    case OpenMode::kCreateExclusive: return "create exclusive";
  }
  return "unknown mode";
}

namespace {
// The descriptor, or the error naming path and mode.
Result<int> open_fd(const std::string& path, int flags, const char* what) {
  int fd = -1;
  do {
    fd = open(path.c_str(), flags | O_CLOEXEC, 0644);
  } while (fd < 0 && errno == EINTR);
  // EEXIST under kCreateExclusive reads "open <path> (create exclusive): File exists".
  if (fd < 0) {
    int error_number = errno;
    return path_error(error_number, "open " + path + " (" + what + ")");
  }
  return fd;
}
}  // namespace

Result<std::unique_ptr<File>> PosixEnv::open_file(const std::string& path, OpenMode mode) {
  OL_ASSIGN_OR_RETURN(int fd, open_fd(path, open_flags(mode), mode_name(mode)));
  return std::unique_ptr<File>(std::make_unique<PosixFile>(fd, -1, path, options_.use_io_uring));
}

// Two descriptors: O_DIRECT for the writes, a buffered one for everything else (reads,
// the mapping, fallocate, fdatasync), which the kernel keeps coherent with the direct
// writes by invalidating cached pages they overwrite.
Result<std::unique_ptr<File>> PosixEnv::open_direct_file(const std::string& path, OpenMode mode) {
  OL_CHECK(mode != OpenMode::kReadOnly);
  OL_ASSIGN_OR_RETURN(int fd, open_fd(path, open_flags(mode), mode_name(mode)));
  int direct_fd = -1;
  do {
    direct_fd = open(path.c_str(), O_RDWR | O_DIRECT | O_CLOEXEC);
  } while (direct_fd < 0 && errno == EINTR);
  // EINVAL: this filesystem does not do direct I/O; the file works buffered.
  if (direct_fd < 0 && errno != EINVAL) {
    int error_number = errno;
    close(fd);
    return path_error(error_number, "open " + path + " (direct writes)");
  }
  return std::unique_ptr<File>(std::make_unique<PosixFile>(fd, direct_fd, path, options_.use_io_uring));
}

Result<std::vector<std::string>> PosixEnv::list_dir(const std::string& dir) {
  DIR* handle = opendir(dir.c_str());
  if (handle == nullptr) {
    int error_number = errno;
    return path_error(error_number, "opendir " + dir);
  }
  std::vector<std::string> names;
  while (true) {
    errno = 0;
    dirent* entry = readdir(handle);
    if (entry == nullptr) break;
    std::string_view name(entry->d_name);
    if (name != "." && name != "..") names.emplace_back(name);
  }
  int error_number = errno;
  closedir(handle);
  if (error_number != 0) return Status::from_errno(error_number, "readdir " + dir);
  return names;
}

Status PosixEnv::create_dir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0755) == 0) {
    // Otherwise a power cut could take the new directory, and everything synced in it.
    std::string parent = dir;
    while (parent.size() > 1 && parent.back() == '/') parent.pop_back();
    const size_t slash = parent.rfind('/');
    parent = slash == std::string::npos ? "." : slash == 0 ? "/" : parent.substr(0, slash);
    return sync_dir(parent).with_context("mkdir " + dir);
  }
  int error_number = errno;
  struct stat info {};
  if (error_number == EEXIST && stat(dir.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) return Status::ok();
  return path_error(error_number, "mkdir " + dir);
}

Status PosixEnv::rename_file(const std::string& from, const std::string& to) {
  if (rename(from.c_str(), to.c_str()) != 0) {
    int error_number = errno;
    return path_error(error_number, "rename " + from + " to " + to);
  }
  return Status::ok();
}

Status PosixEnv::remove_file(const std::string& path) {
  if (unlink(path.c_str()) != 0) {
    int error_number = errno;
    return path_error(error_number, "unlink " + path);
  }
  return Status::ok();
}

Status PosixEnv::sync_dir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int error_number = errno;
    return path_error(error_number, "open directory " + dir + " to sync it");
  }
  Status status = Status::ok();
  if (fsync(fd) != 0) {
    int error_number = errno;
    status = path_error(error_number, "fsync directory " + dir);
  }
  close(fd);
  return status;
}

Result<std::unique_ptr<FileLock>> PosixEnv::lock_file(const std::string& path) {
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    int error_number = errno;
    return path_error(error_number, "open lock file " + path);
  }
  // flock, not fcntl locks: flock conflicts between two descriptors of one process
  // too, so a second open of the same data directory is refused even in-process.
  int rc = 0;
  do {
    rc = flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int error_number = errno;
    close(fd);
    if (error_number == EWOULDBLOCK) return Status::busy(path + " is locked by another process");
    return Status::from_errno(error_number, "flock " + path);
  }
  return std::unique_ptr<FileLock>(std::make_unique<PosixFileLock>(fd));
}

uint64_t PosixEnv::now_ns() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(now.tv_nsec);
}

}  // namespace

std::unique_ptr<Env> new_posix_env(const PosixEnvOptions& options) { return std::make_unique<PosixEnv>(options); }

Env* default_env() {
  // Leaked on purpose: files may still be closing during static destruction.
  static Env* const env = new_posix_env(PosixEnvOptions{}).release();
  return env;
}

}  // namespace orderlog
