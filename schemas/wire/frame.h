// Framing of the wire protocol (docs/protocol.md): [u32 length LE][Message], which is
// exactly a FlatBuffers size-prefixed buffer. Shared by orderlogd and the client.
//
// Keep the 4-byte prefix in front of the body in memory and the prefix at an
// 8-byte-aligned address: the builder aligns the body's fields relative to the
// prefix, and the Verifier checks alignment.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace orderlog::wire {

struct Message;

inline constexpr uint32_t kProtocolVersion = 1;
inline constexpr size_t kFramePrefixBytes = 4;
// A frame's body may be at most this long unless the server says otherwise.
inline constexpr uint32_t kFrameBytesMaxDefault = 16u * 1024 * 1024;
// The smallest body that can hold a Message (root offset + file identifier + vtable
// and table); shorter lengths are malformed before any byte of the body is read.
inline constexpr uint32_t kFrameBytesMin = 12;
// The largest body a server takes before the handshake is done: a Hello (a token of
// at most 1 KiB and a client name) fits many times over.
inline constexpr uint32_t kHelloFrameBytesMax = 64 * 1024;

// The body length in a frame's prefix (little-endian on every host).
uint32_t decode_frame_length(const std::byte* prefix);
void encode_frame_length(uint32_t length, std::byte* prefix);

// Runs the FlatBuffers Verifier over a whole frame (prefix + `length` body bytes at
// `frame`, which is 8-byte aligned) and checks the file identifier. Returns the
// message, or nullptr with `*why` set when the frame is not a valid Message.
const Message* verify_frame(const std::byte* frame, size_t frame_bytes, std::string_view* why);

}  // namespace orderlog::wire
