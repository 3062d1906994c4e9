// See aggregate_record.h.
#include "order/aggregate_record.h"

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <cstring>

#include "orderlog/fb/order_snapshot_generated.h"

namespace orderlog::order {

namespace fbo = ::orderlog::fb::order;

void drop_oldest_commands(AggregateRecord& record, size_t recent_commands_max) {
  auto& commands = record.recent_commands;
  if (commands.size() > recent_commands_max) {
    const auto excess = static_cast<std::ptrdiff_t>(commands.size() - recent_commands_max);
    commands.erase(commands.begin(), commands.begin() + excess);
  }
}

const ProcessedCommand* AggregateRecord::find_command(const EventId& id) const {
  auto it = std::find_if(recent_commands.begin(), recent_commands.end(),
                         [&](const ProcessedCommand& c) { return c.id == id; });
  return it == recent_commands.end() ? nullptr : &*it;
}

namespace {
std::optional<EventId> command_id_of(const EventView& stored) {
  for (const Tag& tag : stored.tags) {
    if (tag.key == kCommandIdTag) return EventId::parse(tag.value);
  }
  return std::nullopt;
}
}  // namespace

Result<Event> fold_stored_event(AggregateRecord& record, const EventView& stored, const UpcasterRegistry& upcasters,
                                size_t recent_commands_max) {
  OL_ASSIGN_OR_RETURN(Event event, decode_event(upcasters, stored));
  record.state = order::apply(std::move(record.state), event);
  record.last_position = stored.position.value;
  if (std::optional<EventId> command = command_id_of(stored)) {
    // One command's events are consecutive: extend its entry or start a new one.
    if (!record.recent_commands.empty() && record.recent_commands.back().id == *command) {
      record.recent_commands.back().last_version = stored.version.value;
      record.recent_commands.back().last_position = stored.position.value;
    } else {
      record.recent_commands.push_back({*command, stored.version.value, stored.version.value,
                                        stored.position.value, stored.position.value});
      drop_oldest_commands(record, recent_commands_max);
    }
  }
  return event;
}

std::vector<std::byte> encode_snapshot(const AggregateRecord& record) {
  flatbuffers::FlatBufferBuilder b(512);
  const OrderState& s = record.state;
  std::vector<flatbuffers::Offset<fbo::OrderLine>> lines;
  for (const OrderLine& line : s.lines) {
    lines.push_back(fbo::CreateOrderLine(b, b.CreateString(line.sku), line.quantity, line.unit_price_minor));
  }
  std::vector<flatbuffers::Offset<fbo::ProcessedCommand>> commands;
  for (const ProcessedCommand& c : record.recent_commands) {
    const fbo::CommandId id(flatbuffers::span<const uint8_t, 16>(c.id.bytes));
    commands.push_back(fbo::CreateProcessedCommand(b, &id, c.first_version, c.last_version, c.first_position,
                                                   c.last_position));
  }
  b.Finish(fbo::CreateOrderSnapshot(b, b.CreateString(s.order_id), b.CreateString(s.customer_id),
                                    b.CreateString(s.currency), static_cast<uint8_t>(s.status),
                                    b.CreateVector(lines), b.CreateString(s.cancel_reason),
                                    b.CreateString(s.carrier), b.CreateString(s.tracking_number), s.version,
                                    record.last_position, b.CreateVector(commands)),
           fbo::OrderSnapshotIdentifier());
  const auto* data = reinterpret_cast<const std::byte*>(b.GetBufferPointer());
  return {data, data + b.GetSize()};
}

std::optional<AggregateRecord> decode_snapshot(uint16_t schema_version, std::span<const std::byte> bytes) {
  if (schema_version != kOrderSnapshotSchemaVersion) return std::nullopt;
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!fbo::VerifyOrderSnapshotBuffer(verifier)) return std::nullopt;
  const fbo::OrderSnapshot* snapshot = fbo::GetOrderSnapshot(bytes.data());
  if (snapshot->status() > static_cast<uint8_t>(OrderStatus::kCancelled)) return std::nullopt;
  AggregateRecord record;
  OrderState& s = record.state;
  s.order_id = snapshot->order_id()->str();
  s.customer_id = snapshot->customer_id()->str();
  s.currency = snapshot->currency()->str();
  s.status = static_cast<OrderStatus>(snapshot->status());
  if (snapshot->lines() != nullptr) {
    for (const fbo::OrderLine* line : *snapshot->lines()) {
      s.lines.push_back({line->sku()->str(), line->quantity(), line->unit_price_minor()});
    }
  }
  const auto text = [](const flatbuffers::String* value) { return value == nullptr ? std::string() : value->str(); };
  s.cancel_reason = text(snapshot->cancel_reason());
  s.carrier = text(snapshot->carrier());
  s.tracking_number = text(snapshot->tracking_number());
  s.version = snapshot->version();
  record.last_position = snapshot->last_position();
  if (snapshot->recent_commands() != nullptr) {
    for (const fbo::ProcessedCommand* c : *snapshot->recent_commands()) {
      ProcessedCommand command;
      std::memcpy(command.id.bytes.data(), c->id()->bytes()->data(), command.id.bytes.size());
      command.first_version = c->first_version();
      command.last_version = c->last_version();
      command.first_position = c->first_position();
      command.last_position = c->last_position();
      record.recent_commands.push_back(command);
    }
  }
  return record;
}

}  // namespace orderlog::order
