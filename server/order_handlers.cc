// The order handlers of dispatcher.h: ExecuteCommand, Query and OrderAt. Each checks
// the ACL and the rate limit on the io thread and copies its request out of the
// frame. A command is decided on the io thread and completes when its append is
// durable (OrderService::execute_async); queries and OrderAt run on the BlockingPool
// because they may block (waiting for a projection to reach min_position).
#include <chrono>
#include <string>
#include <type_traits>
#include <utility>

#include "server/dispatcher.h"
#include "server/order_convert.h"

namespace orderlog::server {
namespace {

// However long a client asks to wait for min_position, a pool thread waits no longer.
constexpr std::chrono::milliseconds kQueryWaitMax{30'000};
// Each history entry carries a whole order state (up to 100 lines): this bounds a
// history reply's build far below FlatBuffers' 2 GiB, and larger ones exceed a frame anyway.
constexpr uint64_t kHistoryEventsMax = 10'000;

Reply query_ok(flatbuffers::FlatBufferBuilder& builder, uint64_t request_id, wire::QueryResult type,
               flatbuffers::Offset<void> result) {
  const auto ok = wire::CreateQueryOk(builder, type, result);
  return finish_reply(builder, request_id, wire::Body::QueryOk, ok.Union());
}

Reply command_reply(uint64_t request_id, const Result<order::CommandOutcome>& outcome) {
  if (!outcome.is_ok()) return status_reply(request_id, outcome.status());
  if (const auto* refused = std::get_if<order::DomainError>(&*outcome)) {
    ErrorDetails details;
    details.domain_error = to_wire(refused->code);
    return error_reply(request_id, wire::ErrorCode::DomainRule, refused->message, details);
  }
  flatbuffers::FlatBufferBuilder builder(1024);
  const auto ok = encode_command_ok(builder, std::get<order::CommandResult>(*outcome));
  return finish_reply(builder, request_id, wire::Body::CommandOk, ok.Union());
}

Reply not_found_order(uint64_t request_id, const std::string& order_id) {
  return error_reply(request_id, wire::ErrorCode::NotFound, "no order '" + order_id + "'");
}

Reply run_summary(const Services& services, uint64_t id, const SummaryRequest& request,
                  const projections::ReadConsistency& consistency) {
  auto summary = services.views->summaries->find(request.order_id, consistency);
  if (!summary.is_ok()) return status_reply(id, summary.status());
  if (summary->status == order::OrderStatus::kNone) return not_found_order(id, request.order_id);
  flatbuffers::FlatBufferBuilder builder(1024);
  const auto result = wire::CreateOrderSummaryResult(builder, encode_summary(builder, *summary));
  return query_ok(builder, id, wire::QueryResult::OrderSummaryResult, result.Union());
}

Reply run_history(const Services& services, uint64_t id, const HistoryRequest& request,
                  const projections::ReadConsistency& consistency) {
  // History reads the log itself, so min_position waits for the log, not a projection.
  if (!services.store->wait_for_position(consistency.min_position, consistency.timeout)) {
    return error_reply(id, wire::ErrorCode::Timeout, "min_position was not committed in time");
  }
  auto history = services.orders->history(request.order_id, kHistoryEventsMax);
  if (!history.is_ok()) return status_reply(id, history.status());
  if (history->empty()) return not_found_order(id, request.order_id);
  flatbuffers::FlatBufferBuilder builder(4096);
  const auto result = encode_history(builder, *history);
  return query_ok(builder, id, wire::QueryResult::HistoryResult, result.Union());
}

template <typename T>
Reply page_reply(uint64_t id, const Result<T>& page) {
  if (!page.is_ok()) return status_reply(id, page.status());
  flatbuffers::FlatBufferBuilder builder(4096);
  if constexpr (std::is_same_v<T, projections::OrderPage>) {
    return query_ok(builder, id, wire::QueryResult::OrderPageResult, encode_page(builder, *page).Union());
  } else {
    return query_ok(builder, id, wire::QueryResult::RevenuePageResult, encode_revenue(builder, *page).Union());
  }
}

Reply run_query(const Services& services, uint64_t id, DecodedQuery query) {
  const projections::ReadConsistency& consistency = query.consistency;
  flatbuffers::FlatBufferBuilder builder(1024);
  if (auto* request = std::get_if<SummaryRequest>(&query.request)) {
    return run_summary(services, id, *request, consistency);
  } else if (auto* customer = std::get_if<projections::CustomerOrdersQuery>(&query.request)) {
    customer->consistency = consistency;
    return page_reply(id, services.views->customer_orders->orders_of(*customer));
  } else if (auto* by_status = std::get_if<projections::OrdersByStatusQuery>(&query.request)) {
    by_status->consistency = consistency;
    return page_reply(id, services.views->orders_by_status->orders_in(*by_status));
  } else if (auto* count = std::get_if<StatusCountRequest>(&query.request)) {
    auto counted = services.views->orders_by_status->count_in(count->status, consistency);
    if (!counted.is_ok()) return status_reply(id, counted.status());
    return query_ok(builder, id, wire::QueryResult::CountResult, wire::CreateCountResult(builder, *counted).Union());
  } else if (auto* revenue = std::get_if<projections::RevenueQuery>(&query.request)) {
    revenue->consistency = consistency;
    return page_reply(id, services.views->revenue->revenue(*revenue));
  } else if (std::holds_alternative<CurrenciesRequest>(query.request)) {
    auto currencies = services.views->revenue->currencies(consistency);
    if (!currencies.is_ok()) return status_reply(id, currencies.status());
    const auto result = wire::CreateCurrenciesResult(builder, builder.CreateVectorOfStrings(*currencies));
    return query_ok(builder, id, wire::QueryResult::CurrenciesResult, result.Union());
  } else if (auto* history = std::get_if<HistoryRequest>(&query.request)) {
    return run_history(services, id, *history, consistency);
  }
  const auto result = wire::CreateProjectionsResult(builder, encode_progress(builder, *services.views));
  return query_ok(builder, id, wire::QueryResult::ProjectionsResult, result.Union());
}

Reply order_at_reply(uint64_t id, const std::string& order_id, const Result<order::OrderState>& state) {
  if (!state.is_ok()) return status_reply(id, state.status());
  if (state->status == order::OrderStatus::kNone) return not_found_order(id, order_id);
  flatbuffers::FlatBufferBuilder builder(1024);
  const auto ok = wire::CreateOrderAtOk(builder, encode_order_state(builder, *state));
  return finish_reply(builder, id, wire::Body::OrderAtOk, ok.Union());
}

Reply over_rate(uint64_t request_id, const Tenant& tenant) {
  return error_reply(request_id, wire::ErrorCode::Busy, "tenant " + tenant.name() + " is over its rate limit");
}

}  // namespace

std::optional<Reply> handle_execute_command(const Services& services, const Request& request,
                                            const std::function<ReplySink()>& make_sink) {
  const wire::ExecuteCommand& execute = *request.message->body_as_ExecuteCommand();
  const std::string_view name = wire_command_name(execute.command_type());
  if (name.empty()) return error_reply(request.id, wire::ErrorCode::BadRequest, "unknown command kind");
  if (!request.tenant->may_execute(name)) {
    return error_reply(request.id, wire::ErrorCode::Forbidden, "tenant may not execute " + std::string(name));
  }
  if (!request.tenant->admit(1)) return over_rate(request.id, *request.tenant);
  auto decoded = decode_command(execute);
  if (!decoded.is_ok()) return status_reply(request.id, decoded.status());
  decoded->context.tenant = request.tenant->name();
  // The load and the decision run here; the append's fsync is waited for by nobody:
  // the reply is encoded where the command completes (usually the store's writer
  // thread) and handed to the session. Retries after a concurrent write, which back
  // off, run on the pool. A command counts in the append gate like an Append, so
  // sessions stop reading when the store's queue is full of either.
  BlockingPool* pool = services.pool;
  AppendGate* gate = services.append_gate;
  gate->acquire();
  services.orders->execute_async(
      std::move(decoded->command), std::move(decoded->context),
      [pool](std::function<void()> work) { pool->post(std::move(work)); },
      [id = request.id, sink = make_sink(), gate](Result<order::CommandOutcome> outcome) {
        sink(command_reply(id, outcome));
        gate->release();
      });
  return std::nullopt;
}

std::optional<Reply> handle_query(const Services& services, const Request& request,
                                  const std::function<ReplySink()>& make_sink) {
  if (!request.tenant->may_query()) return error_reply(request.id, wire::ErrorCode::Forbidden, "tenant may not query");
  if (!request.tenant->admit(1)) return over_rate(request.id, *request.tenant);
  auto decoded = decode_query(*request.message->body_as_Query(), kQueryWaitMax);
  if (!decoded.is_ok()) return status_reply(request.id, decoded.status());
  // A query waiting for the log blocks its pool thread for up to kQueryWaitMax: past
  // half the pool they are refused, so they cannot starve other queries and retries.
  // ProjectionsQuery reports progress and ignores min_position: it never waits.
  const bool waits = !std::holds_alternative<ProjectionsRequest>(decoded->request) &&
                     decoded->consistency.min_position.value > services.store->committed_position().value;
  if (waits && services.waiting_queries->fetch_add(1) >= services.waiting_queries_max()) {
    services.waiting_queries->fetch_sub(1);
    return error_reply(request.id, wire::ErrorCode::Busy,
                       "too many queries are waiting for a min_position (" +
                           std::to_string(services.waiting_queries_max()) + "); retry later");
  }
  services.pool->post([services, id = request.id, query = std::move(decoded).value(), sink = make_sink(), waits]() mutable {
    Reply reply = run_query(services, id, std::move(query));
    if (waits) services.waiting_queries->fetch_sub(1);
    sink(std::move(reply));
  });
  return std::nullopt;
}

std::optional<Reply> handle_order_at(const Services& services, const Request& request,
                                     const std::function<ReplySink()>& make_sink) {
  if (!request.tenant->may_query()) return error_reply(request.id, wire::ErrorCode::Forbidden, "tenant may not query");
  if (!request.tenant->admit(1)) return over_rate(request.id, *request.tenant);
  const wire::OrderAt& at = *request.message->body_as_OrderAt();
  services.pool->post([services, id = request.id, order_id = at.order_id()->str(), version = at.version(),
                       at_ns = at.at_ns(), sink = make_sink()] {
    auto state = version > 0 ? services.orders->state_at_version(order_id, version)
                             : services.orders->state_at_time(order_id, at_ns);
    sink(order_at_reply(id, order_id, state));
  });
  return std::nullopt;
}

}  // namespace orderlog::server
