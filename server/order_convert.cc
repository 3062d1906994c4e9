// See order_convert.h.
#include "server/order_convert.h"

#include <algorithm>

#include "server/wire_convert.h"

namespace orderlog::server {
namespace {

// The wire enums mirror the engine's value for value; these keep them in step.
static_assert(static_cast<int>(wire::OrderStatus::Cancelled) == static_cast<int>(order::OrderStatus::kCancelled));
static_assert(static_cast<int>(wire::DomainError::TotalTooLarge) ==
              static_cast<int>(order::DomainErrorCode::kTotalTooLarge));
static_assert(static_cast<int>(wire::Period::Month) == static_cast<int>(projections::Period::kMonth));

std::string text(const flatbuffers::String* value) { return value == nullptr ? std::string() : value->str(); }

order::OrderLine line_from_wire(const wire::OrderLine& line) {
  return order::OrderLine{line.sku()->str(), line.quantity(), line.unit_price_minor()};
}

Result<order::Command> command_from_wire(const wire::ExecuteCommand& request) {
  switch (request.command_type()) {
    case wire::Command::CreateOrder: {
      const auto* in = request.command_as_CreateOrder();
      order::CreateOrder out{in->order_id()->str(), in->customer_id()->str(), in->currency()->str(), {}};
      if (in->lines() != nullptr) {
        if (in->lines()->size() > order::kItemLinesMax) return Status::too_large("too many order lines");
        for (const wire::OrderLine* line : *in->lines()) out.lines.push_back(line_from_wire(*line));
      }
      return order::Command(std::move(out));
    }
    case wire::Command::AddItem: {
      const auto* in = request.command_as_AddItem();
      return order::Command(order::AddItem{in->order_id()->str(), line_from_wire(*in->line()), text(in->currency())});
    }
    case wire::Command::RemoveItem: {
      const auto* in = request.command_as_RemoveItem();
      return order::Command(order::RemoveItem{in->order_id()->str(), in->sku()->str()});
    }
    case wire::Command::ConfirmOrder:
      return order::Command(order::ConfirmOrder{request.command_as_ConfirmOrder()->order_id()->str()});
    case wire::Command::CancelOrder: {
      const auto* in = request.command_as_CancelOrder();
      return order::Command(order::CancelOrder{in->order_id()->str(), text(in->reason())});
    }
    case wire::Command::ShipOrder: {
      const auto* in = request.command_as_ShipOrder();
      return order::Command(order::ShipOrder{in->order_id()->str(), in->carrier()->str(), in->tracking_number()->str()});
    }
    case wire::Command::DeliverOrder:
      return order::Command(order::DeliverOrder{request.command_as_DeliverOrder()->order_id()->str()});
    default: return Status::invalid_argument("unknown command kind");
  }
}

Result<order::OrderStatus> status_from_wire(wire::OrderStatus status) {
  if (status > wire::OrderStatus::MAX) return Status::invalid_argument("unknown order status");
  return static_cast<order::OrderStatus>(status);
}

Result<QueryRequest> customer_orders_from_wire(const wire::CustomerOrdersQuery& in) {
  projections::CustomerOrdersQuery out;
  out.customer_id = in.customer_id()->str();
  OL_ASSIGN_OR_RETURN(order::OrderStatus status, status_from_wire(in.status()));
  if (status != order::OrderStatus::kNone) out.status = status;
  out.cursor = in.cursor();
  out.limit = in.limit();
  return QueryRequest(std::move(out));
}

Result<QueryRequest> orders_by_status_from_wire(const wire::OrdersByStatusQuery& in) {
  projections::OrdersByStatusQuery out;
  OL_ASSIGN_OR_RETURN(out.status, status_from_wire(in.status()));
  out.cursor = in.cursor();
  out.limit = in.limit();
  return QueryRequest(std::move(out));
}

Result<QueryRequest> revenue_from_wire(const wire::RevenueQuery& in) {
  if (in.period() > wire::Period::MAX) return Status::invalid_argument("unknown revenue period");
  projections::RevenueQuery out;
  out.period = static_cast<projections::Period>(in.period());
  out.currency = in.currency()->str();
  out.range = TimeRange{in.from_ns(), in.to_ns() == 0 ? UINT64_MAX : in.to_ns()};
  out.limit = in.limit();
  return QueryRequest(std::move(out));
}

Result<QueryRequest> query_from_wire(const wire::Query& query) {
  switch (query.query_type()) {
    case wire::QueryKind::OrderSummaryQuery:
      return QueryRequest(SummaryRequest{query.query_as_OrderSummaryQuery()->order_id()->str()});
    case wire::QueryKind::CustomerOrdersQuery: return customer_orders_from_wire(*query.query_as_CustomerOrdersQuery());
    case wire::QueryKind::OrdersByStatusQuery: return orders_by_status_from_wire(*query.query_as_OrdersByStatusQuery());
    case wire::QueryKind::StatusCountQuery: {
      OL_ASSIGN_OR_RETURN(order::OrderStatus status, status_from_wire(query.query_as_StatusCountQuery()->status()));
      return QueryRequest(StatusCountRequest{status});
    }
    case wire::QueryKind::RevenueQuery: return revenue_from_wire(*query.query_as_RevenueQuery());
    case wire::QueryKind::CurrenciesQuery: return QueryRequest(CurrenciesRequest{});
    case wire::QueryKind::OrderHistoryQuery:
      return QueryRequest(HistoryRequest{query.query_as_OrderHistoryQuery()->order_id()->str()});
    case wire::QueryKind::ProjectionsQuery: return QueryRequest(ProjectionsRequest{});
    default: return Status::invalid_argument("unknown query kind");
  }
}

}  // namespace

std::string_view wire_command_name(wire::Command kind) {
  switch (kind) {
    case wire::Command::CreateOrder: return "CreateOrder";
    case wire::Command::AddItem: return "AddItem";
    case wire::Command::RemoveItem: return "RemoveItem";
    case wire::Command::ConfirmOrder: return "ConfirmOrder";
    case wire::Command::CancelOrder: return "CancelOrder";
    case wire::Command::ShipOrder: return "ShipOrder";
    case wire::Command::DeliverOrder: return "DeliverOrder";
    default: return "";
  }
}

Result<DecodedCommand> decode_command(const wire::ExecuteCommand& request) {
  OL_ASSIGN_OR_RETURN(order::Command command, command_from_wire(request));
  DecodedCommand out{std::move(command), {}};
  out.context.command_id = from_wire(request.command_id());
  if (out.context.command_id.is_nil()) return Status::invalid_argument("command_id must not be nil");
  out.context.correlation_id = from_wire(request.correlation_id());
  out.context.causation_id = from_wire(request.causation_id());
  return out;
}

// GCC 12 at -O2 reports the moved-from std::variant of strings below as "may be used
// uninitialized" (a known false positive of its variant move analysis).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
Result<DecodedQuery> decode_query(const wire::Query& query, std::chrono::milliseconds wait_max) {
  OL_ASSIGN_OR_RETURN(QueryRequest request, query_from_wire(query));
  projections::ReadConsistency consistency;
  consistency.min_position = GlobalPosition{query.min_position()};
  consistency.timeout = std::min(std::chrono::milliseconds(query.timeout_ms()), wait_max);
  return DecodedQuery{std::move(request), consistency};
}
#pragma GCC diagnostic pop

wire::DomainError to_wire(order::DomainErrorCode code) { return static_cast<wire::DomainError>(code); }
wire::OrderStatus to_wire(order::OrderStatus status) { return static_cast<wire::OrderStatus>(status); }

namespace {

flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<wire::OrderLine>>> encode_lines(
    flatbuffers::FlatBufferBuilder& builder, const std::vector<order::OrderLine>& lines) {
  std::vector<flatbuffers::Offset<wire::OrderLine>> offsets;
  offsets.reserve(lines.size());
  for (const order::OrderLine& line : lines) {
    offsets.push_back(wire::CreateOrderLine(builder, builder.CreateString(line.sku), line.quantity,
                                            line.unit_price_minor));
  }
  return builder.CreateVector(offsets);
}

}  // namespace

flatbuffers::Offset<wire::OrderState> encode_order_state(flatbuffers::FlatBufferBuilder& builder,
                                                          const order::OrderState& state) {
  const auto order_id = builder.CreateString(state.order_id);
  const auto customer_id = builder.CreateString(state.customer_id);
  const auto currency = builder.CreateString(state.currency);
  const auto lines = encode_lines(builder, state.lines);
  const auto reason = builder.CreateString(state.cancel_reason);
  const auto carrier = builder.CreateString(state.carrier);
  const auto tracking = builder.CreateString(state.tracking_number);
  return wire::CreateOrderState(builder, order_id, customer_id, currency, to_wire(state.status), lines,
                                state.total_minor(), reason, carrier, tracking, state.version);
}

flatbuffers::Offset<wire::CommandOk> encode_command_ok(flatbuffers::FlatBufferBuilder& builder,
                                                        const order::CommandResult& result) {
  const auto state = encode_order_state(builder, result.state);
  std::vector<flatbuffers::Offset<flatbuffers::String>> types;
  types.reserve(result.events.size());
  for (const order::Event& event : result.events) types.push_back(builder.CreateString(order::event_type_name(event)));
  return wire::CreateCommandOk(builder, state, builder.CreateVector(types), result.first_position.value,
                               result.last_position.value, result.duplicate);
}

flatbuffers::Offset<wire::OrderSummary> encode_summary(flatbuffers::FlatBufferBuilder& builder,
                                                        const projections::OrderSummary& summary) {
  const auto order_id = builder.CreateString(summary.order_id);
  const auto customer_id = builder.CreateString(summary.customer_id);
  const auto currency = builder.CreateString(summary.currency);
  const auto lines = encode_lines(builder, summary.lines);
  const auto reason = builder.CreateString(summary.cancel_reason);
  const auto carrier = builder.CreateString(summary.carrier);
  const auto tracking = builder.CreateString(summary.tracking_number);
  return wire::CreateOrderSummary(builder, order_id, customer_id, currency, to_wire(summary.status), lines,
                                  summary.total_minor, summary.created_ns, summary.confirmed_ns, summary.shipped_ns,
                                  summary.delivered_ns, summary.cancelled_ns, reason, carrier, tracking,
                                  summary.version.value, summary.last_position.value);
}

flatbuffers::Offset<wire::OrderPageResult> encode_page(flatbuffers::FlatBufferBuilder& builder,
                                                        const projections::OrderPage& page) {
  std::vector<flatbuffers::Offset<wire::OrderListEntry>> entries;
  entries.reserve(page.orders.size());
  for (const projections::OrderListEntry& entry : page.orders) {
    entries.push_back(wire::CreateOrderListEntry(builder, builder.CreateString(entry.order_id), to_wire(entry.status),
                                                 entry.position.value));
  }
  return wire::CreateOrderPageResult(builder, builder.CreateVector(entries), page.next_cursor, page.end);
}

flatbuffers::Offset<wire::RevenuePageResult> encode_revenue(flatbuffers::FlatBufferBuilder& builder,
                                                             const projections::RevenuePage& page) {
  std::vector<flatbuffers::Offset<wire::RevenueBucket>> buckets;
  buckets.reserve(page.buckets.size());
  for (const projections::RevenueBucket& bucket : page.buckets) {
    const projections::RevenueTotals& totals = bucket.totals;
    buckets.push_back(wire::CreateRevenueBucket(builder, bucket.period.from_ns, bucket.period.to_ns,
                                                totals.confirmed_minor, totals.cancelled_minor,
                                                totals.delivered_minor, totals.orders_created,
                                                totals.orders_confirmed, totals.orders_cancelled,
                                                totals.orders_delivered, totals.saturated));
  }
  return wire::CreateRevenuePageResult(builder, builder.CreateVector(buckets), page.next_from_ns, page.end);
}

flatbuffers::Offset<wire::HistoryResult> encode_history(flatbuffers::FlatBufferBuilder& builder,
                                                         const std::vector<order::HistoryEntry>& history) {
  std::vector<flatbuffers::Offset<wire::HistoryEntry>> entries;
  entries.reserve(history.size());
  for (const order::HistoryEntry& entry : history) {
    const auto type = builder.CreateString(order::event_type_name(entry.event));
    const auto state = encode_order_state(builder, entry.state_after);
    entries.push_back(wire::CreateHistoryEntry(builder, entry.position.value, entry.version.value,
                                               entry.timestamp_ns, type, state));
  }
  return wire::CreateHistoryResult(builder, builder.CreateVector(entries));
}

flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<wire::ProjectionProgress>>> encode_progress(
    flatbuffers::FlatBufferBuilder& builder, const projections::ProjectionSet& views) {
  const projections::Projection* all[] = {views.summaries.get(), views.customer_orders.get(),
                                          views.orders_by_status.get(), views.revenue.get()};
  std::vector<flatbuffers::Offset<wire::ProjectionProgress>> entries;
  for (const projections::Projection* view : all) {
    if (view == nullptr) continue;
    const projections::ProjectionProgress progress = view->progress();
    const std::string failure = progress.failure.is_ok() ? std::string() : progress.failure.to_string();
    entries.push_back(wire::CreateProjectionProgress(builder, builder.CreateString(view->name().data(), view->name().size()),
                                                     progress.checkpoint.value, progress.head.value, progress.lag,
                                                     builder.CreateString(failure)));
  }
  return builder.CreateVector(entries);
}

}  // namespace orderlog::server
