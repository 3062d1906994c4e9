// See frame_reader.h.
#include "frame_reader.h"

#include <algorithm>
#include <cstring>

#include "check.h"
#include "wire/frame.h"

namespace orderlog::client::detail {
namespace {
std::byte* bytes_of(const std::unique_ptr<uint64_t[]>& words) {
  return reinterpret_cast<std::byte*>(words.get());
}
}  // namespace


FrameReader::FrameReader(uint32_t frame_bytes_max, size_t initial_bytes)
    : frame_bytes_max_(frame_bytes_max) {
  reserve(std::max<size_t>(initial_bytes, 64));
}


std::span<std::byte> FrameReader::writable() {
  if (end_ == capacity_) compact();
  if (end_ == capacity_) reserve(capacity_ * 2);  // next() grows to the frame's size
  return {bytes_of(words_) + end_, capacity_ - end_};
}

void FrameReader::commit(size_t bytes) {
  OLC_CHECK(bytes <= capacity_ - end_);
  end_ += bytes;
}

FrameReader::Status FrameReader::next(std::span<const std::byte>* frame) {
  if (buffered_bytes() < wire::kFramePrefixBytes) return Status::NeedMore;
  const uint32_t length = wire::decode_frame_length(bytes_of(words_) + begin_);
  if (length < wire::kFrameBytesMin || length > frame_bytes_max_) return Status::BadLength;
  const size_t frame_bytes = wire::kFramePrefixBytes + size_t{length};
  if (buffered_bytes() < frame_bytes) {
    // Make room for the whole frame so the following reads can complete it.
    if (capacity_ - begin_ < frame_bytes) {
      compact();
      if (capacity_ < frame_bytes) reserve(frame_bytes);
    }
    return Status::NeedMore;
  }
  // Frames from a FlatBuffers builder are multiples of 8 bytes, so this is rare.
  if (begin_ % alignof(uint64_t) != 0) compact();
  *frame = {bytes_of(words_) + begin_, frame_bytes};
  begin_ += frame_bytes;
  if (begin_ == end_) begin_ = end_ = 0;
  return Status::Frame;
}

void FrameReader::compact() {
  if (begin_ == 0) return;
  std::memmove(bytes_of(words_), bytes_of(words_) + begin_, end_ - begin_);
  end_ -= begin_;
  begin_ = 0;
}

void FrameReader::reserve(size_t bytes) {
  if (bytes <= capacity_) return;
  const size_t words = (bytes + sizeof(uint64_t) - 1) / sizeof(uint64_t);
  auto grown = std::make_unique_for_overwrite<uint64_t[]>(words);
  if (end_ > begin_) std::memcpy(grown.get(), bytes_of(words_) + begin_, end_ - begin_);
  end_ -= begin_;
  begin_ = 0;
  words_ = std::move(grown);
  capacity_ = words * sizeof(uint64_t);
}

}  // namespace orderlog::client::detail
