// Env: the I/O seam. Every file, directory, lock and clock operation of the engine
// goes through it, so tests can run on memory, simulate a power cut (drop unsynced
// bytes), and inject EIO, ENOSPC, short/torn writes and fsync failures.
//
// The POSIX Env writes the active segment with direct I/O (O_DIRECT, bypassing the
// page cache) through io_uring when the filesystem and kernel allow it, and with
// pwrite otherwise; an fdatasync follows each group-commit write.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "orderlog/status.h"

namespace orderlog {

// What direct (O_DIRECT) writes require of their offset, length and memory. 4 KiB
// covers every logical block size Linux filesystems use.
inline constexpr size_t kDirectIoAlignment = 4096;

// A file opened for positional reads and writes. Not thread-safe: one owner writes;
// readers go through the mapping returned by map().
class File {
 public:
  virtual ~File() = default;

  // Writes all of `data` at `offset` (a short write is an error). Not durable until
  // sync_data() succeeds. REQUIRES: offset, data.size() and data.data() are multiples
  // of write_alignment().
  virtual Status write_at(uint64_t offset, std::span<const std::byte> data) = 0;
  // 1 for a buffered file; kDirectIoAlignment when writes bypass the page cache (see
  // Env::open_direct_file).
  virtual size_t write_alignment() const { return 1; }
  // fdatasync: makes every completed write durable. A failure means the data may be lost.
  virtual Status sync_data() = 0;

  // Starts write_at(offset, data) followed, when `sync`, by sync_data(), and may return
  // before they finish so the caller can prepare its next batch meanwhile.
  // finish_write_and_sync() waits and returns the combined outcome.
  // REQUIRES: `data` stays valid and unmodified until finish_write_and_sync() returns;
  // at most one started operation per file.
  virtual Status start_write_and_sync(uint64_t offset, std::span<const std::byte> data, bool sync) = 0;
  virtual Status finish_write_and_sync() = 0;
  // A descriptor that becomes readable (poll) once the started operation's device
  // work is done, so the caller can wait for it and for other events together. -1
  // when there is none (the operation ran synchronously, or this File cannot tell):
  // then only finish_write_and_sync() waits. Valid until finish_write_and_sync().
  virtual int write_ready_fd() { return -1; }

  // Reads exactly out.size() bytes at `offset`; reading past the end is an error.
  virtual Status read_at(uint64_t offset, std::span<std::byte> out) = 0;
  virtual Result<uint64_t> size() = 0;
  // Sets the file's size (grows with zeros or shrinks). Used for index and temporary files.
  virtual Status truncate(uint64_t size) = 0;
  // Reserves disk blocks so the file is at least `size` bytes (fallocate).
  virtual Status allocate(uint64_t size) = 0;

  // A hint that [offset, offset + length) is durable and not wanted soon: the page
  // cache may let those pages go (this file's mapping reads them back from the file
  // when touched). Only what lies wholly inside the range goes: whole pages, and the
  // page cache's large folios (naturally aligned, up to 2 MiB on x86-64) only when the
  // range covers all of them. May be called while the owner writes elsewhere in the
  // file. Files without a page cache do nothing.
  virtual Status drop_cached(uint64_t offset, uint64_t length) {
    (void)offset;
    (void)length;
    return Status::ok();
  }

  // Maps the file read-only into `reserve_bytes` of address space. The address stays
  // the same as the file grows, so readers may keep pointers; bytes past the current
  // size must not be touched. The mapping lives as long as this File.
  virtual Result<const std::byte*> map(uint64_t reserve_bytes) = 0;
};

// Held while a data directory is open; released when destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

enum class OpenMode : uint8_t {
  kReadOnly,         // existing file, no writes
  kReadWrite,        // existing file
  kCreate,           // create if missing
  kCreateExclusive,  // fail if it exists
};

class Env {
 public:
  virtual ~Env() = default;

  virtual Result<std::unique_ptr<File>> open_file(const std::string& path, OpenMode mode) = 0;
  // Opens `path` for writes that bypass the page cache, so the writer copies nothing
  // into the kernel and cached pages are left to readers. Reads and map() are the
  // same as open_file's. Where the filesystem refuses direct I/O (tmpfs, some
  // network filesystems) the file is opened buffered: File::write_alignment() says
  // which. REQUIRES: mode != kReadOnly. The default opens buffered.
  virtual Result<std::unique_ptr<File>> open_direct_file(const std::string& path, OpenMode mode) {
    return open_file(path, mode);
  }
  virtual bool file_exists(const std::string& path) = 0;
  // Names in `dir` (not "." or ".."), unsorted.
  virtual Result<std::vector<std::string>> list_dir(const std::string& dir) = 0;
  // Creates `dir` if missing (not its parents). A directory it creates is durable when
  // it returns (its parent is synced): files named in it are made durable by syncing
  // `dir` alone.
  virtual Status create_dir(const std::string& dir) = 0;
  // Atomically replaces `to` with `from`; durable once sync_dir() of the parent succeeds.
  virtual Status rename_file(const std::string& from, const std::string& to) = 0;
  virtual Status remove_file(const std::string& path) = 0;
  // fsync of a directory: makes creations and renames inside it durable.
  virtual Status sync_dir(const std::string& dir) = 0;
  // An exclusive advisory lock; fails with kBusy if another process holds it.
  virtual Result<std::unique_ptr<FileLock>> lock_file(const std::string& path) = 0;
  // Wall-clock time, nanoseconds since the Unix epoch.
  virtual uint64_t now_ns() = 0;
};

struct PosixEnvOptions {
  // Use io_uring for start_write_and_sync(); falls back to pwrite + fdatasync when the
  // kernel refuses a ring.
  bool use_io_uring = true;
};

std::unique_ptr<Env> new_posix_env(const PosixEnvOptions& options);
// A process-wide POSIX Env with default options. Never destroyed.
Env* default_env();

}  // namespace orderlog
