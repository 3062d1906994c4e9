// See codec.h. Each event is one FlatBuffers table; decoding verifies the buffer
// before touching it, because a payload is only as trustworthy as whoever appended it.
#include "orderlog/order/codec.h"

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <array>
#include <utility>
#include <variant>

#include "orderlog/fb/order_events_generated.h"

namespace orderlog::order {

namespace fbo = ::orderlog::fb::order;
using flatbuffers::FlatBufferBuilder;

namespace {

std::vector<std::byte> finish(FlatBufferBuilder& builder) {
  const auto* data = reinterpret_cast<const std::byte*>(builder.GetBufferPointer());
  return {data, data + builder.GetSize()};
}

flatbuffers::Offset<fbo::OrderLine> build_line(FlatBufferBuilder& b, const OrderLine& line) {
  return fbo::CreateOrderLine(b, b.CreateString(line.sku), line.quantity, line.unit_price_minor);
}

OrderLine read_line(const fbo::OrderLine* line) {
  return {line->sku()->str(), line->quantity(), line->unit_price_minor()};
}

// The domain never records a line outside these bounds; a stored one that is (written
// around the domain, or upcast from a legacy event) would overflow the order's totals.
bool line_in_bounds(const OrderLine& line) {
  return !line.sku.empty() && line.sku.size() <= kIdBytesMax && line.quantity >= 1 && line.quantity <= kQuantityMax &&
         line.unit_price_minor >= 0 && line.unit_price_minor <= kUnitPriceMinorMax;
}

struct Encoder {
  FlatBufferBuilder& b;

