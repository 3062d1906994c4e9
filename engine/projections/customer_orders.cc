// See customer_orders.h. Body layout (version 1): order count u64, then per order
// order id, customer id (strings), status u8, created position u64. The per-customer
// indexes are derived, so they are rebuilt on decode rather than stored.
#include "projections/customer_orders.h"

#include <variant>

#include "orderlog/check.h"
#include "projections/hosted_projection.h"
#include "projections/order_facts.h"
#include "projections/order_pages.h"

namespace orderlog::projections {
namespace {

constexpr size_t kOrderBytesMin = 4 + 4 + 1 + 8;

uint8_t key_of(order::OrderStatus status) { return static_cast<uint8_t>(status); }

}  // namespace

void CustomerOrdersModel::apply(const EventView& stored, const order::Event& event) {
  if (const auto* created = std::get_if<order::OrderCreated>(&event)) {
    (void)add_order(created->order_id,
                    OrderRow{created->customer_id, order::OrderStatus::kPending, stored.position.value});
    return;
  }
  const std::optional<order::OrderStatus> status = status_after(event);
  if (!status.has_value()) return;
  auto found = orders_.find(order_id_of(event));
  if (found != orders_.end()) change_status(*found, *status);
}

bool CustomerOrdersModel::add_order(std::string order_id, OrderRow row) {
  auto [entry, inserted] = orders_.try_emplace(std::move(order_id), std::move(row));
  if (!inserted) return false;
  const OrderRow& added = entry->second;
  CustomerIndex& customer = customers_[added.customer_id];
  const bool fresh = customer.all.emplace(added.created_position, &*entry).second &&
                     customer.by_status.emplace(std::pair(key_of(added.status), added.created_position), &*entry).second;
  OL_CHECK_MSG(fresh, "one order per created position");
  return true;
}

void CustomerOrdersModel::change_status(OrderEntry& entry, order::OrderStatus status) {
  OrderRow& row = entry.second;
  if (row.status == status) return;
  CustomerIndex& customer = customers_.at(row.customer_id);
  customer.by_status.erase(std::pair(key_of(row.status), row.created_position));
  customer.by_status.emplace(std::pair(key_of(status), row.created_position), &entry);
  row.status = status;
}

void CustomerOrdersModel::clear() {
  customers_.clear();
  orders_.clear();
}

void CustomerOrdersModel::encode(BodyEncoder& out) const {
  out.u64(orders_.size());
  for (const auto* entry : sorted_entries(orders_)) {
    const auto& [order_id, row] = *entry;
    out.string(order_id);
    out.string(row.customer_id);
    out.u8(key_of(row.status));
    out.u64(row.created_position);
  }
}

Status CustomerOrdersModel::decode(BodyDecoder& in) {
  const uint64_t count = in.count(kOrderBytesMin);
  for (uint64_t i = 0; i < count && in.ok(); ++i) {
    std::string order_id = in.string(kDecodedIdBytesMax);
    OrderRow row;
    row.customer_id = in.string(kDecodedIdBytesMax);
    row.status = decode_status(in);
    row.created_position = in.u64();
    if (!in.ok()) break;
    // Two orders created at one position cannot come from a log: the file is bad.
    auto customer = customers_.find(row.customer_id);
    if (customer != customers_.end() && customer->second.all.contains(row.created_position)) in.fail();
    if (!in.ok() || !add_order(std::move(order_id), std::move(row))) in.fail();
  }
  if (!in.ok()) return Status::corruption("customer orders do not decode");
  return Status::ok();
}

OrderPage CustomerOrdersModel::orders_of(std::string_view customer_id, std::optional<order::OrderStatus> status,
                                         uint64_t cursor, size_t limit) const {
  auto customer = customers_.find(customer_id);
  if (customer == customers_.end()) return OrderPage{{}, cursor, true};
  auto entry_of = [](const auto& it) {
    const OrderEntry& entry = *it->second;
    return OrderListEntry{entry.first, entry.second.status, GlobalPosition{entry.second.created_position}};
  };
  const CustomerIndex& index = customer->second;
  if (!status.has_value()) {
    return make_page(index.all.upper_bound(cursor), index.all.end(), cursor, limit,
                     [](const auto&) { return true; }, entry_of);
  }
  const uint8_t wanted = key_of(*status);
  return make_page(index.by_status.upper_bound(std::pair(wanted, cursor)), index.by_status.end(), cursor, limit,
                   [wanted](const auto& it) { return it->first.first == wanted; }, entry_of);
}

namespace {

class CustomerOrdersProjectionImpl final : public HostedProjection<CustomerOrdersProjection, CustomerOrdersModel> {
 public:
  using HostedProjection::HostedProjection;

  Result<OrderPage> orders_of(const CustomerOrdersQuery& query) const override {
    OL_RETURN_IF_ERROR(check_page_limit(query.limit));
    return this->query(query.consistency, [&](const CustomerOrdersModel& model) -> Result<OrderPage> {
      return model.orders_of(query.customer_id, query.status, query.cursor, query.limit);
    });
  }
};

}  // namespace

Result<std::unique_ptr<CustomerOrdersProjection>> CustomerOrdersProjection::open(const ProjectionOptions& options) {
  return CustomerOrdersProjectionImpl::open_as<CustomerOrdersProjectionImpl>("customer_orders", options);
}

}  // namespace orderlog::projections
