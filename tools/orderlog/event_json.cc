// See event_json.h.
#include "event_json.h"

#include <type_traits>
#include <variant>

#include "json.h"

namespace orderlog::tool {
namespace {

std::string line_json(const order::OrderLine& line) {
  return JsonObject()
      .string("sku", line.sku)
      .number("quantity", line.quantity)
      .signed_number("unit_price_minor", line.unit_price_minor)
      .str();
}

std::string lines_json(const std::vector<order::OrderLine>& lines) {
  std::string out = "[";
  for (const order::OrderLine& line : lines) {
    if (out.size() > 1) out += ',';
    out += line_json(line);
  }
  return out + "]";
}

std::string order_event_json(const order::Event& event) {
  return std::visit(
      [](const auto& e) {
        using E = std::decay_t<decltype(e)>;
        JsonObject data;
        data.string("order_id", e.order_id);
        if constexpr (std::is_same_v<E, order::OrderCreated>) {
          data.string("customer_id", e.customer_id).string("currency", e.currency).raw("lines", lines_json(e.lines));
        } else if constexpr (std::is_same_v<E, order::ItemAdded>) {
          data.raw("line", line_json(e.line)).string("currency", e.currency);
        } else if constexpr (std::is_same_v<E, order::ItemRemoved>) {
          data.string("sku", e.sku);
        } else if constexpr (std::is_same_v<E, order::OrderConfirmed> || std::is_same_v<E, order::OrderDelivered>) {
          data.signed_number("total_minor", e.total_minor).string("currency", e.currency);
        } else if constexpr (std::is_same_v<E, order::OrderCancelled>) {
          data.string("reason", e.reason).signed_number("total_minor", e.total_minor).string("currency", e.currency);
        } else if constexpr (std::is_same_v<E, order::OrderShipped>) {
          data.string("carrier", e.carrier).string("tracking_number", e.tracking_number);
        }
        return data.str();
      },
      event);
}

}  // namespace

std::string event_json(const EventView& event, const order::UpcasterRegistry& upcasters) {
  JsonObject line;
  line.number("position", event.position.value)
      .string("stream", event.stream_id)
      .number("version", event.version.value)
      .string("type", event.type)
      .number("schema_version", event.schema_version)
      .string("time", utc_time(event.timestamp_ns))
      .string("id", event.id.to_string());
  if (!event.correlation_id.is_nil()) line.string("correlation_id", event.correlation_id.to_string());
  if (!event.causation_id.is_nil()) line.string("causation_id", event.causation_id.to_string());
  if (!event.tags.empty()) {
    JsonObject tags;
    for (const Tag& tag : event.tags) tags.string(tag.key, tag.value);
    line.raw("tags", tags.str());
  }
  if (order::is_order_event_type(event.type)) {
    Result<order::Event> decoded = order::decode_event(upcasters, event);
    if (decoded.is_ok()) return line.raw("data", order_event_json(*decoded)).str();
    line.string("decode_error", decoded.status().to_string());
  }
  if (is_printable_text(event.payload)) {
    line.string("payload", event.payload_text());
  } else {
    line.string("payload_base64", base64(event.payload));
  }
  return line.str();
}

}  // namespace orderlog::tool
