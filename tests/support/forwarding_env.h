// ForwardingEnv and ForwardingFile: pass every call to another Env or File. Tests that
// need to watch or hold one operation (a sync, a rename) derive from them and override
// just that one, instead of restating the whole interface.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "orderlog/env.h"

namespace orderlog::testing {

class ForwardingFile : public File {
 public:
  explicit ForwardingFile(std::unique_ptr<File> base) : base_(std::move(base)) {}

  Status write_at(uint64_t offset, std::span<const std::byte> data) override { return base_->write_at(offset, data); }
  size_t write_alignment() const override { return base_->write_alignment(); }
  Status sync_data() override { return base_->sync_data(); }
  Status start_write_and_sync(uint64_t offset, std::span<const std::byte> data, bool sync) override {
    return base_->start_write_and_sync(offset, data, sync);
  }
  Status finish_write_and_sync() override { return base_->finish_write_and_sync(); }
  int write_ready_fd() override { return base_->write_ready_fd(); }
  Status read_at(uint64_t offset, std::span<std::byte> out) override { return base_->read_at(offset, out); }
  Result<uint64_t> size() override { return base_->size(); }
  Status truncate(uint64_t size) override { return base_->truncate(size); }
  Status allocate(uint64_t size) override { return base_->allocate(size); }
  Result<const std::byte*> map(uint64_t reserve_bytes) override { return base_->map(reserve_bytes); }
  Status drop_cached(uint64_t offset, uint64_t length) override { return base_->drop_cached(offset, length); }

 private:
  std::unique_ptr<File> base_;
};

class ForwardingEnv : public Env {
 public:
  explicit ForwardingEnv(Env* base) : base_(base) {}  // `base` must outlive this

  Result<std::unique_ptr<File>> open_file(const std::string& path, OpenMode mode) override {
    return base_->open_file(path, mode);
  }
  Result<std::unique_ptr<File>> open_direct_file(const std::string& path, OpenMode mode) override {
    return base_->open_direct_file(path, mode);
  }
  bool file_exists(const std::string& path) override { return base_->file_exists(path); }
  Result<std::vector<std::string>> list_dir(const std::string& dir) override { return base_->list_dir(dir); }
  Status create_dir(const std::string& dir) override { return base_->create_dir(dir); }
  Status rename_file(const std::string& from, const std::string& to) override { return base_->rename_file(from, to); }
  Status remove_file(const std::string& path) override { return base_->remove_file(path); }
  Status sync_dir(const std::string& dir) override { return base_->sync_dir(dir); }
  Result<std::unique_ptr<FileLock>> lock_file(const std::string& path) override { return base_->lock_file(path); }
  uint64_t now_ns() override { return base_->now_ns(); }

 protected:
  Env* base() const { return base_; }

 private:
  Env* base_;
};

}  // namespace orderlog::testing
