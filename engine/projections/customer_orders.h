// The customer -> orders read model: each customer's orders in the order they were
// created, and the same per status, so a status-filtered page is a bounded walk
// instead of a scan of all the customer's orders.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/string_map.h"
#include "orderlog/projections.h"
#include "projections/read_model.h"

namespace orderlog::projections {

class CustomerOrdersModel final : public ReadModel {
 public:
  ModelId model_id() const override { return ModelId::kCustomerOrders; }
  uint8_t model_version() const override { return 1; }
  void apply(const EventView& stored, const order::Event& event) override;
  void clear() override;
  void encode(BodyEncoder& out) const override;
  Status decode(BodyDecoder& in) override;

  // REQUIRES: 1 <= limit <= kPageEntriesMax.
  OrderPage orders_of(std::string_view customer_id, std::optional<order::OrderStatus> status, uint64_t cursor,
                      size_t limit) const;

 private:
  struct OrderRow {
    std::string customer_id;
    order::OrderStatus status = order::OrderStatus::kNone;
    uint64_t created_position = 0;
  };
  using OrderEntry = std::pair<const std::string, OrderRow>;  // map nodes never move
  struct CustomerIndex {
    std::map<uint64_t, const OrderEntry*> all;  // created position -> order
    std::map<std::pair<uint8_t, uint64_t>, const OrderEntry*> by_status;  // (status, created position)
  };

  // False when the order is already known (a second OrderCreated changes nothing).
  bool add_order(std::string order_id, OrderRow row);
  void change_status(OrderEntry& entry, order::OrderStatus status);

  // Hashed for the per-event lookups (saves sort them; nodes never move either way).
  StringMap<OrderRow> orders_;
  StringMap<CustomerIndex> customers_;
};

}  // namespace orderlog::projections
