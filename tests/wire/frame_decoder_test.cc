// FrameDecoder (wire/frame_decoder.h), shared by orderlogd and the client, without
// sockets: pipelined frames, frames split across reads, alignment, hostile lengths and
// buffer growth. The decoder looks only at length prefixes, so most streams here are
// raw frames of chosen sizes; real Messages show that a frame handed out verifies.
#include "wire/frame_decoder.h"

#include <flatbuffers/flatbuffers.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "orderlog/fb/protocol_generated.h"
#include "wire/frame.h"

namespace orderlog::wire {
namespace {

using Bytes = std::vector<std::byte>;
using Outcome = FrameDecoder::Outcome;

Bytes bytes_of(const flatbuffers::FlatBufferBuilder& builder) {
  const auto* data = reinterpret_cast<const std::byte*>(builder.GetBufferPointer());
  return Bytes(data, data + builder.GetSize());
}

// A Ping Message as a complete frame; FlatBuffers pads it to a multiple of 8 bytes.
Bytes ping_frame(uint64_t request_id) {
  flatbuffers::FlatBufferBuilder builder(64);
  builder.FinishSizePrefixed(CreateMessage(builder, request_id, Body::Ping, CreatePing(builder).Union()),
                             MessageIdentifier());
  return bytes_of(builder);
}

// An Error Message whose text is `text_bytes` long, as a complete frame.
Bytes error_frame(uint64_t request_id, size_t text_bytes) {
  flatbuffers::FlatBufferBuilder builder(text_bytes + 256);
  const auto text = builder.CreateString(std::string(text_bytes, 'x'));
  const auto error = CreateError(builder, ErrorCode::BadRequest, text);
  builder.FinishSizePrefixed(CreateMessage(builder, request_id, Body::Error, error.Union()), MessageIdentifier());
  return bytes_of(builder);
}

// A frame of `body_bytes` bytes of `fill`: not a Message, but the decoder does not care.
Bytes raw_frame(uint32_t body_bytes, uint8_t fill) {
  Bytes frame(kFramePrefixBytes + body_bytes, std::byte{fill});
  encode_frame_length(body_bytes, frame.data());
  return frame;
}

void append(Bytes& stream, const Bytes& frame) { stream.insert(stream.end(), frame.begin(), frame.end()); }

struct Fed {
  std::vector<Bytes> frames;           // every frame handed out, copied
  std::vector<uint64_t> request_ids;   // of those that verify in place as Messages
  Outcome last = Outcome::kNeedMore;   // the outcome that ended the last drain
};

// Feeds `bytes` to the decoder in reads of at most `chunk` bytes, draining every frame
// after each read, until the bytes run out or the decoder says kBadLength.
Fed feed(FrameDecoder& decoder, const Bytes& bytes, size_t chunk) {
  Fed fed;
  size_t offset = 0;
  while (offset < bytes.size() && fed.last != Outcome::kBadLength) {
    const std::span<std::byte> space = decoder.prepare();
    const size_t n = std::min({chunk, space.size(), bytes.size() - offset});
    std::memcpy(space.data(), bytes.data() + offset, n);
    decoder.commit(n);
    offset += n;
    FrameDecoder::Next next;
    while ((next = decoder.next()).outcome == Outcome::kFrame) {
      EXPECT_EQ(reinterpret_cast<uintptr_t>(next.frame.data()) % 8, 0u) << "frames are 8-byte aligned";
      fed.frames.emplace_back(next.frame.begin(), next.frame.end());
      std::string_view why;
      const Message* message = verify_frame(next.frame.data(), next.frame.size(), &why);
      if (message != nullptr) fed.request_ids.push_back(message->request_id());
    }
    fed.last = next.outcome;
  }
  return fed;
}

Bytes pings(uint64_t count) {
  Bytes stream;
  for (uint64_t id = 1; id <= count; ++id) append(stream, ping_frame(id));
  return stream;
}

std::vector<uint64_t> ids_up_to(uint64_t count) {
  std::vector<uint64_t> ids;
  for (uint64_t id = 1; id <= count; ++id) ids.push_back(id);
  return ids;
}

TEST(FrameDecoderTest, SplitsPipelinedFramesFromOneRead) {
  FrameDecoder decoder(1 << 20, 64 * 1024);
  const Fed fed = feed(decoder, pings(100), 64 * 1024);
  EXPECT_EQ(fed.request_ids, ids_up_to(100));
  ASSERT_EQ(fed.frames.size(), 100u);
  EXPECT_EQ(fed.frames[99], ping_frame(100));
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(FrameDecoderTest, AssemblesFramesArrivingByteByByte) {
  FrameDecoder decoder(1 << 20, 64);
  EXPECT_EQ(feed(decoder, pings(5), 1).request_ids, ids_up_to(5));
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(FrameDecoderTest, OddSizedFramesAreStillHandedOutAligned) {
  // Bodies of odd sizes leave most frames at unaligned offsets in the read buffer;
  // reads of 7 bytes split prefixes and bodies at every possible point.
  Bytes stream;
  const std::vector<uint32_t> bodies = {13, 21, 17, 64};
  for (uint32_t body : bodies) append(stream, raw_frame(body, static_cast<uint8_t>(body)));
  FrameDecoder decoder(1024, 64);
  const Fed fed = feed(decoder, stream, 7);
  ASSERT_EQ(fed.frames.size(), bodies.size());
  for (size_t i = 0; i < bodies.size(); ++i) {
    EXPECT_EQ(fed.frames[i], raw_frame(bodies[i], static_cast<uint8_t>(bodies[i])));
  }
}

TEST(FrameDecoderTest, MisalignedMessagesAreHandedOutAlignedAndVerify) {
  // A 17-byte frame first puts every Message after it at an address 1 mod 8 in the
  // read buffer; the Verifier rejects misaligned tables, so each must be copied.
  Bytes stream = raw_frame(13, 0);
  append(stream, pings(9));
  FrameDecoder decoder(1 << 20, 4096);
  const Fed fed = feed(decoder, stream, 4096);
  EXPECT_EQ(fed.frames.size(), 10u);
  EXPECT_EQ(fed.request_ids, ids_up_to(9));
}

TEST(FrameDecoderTest, LengthOverTheMaximumIsBadLength) {
  // Known from the prefix alone, before any of the body arrives.
  FrameDecoder decoder(1024, 4096);
  const std::span<std::byte> space = decoder.prepare();
  encode_frame_length(1025, space.data());
  decoder.commit(kFramePrefixBytes);
  const FrameDecoder::Next next = decoder.next();
  EXPECT_EQ(next.outcome, Outcome::kBadLength);
  EXPECT_EQ(next.length, 1025u);
}

TEST(FrameDecoderTest, LengthUnderTheMinimumIsBadLength) {
  FrameDecoder decoder(1024, 4096);
  const std::span<std::byte> space = decoder.prepare();
  encode_frame_length(kFrameBytesMin - 1, space.data());
  decoder.commit(kFramePrefixBytes);
  const FrameDecoder::Next next = decoder.next();
  EXPECT_EQ(next.outcome, Outcome::kBadLength);
  EXPECT_EQ(next.length, kFrameBytesMin - 1);
}

TEST(FrameDecoderTest, BadLengthDoesNotGrowTheBuffer) {
  // A hostile prefix must not make the reader allocate what it announces.
  FrameDecoder decoder(1 << 20, 4096);
  const std::span<std::byte> space = decoder.prepare();
  encode_frame_length(0xffff'ffff, space.data());
  decoder.commit(kFramePrefixBytes);
  EXPECT_EQ(decoder.next().outcome, Outcome::kBadLength);
  decoder.prepare();
  EXPECT_LT(decoder.capacity_bytes(), 2u * 4096) << "no more than the usual read size";
}

TEST(FrameDecoderTest, GrowsForALargeFrameAndShrinksBackAfterIt) {
  FrameDecoder decoder(8 << 20, 4096);
  const Bytes frame = error_frame(42, 1 << 20);
  const Fed fed = feed(decoder, frame, 1 << 16);
  EXPECT_EQ(fed.request_ids, (std::vector<uint64_t>{42}));
  EXPECT_GE(decoder.capacity_bytes(), frame.size());
  decoder.prepare();
  EXPECT_LT(decoder.capacity_bytes(), 64u * 1024) << "the large buffer is released";
}

TEST(FrameDecoderTest, IncompleteFrameNeedsMore) {
  FrameDecoder decoder(1024, 4096);
  const Bytes frame = ping_frame(1);
  const std::span<std::byte> space = decoder.prepare();
  std::memcpy(space.data(), frame.data(), frame.size() - 1);
  decoder.commit(frame.size() - 1);
  EXPECT_EQ(decoder.next().outcome, Outcome::kNeedMore);
  EXPECT_EQ(decoder.buffered_bytes(), frame.size() - 1);
}

}  // namespace
}  // namespace orderlog::wire
