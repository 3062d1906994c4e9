// The order summary read model: one OrderSummary per order, folded from the order's
// events with the domain's own apply(), so the read side and the aggregate can never
// disagree on lines, totals or status.
#pragma once

#include <string>
#include <string_view>

#include "common/string_map.h"
#include "orderlog/projections.h"
#include "projections/read_model.h"

namespace orderlog::projections {

class OrderSummaryModel final : public ReadModel {
 public:
  ModelId model_id() const override { return ModelId::kOrderSummary; }
  uint8_t model_version() const override { return 1; }
  void apply(const EventView& stored, const order::Event& event) override;
  void clear() override { orders_.clear(); }
  void encode(BodyEncoder& out) const override;
  Status decode(BodyDecoder& in) override;

  // nullptr when the order is unknown.
  const OrderSummary* find(std::string_view order_id) const;
  uint64_t order_count() const { return orders_.size(); }

 private:
  // The summary holds every field of the aggregate's state but its event count, so
  // the next event is applied to exactly the state the domain would have.
  struct Row {
    OrderSummary summary;
    uint64_t events_applied = 0;  // order::OrderState::version
  };
  static void fold(Row& row, const order::Event& event);

  // Hashed: every event looks its order up, and a tree of ids with long common
  // prefixes cost a string comparison per level (most of this model's time). Saves
  // sort the ids, so the file stays deterministic.
  FlatStringMap<Row> orders_;
};

}  // namespace orderlog::projections
