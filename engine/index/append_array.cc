// See append_array.h.
#include "index/append_array.h"

#include "orderlog/check.h"

namespace orderlog::index {

Result<std::unique_ptr<AppendArray>> AppendArray::open(Env* env, const std::string& path, size_t entry_bytes,
                                                       uint64_t reserve_bytes, uint64_t valid_count) {
  OL_CHECK(entry_bytes > 0 && reserve_bytes % entry_bytes == 0);
  OL_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env->open_file(path, OpenMode::kCreate));
  OL_ASSIGN_OR_RETURN(uint64_t size, file->size());
  if (size < valid_count * entry_bytes) {
    return Status::corruption("index file " + path + " holds " + std::to_string(size / entry_bytes) +
                              " entries, the checkpoint expects " + std::to_string(valid_count));
  }
  OL_ASSIGN_OR_RETURN(const std::byte* data, file->map(reserve_bytes));
  return std::unique_ptr<AppendArray>(
      new AppendArray(path, std::move(file), data, entry_bytes, reserve_bytes, valid_count));
}

Status AppendArray::append(const void* entries, uint64_t count) {
  if (count == 0) return Status::ok();
  const uint64_t offset = count_ * entry_bytes_;
  const uint64_t bytes = count * entry_bytes_;
  if (bytes > reserve_bytes_ - offset) return Status::too_large("index file " + path_ + " is full");
  OL_RETURN_IF_ERROR(file_->write_at(offset, std::span(static_cast<const std::byte*>(entries), bytes)));
  count_ += count;
  return Status::ok();
}

}  // namespace orderlog::index
