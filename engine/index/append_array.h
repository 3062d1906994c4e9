// AppendArray: a file of fixed-size entries that only grows, mapped read-only so
// readers index it in place. The writer appends whole runs of entries with one
// write; readers only touch entries below a count published to them separately
// (the committed position or a posting count), so no lock is needed. Entries are
// derived data: they are synced only when an index checkpoint is taken.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>

#include "orderlog/env.h"

namespace orderlog::index {

class AppendArray {
 public:
  // Opens (creating if missing) `path`, keeping its first `valid_count` entries; the
  // rest of the file is ignored and overwritten. `reserve_bytes` bounds the address
  // space, hence the file, and must be a multiple of entry_bytes.
  static Result<std::unique_ptr<AppendArray>> open(Env* env, const std::string& path, size_t entry_bytes,
                                                   uint64_t reserve_bytes, uint64_t valid_count);

  // Writer only. kTooLarge when the reservation is full.
  Status append(const void* entries, uint64_t count);
  Status sync() { return file_->sync_data(); }

  // Entries written so far (writer's view; readers use their own published bound).
  uint64_t count() const { return count_; }
  const std::string& path() const { return path_; }

  // REQUIRES: index < a count published to the caller.
  template <typename T>
  T get(uint64_t index) const {
    T entry;
    std::memcpy(&entry, data_ + index * entry_bytes_, sizeof(T));
    return entry;
  }

 private:
  AppendArray(std::string path, std::unique_ptr<File> file, const std::byte* data, size_t entry_bytes,
              uint64_t reserve_bytes, uint64_t count)
      : path_(std::move(path)),
        file_(std::move(file)),
        data_(data),
        entry_bytes_(entry_bytes),
        reserve_bytes_(reserve_bytes),
        count_(count) {}

  std::string path_;
  std::unique_ptr<File> file_;
  const std::byte* data_;
  size_t entry_bytes_;
  uint64_t reserve_bytes_;
  uint64_t count_;
};

}  // namespace orderlog::index
