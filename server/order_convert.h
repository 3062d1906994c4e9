// Translation between the order domain (engine/order, engine/projections) and the
// wire protocol: commands in, order states and query results out. Requests are copied
// into owning engine types because they run on the command pool after the frame that
// carried them has been reused.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <chrono>
#include <string>
#include <variant>
#include <vector>

#include "orderlog/fb/protocol_generated.h"
#include "orderlog/order/domain.h"
#include "orderlog/order/service.h"
#include "orderlog/projections.h"
#include "orderlog/status.h"

namespace orderlog::server {

// ---- commands ----
struct DecodedCommand {
  order::Command command;
  order::CommandContext context;  // tenant filled in by the caller
};
// kInvalidArgument for a nil command id or an unknown command kind.
Result<DecodedCommand> decode_command(const wire::ExecuteCommand& request);
// "CreateOrder", ... for the ACL, or "" for an unknown kind.
std::string_view wire_command_name(wire::Command kind);

wire::DomainError to_wire(order::DomainErrorCode code);
wire::OrderStatus to_wire(order::OrderStatus status);
flatbuffers::Offset<wire::OrderState> encode_order_state(flatbuffers::FlatBufferBuilder& builder,
                                                          const order::OrderState& state);
flatbuffers::Offset<wire::CommandOk> encode_command_ok(flatbuffers::FlatBufferBuilder& builder,
                                                        const order::CommandResult& result);

// ---- queries ----
struct SummaryRequest {
  std::string order_id;
};
struct StatusCountRequest {
  order::OrderStatus status = order::OrderStatus::kPending;
};
struct CurrenciesRequest {};
struct HistoryRequest {
  std::string order_id;
};
struct ProjectionsRequest {};
using QueryRequest = std::variant<SummaryRequest, projections::CustomerOrdersQuery, projections::OrdersByStatusQuery,
                                  StatusCountRequest, projections::RevenueQuery, CurrenciesRequest, HistoryRequest,
                                  ProjectionsRequest>;
struct DecodedQuery {
  QueryRequest request;
  projections::ReadConsistency consistency;
};
// `wait_max` caps the client's timeout_ms. kInvalidArgument for unknown kinds or enums.
Result<DecodedQuery> decode_query(const wire::Query& query, std::chrono::milliseconds wait_max);

flatbuffers::Offset<wire::OrderSummary> encode_summary(flatbuffers::FlatBufferBuilder& builder,
                                                        const projections::OrderSummary& summary);
flatbuffers::Offset<wire::OrderPageResult> encode_page(flatbuffers::FlatBufferBuilder& builder,
                                                        const projections::OrderPage& page);
flatbuffers::Offset<wire::RevenuePageResult> encode_revenue(flatbuffers::FlatBufferBuilder& builder,
                                                             const projections::RevenuePage& page);
flatbuffers::Offset<wire::HistoryResult> encode_history(flatbuffers::FlatBufferBuilder& builder,
                                                         const std::vector<order::HistoryEntry>& history);
// Every projection's progress (for ProjectionsQuery and Stats).
flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<wire::ProjectionProgress>>> encode_progress(
    flatbuffers::FlatBufferBuilder& builder, const projections::ProjectionSet& views);

}  // namespace orderlog::server
