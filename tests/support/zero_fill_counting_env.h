// ZeroFillCountingEnv: counts the zeros written to the segment preparer's file
// (SegmentPreparer::kPreparedFileName), to tell a zero-filled next segment from an
// allocated-only one. The writer goes on writing the log through that same File once
// the segment is in use; those writes are never all zeros, and are not counted.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "forwarding_env.h"

namespace orderlog::testing {

class ZeroFillCountingEnv : public ForwardingEnv {
 public:
  explicit ZeroFillCountingEnv(Env* base, std::string prepared_file_name)
      : ForwardingEnv(base), prepared_file_name_(std::move(prepared_file_name)) {}

  Result<std::unique_ptr<File>> open_file(const std::string& path, OpenMode mode) override {
    OL_ASSIGN_OR_RETURN(std::unique_ptr<File> file, ForwardingEnv::open_file(path, mode));
    return watch(path, std::move(file));
  }
  Result<std::unique_ptr<File>> open_direct_file(const std::string& path, OpenMode mode) override {
    OL_ASSIGN_OR_RETURN(std::unique_ptr<File> file, ForwardingEnv::open_direct_file(path, mode));
    return watch(path, std::move(file));
  }
  uint64_t zero_fill_bytes() const { return zero_fill_bytes_.load(); }

 private:
  class CountingFile : public ForwardingFile {
   public:
    CountingFile(std::unique_ptr<File> base, std::atomic<uint64_t>* bytes)
        : ForwardingFile(std::move(base)), bytes_(bytes) {}
    Status write_at(uint64_t offset, std::span<const std::byte> data) override {
      const bool zeros = std::all_of(data.begin(), data.end(), [](std::byte b) { return b == std::byte{0}; });
      if (zeros) bytes_->fetch_add(data.size());
      return ForwardingFile::write_at(offset, data);
    }

   private:
    std::atomic<uint64_t>* bytes_;
  };

  std::unique_ptr<File> watch(const std::string& path, std::unique_ptr<File> file) {
    const bool prepared = path.size() >= prepared_file_name_.size() &&
                          path.compare(path.size() - prepared_file_name_.size(), std::string::npos,
                                       prepared_file_name_) == 0;
    if (!prepared) return file;
    return std::make_unique<CountingFile>(std::move(file), &zero_fill_bytes_);
  }

  const std::string prepared_file_name_;
  std::atomic<uint64_t> zero_fill_bytes_{0};
};

}  // namespace orderlog::testing
