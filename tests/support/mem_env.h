// MemEnv: an in-memory Env for tests. It remembers, per file, what was last made
// durable by sync_data(), so a test can take the disk as a power cut would leave it
// (crash_copy) and reopen a store on it. Directory operations (create, rename,
// remove) are durable at once. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "orderlog/env.h"

namespace orderlog::testing {

class MemEnv : public Env {
 public:
  MemEnv();
  ~MemEnv() override;

  Result<std::unique_ptr<File>> open_file(const std::string& path, OpenMode mode) override;
  // Direct files demand aligned writes (a misaligned one aborts) and otherwise behave
  // like buffered ones: a power cut keeps what was synced.
  Result<std::unique_ptr<File>> open_direct_file(const std::string& path, OpenMode mode) override;
  bool file_exists(const std::string& path) override;
  Result<std::vector<std::string>> list_dir(const std::string& dir) override;
  Status create_dir(const std::string& dir) override;
  Status rename_file(const std::string& from, const std::string& to) override;
  Status remove_file(const std::string& path) override;
  Status sync_dir(const std::string& dir) override;
  Result<std::unique_ptr<FileLock>> lock_file(const std::string& path) override;
  uint64_t now_ns() override;

  // The disk as a power cut now would leave it: every file holds only the bytes of its
  // last successful sync_data() (a never-synced file is empty). Open files, locks and
  // the clock are not carried over.
  std::unique_ptr<MemEnv> crash_copy() const;

  // Test access to raw bytes. contents() of a missing file is an error; set_contents()
  // replaces the current and the durable bytes (creating the file).
  Result<std::string> contents(const std::string& path) const;
  void set_contents(const std::string& path, const std::string& bytes);

  // A fixed clock (nanoseconds) for deterministic timestamps; 0 (default) = real clock.
  void set_clock_ns(uint64_t now_ns);

  struct Node;  // one file's bytes; defined in mem_env.cc

 private:
  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode, size_t write_alignment);

  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Node>> files_;
  std::map<std::string, bool> dirs_;
  std::map<std::string, bool> locks_;
  uint64_t clock_ns_ = 0;
  friend class MemFileLock;
};

}  // namespace orderlog::testing
