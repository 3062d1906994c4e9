// See projection_file.h. The body is hashed while it streams out; the header, which
// carries the body's length and the checksum, is written last at offset 0, then the
// file is synced and renamed over the previous one.
#include "projections/projection_file.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "orderlog/check.h"

namespace orderlog::projections {
namespace {

// Files past this are not ours (a corrupt header or a stray file): refuse to load
// them instead of allocating their size.
constexpr uint64_t kFileBytesMax = uint64_t{16} << 30;

template <typename T>
void put(std::byte* header, size_t offset, T value) {
  std::memcpy(header + offset, &value, sizeof(value));
}

template <typename T>
T get(const std::byte* header, size_t offset) {
  T value;
  std::memcpy(&value, header + offset, sizeof(value));
  return value;
}

uint64_t header_checksum(const std::byte* header, uint64_t body_hash) {
  return XXH3_64bits_withSeed(header, kHeaderChecksumOffset, body_hash);
}

void encode_header(const FileHeader& fields, uint64_t body_bytes, uint64_t body_hash, std::byte* header) {
  std::memset(header, 0, kHeaderBytes);
  put(header, 0, kFileMagic);
  put(header, 4, kFileFormatVersion);
  put(header, 6, fields.model_id);
  put(header, 7, fields.model_version);
  put(header, 8, fields.checkpoint.value);
  std::memcpy(header + 16, fields.checkpoint_event_id.bytes.data(), 16);
  put(header, 32, body_bytes);
  put(header, kHeaderChecksumOffset, header_checksum(header, body_hash));
}

// Checks the header against the body that follows it and fills `loaded.header`.
Status check_header(const std::string& path, const std::byte* header, const LoadedFile& loaded) {
  if (get<uint32_t>(header, 0) != kFileMagic) return Status::corruption(path + ": bad magic");
  const uint64_t body_bytes = get<uint64_t>(header, 32);
  if (body_bytes != loaded.body.size()) {
    return Status::corruption(path + ": body length " + std::to_string(body_bytes) + " disagrees with the file's " +
                              std::to_string(loaded.body.size()));
  }
  const uint64_t body_hash = XXH3_64bits(loaded.body.data(), loaded.body.size());
  if (header_checksum(header, body_hash) != get<uint64_t>(header, kHeaderChecksumOffset)) {
    return Status::corruption(path + ": checksum mismatch");
  }
  // Checked after the checksum: a version is only meaningful in an intact header.
  if (get<uint16_t>(header, 4) != kFileFormatVersion) {
    return Status::corruption(path + ": unknown format version " + std::to_string(get<uint16_t>(header, 4)));
  }
  return Status::ok();
}

FileHeader header_fields(const std::byte* header) {
  FileHeader fields;
  fields.model_id = get<uint8_t>(header, 6);
  fields.model_version = get<uint8_t>(header, 7);
  fields.checkpoint = GlobalPosition{get<uint64_t>(header, 8)};
  std::memcpy(fields.checkpoint_event_id.bytes.data(), header + 16, 16);
  return fields;
}

}  // namespace

BodyEncoder::BodyEncoder(File* file, uint64_t offset)
    : file_(file), offset_(offset), hash_(XXH3_createState(), &XXH3_freeState) {
  OL_CHECK_MSG(hash_ != nullptr, "out of memory for a hash state");
  XXH3_64bits_reset(hash_.get());
  buffer_.reserve(kEncodeBufferBytes);
}

void BodyEncoder::string(std::string_view value) {
  u32(static_cast<uint32_t>(value.size()));
  raw(value.data(), value.size());
}

void BodyEncoder::raw(const void* data, size_t size) {
  const auto* bytes = static_cast<const std::byte*>(data);
  while (size > 0 && status_.is_ok()) {
    const size_t room = kEncodeBufferBytes - buffer_.size();
    const size_t take = std::min(room, size);
    buffer_.insert(buffer_.end(), bytes, bytes + take);
    bytes += take;
    size -= take;
    if (buffer_.size() == kEncodeBufferBytes) flush();
  }
}

void BodyEncoder::flush() {
  if (buffer_.empty() || !status_.is_ok()) return;
  status_ = file_->write_at(offset_ + body_bytes_, buffer_);
  XXH3_64bits_update(hash_.get(), buffer_.data(), buffer_.size());
  body_bytes_ += buffer_.size();
  buffer_.clear();
}

Status BodyEncoder::finish() {
  flush();
  return status_;
}

uint64_t BodyEncoder::body_hash() const { return XXH3_64bits_digest(hash_.get()); }

std::string BodyDecoder::string(size_t bytes_max) {
  const uint32_t size = u32();
  if (!ok_ || size > bytes_max || size > body_.size() - offset_) {
    ok_ = false;
    return {};
  }
  std::string value(reinterpret_cast<const char*>(body_.data() + offset_), size);
  offset_ += size;
  return value;
}

uint64_t BodyDecoder::count(size_t record_bytes_min) {
  OL_CHECK(record_bytes_min > 0);
  const uint64_t value = u64();
  if (!ok_ || value > (body_.size() - offset_) / record_bytes_min) {
    ok_ = false;
    return 0;
  }
  return value;
}

bool BodyDecoder::take(void* out, size_t size) {
  if (!ok_ || size > body_.size() - offset_) {
    ok_ = false;
    return false;
  }
  std::memcpy(out, body_.data() + offset_, size);
  offset_ += size;
  return true;
}

Status write_projection_file(Env* env, const std::string& dir, std::string_view name, const FileHeader& header,
                             const EncodeBody& encode) {
  const std::string path = dir + "/" + std::string(name) + kFileSuffix;
  const std::string temp = dir + "/" + std::string(name) + kTempSuffix;
  OL_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env->open_file(temp, OpenMode::kCreate));
  OL_RETURN_IF_ERROR(file->truncate(0));
  BodyEncoder body(file.get(), kHeaderBytes);
  encode(body);
  OL_RETURN_IF_ERROR(body.finish());
  std::byte bytes[kHeaderBytes];
  encode_header(header, body.body_bytes(), body.body_hash(), bytes);
  OL_RETURN_IF_ERROR(file->write_at(0, bytes));
  // The new state must be durable before its name replaces the old one, or a crash
  // could leave the name pointing at a file that was never written out.
  OL_RETURN_IF_ERROR(file->sync_data());
  file.reset();
  OL_RETURN_IF_ERROR(env->rename_file(temp, path));
  return env->sync_dir(dir);
}

Result<LoadedFile> read_projection_file(Env* env, const std::string& path) {
  if (!env->file_exists(path)) return Status::not_found(path + " does not exist");
  OL_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env->open_file(path, OpenMode::kReadOnly));
  OL_ASSIGN_OR_RETURN(uint64_t size, file->size());
  if (size < kHeaderBytes) return Status::corruption(path + ": shorter than its header");
  if (size > kFileBytesMax) return Status::corruption(path + ": larger than any projection file");
  std::byte header[kHeaderBytes];
  OL_RETURN_IF_ERROR(file->read_at(0, header));
  LoadedFile loaded;
  loaded.body.resize(size - kHeaderBytes);
  OL_RETURN_IF_ERROR(file->read_at(kHeaderBytes, loaded.body));
  OL_RETURN_IF_ERROR(check_header(path, header, loaded));
  loaded.header = header_fields(header);
  return loaded;
}

}  // namespace orderlog::projections
