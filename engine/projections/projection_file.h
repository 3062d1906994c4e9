// The projection file (DATA_DIR/projections/<name>.proj): one read model's state and
// the checkpoint it is complete up to, in one file, so they can never disagree. It is
// replaced as a whole (write a temporary, fsync, rename, fsync the directory): after
// a crash either the old pair or the new one is there. The layout is specified in
// docs/format.md, "Projections"; these are its constants and codec.
//
// The body is a sequence of little-endian fields written by the read model's encode()
// and read back, bounds-checked, by its decode(). A file that does not verify is
// reported as kCorruption; the caller rebuilds (the state is derived from the log).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <xxhash.h>

#include "orderlog/env.h"
#include "orderlog/status.h"
#include "orderlog/types.h"

namespace orderlog::projections {

static_assert(std::endian::native == std::endian::little, "projection files are written in host order");

// Header, 48 bytes:
//   0 magic u32 | 4 format version u16 | 6 model id u8 | 7 model version u8
//   8 checkpoint u64 | 16 id of the event at the checkpoint [16] (nil at 0)
//   32 body bytes u64 | 40 checksum u64
// checksum = XXH3_64(header bytes [0, 40), seed = XXH3_64(body)).
inline constexpr uint32_t kFileMagic = 0x4A504C4F;  // bytes "OLPJ"
inline constexpr uint16_t kFileFormatVersion = 1;
inline constexpr size_t kHeaderBytes = 48;
inline constexpr size_t kHeaderChecksumOffset = 40;
inline constexpr char kFileSuffix[] = ".proj";
inline constexpr char kTempSuffix[] = ".proj.tmp";
// Bytes the encoder buffers before writing them out, so saving never holds a second
// copy of the whole state in memory.
inline constexpr size_t kEncodeBufferBytes = 1 << 20;

struct FileHeader {
  uint8_t model_id = 0;
  uint8_t model_version = 0;
  GlobalPosition checkpoint;
  EventId checkpoint_event_id;  // lets an open tell a file of another log
};

// Writes a body through a bounded buffer, hashing as it goes. The first write error
// is kept and every later field is dropped; finish() reports it.
class BodyEncoder {
 public:
  BodyEncoder(File* file, uint64_t offset);

  void u8(uint8_t value) { raw(&value, sizeof(value)); }
  void u32(uint32_t value) { raw(&value, sizeof(value)); }
  void u64(uint64_t value) { raw(&value, sizeof(value)); }
  void i64(int64_t value) { raw(&value, sizeof(value)); }
  // u32 length, then the bytes.
  void string(std::string_view value);

  // Flushes the buffer. The body's length and hash are valid once it returns ok().
  Status finish();
  uint64_t body_bytes() const { return body_bytes_; }
  uint64_t body_hash() const;

 private:
  void raw(const void* data, size_t size);
  void flush();

  File* file_;
  uint64_t offset_;
  uint64_t body_bytes_ = 0;
  std::vector<std::byte> buffer_;
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> hash_;
  Status status_;
};

// Reads fields from a verified body. A read past the end fails the decoder (sticky)
// and yields zeros, so decode() can read a record and check ok() once after it.
class BodyDecoder {
 public:
  explicit BodyDecoder(std::span<const std::byte> body) : body_(body) {}

  uint8_t u8() { return fixed<uint8_t>(); }
  uint32_t u32() { return fixed<uint32_t>(); }
  uint64_t u64() { return fixed<uint64_t>(); }
  int64_t i64() { return fixed<int64_t>(); }
  std::string string(size_t bytes_max);
  // A count of records of at least `record_bytes_min` bytes each; fails if that many
  // cannot fit in what is left, so a corrupt count never drives a huge allocation.
  uint64_t count(size_t record_bytes_min);

  void fail() { ok_ = false; }
  bool ok() const { return ok_; }
  bool at_end() const { return offset_ == body_.size(); }

 private:
  template <typename T>
  T fixed() {
    T value{};
    return take(&value, sizeof(value)) ? value : T{};
  }
  bool take(void* out, size_t size);

  std::span<const std::byte> body_;
  size_t offset_ = 0;
  bool ok_ = true;
};

struct LoadedFile {
  FileHeader header;
  std::vector<std::byte> body;
};

using EncodeBody = std::function<void(BodyEncoder&)>;

// Replaces `dir`/`name`.proj with `header` and the body `encode` writes.
Status write_projection_file(Env* env, const std::string& dir, std::string_view name, const FileHeader& header,
                             const EncodeBody& encode);
// Reads and verifies `path`. kNotFound when missing, kCorruption when it does not
// verify or is of an unknown format version (the model's own version is the caller's).
Result<LoadedFile> read_projection_file(Env* env, const std::string& path);

}  // namespace orderlog::projections