  void operator()(const OrderCreated& e) {
    std::vector<flatbuffers::Offset<fbo::OrderLine>> lines;
    for (const OrderLine& line : e.lines) lines.push_back(build_line(b, line));
    b.Finish(fbo::CreateOrderCreated(b, b.CreateString(e.order_id), b.CreateString(e.customer_id),
                                     b.CreateString(e.currency), b.CreateVector(lines)));
  }
  void operator()(const ItemAdded& e) {
    b.Finish(fbo::CreateItemAdded(b, b.CreateString(e.order_id), build_line(b, e.line), b.CreateString(e.currency)));
  }
  void operator()(const ItemRemoved& e) {
    b.Finish(fbo::CreateItemRemoved(b, b.CreateString(e.order_id), b.CreateString(e.sku)));
  }
  void operator()(const OrderConfirmed& e) {
    b.Finish(fbo::CreateOrderConfirmed(b, b.CreateString(e.order_id), e.total_minor, b.CreateString(e.currency)));
  }
  void operator()(const OrderCancelled& e) {
    b.Finish(fbo::CreateOrderCancelled(b, b.CreateString(e.order_id), b.CreateString(e.reason), e.total_minor,
                                       b.CreateString(e.currency)));
  }
  void operator()(const OrderShipped& e) {
    b.Finish(fbo::CreateOrderShipped(b, b.CreateString(e.order_id), b.CreateString(e.carrier),
                                     b.CreateString(e.tracking_number)));
  }
  void operator()(const OrderDelivered& e) {
    b.Finish(fbo::CreateOrderDelivered(b, b.CreateString(e.order_id), e.total_minor, b.CreateString(e.currency)));
  }
};

template <typename Table>
const Table* verified(std::span<const std::byte> payload) {
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
  if (!verifier.VerifyBuffer<Table>(nullptr)) return nullptr;
  return flatbuffers::GetRoot<Table>(payload.data());
}

Result<Event> decode_current(std::string_view type, std::span<const std::byte> payload) {
  const auto corrupt = [&] { return Status::corruption(std::string(type) + " payload does not verify"); };
  const auto out_of_bounds = [&] {
    return Status::corruption(std::string(type) + " has a line outside the domain's bounds (SKU length, quantity, "
                              "unit price or line count)");
  };
  if (type == "OrderCreated") {
    const auto* e = verified<fbo::OrderCreated>(payload);
    if (e == nullptr) return corrupt();
    OrderCreated event{e->order_id()->str(), e->customer_id()->str(), e->currency()->str(), {}};
    if (e->lines() != nullptr) {
      if (e->lines()->size() > kItemLinesMax) return out_of_bounds();
      for (const fbo::OrderLine* line : *e->lines()) {
        event.lines.push_back(read_line(line));
        if (!line_in_bounds(event.lines.back())) return out_of_bounds();
      }
    }
    return Event(std::move(event));
  }
  if (type == "ItemAdded") {
    const auto* e = verified<fbo::ItemAdded>(payload);
    if (e == nullptr) return corrupt();
    ItemAdded event{e->order_id()->str(), read_line(e->line()), e->currency()->str()};
    if (!line_in_bounds(event.line)) return out_of_bounds();
    return Event(std::move(event));
  }
  if (type == "ItemRemoved") {
    const auto* e = verified<fbo::ItemRemoved>(payload);
    if (e == nullptr) return corrupt();
    return Event(ItemRemoved{e->order_id()->str(), e->sku()->str()});
  }
  if (type == "OrderConfirmed") {
    const auto* e = verified<fbo::OrderConfirmed>(payload);
    if (e == nullptr) return corrupt();
    return Event(OrderConfirmed{e->order_id()->str(), e->total_minor(), e->currency()->str()});
  }
  if (type == "OrderCancelled") {
    const auto* e = verified<fbo::OrderCancelled>(payload);
    if (e == nullptr) return corrupt();
    return Event(OrderCancelled{e->order_id()->str(), e->reason()->str(), e->total_minor(), e->currency()->str()});
  }
  if (type == "OrderShipped") {
    const auto* e = verified<fbo::OrderShipped>(payload);
    if (e == nullptr) return corrupt();
    return Event(OrderShipped{e->order_id()->str(), e->carrier()->str(), e->tracking_number()->str()});
  }
  if (type == "OrderDelivered") {
    const auto* e = verified<fbo::OrderDelivered>(payload);
    if (e == nullptr) return corrupt();
    return Event(OrderDelivered{e->order_id()->str(), e->total_minor(), e->currency()->str()});
  }
  return Status::invalid_argument("'" + std::string(type) + "' is not an order event");
}

// "12.99" -> 1299 for a currency with two decimals; nullopt when malformed.
std::optional<int64_t> parse_decimal_price(std::string_view text) {
  int64_t units = 0;
  int fraction_digits = -1;  // -1: no '.' seen
  if (text.empty() || text.size() > 20) return std::nullopt;
  for (char c : text) {
    if (c == '.' && fraction_digits < 0) {
      fraction_digits = 0;
    } else if (c >= '0' && c <= '9' && fraction_digits < 2) {
      units = units * 10 + (c - '0');
      // Above the domain's bound, and before int64 could overflow.
      if (units > kUnitPriceMinorMax) return std::nullopt;
      if (fraction_digits >= 0) ++fraction_digits;
    } else {
      return std::nullopt;
    }
  }
  for (int digits = std::max(fraction_digits, 0); digits < 2; ++digits) units *= 10;
  if (units > kUnitPriceMinorMax) return std::nullopt;
  return units;
}

// ItemAdded v1 -> v2: the product name becomes the SKU, the decimal price becomes
// minor units, and the currency is the shop's single currency of that era.
Upcaster item_added_v1_to_v2(std::string legacy_currency) {
  return [currency = std::move(legacy_currency)](std::span<const std::byte> payload)
             -> Result<std::vector<std::byte>> {
    const auto* v1 = verified<fbo::ItemAddedV1>(payload);
    if (v1 == nullptr) return Status::corruption("ItemAdded v1 payload does not verify");
    const std::optional<int64_t> price = parse_decimal_price(v1->price()->string_view());
    if (!price) return Status::corruption("ItemAdded v1 has a malformed price '" + v1->price()->str() + "'");
    FlatBufferBuilder b(256);
    const OrderLine line{v1->product()->str(), v1->quantity(), *price};
    b.Finish(fbo::CreateItemAdded(b, b.CreateString(v1->order_id()->string_view()), build_line(b, line),
                                  b.CreateString(currency)));
    return finish(b);
  };
}

}  // namespace

namespace {
// The names come from event_type_name() over every alternative of Event, so a new
// event type is recognised without a second list to keep in step.
template <size_t... kIndex>
std::array<std::string_view, sizeof...(kIndex)> event_type_names(std::index_sequence<kIndex...>) {
  return {event_type_name(Event(std::in_place_index<kIndex>))...};
}
}  // namespace

std::span<const std::string_view> order_event_types() {
  // Built once: building the seven alternatives for every event a projection looked
  // at was a tenth of orderlogd's CPU under appends.
  static const auto kNames = event_type_names(std::make_index_sequence<std::variant_size_v<Event>>());
  return kNames;
}

bool is_order_event_type(std::string_view type) {
  const std::span<const std::string_view> names = order_event_types();
  return std::find(names.begin(), names.end(), type) != names.end();
}

uint16_t current_schema_version(std::string_view type) { return type == "ItemAdded" ? 2 : 1; }

EncodedEvent encode_event(const Event& event) {
  FlatBufferBuilder builder(256);
  std::visit(Encoder{builder}, event);
  const std::string_view type = event_type_name(event);
  return EncodedEvent{std::string(type), current_schema_version(type), finish(builder)};
}

UpcasterRegistry UpcasterRegistry::standard(std::string legacy_currency) {
  UpcasterRegistry registry;
  registry.add("ItemAdded", 1, item_added_v1_to_v2(std::move(legacy_currency)));
  return registry;
}

void UpcasterRegistry::add(std::string type, uint16_t from_version, Upcaster upcaster) {
  upcasters_.insert_or_assign({std::move(type), from_version}, std::move(upcaster));
}

Result<std::vector<std::byte>> UpcasterRegistry::upcast(std::string_view type, uint16_t schema_version,
                                                        std::span<const std::byte> payload) const {
  const uint16_t target = current_schema_version(type);
  if (schema_version > target) {
    return Status::corruption(std::string(type) + " v" + std::to_string(schema_version) +
                              " is newer than this build understands (v" + std::to_string(target) + ")");
  }
  std::vector<std::byte> bytes(payload.begin(), payload.end());
  for (uint16_t version = schema_version; version < target; ++version) {
    auto it = upcasters_.find({std::string(type), version});
    if (it == upcasters_.end()) {
      return Status::corruption("no upcaster for " + std::string(type) + " v" + std::to_string(version));
    }
    OL_ASSIGN_OR_RETURN(bytes, it->second(bytes));
  }
  return bytes;
}

Result<Event> decode_event(const UpcasterRegistry& upcasters, const EventView& stored) {
  if (stored.schema_version == current_schema_version(stored.type)) return decode_current(stored.type, stored.payload);
  OL_ASSIGN_OR_RETURN(std::vector<std::byte> upcast, upcasters.upcast(stored.type, stored.schema_version, stored.payload));
  return decode_current(stored.type, upcast);
}

}  // namespace orderlog::order
