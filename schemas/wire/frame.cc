// See frame.h.
#include "wire/frame.h"

#include "orderlog/fb/protocol_generated.h"

namespace orderlog::wire {

uint32_t decode_frame_length(const std::byte* prefix) {
  return static_cast<uint32_t>(prefix[0]) | static_cast<uint32_t>(prefix[1]) << 8 |
         static_cast<uint32_t>(prefix[2]) << 16 | static_cast<uint32_t>(prefix[3]) << 24;
}

void encode_frame_length(uint32_t length, std::byte* prefix) {
  for (int i = 0; i < 4; ++i) prefix[i] = static_cast<std::byte>((length >> (8 * i)) & 0xff);
}

const Message* verify_frame(const std::byte* frame, size_t frame_bytes, std::string_view* why) {
  if (frame_bytes < kFramePrefixBytes + kFrameBytesMin) {
    *why = "frame too short to hold a message";
    return nullptr;
  }
  if (decode_frame_length(frame) != frame_bytes - kFramePrefixBytes) {
    *why = "frame length prefix does not match the frame";
    return nullptr;
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(frame);
  // Depth and table bounds keep a hostile frame's verification cost linear in its size.
  flatbuffers::Verifier verifier(bytes, frame_bytes, /*max_depth=*/32, /*max_tables=*/4'000'000);
  if (!VerifySizePrefixedMessageBuffer(verifier)) {
    *why = "frame is not a valid orderlog message (FlatBuffers verification failed)";
    return nullptr;
  }
  return GetSizePrefixedMessage(bytes);
}

}  // namespace orderlog::wire
