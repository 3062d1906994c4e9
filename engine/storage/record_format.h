// The byte layout of the log (specified in docs/format.md). A segment is a sequence
// of append units; a unit is one append request (one or more events, of one or more
// streams) written and checksummed as a whole, so recovery keeps all of it or none.
//
//   unit   := header(32) body
//   header := magic u32 | format_version u16 | flags u16 (bit 0: first unit of a
//             group-commit write) | body_bytes u32 |
//             event_count u32 | first_position u64 | checksum u64
//   body   := event_count x (event_bytes u32 | reserved u32 | EventRecord flatbuffer,
//             zero-padded to 8 bytes)
//   checksum = XXH3_64(body, seed = XXH3_64(header bytes [0, 24)))
//
// Everything is little-endian and 8-byte aligned, so FlatBuffers views into the
// mapped segment are aligned. An all-zero header marks the end of written data
// (segments are zero-filled ahead of the writer).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "orderlog/event.h"

namespace orderlog::storage {

static_assert(std::endian::native == std::endian::little, "the log format is little-endian");

inline constexpr uint32_t kUnitMagic = 0x474F4C4Fu;  // "OLOG" in file byte order
inline constexpr uint16_t kFormatVersion = 1;
inline constexpr size_t kUnitHeaderBytes = 32;
// Header flag: the first unit of a group-commit write. Recovery uses it to tell a torn
// last write (no batch starts after the bad unit) from corruption of synced data.
inline constexpr uint16_t kUnitFlagBatchStart = 1;
inline constexpr size_t kUnitChecksumOffset = 24;
inline constexpr size_t kEventFrameHeaderBytes = 8;
inline constexpr size_t kAlignmentBytes = 8;
// A unit never exceeds this; appends that would are rejected with kTooLarge.
inline constexpr size_t kUnitBytesMax = kAppendBytesMax;
inline constexpr size_t kSegmentBytesMin = 64 * 1024;

struct UnitHeader {
  uint32_t magic = 0;
  uint16_t format_version = 0;
  uint16_t flags = 0;
  uint32_t body_bytes = 0;
  uint32_t event_count = 0;
  uint64_t first_position = 0;
  uint64_t checksum = 0;
};
static_assert(sizeof(UnitHeader) == kUnitHeaderBytes);
static_assert(offsetof(UnitHeader, checksum) == kUnitChecksumOffset);
static_assert(kUnitHeaderBytes % kAlignmentBytes == 0);
static_assert(kSegmentBytesMin >= kUnitHeaderBytes + kEventFrameHeaderBytes);

constexpr size_t align_up(size_t bytes) { return (bytes + kAlignmentBytes - 1) & ~(kAlignmentBytes - 1); }

inline UnitHeader load_unit_header(const std::byte* at) {
  UnitHeader header;
  std::memcpy(&header, at, sizeof(header));
  return header;
}

inline void store_unit_header(std::byte* at, const UnitHeader& header) { std::memcpy(at, &header, sizeof(header)); }

inline uint32_t load_u32(const std::byte* at) {
  uint32_t value;
  std::memcpy(&value, at, sizeof(value));
  return value;
}

inline void store_u32(std::byte* at, uint32_t value) { std::memcpy(at, &value, sizeof(value)); }

// XXH3 over header bytes [0, 24) and the body (see the format comment above).
uint64_t unit_checksum(const std::byte* unit, size_t body_bytes);

}  // namespace orderlog::storage
