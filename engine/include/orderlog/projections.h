// Projections: the read side of the order system (CQRS). Each projection folds the
// order events of the global log into one read model that answers queries without
// reading the log: order summaries, a customer's orders, orders by status, and
// revenue per hour, day and month.
//
// Each projection runs on its own thread from its own checkpoint (the last log
// position it has applied), reading the log in batches and waiting for new commits
// when caught up. It persists its state and checkpoint together, atomically, in one
// file under DATA_DIR/projections/ (docs/format.md), every N events, every T ms and
// at close. Events at or below the checkpoint change nothing, so a restart or a
// repeated delivery never counts twice. The state is derived data: a missing,
// corrupt or unknown-version file is logged and rebuilt by replaying the log.
//
// Reads are eventually consistent. A query that must see a write passes the
// write's position as `min_position`; it waits (bounded) until the projection has
// applied it, and fails with kTimedOut otherwise.
//
// Thread-safety: every method may be called from any thread concurrently.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "orderlog/env.h"
#include "orderlog/event_store.h"
#include "orderlog/order/domain.h"
#include "orderlog/status.h"
#include "orderlog/types.h"

namespace orderlog::projections {

// Every page a query returns holds at most this many entries, so a query's memory
// is bounded whatever the size of the read model.
inline constexpr size_t kPageEntriesMax = 1000;

struct ProjectionOptions {
  // The log to follow. Required; must stay open until the projection is closed.
  EventStore* store = nullptr;
  std::string data_dir;  // projection files go to data_dir + "/projections"
  Env* env = nullptr;    // nullptr: default_env()
  size_t batch_events_max = 1024;  // events per read of the log, 1..65,536
  // The state is saved when this many (>= 1) order events were applied since the last
  // save (what a restart would replay; other events are skipped unread and count for
  // nothing), or when `save_interval` has passed with unsaved positions, and at close.
  uint64_t save_every_events = 10'000;
  std::chrono::milliseconds save_interval{1000};
  // Either way a save waits until the runner has spent this many times the previous
  // save's duration since that one began, counting its reading and applying and the
  // waits that found the log quiet (not waits that a commit ended): a save encodes the
  // whole state, so a large state is saved less often (at most ~1/N of the runner's
  // work) rather than taking over the runner. 0: no spacing.
  uint32_t save_spacing = 20;
  // How long the runner waits for a new commit before looking at its stop flag and
  // its save timer again; bounds the latency of close().
  std::chrono::milliseconds idle_wait{50};
  // Once several commits in a row held no order events, the runner stops waking for
  // each commit and looks at the log every `doze_interval` instead, or at once when a
  // query waits for a position: a log busy with other events would otherwise wake
  // every projection for nothing on every commit. The model then trails such a log
  // by up to this much, never a query with min_position. 0: wake for every commit.
  std::chrono::milliseconds doze_interval{5};
  // Upper bound on any query's wait for `min_position`, whatever the caller asks.
  std::chrono::milliseconds query_wait_max{30'000};
  // The currency of orders written before item events carried one.
  std::string legacy_currency = "EUR";
  LogSink log;  // nullptr: lines go to stderr
};

// What a query requires of the projection's progress.
struct ReadConsistency {
  // Wait until the projection has applied this log position (0: answer at once).
  GlobalPosition min_position;
  std::chrono::milliseconds timeout{1000};
};

struct ProjectionProgress {
  GlobalPosition checkpoint;        // last log position applied
  GlobalPosition head;              // the log's committed position when asked
  uint64_t lag = 0;                 // head - checkpoint, in log positions
  GlobalPosition saved_checkpoint;  // the checkpoint in the projection file
  uint64_t order_events_applied = 0;   // since open or rebuild
  uint64_t other_events_ignored = 0;   // events that are not order events
  uint64_t saves = 0;
  uint64_t saves_failed = 0;  // logged; the next save tries again
  // The file was missing, corrupt, of an unknown version or not of this log at open,
  // so the projection started from position 0.
  bool rebuilt_at_open = false;
  // ok() while the runner is healthy. Otherwise why it stopped (an order event that
  // does not decode, a failed log read); queries still answer from the state it reached.
  Status failure;
};

// What every projection offers besides its queries.
class Projection {
 public:
  virtual ~Projection() = default;

  // "order_summary", "customer_orders", "orders_by_status" or "revenue"; also the
  // name of its file.
  virtual std::string_view name() const = 0;
  virtual ProjectionProgress progress() const = 0;
  // Waits until the checkpoint is >= `position`. kTimedOut after `timeout` (capped
  // by query_wait_max), the runner's failure if it stopped, kClosed after close().
  virtual Status wait_for(GlobalPosition position, std::chrono::milliseconds timeout) const = 0;
  // Persists state and checkpoint now. Errors: kIoError, kNoSpace.
  virtual Status save() = 0;
  // Drops the state, persists checkpoint 0 and replays the log from the start; returns
  // once the replay has started (wait_for() the head to see it finish). Clears a failure.
  virtual Status rebuild() = 0;
  // Stops the runner and saves. Idempotent; the destructor calls it. Queries keep
  // answering from memory afterwards, but cannot wait for positions.
  virtual Status close() = 0;
};

// ---- Order summary: one row per order ----
struct OrderSummary {
  std::string order_id;
  std::string customer_id;
  std::string currency;
  order::OrderStatus status = order::OrderStatus::kNone;
  std::vector<order::OrderLine> lines;
  int64_t total_minor = 0;
  // Commit times (ns since the Unix epoch) of each step; 0 until it happens.
  uint64_t created_ns = 0;
  uint64_t confirmed_ns = 0;
  uint64_t shipped_ns = 0;
  uint64_t delivered_ns = 0;
  uint64_t cancelled_ns = 0;
  std::string cancel_reason;
  std::string carrier;
  std::string tracking_number;
  StreamVersion version;        // of stream "order-<id>" after its last event
  GlobalPosition last_position;  // of its last event
  friend bool operator==(const OrderSummary&, const OrderSummary&) = default;
};

class OrderSummaryProjection : public Projection {
 public:
  // Loads the projection file (or starts from position 0) and starts the runner.
  // Errors: kInvalidArgument for bad options; kIoError when the directory is unusable.
  static Result<std::unique_ptr<OrderSummaryProjection>> open(const ProjectionOptions& options);

