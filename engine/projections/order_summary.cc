// See order_summary.h. Body layout (version 1): order count u64, then per order
// order id, customer id, currency (strings), status u8, line count u32 and per line
// sku, quantity u32, unit price i64; total i64; created, confirmed, shipped,
// delivered and cancelled timestamps u64; cancel reason, carrier, tracking number;
// stream version u64, last position u64, events applied u64.
#include "projections/order_summary.h"

#include <utility>
#include <variant>

#include "projections/hosted_projection.h"
#include "projections/order_facts.h"

namespace orderlog::projections {
namespace {

// The smallest encoded order: three empty ids, the fixed fields, three empty texts.
constexpr size_t kOrderBytesMin = 3 * 4 + 1 + 4 + 8 + 5 * 8 + 3 * 4 + 3 * 8;
constexpr size_t kLineBytesMin = 4 + 4 + 8;

// Records when the order reached the step `event` stands for.
void stamp_time(OrderSummary& summary, const order::Event& event, uint64_t timestamp_ns) {
  struct Visitor {
    OrderSummary& summary;
    uint64_t now;
    void operator()(const order::OrderCreated&) const { summary.created_ns = now; }
    void operator()(const order::ItemAdded&) const {}
    void operator()(const order::ItemRemoved&) const {}
    void operator()(const order::OrderConfirmed&) const { summary.confirmed_ns = now; }
    void operator()(const order::OrderCancelled&) const { summary.cancelled_ns = now; }
    void operator()(const order::OrderShipped&) const { summary.shipped_ns = now; }
    void operator()(const order::OrderDelivered&) const { summary.delivered_ns = now; }
  };
  std::visit(Visitor{summary, timestamp_ns}, event);
}

void encode_order(BodyEncoder& out, const OrderSummary& order, uint64_t events_applied) {
  out.string(order.order_id);
  out.string(order.customer_id);
  out.string(order.currency);
  out.u8(static_cast<uint8_t>(order.status));
  out.u32(static_cast<uint32_t>(order.lines.size()));
  for (const order::OrderLine& line : order.lines) {
    out.string(line.sku);
    out.u32(line.quantity);
    out.i64(line.unit_price_minor);
  }
  out.i64(order.total_minor);
  for (uint64_t time : {order.created_ns, order.confirmed_ns, order.shipped_ns, order.delivered_ns,
                        order.cancelled_ns}) {
    out.u64(time);
  }
  out.string(order.cancel_reason);
  out.string(order.carrier);
  out.string(order.tracking_number);
  out.u64(order.version.value);
  out.u64(order.last_position.value);
  out.u64(events_applied);
}

void decode_lines(BodyDecoder& in, std::vector<order::OrderLine>& lines) {
  const uint32_t count = in.u32();
  if (count > order::kItemLinesMax) return in.fail();
  for (uint32_t i = 0; i < count && in.ok(); ++i) {
    order::OrderLine& line = lines.emplace_back();
    line.sku = in.string(kDecodedIdBytesMax);
    line.quantity = in.u32();
    line.unit_price_minor = in.i64();
  }
}

OrderSummary decode_order(BodyDecoder& in, uint64_t& events_applied) {
  OrderSummary order;
  order.order_id = in.string(kDecodedIdBytesMax);
  order.customer_id = in.string(kDecodedIdBytesMax);
  order.currency = in.string(kDecodedIdBytesMax);
  order.status = decode_status(in);
  decode_lines(in, order.lines);
  order.total_minor = in.i64();
  for (uint64_t* time : {&order.created_ns, &order.confirmed_ns, &order.shipped_ns, &order.delivered_ns,
                         &order.cancelled_ns}) {
    *time = in.u64();
  }
  order.cancel_reason = in.string(kDecodedTextBytesMax);
  order.carrier = in.string(kDecodedTextBytesMax);
  order.tracking_number = in.string(kDecodedTextBytesMax);
  order.version = StreamVersion{in.u64()};
  order.last_position = GlobalPosition{in.u64()};
  events_applied = in.u64();
  return order;
}

}  // namespace

void OrderSummaryModel::apply(const EventView& stored, const order::Event& event) {
  const std::string& order_id = order_id_of(event);
  const bool creates = std::holds_alternative<order::OrderCreated>(event);
  auto found = orders_.find(order_id);
  if (found == orders_.end()) {
    // The domain records OrderCreated first; anything else for an unknown order has
    // no state to apply to.
    if (!creates) return;
    found = orders_.try_emplace(order_id).first;
  } else if (creates || stored.version <= found->second.summary.version) {
    return;  // a second creation, or an event of the stream already folded in
  }
  Row& row = found.value();
  fold(row, event);
  stamp_time(row.summary, event, stored.timestamp_ns);
  row.summary.version = stored.version;
  row.summary.last_position = stored.position;
}

void OrderSummaryModel::fold(Row& row, const order::Event& event) {
  OrderSummary& summary = row.summary;
  order::OrderState state;
  state.order_id = std::move(summary.order_id);
  state.customer_id = std::move(summary.customer_id);
  state.currency = std::move(summary.currency);
  state.status = summary.status;
  state.lines = std::move(summary.lines);
  state.cancel_reason = std::move(summary.cancel_reason);
  state.carrier = std::move(summary.carrier);
  state.tracking_number = std::move(summary.tracking_number);
  state.version = row.events_applied;
  state = order::apply(std::move(state), event);
  summary.total_minor = state.total_minor();
  summary.order_id = std::move(state.order_id);
  summary.customer_id = std::move(state.customer_id);
  summary.currency = std::move(state.currency);
  summary.status = state.status;
  summary.lines = std::move(state.lines);
  summary.cancel_reason = std::move(state.cancel_reason);
  summary.carrier = std::move(state.carrier);
  summary.tracking_number = std::move(state.tracking_number);
  row.events_applied = state.version;
}

void OrderSummaryModel::encode(BodyEncoder& out) const {
  out.u64(orders_.size());
  for (const auto* entry : sorted_entries(orders_)) encode_order(out, entry->second.summary, entry->second.events_applied);
}

Status OrderSummaryModel::decode(BodyDecoder& in) {
  const uint64_t count = in.count(kOrderBytesMin);
  for (uint64_t i = 0; i < count && in.ok(); ++i) {
    Row row;
    row.summary = decode_order(in, row.events_applied);
    if (!in.ok()) break;
    std::string order_id = row.summary.order_id;
    if (!orders_.try_emplace(std::move(order_id), std::move(row)).second) in.fail();
  }
  if (!in.ok()) return Status::corruption("order summaries do not decode");
  return Status::ok();
}

const OrderSummary* OrderSummaryModel::find(std::string_view order_id) const {
  auto found = orders_.find(order_id);
  return found == orders_.end() ? nullptr : &found->second.summary;
}

namespace {

class OrderSummaryProjectionImpl final : public HostedProjection<OrderSummaryProjection, OrderSummaryModel> {
 public:
  using HostedProjection::HostedProjection;

  Result<OrderSummary> find(std::string_view order_id, const ReadConsistency& consistency) const override {
    return query(consistency, [&](const OrderSummaryModel& model) -> Result<OrderSummary> {
      const OrderSummary* summary = model.find(order_id);
      if (summary == nullptr) return Status::not_found("no order " + std::string(order_id));
      return *summary;
    });
  }
  uint64_t order_count() const override {
    return read_now([](const OrderSummaryModel& model) { return model.order_count(); });
  }
};

}  // namespace

Result<std::unique_ptr<OrderSummaryProjection>> OrderSummaryProjection::open(const ProjectionOptions& options) {
  return OrderSummaryProjectionImpl::open_as<OrderSummaryProjectionImpl>("order_summary", options);
}

}  // namespace orderlog::projections
