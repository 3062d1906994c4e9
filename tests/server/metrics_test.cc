// Metrics (server/metrics.cc): every line of the exposition parses as the Prometheus
// text format, histograms are cumulative with _count equal to the observations,
// labels come only from the wire enums (unknown values map to "unknown"), and the
// store and projection gauges are pulled at render time.
#include "server/metrics.h"

#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "orderlog/fb/protocol_generated.h"

namespace orderlog::server {
namespace {

struct Sample {
  std::string name;
  std::string labels;  // inside the braces, as written
  double value = 0;
};

bool is_name_char(char ch, bool first, bool colon_ok) {
  const bool letter = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || (colon_ok && ch == ':');
  return letter || (!first && ch >= '0' && ch <= '9');
}

// Consumes a metric (colon_ok) or label name from the front of `text`; "" if none.
std::string_view take_name(std::string_view* text, bool colon_ok) {
  size_t length = 0;
  while (length < text->size() && is_name_char((*text)[length], length == 0, colon_ok)) ++length;
  const std::string_view name = text->substr(0, length);
  text->remove_prefix(length);
  return name;
}

// `name="value"` pairs separated by commas, values escaped as \\, \" and \n.
bool is_label_list(std::string_view text) {
  while (true) {
    if (take_name(&text, false).empty() || !text.starts_with("=\"")) return false;
    text.remove_prefix(2);
    while (!text.empty() && text.front() != '"') {
      if (text.front() == '\n') return false;
      if (text.front() == '\\') {
        if (text.size() < 2 || std::string_view("\\\"n").find(text[1]) == std::string_view::npos) return false;
        text.remove_prefix(1);
      }
      text.remove_prefix(1);
    }
    if (text.empty()) return false;
    text.remove_prefix(1);  // closing quote
    if (text.empty()) return true;
    if (text.front() != ',') return false;
    text.remove_prefix(1);
  }
}

// `name{labels} value` or `name value`.
std::optional<Sample> parse_sample(std::string_view line) {
  Sample sample;
  sample.name = take_name(&line, true);
  if (sample.name.empty()) return std::nullopt;
  if (line.starts_with("{")) {
    const size_t close = line.rfind("} ");
    if (close == std::string_view::npos || !is_label_list(line.substr(1, close - 1))) return std::nullopt;
    sample.labels = line.substr(1, close - 1);
    line.remove_prefix(close + 1);
  }
  if (!line.starts_with(" ") || line.size() < 2 || line.find(' ', 1) != std::string_view::npos) return std::nullopt;
  const std::string value(line.substr(1));
  if (value == "+Inf") {
    sample.value = INFINITY;
  } else {
    size_t used = 0;
    sample.value = std::stod(value, &used);
    if (used != value.size()) return std::nullopt;
  }
  return sample;
}

// The family a sample belongs to: histograms' samples carry a suffix.
std::string family_of(const std::string& name, const std::set<std::string>& families) {
  if (families.contains(name)) return name;
  for (const std::string_view suffix : {"_bucket", "_sum", "_count"}) {
    if (name.ends_with(suffix)) return name.substr(0, name.size() - suffix.size());
  }
  return name;
}

// Parses every sample line, failing the test on any line that does not parse, and
// checks each sample's family was declared by a TYPE line before it.
std::vector<Sample> parse_exposition(const std::string& text) {
  std::vector<Sample> samples;
  std::set<std::string> families;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with("# TYPE ")) {
      std::string_view rest = std::string_view(line).substr(7);
      const std::string name(take_name(&rest, true));
      EXPECT_TRUE(rest == " counter" || rest == " gauge" || rest == " histogram") << line;
      families.insert(name);
    }
    if (line.starts_with("#")) continue;
    const std::optional<Sample> sample = parse_sample(line);
    EXPECT_TRUE(sample.has_value()) << "malformed: " << line;
    if (!sample) continue;
    EXPECT_TRUE(families.contains(family_of(sample->name, families))) << "no TYPE before " << line;
    samples.push_back(*sample);
  }
  EXPECT_TRUE(text.ends_with("\n"));
  return samples;
}