  // kNotFound when the projection knows no such order.
  virtual Result<OrderSummary> find(std::string_view order_id, const ReadConsistency& consistency) const = 0;
  virtual uint64_t order_count() const = 0;
};

// ---- Order lists (a customer's orders, orders in a status) ----
struct OrderListEntry {
  std::string order_id;
  order::OrderStatus status = order::OrderStatus::kNone;
  // The paging key: the position of the OrderCreated event for a customer's orders,
  // of the event that put the order in its status for orders by status.
  GlobalPosition position;
  friend bool operator==(const OrderListEntry&, const OrderListEntry&) = default;
};

// One page, ordered by `position`. Pass `next_cursor` as the next query's cursor.
// An order that changes status between two pages may be missed or seen twice by a
// status-filtered walk; each page itself is consistent.
struct OrderPage {
  std::vector<OrderListEntry> orders;
  uint64_t next_cursor = 0;
  bool end = false;  // no entry past this page right now
};

struct CustomerOrdersQuery {
  std::string customer_id;
  std::optional<order::OrderStatus> status;  // nullopt: every status
  uint64_t cursor = 0;                       // entries with position > cursor
  size_t limit = 100;                        // 1..kPageEntriesMax
  ReadConsistency consistency;
};

class CustomerOrdersProjection : public Projection {
 public:
  static Result<std::unique_ptr<CustomerOrdersProjection>> open(const ProjectionOptions& options);

  // A customer's orders, oldest first. An unknown customer has an empty last page.
  // kInvalidArgument for a limit outside 1..kPageEntriesMax.
  virtual Result<OrderPage> orders_of(const CustomerOrdersQuery& query) const = 0;
};

struct OrdersByStatusQuery {
  order::OrderStatus status = order::OrderStatus::kPending;
  uint64_t cursor = 0;  // entries with position > cursor
  size_t limit = 100;   // 1..kPageEntriesMax
  ReadConsistency consistency;
};

class OrdersByStatusProjection : public Projection {
 public:
  static Result<std::unique_ptr<OrdersByStatusProjection>> open(const ProjectionOptions& options);

  // Orders now in `status`, in the order they entered it.
  virtual Result<OrderPage> orders_in(const OrdersByStatusQuery& query) const = 0;
  virtual Result<uint64_t> count_in(order::OrderStatus status, const ReadConsistency& consistency) const = 0;
};

// ---- Revenue by period ----
enum class Period : uint8_t { kHour, kDay, kMonth };

// The UTC hour, day or calendar month holding `timestamp_ns`.
TimeRange period_of(Period period, uint64_t timestamp_ns);

// Everything that happened to orders of one currency in one period, by commit time.
struct RevenueTotals {
  int64_t confirmed_minor = 0;  // sum of OrderConfirmed totals
  int64_t cancelled_minor = 0;  // sum of OrderCancelled totals
  int64_t delivered_minor = 0;  // sum of OrderDelivered totals
  uint64_t orders_created = 0;
  uint64_t orders_confirmed = 0;
  uint64_t orders_cancelled = 0;
  uint64_t orders_delivered = 0;
  // A sum reached the int64 limit and stays there.
  bool saturated = false;
  friend bool operator==(const RevenueTotals&, const RevenueTotals&) = default;
};

struct RevenueBucket {
  TimeRange period;
  RevenueTotals totals;
};

struct RevenueQuery {
  Period period = Period::kDay;
  std::string currency;  // e.g. "EUR"
  TimeRange range;       // buckets whose start is in [from_ns, to_ns)
  size_t limit = 100;    // 1..kPageEntriesMax
  ReadConsistency consistency;
};

// Buckets with activity only, oldest first. Continue with range.from_ns = next_from_ns.
struct RevenuePage {
  std::vector<RevenueBucket> buckets;
  uint64_t next_from_ns = 0;
  bool end = false;
};

class RevenueProjection : public Projection {
 public:
  static Result<std::unique_ptr<RevenueProjection>> open(const ProjectionOptions& options);

  virtual Result<RevenuePage> revenue(const RevenueQuery& query) const = 0;
  // The currencies seen so far, sorted; at most kPageEntriesMax.
  virtual Result<std::vector<std::string>> currencies(const ReadConsistency& consistency) const = 0;
};

// The four read models over one log, opened and closed together.
struct ProjectionSet {
  std::unique_ptr<OrderSummaryProjection> summaries;
  std::unique_ptr<CustomerOrdersProjection> customer_orders;
  std::unique_ptr<OrdersByStatusProjection> orders_by_status;
  std::unique_ptr<RevenueProjection> revenue;

  static Result<ProjectionSet> open(const ProjectionOptions& options);
  // Closes every projection, all four at once (each waits for its runner to stop and
  // saves); the first error in the order above, if any.
  Status close();
};

}  // namespace orderlog::projections
