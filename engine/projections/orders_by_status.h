// The orders-by-status read model: which orders are in each status now, in the order
// they entered it (the oldest pending order first), with a count per status.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "common/string_map.h"
#include "orderlog/projections.h"
#include "projections/read_model.h"

namespace orderlog::projections {

class OrdersByStatusModel final : public ReadModel {
 public:
  ModelId model_id() const override { return ModelId::kOrdersByStatus; }
  uint8_t model_version() const override { return 1; }
  void apply(const EventView& stored, const order::Event& event) override;
  void clear() override;
  void encode(BodyEncoder& out) const override;
  Status decode(BodyDecoder& in) override;

  // REQUIRES: 1 <= limit <= kPageEntriesMax.
  OrderPage orders_in(order::OrderStatus status, uint64_t cursor, size_t limit) const;
  uint64_t count_in(order::OrderStatus status) const { return counts_[static_cast<uint8_t>(status)]; }

 private:
  struct OrderRow {
    order::OrderStatus status = order::OrderStatus::kNone;
    uint64_t since_position = 0;  // of the event that put the order in `status`
  };
  // False when the slot (status, since) is taken, which no log can produce.
  bool place(const std::string& order_id, OrderRow& row, order::OrderStatus status, uint64_t since_position);

  StringMap<OrderRow> orders_;  // hashed for the per-event lookup; saves sort it
  std::map<std::pair<uint8_t, uint64_t>, const std::string*> by_status_;  // points at orders_ keys
  std::array<uint64_t, 6> counts_{};
};

}  // namespace orderlog::projections
