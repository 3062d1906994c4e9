// Queries against the server's read models (projections), plus stats and ping.
// Read models are updated asynchronously: pass the last_position of your own write
// as `consistency.min_position` to read it back (read-your-writes).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "orderlog/client/orders.h"

namespace orderlog::client {

struct QueryConsistency {
  uint64_t min_position = 0;  // wait until the read model has applied this position
  uint32_t wait_ms = 1000;    // how long the server may wait for it (it caps this)
};

struct OrderSummary {
  std::string order_id;
  std::string customer_id;
  std::string currency;
  OrderStatus status = OrderStatus::None;
  std::vector<OrderLine> lines;
  int64_t total_minor = 0;
  uint64_t created_ns = 0;
  uint64_t confirmed_ns = 0;
  uint64_t shipped_ns = 0;
  uint64_t delivered_ns = 0;
  uint64_t cancelled_ns = 0;
  std::string cancel_reason;
  std::string carrier;
  std::string tracking_number;
  uint64_t version = 0;
  uint64_t last_position = 0;
};

struct OrderListEntry {
  std::string order_id;
  OrderStatus status = OrderStatus::None;
  uint64_t position = 0;
};
struct OrderPage {
  std::vector<OrderListEntry> orders;
  uint64_t next_cursor = 0;
  bool end = false;
};

enum class Period : uint8_t { Hour = 0, Day, Month };

struct RevenueBucket {
  uint64_t from_ns = 0;
  uint64_t to_ns = 0;
  int64_t confirmed_minor = 0;
  int64_t cancelled_minor = 0;
  int64_t delivered_minor = 0;
  uint64_t orders_created = 0;
  uint64_t orders_confirmed = 0;
  uint64_t orders_cancelled = 0;
  uint64_t orders_delivered = 0;
  bool saturated = false;  // a sum hit the int64 range and stopped
};
struct RevenuePage {
  std::vector<RevenueBucket> buckets;
  uint64_t next_from_ns = 0;
  bool end = false;
};

struct HistoryEntry {
  uint64_t position = 0;
  uint64_t version = 0;
  uint64_t timestamp_ns = 0;
  std::string event_type;
  OrderState state_after;
};

struct ProjectionProgress {
  std::string name;
  uint64_t checkpoint = 0;
  uint64_t head = 0;
  uint64_t lag = 0;
  std::string failure;  // empty while healthy
};

// ---------------------------------------------------------------- query requests

struct OrderSummaryQuery {
  using Response = OrderSummary;
  std::string order_id;
  QueryConsistency consistency;
};
struct CustomerOrdersQuery {
  using Response = OrderPage;
  std::string customer_id;
  OrderStatus status = OrderStatus::None;  // None: every status
  uint64_t cursor = 0;
  uint32_t limit = 100;
  QueryConsistency consistency;
};
struct OrdersByStatusQuery {
  using Response = OrderPage;
  OrderStatus status = OrderStatus::Pending;
  uint64_t cursor = 0;
  uint32_t limit = 100;
  QueryConsistency consistency;
};
struct StatusCountQuery {
  using Response = uint64_t;
  OrderStatus status = OrderStatus::Pending;
  QueryConsistency consistency;
};
struct RevenueQuery {
  using Response = RevenuePage;
  Period period = Period::Day;
  std::string currency;
  uint64_t from_ns = 0;
  uint64_t to_ns = 0;
  uint32_t limit = 100;
  QueryConsistency consistency;
};
struct CurrenciesQuery {
  using Response = std::vector<std::string>;
  QueryConsistency consistency;
};
struct OrderHistoryQuery {
  using Response = std::vector<HistoryEntry>;
  std::string order_id;
  QueryConsistency consistency;
};
struct ProjectionsQuery {
  using Response = std::vector<ProjectionProgress>;
};

// ---------------------------------------------------------------- server state

struct Stats {
  uint64_t committed_position = 0;
  uint64_t segments = 0;
  uint64_t streams = 0;
  uint64_t appends = 0;
  uint64_t events_appended = 0;
  uint64_t batches = 0;
  uint64_t syncs = 0;
  uint64_t bytes_written = 0;
  uint32_t connections = 0;
  std::string writer_error;  // empty while the writer is healthy
  std::vector<ProjectionProgress> projections;
};
struct StatsRequest {
  using Response = Stats;
};

struct Pong {
  uint64_t payload = 0;
  uint64_t server_time_ns = 0;
};
struct PingRequest {
  using Response = Pong;
  uint64_t payload = 0;
};

// What the server said in the handshake.
struct ServerInfo {
  uint32_t protocol_version = 0;
  std::string server_version;
  std::string tenant;
  uint32_t frame_bytes_max = 0;
  uint32_t inflight_requests_max = 0;
  uint32_t events_per_append_max = 0;
  uint32_t read_count_max = 0;
};

}  // namespace orderlog::client