// "name{labels}" -> value.
std::map<std::string, double> sample_map(const std::string& text) {
  std::map<std::string, double> values;
  for (const Sample& sample : parse_exposition(text)) {
    const std::string key = sample.labels.empty() ? sample.name : sample.name + "{" + sample.labels + "}";
    EXPECT_FALSE(values.contains(key)) << "duplicate " << key;
    values[key] = sample.value;
  }
  return values;
}

uint8_t op(wire::Body body) { return static_cast<uint8_t>(body); }
uint16_t code(wire::ErrorCode error) { return static_cast<uint16_t>(error); }

// ---------------------------------------------------------------- Histogram

TEST(Histogram, BucketsAreCumulativeAndCountEqualsObservations) {
  Histogram histogram({1, 2, 5});
  for (const double value : {0.5, 1.5, 1.7, 3.0, 4.0, 4.5, 100.0}) histogram.observe(value);
  std::string out = "# TYPE h histogram\n";
  histogram.render("h", "", &out);
  const std::map<std::string, double> values = sample_map(out);
  EXPECT_EQ(values.at(R"(h_bucket{le="1"})"), 1);
  EXPECT_EQ(values.at(R"(h_bucket{le="2"})"), 3);
  EXPECT_EQ(values.at(R"(h_bucket{le="5"})"), 6);
  EXPECT_EQ(values.at(R"(h_bucket{le="+Inf"})"), 7);
  EXPECT_EQ(values.at("h_count"), 7);
  EXPECT_DOUBLE_EQ(values.at("h_sum"), 115.2);
  EXPECT_EQ(histogram.count(), 7u);
}

TEST(Histogram, AValueOnABoundCountsInThatBucket) {
  Histogram histogram({1, 2});
  histogram.observe(1);
  histogram.observe(2);
  std::string out = "# TYPE h histogram\n";
  histogram.render("h", R"(op="Ping")", &out);
  const std::map<std::string, double> values = sample_map(out);
  EXPECT_EQ(values.at(R"(h_bucket{op="Ping",le="1"})"), 1);
  EXPECT_EQ(values.at(R"(h_bucket{op="Ping",le="2"})"), 2);
  EXPECT_EQ(values.at(R"(h_count{op="Ping"})"), 2);
}

TEST(Histogram, EmptyHistogramRendersZeros) {
  Histogram histogram({0.001});
  std::string out = "# TYPE h histogram\n";
  histogram.render("h", "", &out);
  const std::map<std::string, double> values = sample_map(out);
  EXPECT_EQ(values.at(R"(h_bucket{le="0.001"})"), 0);
  EXPECT_EQ(values.at("h_count"), 0);
  EXPECT_EQ(values.at("h_sum"), 0);
}

// ---------------------------------------------------------------- Metrics

TEST(Metrics, FreshMetricsRenderWellFormedZeros) {
  const Metrics metrics;
  const std::map<std::string, double> values = sample_map(metrics.render());
  EXPECT_EQ(values.at("orderlog_appends_total"), 0);
  EXPECT_EQ(values.at("orderlog_fsync_seconds_count"), 0);
  EXPECT_EQ(values.at(R"(orderlog_requests_total{op="Append"})"), 0);
  EXPECT_EQ(values.at(R"(orderlog_requests_total{op="unknown"})"), 0);
  EXPECT_EQ(values.at(R"(orderlog_errors_total{code="Busy"})"), 0);
  EXPECT_FALSE(values.contains(R"(orderlog_requests_total{op="NONE"})"));
  EXPECT_FALSE(values.contains("orderlog_committed_position"));  // no store source
}

