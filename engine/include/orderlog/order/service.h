// OrderService: the command side of orders. execute() loads the aggregate (cache,
// else latest snapshot + the events after it), decides, and appends the events with
// expected version = the loaded version; on a concurrent write it reloads and decides
// again (bounded). A command id makes retries idempotent: a command re-sent with the
// same id appends nothing and returns the original outcome. Also the temporal side:
// an order as of a version or a time, and a replay trace. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "orderlog/event_store.h"
#include "orderlog/order/codec.h"
#include "orderlog/order/domain.h"
#include "orderlog/snapshot_store.h"

namespace orderlog::order {

// "order-<order_id>": the stream holding one order's events.
std::string order_stream_id(std::string_view order_id);

struct CommandContext {
  EventId command_id;      // required: a retry with the same id returns the original outcome
  EventId correlation_id;  // nil: the command id (the command starts the conversation)
  EventId causation_id;    // nil: the command id (the command caused its events)
  std::string tenant;      // recorded on every event (tag "tenant"), at most 64 bytes
};

struct CommandResult {
  OrderState state;           // after the command (for a duplicate: as it is now)
  std::vector<Event> events;  // what the command appended (empty for a duplicate)
  GlobalPosition first_position;  // of the command's events (for a duplicate: the original ones)
  GlobalPosition last_position;
  bool duplicate = false;  // the command id was already executed: nothing appended
};

// A domain refusal is an outcome, not a failure: Result's Status is for the
// infrastructure (I/O, read-only store, too many conflicts).
using CommandOutcome = std::variant<CommandResult, DomainError>;

// Runs a function soon on some thread of the caller's choosing (a pool, an io loop).
using Executor = std::function<void(std::function<void()>)>;
using CommandCallback = std::function<void(Result<CommandOutcome>)>;

struct OrderServiceOptions {
  int conflict_retries_max = 8;     // retries after a conflicting write; then kBusy "gave up after N conflicting writes"
  size_t cache_orders_max = 10'000;  // recently used aggregates kept in memory
  SnapshotStore* snapshots = nullptr;  // not owned; nullptr: no snapshots
  uint64_t snapshot_every_events = 50;  // 0: never
  std::string legacy_currency = "EUR";  // for ItemAdded v1 (see codec.h)
  size_t recent_commands_max = 32;      // command ids remembered per order
  LogSink log;                          // nullptr: stderr
};

struct HistoryEntry {
  GlobalPosition position;
  StreamVersion version;
  uint64_t timestamp_ns = 0;
  Event event;
  OrderState state_after;
};

struct OrderServiceStats {
  uint64_t commands = 0;
  uint64_t duplicates = 0;
  uint64_t refused = 0;    // domain errors
  uint64_t conflicts = 0;  // retries after a concurrent write
  uint64_t cache_hits = 0;
  uint64_t snapshot_loads = 0;
  uint64_t snapshots_saved = 0;
  uint64_t snapshots_skipped = 0;  // unreadable snapshots ignored
};

class OrderService {
 public:
  OrderService(EventStore& store, OrderServiceOptions options);
  ~OrderService();
  OrderService(const OrderService&) = delete;
  OrderService& operator=(const OrderService&) = delete;

  // kInvalidArgument for a nil command id or a bad tenant; store errors pass through.
  Result<CommandOutcome> execute(const Command& command, const CommandContext& context);
  // execute() without waiting for the fsync on any thread: the load and the decision
  // run on the calling thread, the append is queued with EventStore::append_async, and
  // the call returns. `done` runs exactly once: on the calling thread when nothing is
  // appended (a refusal, a duplicate, an error before the append), on the store's
  // writer thread once the append is durable (so `done` must not block), or on
  // `executor`, which also runs the retry after a concurrent write (back-off, load,
  // decide, append). A full store queue is kBusy.
  void execute_async(Command command, CommandContext context, Executor executor, CommandCallback done);

  // The order as it is now (status kNone: no such order).
  Result<OrderState> load(std::string_view order_id);
  // Replays the first `version` events (all of them if the order has fewer).
  Result<OrderState> state_at_version(std::string_view order_id, uint64_t version);
  // Replays the events committed at or before `timestamp_ns`.
  Result<OrderState> state_at_time(std::string_view order_id, uint64_t timestamp_ns);
  // Every event of the order, upcast, with the state after it: a replay trace.
  // kTooLarge, before replaying anything, when the order has more than `events_max`
  // events (each entry holds a whole order state).
  Result<std::vector<HistoryEntry>> history(std::string_view order_id, uint64_t events_max = UINT64_MAX);

  OrderServiceStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderlog::order
