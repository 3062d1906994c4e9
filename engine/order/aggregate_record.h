// AggregateRecord: an order's state as the command side keeps it: the domain state,
// where its last event is, and the ids of its recent commands (so a retried command
// is recognised). Built by folding the order's stored events; cached and snapshotted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "orderlog/event.h"
#include "orderlog/order/codec.h"
#include "orderlog/order/domain.h"

namespace orderlog::order {

// The tag keys the command side writes on every event.
inline constexpr std::string_view kCommandIdTag = "command_id";
inline constexpr std::string_view kTenantTag = "tenant";

struct ProcessedCommand {
  EventId id;
  uint64_t first_version = 0;
  uint64_t last_version = 0;
  uint64_t first_position = 0;
  uint64_t last_position = 0;
  friend bool operator==(const ProcessedCommand&, const ProcessedCommand&) = default;
};

struct AggregateRecord {
  OrderState state;
  uint64_t last_position = 0;
  // Oldest first, at most OrderServiceOptions::recent_commands_max (32): a vector, as
  // the record is copied in and out of the cache on every command, and a deque's copy
  // allocates a map and a 512-byte block each time.
  std::vector<ProcessedCommand> recent_commands;

  const ProcessedCommand* find_command(const EventId& id) const;
  friend bool operator==(const AggregateRecord&, const AggregateRecord&) = default;
};

// Forgets the oldest recent commands beyond `recent_commands_max`.
void drop_oldest_commands(AggregateRecord& record, size_t recent_commands_max);

// Folds one stored event (decoded and upcast) into the record; remembers its command
// id, keeping at most `recent_commands_max`. Returns the decoded event.
Result<Event> fold_stored_event(AggregateRecord& record, const EventView& stored, const UpcasterRegistry& upcasters,
                                size_t recent_commands_max);

// The snapshot form of a record (schemas/order_snapshot.fbs), schema version 1.
inline constexpr uint16_t kOrderSnapshotSchemaVersion = 1;
std::vector<std::byte> encode_snapshot(const AggregateRecord& record);
// nullopt when the bytes do not verify or the version is unknown.
std::optional<AggregateRecord> decode_snapshot(uint16_t schema_version, std::span<const std::byte> bytes);

}  // namespace orderlog::order
