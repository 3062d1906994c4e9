// Encodes one append request into the bytes of a log unit, on the appending thread,
// so the writer thread only patches positions, versions and timestamps and seals it.
// Validates every input limit first: a bad append never reaches the writer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "orderlog/event_store.h"

namespace orderlog::storage {

struct EncodedStream {
  std::string_view stream_id;  // points into EncodedUnit::bytes (its first event's record)
  ExpectedVersion expected = ExpectedVersion::any();
  uint32_t event_begin = 0;  // index into EncodedUnit::events
  uint32_t event_count = 0;
};

struct EncodedEvent {
  uint32_t offset = 0;  // of the EventRecord flatbuffer within EncodedUnit::bytes
  uint32_t stream_slot = 0;
  EventId id;
  std::string_view type;  // points into EncodedUnit::bytes
};

// A unit ready for the writer: header with placeholders, then framed events.
// Move-only: the views in `streams` and `events` point into `bytes`, whose buffer
// moves with it (a copy's views would point into the original).
struct EncodedUnit {
  EncodedUnit() = default;
  EncodedUnit(EncodedUnit&&) = default;
  EncodedUnit& operator=(EncodedUnit&&) = default;
  EncodedUnit(const EncodedUnit&) = delete;
  EncodedUnit& operator=(const EncodedUnit&) = delete;

  std::vector<std::byte> bytes;
  std::vector<EncodedStream> streams;
  std::vector<EncodedEvent> events;
};

// Errors: kInvalidArgument (empty/duplicate stream ids, nil or repeated event ids,
// bad lengths or schema version), kTooLarge (over kUnitBytesMax or the count limits).
Result<EncodedUnit> encode_unit(std::span<const StreamAppend> streams);

// Writes the writer-assigned fields into an encoded EventRecord.
void patch_event(std::byte* event_record, uint64_t position, uint64_t version, uint64_t timestamp_ns);

// Fills the header's first position, batch-start flag and checksum.
// REQUIRES: a unit from encode_unit.
void seal_unit(std::byte* unit, uint64_t first_position, bool batch_start);

}  // namespace orderlog::storage
