// See orders_by_status.h. Body layout (version 1): order count u64, then per order
// order id (string), status u8, since position u64. The status index and the counts
// are derived and rebuilt on decode.
#include "projections/orders_by_status.h"

#include <optional>
#include <variant>

#include "orderlog/check.h"
#include "projections/hosted_projection.h"
#include "projections/order_facts.h"
#include "projections/order_pages.h"

namespace orderlog::projections {
namespace {

constexpr size_t kOrderBytesMin = 4 + 1 + 8;
static_assert(static_cast<size_t>(order::OrderStatus::kCancelled) < 6, "one count per status");

uint8_t key_of(order::OrderStatus status) { return static_cast<uint8_t>(status); }

}  // namespace

void OrdersByStatusModel::apply(const EventView& stored, const order::Event& event) {
  const std::optional<order::OrderStatus> status = status_after(event);
  if (!status.has_value()) return;
  const bool creates = std::holds_alternative<order::OrderCreated>(event);
  auto found = orders_.find(order_id_of(event));
  if (found == orders_.end()) {
    if (!creates) return;  // the domain records OrderCreated first
    found = orders_.try_emplace(order_id_of(event)).first;
  } else if (creates || found->second.status == *status) {
    return;
  }
  const bool placed = place(found->first, found->second, *status, stored.position.value);
  OL_CHECK_MSG(placed, "one status change per log position");
}

bool OrdersByStatusModel::place(const std::string& order_id, OrderRow& row, order::OrderStatus status,
                                uint64_t since_position) {
  if (!by_status_.emplace(std::pair(key_of(status), since_position), &order_id).second) return false;
  if (row.status != order::OrderStatus::kNone) {
    by_status_.erase(std::pair(key_of(row.status), row.since_position));
    --counts_[key_of(row.status)];
  }
  ++counts_[key_of(status)];
  row.status = status;
  row.since_position = since_position;
  return true;
}

void OrdersByStatusModel::clear() {
  by_status_.clear();
  orders_.clear();
  counts_ = {};
}

void OrdersByStatusModel::encode(BodyEncoder& out) const {
  out.u64(orders_.size());
  for (const auto* entry : sorted_entries(orders_)) {
    const auto& [order_id, row] = *entry;
    out.string(order_id);
    out.u8(key_of(row.status));
    out.u64(row.since_position);
  }
}

Status OrdersByStatusModel::decode(BodyDecoder& in) {
  const uint64_t count = in.count(kOrderBytesMin);
  for (uint64_t i = 0; i < count && in.ok(); ++i) {
    std::string order_id = in.string(kDecodedIdBytesMax);
    const order::OrderStatus status = decode_status(in);
    const uint64_t since_position = in.u64();
    if (!in.ok() || status == order::OrderStatus::kNone) break;
    auto [entry, inserted] = orders_.try_emplace(std::move(order_id));
    if (!inserted || !place(entry->first, entry->second, status, since_position)) in.fail();
  }
  if (!in.ok() || orders_.size() != count) return Status::corruption("orders by status do not decode");
  return Status::ok();
}

OrderPage OrdersByStatusModel::orders_in(order::OrderStatus status, uint64_t cursor, size_t limit) const {
  const uint8_t wanted = key_of(status);
  return make_page(
      by_status_.upper_bound(std::pair(wanted, cursor)), by_status_.end(), cursor, limit,
      [wanted](const auto& it) { return it->first.first == wanted; },
      [status](const auto& it) { return OrderListEntry{*it->second, status, GlobalPosition{it->first.second}}; });
}

namespace {

class OrdersByStatusProjectionImpl final : public HostedProjection<OrdersByStatusProjection, OrdersByStatusModel> {
 public:
  using HostedProjection::HostedProjection;

  Result<OrderPage> orders_in(const OrdersByStatusQuery& query) const override {
    OL_RETURN_IF_ERROR(check_page_limit(query.limit));
    return this->query(query.consistency, [&](const OrdersByStatusModel& model) -> Result<OrderPage> {
      return model.orders_in(query.status, query.cursor, query.limit);
    });
  }
  Result<uint64_t> count_in(order::OrderStatus status, const ReadConsistency& consistency) const override {
    return query(consistency, [&](const OrdersByStatusModel& model) -> Result<uint64_t> {
      return model.count_in(status);
    });
  }
};

}  // namespace

Result<std::unique_ptr<OrdersByStatusProjection>> OrdersByStatusProjection::open(const ProjectionOptions& options) {
  return OrdersByStatusProjectionImpl::open_as<OrdersByStatusProjectionImpl>("orders_by_status", options);
}

}  // namespace orderlog::projections
