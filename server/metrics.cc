// Prometheus exposition (text format 0.0.4) of the server's metrics. Every label
// value comes from a fixed set — the wire Body and ErrorCode enums, plus "unknown" —
// or from the store's own projection names, so a misbehaving client cannot create
// series. Hot-path updates are relaxed atomic increments: the counters are
// independent and a scrape needs no ordering between them.
#include "server/metrics.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "orderlog/check.h"
#include "orderlog/fb/protocol_generated.h"

namespace orderlog::server {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;
constexpr size_t kBodyMax = static_cast<size_t>(wire::Body::MAX);
constexpr size_t kErrorCodeMax = static_cast<size_t>(wire::ErrorCode::MAX);

// Write + fdatasync of one group commit: 25 µs (NVMe with a write cache) to 100 ms
// (a struggling disk).
std::vector<double> fsync_bounds() {
  return {25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3};
}

// Events per group commit: powers of 4 from a lone append to a full batch.
std::vector<double> batch_bounds() { return {1, 4, 16, 64, 256, 1024, 4096, 16384, 65536}; }

// Request latency from 50 µs (a cached read) to 10 s (a long-polling read).
std::vector<double> request_bounds() {
  return {50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

// Label values are escaped as the format requires: backslash, quote, newline.
std::string escape_label(std::string_view value) {
  std::string escaped;
  for (const char ch : value) {
    if (ch == '\\') escaped += "\\\\";
    else if (ch == '"') escaped += "\\\"";
    else if (ch == '\n') escaped += "\\n";
    else escaped += ch;
  }
  return escaped;
}

std::string label(std::string_view name, std::string_view value) {
  return fmt::format("{}=\"{}\"", name, escape_label(value));
}

void family(std::string* out, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(*out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

template <typename T>
void sample(std::string* out, std::string_view name, std::string_view labels, T value) {
  if (labels.empty()) {
    fmt::format_to(std::back_inserter(*out), "{} {}\n", name, value);
  } else {
    fmt::format_to(std::back_inserter(*out), "{}{{{}}} {}\n", name, labels, value);
  }
}

// A metric with no labels: family header and its one sample.
template <typename T>
void single(std::string* out, std::string_view name, std::string_view type, std::string_view help, T value) {
  family(out, name, type, help);
  sample(out, name, "", value);
}

std::string op_name(size_t slot) { return slot <= kBodyMax ? wire::EnumNamesBody()[slot] : "unknown"; }

std::string code_name(size_t slot) {
  return slot <= kErrorCodeMax ? wire::EnumNameErrorCode(static_cast<wire::ErrorCode>(slot)) : "unknown";
}

}  // namespace

// ---------------------------------------------------------------- Histogram

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  OL_CHECK(std::is_sorted(bounds_.begin(), bounds_.end()));
  OL_CHECK(std::adjacent_find(bounds_.begin(), bounds_.end()) == bounds_.end());
}

// Prometheus buckets are "less than or equal": a value on a bound counts in it.
void Histogram::observe(double value) {
  const size_t bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  counts_[bucket].fetch_add(1, kRelaxed);
  sum_.fetch_add(value, kRelaxed);
}

uint64_t Histogram::count() const {
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) total += counts_[i].load(kRelaxed);
  return total;
}

void Histogram::render(const std::string& name, const std::string& labels, std::string* out) const {
  const std::string prefix = labels.empty() ? "" : labels + ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i].load(kRelaxed);
    const std::string le = i < bounds_.size() ? format_value(bounds_[i]) : "+Inf";
    sample(out, name + "_bucket", prefix + label("le", le), cumulative);
  }
  sample(out, name + "_sum", labels, format_value(sum_.load(kRelaxed)));
  sample(out, name + "_count", labels, cumulative);
}

// ---------------------------------------------------------------- Metrics

Metrics::Metrics()
    : fsync_seconds_(fsync_bounds()),
      commit_batch_events_(batch_bounds()),
      op_slots_(kBodyMax + 2),
      requests_(std::make_unique<Counter[]>(op_slots_)),
      error_slots_(kErrorCodeMax + 2),
      errors_(std::make_unique<Counter[]>(error_slots_)) {
  request_seconds_.reserve(op_slots_);
  for (size_t i = 0; i < op_slots_; ++i) request_seconds_.push_back(std::make_unique<Histogram>(request_bounds()));
}

void Metrics::on_commit(const CommitInfo& info) {
  appends_.fetch_add(info.appends, kRelaxed);
  events_appended_.fetch_add(info.events, kRelaxed);
  log_bytes_written_.fetch_add(info.bytes, kRelaxed);
  commits_.fetch_add(1, kRelaxed);
  fsync_seconds_.observe(static_cast<double>(info.write_sync_ns) / 1e9);
  commit_batch_events_.observe(static_cast<double>(info.events));
}

// Slot 0 (NONE) is never counted: it and values past the enum go to "unknown".
void Metrics::on_request(uint8_t body_type, uint64_t duration_ns) {
  const size_t slot = body_type >= 1 && body_type <= kBodyMax ? body_type : op_slots_ - 1;
  requests_[slot].fetch_add(1, kRelaxed);
  request_seconds_[slot]->observe(static_cast<double>(duration_ns) / 1e9);
}

void Metrics::on_error(uint16_t code) {
  const size_t slot = code >= 1 && code <= kErrorCodeMax ? code : error_slots_ - 1;
  errors_[slot].fetch_add(1, kRelaxed);
}

