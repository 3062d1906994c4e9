// How order events are stored: each is a FlatBuffers table (schemas/order_events.fbs)
// in the EventRecord payload, with its type name and schema version. Reading goes
// through the upcaster registry, so callers only ever see the current schema.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "orderlog/event.h"
#include "orderlog/order/domain.h"
#include "orderlog/status.h"

namespace orderlog::order {

// An event ready to append: owns its payload bytes.
struct EncodedEvent {
  std::string type;
  uint16_t schema_version = 0;
  std::vector<std::byte> payload;
};

// Whether `type` names one of the seven order events.
bool is_order_event_type(std::string_view type);
// The seven order event type names (for EventStore::read_all_of_types).
std::span<const std::string_view> order_event_types();

// The current schema version of each event type.
uint16_t current_schema_version(std::string_view type);

EncodedEvent encode_event(const Event& event);

// Turns a stored payload of an older schema version into the next version's payload.
using Upcaster = std::function<Result<std::vector<std::byte>>(std::span<const std::byte> payload)>;

// (event type, schema version) -> upcaster to version + 1. Chains apply in order.
class UpcasterRegistry {
 public:
  // The registry with every evolution orderlog has shipped. `legacy_currency` is the
  // currency of orders written before events carried one (ItemAdded v1).
  static UpcasterRegistry standard(std::string legacy_currency);

  void add(std::string type, uint16_t from_version, Upcaster upcaster);
  // The payload upcast to the current version of `type`. kCorruption when a payload
  // does not verify or no path leads to the current version.
  Result<std::vector<std::byte>> upcast(std::string_view type, uint16_t schema_version,
                                        std::span<const std::byte> payload) const;

 private:
  std::map<std::pair<std::string, uint16_t>, Upcaster> upcasters_;
};

// Decodes a stored order event (verifying the FlatBuffer, upcasting old versions).
// kCorruption for a payload that does not verify, kInvalidArgument for a type that
// is not an order event.
Result<Event> decode_event(const UpcasterRegistry& upcasters, const EventView& stored);

}  // namespace orderlog::order
