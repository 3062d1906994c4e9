// FrameDecoder: splits the byte stream of a connection into frames
// ([u32 length LE][Message], see wire/frame.h). Shared by orderlogd's sessions and the
// client's channel. Pure and socket-free so its edge cases (split prefixes, frames
// spanning reads, hostile lengths) are unit-tested without a network; and free of
// FlatBuffers and Asio, so it is cheap to include anywhere.
//
// The reader reads into prepare()'s space (large reads: many pipelined frames per
// syscall), commit()s what arrived, and takes frames with next() until it says
// kNeedMore. A frame handed out is contiguous, starts with its prefix and sits at an
// 8-byte-aligned address (copied to an aligned scratch buffer when it does not lie so
// in the read buffer), because FlatBuffers reads fields in place.
//
// A length below kFrameBytesMin or above the maximum is kBadLength: the stream cannot
// be resynchronised, so the server answers and closes, and the client drops the
// connection as a broken peer. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace orderlog::wire {

class FrameDecoder {
 public:
  // `frame_bytes_max`: the largest body accepted. `read_bytes`: the usual read size
  // (at least 64), which is also the capacity an idle decoder holds.
  FrameDecoder(uint32_t frame_bytes_max, size_t read_bytes);

  // Writable space for the next read (at least `read_bytes`, or what the frame being
  // assembled still needs). Valid until the next call of any method.
  std::span<std::byte> prepare();
  // `bytes` of prepare()'s space were filled. REQUIRES: `bytes` fits that space.
  void commit(size_t bytes);

  enum class Outcome { kFrame, kNeedMore, kBadLength };
  struct Next {
    Outcome outcome = Outcome::kNeedMore;
    // kFrame: prefix + body, 8-byte aligned; valid until the next call of any method.
    std::span<const std::byte> frame;
    uint32_t length = 0;  // kFrame / kBadLength: the body length from the prefix
  };
  Next next();

  // Changes the largest body accepted from the next frame on (the server raises it
  // once a connection has shaken hands).
  void set_frame_bytes_max(uint32_t frame_bytes_max) { frame_bytes_max_ = frame_bytes_max; }
  uint32_t frame_bytes_max() const { return frame_bytes_max_; }

  // Bytes received but not yet handed out as frames.
  size_t buffered_bytes() const { return end_ - begin_; }
  // Capacity held; shrinks back to about `read_bytes` once a large frame is gone.
  size_t capacity_bytes() const { return storage_.size() * sizeof(uint64_t); }

 private:
  std::byte* data() { return reinterpret_cast<std::byte*>(storage_.data()); }
  void compact();
  void reserve(size_t bytes);

  uint32_t frame_bytes_max_;
  size_t read_bytes_;
  // uint64_t elements keep the buffer 8-byte aligned.
  std::vector<uint64_t> storage_;
  size_t begin_ = 0;  // first byte not yet handed out
  size_t end_ = 0;    // one past the last byte received
  std::vector<uint64_t> scratch_;  // aligned copy of a misaligned frame
};

}  // namespace orderlog::wire
