// The byte layout of a snapshot record (specified in docs/format.md, "Snapshots").
// A snapshot segment is a sequence of records; each one is checksummed on its own, so
// a reader can skip a bad record and find the next good one by its magic.
//
//   record := header(24) body
//   header := magic u32 | format_version u16 | reserved u16 (0) | body_bytes u32 |
//             reserved u32 (0) | checksum u64
//   body   := SnapshotRecord flatbuffer (body_bytes), zero-padded to 8 bytes
//   checksum = XXH3_64(padded body, seed = XXH3_64(header bytes [0, 16)))
//
// The layout follows the event log's units (storage/record_format.h): same byte
// order, alignment and checksum construction, a different magic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "orderlog/event.h"
#include "orderlog/snapshot_store.h"
#include "orderlog/status.h"
#include "storage/record_format.h"

namespace orderlog::snapshot {

inline constexpr uint32_t kRecordMagic = 0x4E534C4Fu;  // "OLSN" in file byte order
inline constexpr uint16_t kRecordFormatVersion = 1;
inline constexpr size_t kRecordHeaderBytes = 24;
inline constexpr size_t kRecordChecksumOffset = 16;
inline constexpr size_t kAlignmentBytes = storage::kAlignmentBytes;
// Aggregates are streams of the event log, so their ids share its limit.
inline constexpr size_t kAggregateIdBytesMax = kStreamIdBytesMax;
// Bounds a segment (and so a record) well below what a u32 length and a FlatBuffer
// can describe.
inline constexpr uint64_t kSegmentBytesMin = 4096;
inline constexpr uint64_t kSegmentBytesMax = uint64_t{1} << 30;

static_assert(kRecordHeaderBytes % kAlignmentBytes == 0);
static_assert(kRecordChecksumOffset + sizeof(uint64_t) == kRecordHeaderBytes);
static_assert(kSegmentBytesMax <= UINT32_MAX);

// A record ready to be appended: header and padded body, checksum sealed.
struct EncodedSnapshot {
  std::string aggregate_id;
  uint64_t version = 0;
  std::vector<std::byte> bytes;
};

// Encodes `snapshot` into one record of at most `record_bytes_max` bytes.
// Errors: kInvalidArgument for an empty or too long aggregate id, kTooLarge when the
// record would exceed `record_bytes_max`.
Result<EncodedSnapshot> encode_snapshot(const Snapshot& snapshot, uint64_t record_bytes_max);

// What a valid record at some offset says, viewing into the checked bytes.
struct RecordView {
  size_t record_bytes = 0;  // header + padded body: where the next record starts
  std::string_view aggregate_id;
  uint64_t version = 0;
};

// Checks the record at `record`, of which `available_bytes` may be read: magic,
// format version, lengths, checksum and the FlatBuffers verifier. Returns a view with
// record_bytes == 0 when anything is wrong; never reads past `available_bytes`.
// REQUIRES: `record` is 8-byte aligned (FlatBuffers views are checked for alignment).
RecordView check_record(const std::byte* record, uint64_t available_bytes);

// Copies a record that check_record() accepted into a Snapshot.
Snapshot decode_record(const std::byte* record);

}  // namespace orderlog::snapshot
