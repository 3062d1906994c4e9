// Cuts a TCP byte stream into frames ([u32 length LE][Message]) without copying them:
// bytes are read into one buffer, every complete frame in it is handed out in place,
// and a partial frame is moved to the front when more space is needed. Frames are
// returned 8-byte aligned (prefix included), as the FlatBuffers Verifier requires.
// Pure: no sockets, so it is unit-tested byte by byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace orderlog::client::detail {

class FrameReader {
 public:
  enum class Status { Frame, NeedMore, BadLength };

  // `frame_bytes_max`: the longest body accepted; longer lengths are BadLength.
  explicit FrameReader(uint32_t frame_bytes_max, size_t initial_bytes = 64 * 1024);

  // Where the next read may store bytes (never empty while a frame may still fit).
  std::span<std::byte> writable();
  // `bytes` were stored at the start of writable().
  void commit(size_t bytes);
  // The next complete frame (prefix included) in `*frame`, valid until the next call
  // of writable() or next(). BadLength: the stream is unusable (the peer is broken).
  Status next(std::span<const std::byte>* frame);

  size_t buffered_bytes() const { return end_ - begin_; }

 private:
  void compact();
  void reserve(size_t bytes);

  uint32_t frame_bytes_max_;
  std::unique_ptr<uint64_t[]> words_;  // uint64_t: the buffer itself is 8-aligned
  size_t capacity_ = 0;
  size_t begin_ = 0;  // first unconsumed byte
  size_t end_ = 0;    // one past the last stored byte
};

}  // namespace orderlog::client::detail
