// FrameDecoder (server/frame_codec.h) in-process, without sockets: pipelined frames,
// frames split across reads, alignment, hostile lengths and buffer growth; and the
// log line format (server/log.h).
#include "server/frame_codec.h"

#include <gtest/gtest.h>

#include <cstring>

#include "server/log.h"
#include "wire/frame.h"
#include "wire_messages.h"

namespace orderlog::server {
namespace {

using testing::ping;

// Feeds `bytes` to the decoder in reads of at most `chunk` bytes, collecting every
// frame's request id.
std::vector<uint64_t> feed(FrameDecoder& decoder, const std::vector<uint8_t>& bytes, size_t chunk) {
  std::vector<uint64_t> ids;
  size_t offset = 0;
  while (offset < bytes.size()) {
    std::span<std::byte> space = decoder.prepare();
    const size_t n = std::min({chunk, space.size(), bytes.size() - offset});
    std::memcpy(space.data(), bytes.data() + offset, n);
    decoder.commit(n);
    offset += n;
    for (auto next = decoder.next(); next.outcome == FrameDecoder::Outcome::kFrame; next = decoder.next()) {
      EXPECT_EQ(reinterpret_cast<uintptr_t>(next.frame.data()) % 8, 0u) << "frames are 8-byte aligned";
      std::string_view why;
      const wire::Message* message = wire::verify_frame(next.frame.data(), next.frame.size(), &why);
      EXPECT_NE(message, nullptr) << why;
      if (message != nullptr) ids.push_back(message->request_id());
    }
  }
  return ids;
}

std::vector<uint8_t> pings(uint64_t count) {
  std::vector<uint8_t> bytes;
  for (uint64_t id = 1; id <= count; ++id) {
    const auto frame = ping(id);
    bytes.insert(bytes.end(), frame.data(), frame.data() + frame.size());
  }
  return bytes;
}

TEST(FrameDecoderTest, SplitsPipelinedFramesFromOneRead) {
  FrameDecoder decoder(1 << 20, 64 * 1024);
  const auto ids = feed(decoder, pings(100), 64 * 1024);
  ASSERT_EQ(ids.size(), 100u);
  for (uint64_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], i + 1);
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(FrameDecoderTest, AssemblesFramesArrivingByteByByte) {
  FrameDecoder decoder(1 << 20, 64);
  const auto ids = feed(decoder, pings(5), 1);
  EXPECT_EQ(ids, (std::vector<uint64_t>{1, 2, 3, 4, 5}));
}

TEST(FrameDecoderTest, MisalignedFramesAreHandedOutAligned) {
  // A 4-byte junk-free shift: frames of a size that is 4 mod 8 put every other frame
  // at an address that is 4 mod 8 in the read buffer.
  std::vector<uint8_t> bytes;
  for (uint64_t id = 1; id <= 9; ++id) {
    const auto frame = testing::make_frame(id, wire::Body::Ping, [](auto& b) { return wire::CreatePing(b).Union(); });
    bytes.insert(bytes.end(), frame.data(), frame.data() + frame.size());
  }
  FrameDecoder decoder(1 << 20, 4096);
  EXPECT_EQ(feed(decoder, bytes, 4096).size(), 9u);
}

TEST(FrameDecoderTest, LengthOverTheMaximumIsBadLength) {
  FrameDecoder decoder(1024, 4096);
  std::span<std::byte> space = decoder.prepare();
  wire::encode_frame_length(1025, space.data());
  decoder.commit(4);
  const auto next = decoder.next();
  EXPECT_EQ(next.outcome, FrameDecoder::Outcome::kBadLength);
  EXPECT_EQ(next.length, 1025u);
}

TEST(FrameDecoderTest, LengthUnderTheMinimumIsBadLength) {
  FrameDecoder decoder(1024, 4096);
  std::span<std::byte> space = decoder.prepare();
  wire::encode_frame_length(wire::kFrameBytesMin - 1, space.data());
  decoder.commit(4);
  EXPECT_EQ(decoder.next().outcome, FrameDecoder::Outcome::kBadLength);
}

TEST(FrameDecoderTest, GrowsForALargeFrameAndShrinksBackAfterIt) {
  FrameDecoder decoder(8 << 20, 4096);
  testing::TestStreamAppend big{"s", {{"T", std::string(1 << 20, 'x')}}};
  const auto frame = testing::append(42, {big});
  std::vector<uint8_t> bytes(frame.data(), frame.data() + frame.size());
  const auto ids = feed(decoder, bytes, 1 << 16);
  EXPECT_EQ(ids, (std::vector<uint64_t>{42}));
  EXPECT_GE(decoder.capacity_bytes(), frame.size());
  decoder.prepare();
  EXPECT_LT(decoder.capacity_bytes(), 64u * 1024) << "the large buffer is released";
}

TEST(FrameDecoderTest, IncompleteFrameNeedsMore) {
  FrameDecoder decoder(1024, 4096);
  const auto frame = ping(1);
  std::span<std::byte> space = decoder.prepare();
  std::memcpy(space.data(), frame.data(), frame.size() - 1);
  decoder.commit(frame.size() - 1);
  EXPECT_EQ(decoder.next().outcome, FrameDecoder::Outcome::kNeedMore);
}

TEST(LogLineTest, IsLogfmtWithQuotedAndEscapedValues) {
  const std::string line = format_log_line(1'700'000'000'123'456'789, LogLevel::kWarning, "listening",
                                           {{"addr", "127.0.0.1:7070"}, {"why", "a \"b\"\nc"}, {"n", uint64_t{7}}});
  EXPECT_EQ(line,
            "ts=2023-11-14T22:13:20.123456Z level=warn msg=\"listening\" addr=127.0.0.1:7070 why=\"a \\\"b\\\"\\nc\" "
            "n=7\n");
}

}  // namespace
}  // namespace orderlog::server