void Metrics::on_connection_opened() { connections_.fetch_add(1, kRelaxed); }
void Metrics::on_connection_closed() { connections_.fetch_sub(1, kRelaxed); }
void Metrics::on_connection_refused() { connections_refused_.fetch_add(1, kRelaxed); }
void Metrics::add_inflight(int64_t delta) { inflight_requests_.fetch_add(delta, kRelaxed); }
void Metrics::add_subscriptions(int64_t delta) { subscriptions_.fetch_add(delta, kRelaxed); }

void Metrics::set_store_source(std::function<StoreStats()> source) {
  std::lock_guard lock(sources_mutex_);
  store_source_ = std::move(source);
}

void Metrics::set_projection_source(std::function<std::vector<ProjectionLag>()> source) {
  std::lock_guard lock(sources_mutex_);
  projection_source_ = std::move(source);
}

std::string Metrics::render() const {
  std::string out;
  out.reserve(16 * 1024);
  render_server(&out);
  render_requests(&out);
  render_sources(&out);
  return out;
}

void Metrics::render_server(std::string* out) const {
  single(out, "orderlog_appends_total", "counter", "Append requests made durable.", appends_.load(kRelaxed));
  single(out, "orderlog_events_appended_total", "counter", "Events made durable.", events_appended_.load(kRelaxed));
  single(out, "orderlog_log_bytes_written_total", "counter", "Log bytes written by group commits.",
         log_bytes_written_.load(kRelaxed));
  single(out, "orderlog_commits_total", "counter", "Group commits.", commits_.load(kRelaxed));
  family(out, "orderlog_fsync_seconds", "histogram", "Write plus fdatasync time of one group commit.");
  fsync_seconds_.render("orderlog_fsync_seconds", "", out);
  family(out, "orderlog_commit_batch_events", "histogram", "Events per group commit.");
  commit_batch_events_.render("orderlog_commit_batch_events", "", out);
  single(out, "orderlog_connections", "gauge", "Open client connections.", connections_.load(kRelaxed));
  single(out, "orderlog_connections_refused_total", "counter", "Connections refused over connections_max.",
         connections_refused_.load(kRelaxed));
  single(out, "orderlog_inflight_requests", "gauge", "Requests read but not yet answered.",
         inflight_requests_.load(kRelaxed));
  single(out, "orderlog_subscriptions", "gauge", "Open subscriptions.", subscriptions_.load(kRelaxed));
}

// Counters for every known op and code (so rates start from zero); latency
// histograms only for ops seen at least once, which keeps a scrape small.
void Metrics::render_requests(std::string* out) const {
  family(out, "orderlog_requests_total", "counter", "Requests answered, by wire message type.");
  for (size_t slot = 1; slot < op_slots_; ++slot) {
    sample(out, "orderlog_requests_total", label("op", op_name(slot)), requests_[slot].load(kRelaxed));
  }
  family(out, "orderlog_request_seconds", "histogram", "Time from reading a request to answering it.");
  for (size_t slot = 1; slot < op_slots_; ++slot) {
    if (request_seconds_[slot]->count() == 0) continue;
    request_seconds_[slot]->render("orderlog_request_seconds", label("op", op_name(slot)), out);
  }
  family(out, "orderlog_errors_total", "counter", "Error responses sent, by wire error code.");
  for (size_t slot = 1; slot < error_slots_; ++slot) {
    sample(out, "orderlog_errors_total", label("code", code_name(slot)), errors_[slot].load(kRelaxed));
  }
}

void Metrics::render_sources(std::string* out) const {
  std::lock_guard lock(sources_mutex_);
  if (store_source_) {
    const StoreStats stats = store_source_();
    single(out, "orderlog_committed_position", "gauge", "Last durable global position.",
           stats.committed_position.value);
    single(out, "orderlog_segments", "gauge", "Log segment files.", stats.segments);
    single(out, "orderlog_streams", "gauge", "Streams with at least one event.", stats.streams);
    single(out, "orderlog_log_syncs_total", "counter", "fdatasync calls on the log.", stats.syncs);
    single(out, "orderlog_appends_deduplicated_total", "counter",
           "Retried appends answered from the idempotency window (nothing written).", stats.appends_deduplicated);
    single(out, "orderlog_log_bytes_dropped_from_cache_total", "counter",
           "Log bytes dropped from the page cache behind the page-cache window.", stats.bytes_dropped_from_cache);
  }
  if (!projection_source_) return;
  const std::vector<ProjectionLag> projections = projection_source_();
  const auto each = [&](std::string_view name, std::string_view type, std::string_view help, auto value_of) {
    family(out, name, type, help);
    for (const ProjectionLag& projection : projections) {
      sample(out, name, label("projection", projection.name), value_of(projection));
    }
  };
  each("orderlog_projection_checkpoint", "gauge", "Global position the projection has applied up to.",
       [](const ProjectionLag& p) { return p.checkpoint; });
  each("orderlog_projection_lag", "gauge", "Events committed but not yet applied by the projection.",
       [](const ProjectionLag& p) { return p.lag; });
  each("orderlog_projection_failed", "gauge", "1 when the projection stopped on an error.",
       [](const ProjectionLag& p) { return p.failed ? 1 : 0; });
}

}  // namespace orderlog::server