TEST(Metrics, CommitsFeedCountersAndHistograms) {
  Metrics metrics;
  metrics.on_commit(CommitInfo{.appends = 3, .events = 10, .bytes = 4096, .write_sync_ns = 200'000});
  metrics.on_commit(CommitInfo{.appends = 1, .events = 1, .bytes = 100, .write_sync_ns = 2'000'000'000});
  const std::map<std::string, double> values = sample_map(metrics.render());
  EXPECT_EQ(values.at("orderlog_appends_total"), 4);
  EXPECT_EQ(values.at("orderlog_events_appended_total"), 11);
  EXPECT_EQ(values.at("orderlog_log_bytes_written_total"), 4196);
  EXPECT_EQ(values.at("orderlog_commits_total"), 2);
  EXPECT_EQ(values.at(R"(orderlog_fsync_seconds_bucket{le="0.00025"})"), 1);
  EXPECT_EQ(values.at(R"(orderlog_fsync_seconds_bucket{le="0.1"})"), 1);
  EXPECT_EQ(values.at(R"(orderlog_fsync_seconds_bucket{le="+Inf"})"), 2);
  EXPECT_EQ(values.at("orderlog_fsync_seconds_count"), 2);
  EXPECT_DOUBLE_EQ(values.at("orderlog_fsync_seconds_sum"), 2.0002);
  EXPECT_EQ(values.at(R"(orderlog_commit_batch_events_bucket{le="1"})"), 1);
  EXPECT_EQ(values.at(R"(orderlog_commit_batch_events_bucket{le="16"})"), 2);
  EXPECT_EQ(values.at("orderlog_commit_batch_events_count"), 2);
}

TEST(Metrics, RequestsAreCountedByTheirWireName) {
  Metrics metrics;
  metrics.on_request(op(wire::Body::Append), 1'000'000);
  metrics.on_request(op(wire::Body::Append), 3'000'000);
  metrics.on_request(op(wire::Body::Ping), 10'000);
  const std::map<std::string, double> values = sample_map(metrics.render());
  EXPECT_EQ(values.at(R"(orderlog_requests_total{op="Append"})"), 2);
  EXPECT_EQ(values.at(R"(orderlog_requests_total{op="Ping"})"), 1);
  EXPECT_EQ(values.at(R"(orderlog_requests_total{op="ReadAll"})"), 0);
  EXPECT_EQ(values.at(R"(orderlog_request_seconds_count{op="Append"})"), 2);
  EXPECT_DOUBLE_EQ(values.at(R"(orderlog_request_seconds_sum{op="Append"})"), 0.004);
  EXPECT_EQ(values.at(R"(orderlog_request_seconds_bucket{op="Append",le="0.001"})"), 1);
  EXPECT_EQ(values.at(R"(orderlog_request_seconds_bucket{op="Ping",le="5e-05"})"), 1);
  EXPECT_FALSE(values.contains(R"(orderlog_request_seconds_count{op="ReadAll"})"));  // never seen
}

TEST(Metrics, UnknownOpsAndCodesMapToUnknown) {
  Metrics metrics;
  metrics.on_request(0, 1);    // NONE
  metrics.on_request(200, 1);  // past the enum
  metrics.on_error(0);
  metrics.on_error(999);
  const std::string text = metrics.render();
  const std::map<std::string, double> values = sample_map(text);
  EXPECT_EQ(values.at(R"(orderlog_requests_total{op="unknown"})"), 2);
  EXPECT_EQ(values.at(R"(orderlog_request_seconds_count{op="unknown"})"), 2);
  EXPECT_EQ(values.at(R"(orderlog_errors_total{code="unknown"})"), 2);
  EXPECT_EQ(text.find("200"), std::string::npos);
  EXPECT_EQ(text.find("999"), std::string::npos);
}

TEST(Metrics, ErrorsAreCountedByTheirWireName) {
  Metrics metrics;
  metrics.on_error(code(wire::ErrorCode::Busy));
  metrics.on_error(code(wire::ErrorCode::Busy));
  metrics.on_error(code(wire::ErrorCode::Unavailable));
  const std::map<std::string, double> values = sample_map(metrics.render());
  EXPECT_EQ(values.at(R"(orderlog_errors_total{code="Busy"})"), 2);
  EXPECT_EQ(values.at(R"(orderlog_errors_total{code="Unavailable"})"), 1);
  EXPECT_EQ(values.at(R"(orderlog_errors_total{code="Forbidden"})"), 0);
}

TEST(Metrics, GaugesFollowTheirDeltas) {
  Metrics metrics;
  metrics.on_connection_opened();
  metrics.on_connection_opened();
  metrics.on_connection_closed();
  metrics.on_connection_refused();
  metrics.add_inflight(5);
  metrics.add_inflight(-2);
  metrics.add_subscriptions(4);
  metrics.add_subscriptions(-1);
  const std::map<std::string, double> values = sample_map(metrics.render());
  EXPECT_EQ(values.at("orderlog_connections"), 1);
  EXPECT_EQ(values.at("orderlog_connections_refused_total"), 1);
  EXPECT_EQ(values.at("orderlog_inflight_requests"), 3);
  EXPECT_EQ(values.at("orderlog_subscriptions"), 3);
}

TEST(Metrics, StoreAndProjectionGaugesArePulledAtRender) {
  Metrics metrics;
  uint64_t streams = 7;
  metrics.set_store_source([&] {
    StoreStats stats;
    stats.committed_position = GlobalPosition{1234};
    stats.segments = 3;
    stats.streams = streams;
    stats.syncs = 99;
    stats.bytes_dropped_from_cache = 4 << 20;
    stats.appends_deduplicated = 17;
    return stats;
  });
  metrics.set_projection_source([] {
    return std::vector<ProjectionLag>{{"order_summary", 1200, 34, false}, {"odd \"name\"\\", 5, 1229, true}};
  });
  std::map<std::string, double> values = sample_map(metrics.render());
  EXPECT_EQ(values.at("orderlog_committed_position"), 1234);
  EXPECT_EQ(values.at("orderlog_segments"), 3);
  EXPECT_EQ(values.at("orderlog_streams"), 7);
  EXPECT_EQ(values.at("orderlog_log_syncs_total"), 99);
  EXPECT_EQ(values.at("orderlog_log_bytes_dropped_from_cache_total"), 4 << 20);
  EXPECT_EQ(values.at("orderlog_appends_deduplicated_total"), 17);
  EXPECT_EQ(values.at(R"(orderlog_projection_checkpoint{projection="order_summary"})"), 1200);
  EXPECT_EQ(values.at(R"(orderlog_projection_lag{projection="order_summary"})"), 34);
  EXPECT_EQ(values.at(R"(orderlog_projection_failed{projection="order_summary"})"), 0);
  EXPECT_EQ(values.at(R"(orderlog_projection_failed{projection="odd \"name\"\\"})"), 1);
  streams = 8;
  values = sample_map(metrics.render());
  EXPECT_EQ(values.at("orderlog_streams"), 8);
}

TEST(Metrics, ConcurrentUpdatesAreAllCounted) {
  Metrics metrics;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        metrics.on_request(op(wire::Body::ReadStream), 1000 * i);
        metrics.on_commit(CommitInfo{.appends = 1, .events = 2, .bytes = 3, .write_sync_ns = 50'000});
        metrics.add_inflight(1);
        metrics.add_inflight(-1);
      }
    });
  }
  std::string during;
  for (int i = 0; i < 5; ++i) during = metrics.render();  // scrapes racing the updates
  for (std::thread& thread : threads) thread.join();
  sample_map(during);
  const std::map<std::string, double> values = sample_map(metrics.render());
  EXPECT_EQ(values.at(R"(orderlog_requests_total{op="ReadStream"})"), kThreads * kPerThread);
  EXPECT_EQ(values.at(R"(orderlog_request_seconds_count{op="ReadStream"})"), kThreads * kPerThread);
  EXPECT_EQ(values.at("orderlog_events_appended_total"), 2 * kThreads * kPerThread);
  EXPECT_EQ(values.at("orderlog_fsync_seconds_count"), kThreads * kPerThread);
  EXPECT_EQ(values.at("orderlog_inflight_requests"), 0);
}

}  // namespace
}  // namespace orderlog::server
