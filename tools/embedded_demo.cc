// orderlog-demo: the whole engine embedded in-process, on the data directory ./data
// (or the first argument). It places a few orders through the command side
// (OrderService), takes them through their lifecycle, shows a refused command and an
// idempotent retry, then prints the read models (projections) and one order's replay
// trace. Run it again: the log keeps growing and the read models keep counting.
#include <fmt/core.h>

#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "orderlog/event_store.h"
#include "orderlog/order/service.h"
#include "orderlog/projections.h"
#include "orderlog/snapshot_store.h"

namespace {

using namespace orderlog;
using namespace orderlog::order;

int fail(const Status& status) {
  fmt::print(stderr, "orderlog-demo: {}\n", status.to_string());
  return EXIT_FAILURE;
}

std::string utc_date(uint64_t timestamp_ns) {
  const std::time_t seconds = static_cast<std::time_t>(timestamp_ns / 1'000'000'000);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  return fmt::format("{:04}-{:02}-{:02}", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday);
}

std::string money(int64_t minor, const std::string& currency) {
  return fmt::format("{}.{:02} {}", minor / 100, minor % 100, currency);
}

// Runs a command; prints refusals. Returns the position of its last event (0 if none).
uint64_t run(OrderService& service, const Command& command, const CommandContext& context) {
  Result<CommandOutcome> outcome = service.execute(command, context);
  if (!outcome.is_ok()) {
    fmt::print("  {:<13} failed: {}\n", command_name(command), outcome.status().to_string());
    return 0;
  }
  if (const auto* refused = std::get_if<DomainError>(&*outcome)) {
    fmt::print("  {:<13} refused ({}): {}\n", command_name(command), domain_error_name(refused->code),
               refused->message);
    return 0;
  }
  const auto& result = std::get<CommandResult>(*outcome);
  fmt::print("  {:<13} {:<10} -> {} v{}{}\n", command_name(command), command_order_id(command),
             status_name(result.state.status), result.state.version, result.duplicate ? " (duplicate, nothing appended)" : "");
  return result.last_position.value;
}

CommandContext fresh_context() {
  CommandContext context;
  context.command_id = EventId::generate();
  context.tenant = "demo";
  return context;
}

void print_read_models(const projections::ProjectionSet& views, const std::vector<std::string>& orders,
                       uint64_t last_position) {
  const projections::ReadConsistency consistent{GlobalPosition{last_position}, std::chrono::seconds(5)};
  fmt::print("\norder summaries (read-your-writes at position {}):\n", last_position);
  for (const std::string& id : orders) {
    auto summary = views.summaries->find(id, consistent);
    if (!summary.is_ok()) {
      fmt::print("  {}: {}\n", id, summary.status().to_string());
      continue;
    }
    fmt::print("  {:<10} {:<8} {:<10} {:>14}  {} line(s)\n", summary->order_id, summary->customer_id,
               status_name(summary->status), money(summary->total_minor, summary->currency), summary->lines.size());
  }
  fmt::print("\norders by status:\n");
  for (auto status : {OrderStatus::kPending, OrderStatus::kConfirmed, OrderStatus::kShipped,
                      OrderStatus::kDelivered, OrderStatus::kCancelled}) {
    auto count = views.orders_by_status->count_in(status, consistent);
    fmt::print("  {:<10} {}\n", status_name(status), count.is_ok() ? std::to_string(*count) : count.status().to_string());
  }
  projections::CustomerOrdersQuery query;
  query.customer_id = "alice";
  query.consistency = consistent;
  auto alice = views.customer_orders->orders_of(query);
  if (alice.is_ok()) fmt::print("\ncustomer alice has {} order(s) on the first page\n", alice->orders.size());
  projections::RevenueQuery revenue;
  revenue.period = projections::Period::kDay;
  revenue.currency = "EUR";
  revenue.range = {0, UINT64_MAX};
  revenue.consistency = consistent;
  auto days = views.revenue->revenue(revenue);
  if (days.is_ok()) {
    fmt::print("\nrevenue per day (EUR):\n");
    for (const auto& bucket : days->buckets) {
      fmt::print("  {}: confirmed {}, delivered {}, cancelled {}\n", utc_date(bucket.period.from_ns),
                 money(bucket.totals.confirmed_minor, "EUR"), money(bucket.totals.delivered_minor, "EUR"),
                 money(bucket.totals.cancelled_minor, "EUR"));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  StoreOptions options;
  options.data_dir = argc > 1 ? argv[1] : "data";
  options.segment_bytes_max = 16 * 1024 * 1024;  // small segments for a demo directory
  auto opened = EventStore::open(options);
  if (!opened.is_ok()) return fail(opened.status());
  std::unique_ptr<EventStore> store = std::move(opened).value();
  SnapshotStoreOptions snapshot_options;
  snapshot_options.dir = options.data_dir + "/snapshots";
  auto snapshots = SnapshotStore::open(snapshot_options);
  if (!snapshots.is_ok()) return fail(snapshots.status());
  projections::ProjectionOptions view_options;
  view_options.store = store.get();
  view_options.data_dir = options.data_dir;
  auto views = projections::ProjectionSet::open(view_options);
  if (!views.is_ok()) return fail(views.status());
  OrderServiceOptions service_options;
  service_options.snapshots = snapshots->get();
  OrderService service(*store, service_options);

  const std::string run_tag = EventId::generate().to_string().substr(28);
  const std::string a = "A-" + run_tag, b = "B-" + run_tag, c = "C-" + run_tag;
  fmt::print("commands:\n");
  run(service, CreateOrder{a, "alice", "EUR", {{"book-1", 2, 1299}}}, fresh_context());
  run(service, AddItem{a, {"pen-7", 3, 250}, ""}, fresh_context());
  run(service, ConfirmOrder{a}, fresh_context());
  run(service, ShipOrder{a, "DHL", "JD014600006"}, fresh_context());
  run(service, DeliverOrder{a}, fresh_context());
  run(service, CreateOrder{b, "bob", "EUR", {}}, fresh_context());
  run(service, ConfirmOrder{b}, fresh_context());  // refused: an empty order
  const CommandContext add_once = fresh_context();
  run(service, AddItem{b, {"mug-3", 1, 850}, ""}, add_once);
  run(service, AddItem{b, {"mug-3", 1, 850}, ""}, add_once);  // a retry: same command id
  run(service, CreateOrder{c, "alice", "EUR", {{"lamp-2", 1, 4999}}}, fresh_context());
  run(service, ConfirmOrder{c}, fresh_context());
  const uint64_t last = run(service, CancelOrder{c, "ordered twice"}, fresh_context());

  print_read_models(*views, {a, b, c}, last);

  fmt::print("\nreplay trace of {}:\n", a);
  auto trace = service.history(a);
  if (!trace.is_ok()) return fail(trace.status());
  for (const HistoryEntry& entry : *trace) {
    fmt::print("  #{:<6} v{} {:<15} -> {} {}\n", entry.position.value, entry.version.value,
               event_type_name(entry.event), status_name(entry.state_after.status),
               money(entry.state_after.total_minor(), entry.state_after.currency));
  }
  const StoreStats stats = store->stats();
  fmt::print("\n{} events in {} streams, {} segment(s), data directory '{}'\n", stats.committed_position.value,
             stats.streams, stats.segments, options.data_dir);
  if (Status closed = views->close(); !closed.is_ok()) return fail(closed);
  if (Status closed = (*snapshots)->close(); !closed.is_ok()) return fail(closed);
  if (Status closed = store->close(); !closed.is_ok()) return fail(closed);
  return EXIT_SUCCESS;
}
