// Encoders of order commands, queries, temporal reads, stats and ping (codec.h).
#include <type_traits>

#include "codec.h"
#include "encoder.h"

namespace orderlog::client::detail {
namespace {

using CommandOffset = std::pair<wire::Command, flatbuffers::Offset<void>>;

flatbuffers::Offset<wire::OrderLine> order_line(flatbuffers::FlatBufferBuilder& b, const OrderLine& line) {
  return wire::CreateOrderLineDirect(b, line.sku.c_str(), line.quantity, line.unit_price_minor);
}

CommandOffset command_body(flatbuffers::FlatBufferBuilder& b, const Command& command) {
  return std::visit(
      [&b](const auto& c) -> CommandOffset {
        using C = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<C, CreateOrder>) {
          std::vector<flatbuffers::Offset<wire::OrderLine>> lines;
          for (const OrderLine& line : c.lines) lines.push_back(order_line(b, line));
          auto body = wire::CreateCreateOrderDirect(b, c.order_id.c_str(), c.customer_id.c_str(), c.currency.c_str(),
                                                    &lines);
          return {wire::Command::CreateOrder, body.Union()};
        } else if constexpr (std::is_same_v<C, AddItem>) {
          auto line = order_line(b, c.line);
          auto body = wire::CreateAddItemDirect(b, c.order_id.c_str(), line, c.currency.c_str());
          return {wire::Command::AddItem, body.Union()};
        } else if constexpr (std::is_same_v<C, RemoveItem>) {
          return {wire::Command::RemoveItem, wire::CreateRemoveItemDirect(b, c.order_id.c_str(), c.sku.c_str()).Union()};
        } else if constexpr (std::is_same_v<C, ConfirmOrder>) {
          return {wire::Command::ConfirmOrder, wire::CreateConfirmOrderDirect(b, c.order_id.c_str()).Union()};
        } else if constexpr (std::is_same_v<C, CancelOrder>) {
          auto body = wire::CreateCancelOrderDirect(b, c.order_id.c_str(), c.reason.c_str());
          return {wire::Command::CancelOrder, body.Union()};
        } else if constexpr (std::is_same_v<C, ShipOrder>) {
          auto body = wire::CreateShipOrderDirect(b, c.order_id.c_str(), c.carrier.c_str(), c.tracking_number.c_str());
          return {wire::Command::ShipOrder, body.Union()};
        } else {
          static_assert(std::is_same_v<C, DeliverOrder>);
          return {wire::Command::DeliverOrder, wire::CreateDeliverOrderDirect(b, c.order_id.c_str()).Union()};
        }
      },
      command);
}

// Every query travels in the same envelope: kind, min_position, wait.
Frame finish_query(Encoder& encoder, wire::QueryKind kind, flatbuffers::Offset<void> body,
                   const QueryConsistency& consistency) {
  auto query = wire::CreateQuery(encoder.builder(), kind, body, consistency.min_position, consistency.wait_ms);
  return encoder.finish(wire::Body::Query, query.Union());
}

}  // namespace

Frame encode(const CommandRequest& request) {
  Encoder encoder;
  auto& b = encoder.builder();
  const CommandOptions& options = request.options;
  const wire::Uuid command_id = to_wire(options.command_id.is_nil() ? Uuid::generate() : options.command_id);
  const wire::Uuid correlation = to_wire(options.correlation_id);
  const wire::Uuid causation = to_wire(options.causation_id);
  const auto [type, body] = command_body(b, request.command);
  auto execute = wire::CreateExecuteCommand(b, &command_id, options.correlation_id.is_nil() ? nullptr : &correlation,
                                            options.causation_id.is_nil() ? nullptr : &causation, type, body);
  return encoder.finish(wire::Body::ExecuteCommand, execute.Union());
}

Frame encode(const OrderSummaryQuery& query) {
  Encoder encoder;
  auto body = wire::CreateOrderSummaryQueryDirect(encoder.builder(), query.order_id.c_str());
  return finish_query(encoder, wire::QueryKind::OrderSummaryQuery, body.Union(), query.consistency);
}

Frame encode(const CustomerOrdersQuery& query) {
  Encoder encoder;
  auto body = wire::CreateCustomerOrdersQueryDirect(encoder.builder(), query.customer_id.c_str(),
                                                    static_cast<wire::OrderStatus>(query.status), query.cursor,
                                                    query.limit);
  return finish_query(encoder, wire::QueryKind::CustomerOrdersQuery, body.Union(), query.consistency);
}

Frame encode(const OrdersByStatusQuery& query) {
  Encoder encoder;
  auto body = wire::CreateOrdersByStatusQuery(encoder.builder(), static_cast<wire::OrderStatus>(query.status),
                                              query.cursor, query.limit);
  return finish_query(encoder, wire::QueryKind::OrdersByStatusQuery, body.Union(), query.consistency);
}

Frame encode(const StatusCountQuery& query) {
  Encoder encoder;
  auto body = wire::CreateStatusCountQuery(encoder.builder(), static_cast<wire::OrderStatus>(query.status));
  return finish_query(encoder, wire::QueryKind::StatusCountQuery, body.Union(), query.consistency);
}

Frame encode(const RevenueQuery& query) {
  Encoder encoder;
  auto body = wire::CreateRevenueQueryDirect(encoder.builder(), static_cast<wire::Period>(query.period),
                                             query.currency.c_str(), query.from_ns, query.to_ns, query.limit);
  return finish_query(encoder, wire::QueryKind::RevenueQuery, body.Union(), query.consistency);
}

Frame encode(const CurrenciesQuery& query) {
  Encoder encoder;
  auto body = wire::CreateCurrenciesQuery(encoder.builder());
  return finish_query(encoder, wire::QueryKind::CurrenciesQuery, body.Union(), query.consistency);
}

Frame encode(const OrderHistoryQuery& query) {
  Encoder encoder;
  auto body = wire::CreateOrderHistoryQueryDirect(encoder.builder(), query.order_id.c_str());
  return finish_query(encoder, wire::QueryKind::OrderHistoryQuery, body.Union(), query.consistency);
}

Frame encode(const ProjectionsQuery&) {
  Encoder encoder;
  auto body = wire::CreateProjectionsQuery(encoder.builder());
  return finish_query(encoder, wire::QueryKind::ProjectionsQuery, body.Union(), QueryConsistency{});
}

Frame encode(const OrderAtVersionRequest& request) {
  Encoder encoder;
  auto body = wire::CreateOrderAtDirect(encoder.builder(), request.order_id.c_str(), request.version, 0);
  return encoder.finish(wire::Body::OrderAt, body.Union());
}

Frame encode(const OrderAtTimeRequest& request) {
  Encoder encoder;
  auto body = wire::CreateOrderAtDirect(encoder.builder(), request.order_id.c_str(), 0, request.at_ns);
  return encoder.finish(wire::Body::OrderAt, body.Union());
}

Frame encode(const StatsRequest&) {
  Encoder encoder;
  return encoder.finish(wire::Body::Stats, wire::CreateStats(encoder.builder()).Union());
}

Frame encode(const PingRequest& request) {
  Encoder encoder;
  return encoder.finish(wire::Body::Ping, wire::CreatePing(encoder.builder(), request.payload).Union());
}

}  // namespace orderlog::client::detail
