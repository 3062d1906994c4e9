// See snapshot_format.h. Checks run cheapest first (magic, lengths) because the
// scanner tries them at every 8-byte offset of a damaged region; the checksum and the
// FlatBuffers verifier run only on a plausible header.
#include "snapshot/snapshot_format.h"

#include <flatbuffers/flatbuffers.h>
#include <xxhash.h>

#include <cstring>

#include "orderlog/check.h"
#include "orderlog/fb/snapshot_record_generated.h"

namespace orderlog::snapshot {
namespace {

struct RecordHeader {
  uint32_t magic = 0;
  uint16_t format_version = 0;
  uint16_t reserved_16 = 0;
  uint32_t body_bytes = 0;
  uint32_t reserved_32 = 0;
  uint64_t checksum = 0;
};
static_assert(sizeof(RecordHeader) == kRecordHeaderBytes);
static_assert(offsetof(RecordHeader, checksum) == kRecordChecksumOffset);

uint64_t record_checksum(const std::byte* record, size_t padded_body_bytes) {
  const XXH64_hash_t seed = XXH3_64bits(record, kRecordChecksumOffset);
  return XXH3_64bits_withSeed(record + kRecordHeaderBytes, padded_body_bytes, seed);
}

const uint8_t* body_of(const std::byte* record) {
  return reinterpret_cast<const uint8_t*>(record + kRecordHeaderBytes);
}

}  // namespace

Result<EncodedSnapshot> encode_snapshot(const Snapshot& snapshot, uint64_t record_bytes_max) {
  if (snapshot.aggregate_id.empty() || snapshot.aggregate_id.size() > kAggregateIdBytesMax) {
    return Status::invalid_argument("snapshot aggregate id must be 1.." + std::to_string(kAggregateIdBytesMax) +
                                    " bytes");
  }
  // Refuse before building: a state that cannot fit must not cost a copy.
  if (snapshot.state.size() >= record_bytes_max) {
    return Status::too_large("snapshot state of " + std::to_string(snapshot.state.size()) + " bytes");
  }
  flatbuffers::FlatBufferBuilder builder(snapshot.state.size() + snapshot.aggregate_id.size() + 128);
  const auto id = builder.CreateString(snapshot.aggregate_id);
  const auto state = builder.CreateVector(reinterpret_cast<const uint8_t*>(snapshot.state.data()),
                                          snapshot.state.size());
  fb::FinishSnapshotRecordBuffer(
      builder, fb::CreateSnapshotRecord(builder, id, snapshot.version, snapshot.schema_version, state));

  const size_t body_bytes = builder.GetSize();
  const size_t record_bytes = kRecordHeaderBytes + storage::align_up(body_bytes);
  if (record_bytes > record_bytes_max) {
    return Status::too_large("snapshot record of " + std::to_string(record_bytes) + " bytes exceeds " +
                             std::to_string(record_bytes_max));
  }
  EncodedSnapshot encoded{snapshot.aggregate_id, snapshot.version, std::vector<std::byte>(record_bytes)};
  std::byte* record = encoded.bytes.data();
  std::memcpy(record + kRecordHeaderBytes, builder.GetBufferPointer(), body_bytes);
  RecordHeader header;
  header.magic = kRecordMagic;
  header.format_version = kRecordFormatVersion;
  header.body_bytes = static_cast<uint32_t>(body_bytes);
  std::memcpy(record, &header, sizeof(header));
  header.checksum = record_checksum(record, record_bytes - kRecordHeaderBytes);
  std::memcpy(record, &header, sizeof(header));
  return encoded;
}

RecordView check_record(const std::byte* record, uint64_t available_bytes) {
  OL_CHECK(reinterpret_cast<uintptr_t>(record) % kAlignmentBytes == 0);
  if (available_bytes < kRecordHeaderBytes) return {};
  RecordHeader header;
  std::memcpy(&header, record, sizeof(header));
  if (header.magic != kRecordMagic || header.format_version != kRecordFormatVersion) return {};
  if (header.reserved_16 != 0 || header.reserved_32 != 0 || header.body_bytes == 0) return {};
  const uint64_t padded_body_bytes = storage::align_up(header.body_bytes);
  if (padded_body_bytes > available_bytes - kRecordHeaderBytes) return {};
  if (record_checksum(record, padded_body_bytes) != header.checksum) return {};

  flatbuffers::Verifier verifier(body_of(record), header.body_bytes);
  if (!fb::VerifySnapshotRecordBuffer(verifier)) return {};
  const fb::SnapshotRecord* parsed = fb::GetSnapshotRecord(body_of(record));
  const std::string_view aggregate_id = parsed->aggregate_id()->string_view();
  if (aggregate_id.empty() || aggregate_id.size() > kAggregateIdBytesMax) return {};
  return {kRecordHeaderBytes + padded_body_bytes, aggregate_id, parsed->version()};
}

Snapshot decode_record(const std::byte* record) {
  const fb::SnapshotRecord* parsed = fb::GetSnapshotRecord(body_of(record));
  Snapshot snapshot;
  snapshot.aggregate_id = parsed->aggregate_id()->str();
  snapshot.version = parsed->version();
  snapshot.schema_version = parsed->schema_version();
  if (const auto* state = parsed->state(); state != nullptr) {
    const auto* begin = reinterpret_cast<const std::byte*>(state->data());
    snapshot.state.assign(begin, begin + state->size());
  }
  return snapshot;
}

}  // namespace orderlog::snapshot
