// See frame_decoder.h.
#include "wire/frame_decoder.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "wire/frame.h"

// orderlog_wire is compiled into the client, which does not link the engine and its
// OL_CHECK; a broken contract here is a caller's bug all the same, so it aborts.
#define OL_WIRE_CHECK(condition)                                                                \
  do {                                                                                          \
    if (!(condition)) [[unlikely]] {                                                            \
      std::fprintf(stderr, "%s:%d: orderlog check failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                             \
    }                                                                                           \
  } while (false)

namespace orderlog::wire {
namespace {

size_t words_for(size_t bytes) { return (bytes + sizeof(uint64_t) - 1) / sizeof(uint64_t); }

}  // namespace

FrameDecoder::FrameDecoder(uint32_t frame_bytes_max, size_t read_bytes)
    : frame_bytes_max_(frame_bytes_max), read_bytes_(std::max<size_t>(read_bytes, 64)) {
  storage_.resize(words_for(read_bytes_));
}

void FrameDecoder::compact() {
  if (begin_ == 0) return;
  std::memmove(data(), data() + begin_, end_ - begin_);
  end_ -= begin_;
  begin_ = 0;
}

void FrameDecoder::reserve(size_t bytes) {
  if (bytes <= capacity_bytes()) return;
  storage_.resize(words_for(bytes));
}

std::span<std::byte> FrameDecoder::prepare() {
  if (begin_ == end_) {
    begin_ = end_ = 0;
    // A large frame is gone: give its memory back, so an idle connection holds
    // only its usual read buffer.
    if (capacity_bytes() > 4 * read_bytes_) {
      storage_.assign(words_for(read_bytes_), 0);
      storage_.shrink_to_fit();
    }
    if (scratch_.size() * sizeof(uint64_t) > read_bytes_) {
      scratch_.clear();
      scratch_.shrink_to_fit();
    }
  }
  size_t want = read_bytes_;
  const size_t buffered = end_ - begin_;
  if (buffered >= kFramePrefixBytes) {
    const uint32_t length = decode_frame_length(data() + begin_);
    // Only a length next() would accept may grow the buffer.
    if (length >= kFrameBytesMin && length <= frame_bytes_max_) {
      const size_t frame_bytes = kFramePrefixBytes + length;
      if (frame_bytes > buffered) want = std::max(want, frame_bytes - buffered);
    }
  }
  if (capacity_bytes() - end_ < want) {
    compact();
    reserve(end_ + want);
  }
  return {data() + end_, capacity_bytes() - end_};
}

void FrameDecoder::commit(size_t bytes) {
  OL_WIRE_CHECK(bytes <= capacity_bytes() - end_);
  end_ += bytes;
}

FrameDecoder::Next FrameDecoder::next() {
  Next result;
  const size_t buffered = end_ - begin_;
  if (buffered < kFramePrefixBytes) return result;
  const std::byte* frame = data() + begin_;
  result.length = decode_frame_length(frame);
  if (result.length < kFrameBytesMin || result.length > frame_bytes_max_) {
    result.outcome = Outcome::kBadLength;
    return result;
  }
  const size_t frame_bytes = kFramePrefixBytes + result.length;
  if (buffered < frame_bytes) return result;
  if (begin_ % alignof(uint64_t) != 0) {
    scratch_.resize(words_for(frame_bytes));
    std::memcpy(scratch_.data(), frame, frame_bytes);
    frame = reinterpret_cast<const std::byte*>(scratch_.data());
  }
  begin_ += frame_bytes;
  result.outcome = Outcome::kFrame;
  result.frame = {frame, frame_bytes};
  return result;
}

}  // namespace orderlog::wire
