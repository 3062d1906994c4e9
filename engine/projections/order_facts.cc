// See order_facts.h.
#include "projections/order_facts.h"

#include <string>
#include <variant>

namespace orderlog::projections {

const std::string& order_id_of(const order::Event& event) {
  return std::visit([](const auto& alternative) -> const std::string& { return alternative.order_id; }, event);
}

std::optional<order::OrderStatus> status_after(const order::Event& event) {
  using order::OrderStatus;
  struct Visitor {
    std::optional<OrderStatus> operator()(const order::OrderCreated&) const { return OrderStatus::kPending; }
    std::optional<OrderStatus> operator()(const order::ItemAdded&) const { return std::nullopt; }
    std::optional<OrderStatus> operator()(const order::ItemRemoved&) const { return std::nullopt; }
    std::optional<OrderStatus> operator()(const order::OrderConfirmed&) const { return OrderStatus::kConfirmed; }
    std::optional<OrderStatus> operator()(const order::OrderCancelled&) const { return OrderStatus::kCancelled; }
    std::optional<OrderStatus> operator()(const order::OrderShipped&) const { return OrderStatus::kShipped; }
    std::optional<OrderStatus> operator()(const order::OrderDelivered&) const { return OrderStatus::kDelivered; }
  };
  return std::visit(Visitor{}, event);
}

order::OrderStatus decode_status(BodyDecoder& in) {
  const uint8_t value = in.u8();
  if (value > static_cast<uint8_t>(order::OrderStatus::kCancelled)) {
    in.fail();
    return order::OrderStatus::kNone;
  }
  return static_cast<order::OrderStatus>(value);
}

}  // namespace orderlog::projections
