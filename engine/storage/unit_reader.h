// Reads units back from a mapped segment: validates a unit's header, checksum and
// event frames, and decodes events into zero-copy EventViews.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "orderlog/event.h"
#include "storage/record_format.h"

namespace orderlog::storage {

enum class UnitState : uint8_t {
  kValid,
  kEnd,      // an all-zero header: nothing was written here
  kInvalid,  // torn or corrupt; `problem` says how
};

struct UnitCheck {
  UnitState state = UnitState::kInvalid;
  UnitHeader header;
  std::string problem;
  size_t total_bytes() const { return kUnitHeaderBytes + header.body_bytes; }
};

// Examines the unit at `offset` of a segment whose first `limit` bytes are at `base`.
// A valid unit has the magic and format version, fits before `limit`, starts at
// `expected_first_position`, matches its checksum, and its event frames tile the body
// with verifiable EventRecords.
UnitCheck check_unit(const std::byte* base, uint64_t limit, uint64_t offset, uint64_t expected_first_position);

// Calls `visit(record_offset_in_unit, record)` for each event of a valid unit, in order.
template <typename Visit>
void for_each_event(const std::byte* unit, const UnitHeader& header, Visit&& visit) {
  size_t offset = kUnitHeaderBytes;
  for (uint32_t i = 0; i < header.event_count; ++i) {
    const uint32_t record_bytes = load_u32(unit + offset);
    visit(offset + kEventFrameHeaderBytes, unit + offset + kEventFrameHeaderBytes);
    offset += kEventFrameHeaderBytes + align_up(record_bytes);
  }
}

// Decodes a stored EventRecord (already verified by check_unit) into a view of it.
EventView decode_event(const std::byte* record);

// The position of the EventRecord framed at `record_offset` of a segment, or nullopt
// when no verifiable record is there (used to check an index against the log).
std::optional<uint64_t> verified_event_position(const std::byte* base, uint64_t limit, uint64_t record_offset);

// The global position of a stored EventRecord, without decoding the rest.
uint64_t event_position(const std::byte* record);
uint64_t event_timestamp_ns(const std::byte* record);

}  // namespace orderlog::storage
