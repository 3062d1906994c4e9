// The named operations of Client (client.h): each builds its request struct and takes
// the generic path (call / call_async / call_future).
#include "orderlog/client/client.h"

namespace orderlog::client {

Result<AppendResult> Client::append(std::string stream_id, ExpectedVersion expected, std::vector<NewEvent> events) {
  return call(AppendRequest{std::move(stream_id), expected, std::move(events)});
}

void Client::append_async(std::string stream_id, ExpectedVersion expected, std::vector<NewEvent> events,
                          Callback<AppendResult> done) {
  call_async(AppendRequest{std::move(stream_id), expected, std::move(events)}, std::move(done));
}

std::future<Result<AppendResult>> Client::append_future(std::string stream_id, ExpectedVersion expected,
                                                        std::vector<NewEvent> events) {
  return call_future(AppendRequest{std::move(stream_id), expected, std::move(events)});
}

Result<AppendResult> Client::append_multi(std::vector<AppendRequest> streams) {
  return call(AppendMultiRequest{std::move(streams)});
}

Result<ReadPage> Client::read_stream(std::string stream_id, uint64_t from_version, Direction direction,
                                     uint32_t max_count) {
  return call(ReadStreamRequest{std::move(stream_id), from_version, direction, max_count});
}

Result<ReadPage> Client::read_all(uint64_t from_position, uint32_t max_count) {
  return call(ReadAllRequest{from_position, max_count});
}

Result<ReadPage> Client::read_by_type(std::string type, uint64_t from_position, uint32_t max_count) {
  return call(ReadByTypeRequest{std::move(type), from_position, max_count});
}

Result<ReadPage> Client::read_by_time(const ReadByTimeRequest& request) { return call(request); }

Result<CommandResult> Client::execute(Command command, const CommandOptions& options) {
  return call(CommandRequest{std::move(command), options});
}

void Client::execute_async(Command command, const CommandOptions& options, Callback<CommandResult> done) {
  call_async(CommandRequest{std::move(command), options}, std::move(done));
}

std::future<Result<CommandResult>> Client::execute_future(Command command, const CommandOptions& options) {
  return call_future(CommandRequest{std::move(command), options});
}

Result<CommandResult> Client::create_order(CreateOrder command, const CommandOptions& options) {
  return execute(std::move(command), options);
}
Result<CommandResult> Client::add_item(AddItem command, const CommandOptions& options) {
  return execute(std::move(command), options);
}
Result<CommandResult> Client::remove_item(RemoveItem command, const CommandOptions& options) {
  return execute(std::move(command), options);
}
Result<CommandResult> Client::confirm_order(ConfirmOrder command, const CommandOptions& options) {
  return execute(std::move(command), options);
}
Result<CommandResult> Client::cancel_order(CancelOrder command, const CommandOptions& options) {
  return execute(std::move(command), options);
}
Result<CommandResult> Client::ship_order(ShipOrder command, const CommandOptions& options) {
  return execute(std::move(command), options);
}
Result<CommandResult> Client::deliver_order(DeliverOrder command, const CommandOptions& options) {
  return execute(std::move(command), options);
}

Result<OrderSummary> Client::order_summary(std::string order_id, uint64_t min_position) {
  return call(OrderSummaryQuery{std::move(order_id), {min_position}});
}
Result<OrderPage> Client::customer_orders(const CustomerOrdersQuery& query) { return call(query); }
Result<OrderPage> Client::orders_by_status(const OrdersByStatusQuery& query) { return call(query); }
Result<uint64_t> Client::status_count(OrderStatus status, uint64_t min_position) {
  return call(StatusCountQuery{status, {min_position}});
}
Result<RevenuePage> Client::revenue(const RevenueQuery& query) { return call(query); }
Result<std::vector<std::string>> Client::currencies(uint64_t min_position) {
  return call(CurrenciesQuery{{min_position}});
}
Result<std::vector<HistoryEntry>> Client::order_history(std::string order_id, uint64_t min_position) {
  return call(OrderHistoryQuery{std::move(order_id), {min_position}});
}
Result<std::vector<ProjectionProgress>> Client::projections() { return call(ProjectionsQuery{}); }

Result<OrderState> Client::order_at_version(std::string order_id, uint64_t version) {
  return call(OrderAtVersionRequest{std::move(order_id), version});
}
Result<OrderState> Client::order_at_time(std::string order_id, uint64_t at_ns) {
  return call(OrderAtTimeRequest{std::move(order_id), at_ns});
}
Result<Stats> Client::stats() { return call(StatsRequest{}); }
Result<Pong> Client::ping(uint64_t payload) { return call(PingRequest{payload}); }

}  // namespace orderlog::client
