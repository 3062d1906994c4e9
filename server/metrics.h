// Server metrics in the Prometheus text format (version 0.0.4). Counters and
// histograms are lock-free atomics updated on hot paths; gauges read from the store
// and the projections are pulled when /metrics is scraped.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "orderlog/event_store.h"

namespace orderlog::server {

// A histogram with fixed upper bounds (ascending) and a +Inf bucket.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  // Appends the _bucket, _sum and _count lines of metric `name` with `labels`
  // (e.g. `op="Append"`, or empty).
  void render(const std::string& name, const std::string& labels, std::string* out) const;
  // Observations so far (the sum of every bucket).
  uint64_t count() const;

 private:
  std::vector<double> bounds_;
  // Per bucket, not cumulative: observe() touches one counter; render() sums them,
  // so _count always equals the +Inf bucket even while observations race a scrape.
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1
  std::atomic<double> sum_{0};
};

struct ProjectionLag {
  std::string name;
  uint64_t checkpoint = 0;
  uint64_t lag = 0;
  bool failed = false;
};

class Metrics {
 public:
  Metrics();

  // The store's commit observer (writer thread): appends, events, bytes, fsync
  // latency and batch size.
  void on_commit(const CommitInfo& info);
  // A request of wire Body type `body_type` was answered after `duration_ns`.
  void on_request(uint8_t body_type, uint64_t duration_ns);
  // An Error response with wire ErrorCode `code` was sent.
  void on_error(uint16_t code);
  void on_connection_opened();
  void on_connection_closed();
  void on_connection_refused();  // over connections_max
  void add_inflight(int64_t delta);
  void add_subscriptions(int64_t delta);

  // Pulled at scrape time (set once, before serving).
  void set_store_source(std::function<StoreStats()> source);
  void set_projection_source(std::function<std::vector<ProjectionLag>()> source);

  // The whole exposition, "# HELP" and "# TYPE" lines included.
  std::string render() const;

 private:
  using Counter = std::atomic<uint64_t>;
  void render_server(std::string* out) const;
  void render_requests(std::string* out) const;
  void render_sources(std::string* out) const;

  Counter appends_{0};
  Counter events_appended_{0};
  Counter log_bytes_written_{0};
  Counter commits_{0};
  Histogram fsync_seconds_;
  Histogram commit_batch_events_;
  // Indexed by wire Body / ErrorCode value; the last slot counts unknown values.
  size_t op_slots_;
  std::unique_ptr<Counter[]> requests_;
  std::vector<std::unique_ptr<Histogram>> request_seconds_;
  size_t error_slots_;
  std::unique_ptr<Counter[]> errors_;
  std::atomic<int64_t> connections_{0};
  std::atomic<int64_t> inflight_requests_{0};
  std::atomic<int64_t> subscriptions_{0};
  Counter connections_refused_{0};

  mutable std::mutex sources_mutex_;  // guards the two sources
  std::function<StoreStats()> store_source_;
  std::function<std::vector<ProjectionLag>()> projection_source_;
};

}  // namespace orderlog::server
