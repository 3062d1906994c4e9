// The event as an application appends it (NewEvent) and as it reads it back
// (EventView, a zero-copy view into the mapped log).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "orderlog/types.h"

namespace orderlog {

// A free key/value pair of event metadata.
struct Tag {
  std::string_view key;
  std::string_view value;
};

// An event to append. Views must stay valid for the duration of the append call only:
// the store copies (encodes) them before the call returns.
struct NewEvent {
  EventId id;                        // required, non-nil: makes retries idempotent
  std::string_view type;             // required, 1..kEventTypeBytesMax bytes
  uint16_t schema_version = 1;       // version of the payload's schema, >= 1
  std::span<const std::byte> payload;
  EventId correlation_id;            // nil when absent
  EventId causation_id;              // nil when absent
  std::span<const Tag> tags;
};

// A committed event, viewed in place in the mapped log. Views stay valid while the
// EventStore that returned them is open (the log is never modified or unmapped).
struct EventView {
  GlobalPosition position;
  StreamVersion version;
  uint64_t timestamp_ns = 0;  // wall clock at commit; non-decreasing with position
  uint16_t schema_version = 0;
  EventId id;
  EventId correlation_id;
  EventId causation_id;
  std::string_view stream_id;
  std::string_view type;
  std::span<const std::byte> payload;
  std::vector<Tag> tags;

  std::string_view payload_text() const {
    return {reinterpret_cast<const char*>(payload.data()), payload.size()};
  }
};

// Limits on what one append may carry; larger inputs get kTooLarge / kInvalidArgument.
inline constexpr size_t kStreamIdBytesMax = 256;
inline constexpr size_t kEventTypeBytesMax = 128;
inline constexpr size_t kTagCountMax = 32;
inline constexpr size_t kTagBytesMax = 1024;               // key + value
inline constexpr size_t kEventsPerAppendMax = 10'000;
inline constexpr size_t kAppendBytesMax = 4 * 1024 * 1024;  // one encoded append unit
inline constexpr size_t kStreamsPerAppendMax = 64;

}  // namespace orderlog
