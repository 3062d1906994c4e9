// FrameReader: cutting a byte stream into whole, aligned frames.
#include "frame_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "wire/frame.h"

namespace orderlog::client::detail {
namespace {

// A frame of `body_bytes` bytes filled with `fill`.
std::vector<std::byte> make_frame(uint32_t body_bytes, uint8_t fill) {
  std::vector<std::byte> frame(wire::kFramePrefixBytes + body_bytes, std::byte{fill});
  wire::encode_frame_length(body_bytes, frame.data());
  return frame;
}

// Feeds `bytes` in pieces of at most `piece` bytes; returns the frames seen.
std::vector<std::vector<std::byte>> feed(FrameReader& reader, const std::vector<std::byte>& bytes, size_t piece,
                                         FrameReader::Status* last = nullptr) {
  std::vector<std::vector<std::byte>> frames;
  size_t offset = 0;
  FrameReader::Status status = FrameReader::Status::NeedMore;
  while (offset < bytes.size()) {
    std::span<std::byte> space = reader.writable();
    const size_t n = std::min({piece, space.size(), bytes.size() - offset});
    std::memcpy(space.data(), bytes.data() + offset, n);
    reader.commit(n);
    offset += n;
    std::span<const std::byte> frame;
    while ((status = reader.next(&frame)) == FrameReader::Status::Frame) {
      EXPECT_EQ(reinterpret_cast<uintptr_t>(frame.data()) % 8, 0u);
      frames.emplace_back(frame.begin(), frame.end());
    }
    if (status == FrameReader::Status::BadLength) break;
  }
  if (last != nullptr) *last = status;
  return frames;
}

TEST(FrameReader, ManyFramesInOneReadAreAllReturned) {
  std::vector<std::byte> stream;
  for (uint8_t i = 0; i < 10; ++i) {
    auto frame = make_frame(60, i);
    stream.insert(stream.end(), frame.begin(), frame.end());
  }
  FrameReader reader(1024);
  const auto frames = feed(reader, stream, stream.size());
  ASSERT_EQ(frames.size(), 10u);
  EXPECT_EQ(frames[9], make_frame(60, 9));
  EXPECT_EQ(reader.buffered_bytes(), 0u);
}

TEST(FrameReader, FrameSplitAcrossReadsIsAssembledByteByByte) {
  const auto frame = make_frame(100, 7);
  FrameReader reader(1024);
  const auto frames = feed(reader, frame, 1);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], frame);
}

TEST(FrameReader, FrameLargerThanTheBufferGrowsIt) {
  const auto frame = make_frame(100'000, 3);
  FrameReader reader(1 << 20, /*initial_bytes=*/256);
  const auto frames = feed(reader, frame, 4096);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], frame);
}

TEST(FrameReader, OddSizedFramesAreStillReturnedAligned) {
  std::vector<std::byte> stream;
  for (uint32_t body : {13u, 21u, 17u, 64u}) {
    auto frame = make_frame(body, static_cast<uint8_t>(body));
    stream.insert(stream.end(), frame.begin(), frame.end());
  }
  FrameReader reader(1024, 64);
  const auto frames = feed(reader, stream, 7);
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(frames[1], make_frame(21, 21));
}

TEST(FrameReader, LengthOverTheMaximumIsBadLength) {
  FrameReader::Status status;
  FrameReader reader(1000);
  feed(reader, make_frame(1001, 0), 64, &status);
  EXPECT_EQ(status, FrameReader::Status::BadLength);
}

TEST(FrameReader, LengthTooShortForAMessageIsBadLength) {
  FrameReader::Status status;
  FrameReader reader(1000);
  feed(reader, make_frame(wire::kFrameBytesMin - 1, 0), 64, &status);
  EXPECT_EQ(status, FrameReader::Status::BadLength);
}

}  // namespace
}  // namespace orderlog::client::detail
