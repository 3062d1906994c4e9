// orderlog-bench: a load generator that drives a running orderlogd through the client
// library and prints one JSON object: throughput and latency percentiles.
//
// Scenarios:
//   append     every connection keeps `--depth` appends of `--batch-events` events in
//              flight (single-event durable appends: --batch-events 1 --depth 1);
//   lifecycle  every connection runs `--depth` orders at a time through the seven
//              commands of a full lifecycle (create, add item twice, remove an item,
//              confirm, ship, deliver); a lifecycle's commands are sequential.
// Latency is from submitting a request to its response (per command, per append).
// Each load slot issues its next request from the previous one's completion, so the
// offered load is closed-loop: connections x depth requests in flight, no more.
// `--io-threads N` puts the connections on N shared client::EventLoops (round robin),
// as pgbench and redis-benchmark serve many connections from a few threads; 0 gives
// every connection its own io thread, as an application with one Client each.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "json.h"
#include "orderlog/client/client.h"

namespace {

namespace client = orderlog::client;
using Clock = std::chrono::steady_clock;

struct BenchOptions {
  std::string address = "127.0.0.1:7070";
  std::string token;
  std::string token_file;
  std::string scenario = "append";
  unsigned connections = 8;
  unsigned io_threads = 0;  // 0: one per connection
  unsigned depth = 1;
  unsigned batch_events = 1;
  unsigned payload_bytes = 256;
  double seconds = 5;
  double warmup_seconds = 1;
};

// What one connection measured; touched only by its client's io thread while running.
struct SlotStats {
  std::vector<uint32_t> latencies_us;  // measured phase only
  uint64_t operations = 0;
  uint64_t events = 0;
  uint64_t errors = 0;
  std::string first_error;
};

// A slot that failed this often stops, so a dead server is not hammered in a loop.
constexpr uint64_t kErrorsMax = 100;

struct Run {
  std::atomic<bool> measuring{false};
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> in_flight{0};
};

uint32_t elapsed_us(Clock::time_point start) {
  return static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count());
}

void record(Run& run, SlotStats& stats, Clock::time_point start, uint64_t events, const client::Error* error) {
  if (error != nullptr) {
    ++stats.errors;
    if (stats.first_error.empty()) stats.first_error = error->to_string();
    return;
  }
  if (!run.measuring.load(std::memory_order_relaxed)) return;
  stats.latencies_us.push_back(elapsed_us(start));
  ++stats.operations;
  stats.events += events;
}

// ---------------------------------------------------------------- append scenario

class AppendSlot : public std::enable_shared_from_this<AppendSlot> {
 public:
  AppendSlot(client::Client& connection, Run& run, SlotStats& stats, const BenchOptions& options, std::string stream)
      : client_(connection), run_(run), stats_(stats), options_(options), stream_(std::move(stream)),
        payload_(options.payload_bytes, 'x') {}

  void next() {
    if (run_.stopping.load(std::memory_order_relaxed) || stats_.errors > kErrorsMax) return;
    std::vector<client::NewEvent> events(options_.batch_events);
    for (client::NewEvent& event : events) {
      event.id = client::Uuid::generate();
      event.type = "BenchEvent";
      event.payload = payload_;
    }
    run_.in_flight.fetch_add(1);
    const Clock::time_point start = Clock::now();
    client_.append_async(stream_, client::ExpectedVersion::any(), std::move(events),
                         [self = shared_from_this(), start](client::Result<client::AppendResult> result) {
                           const uint64_t count = self->options_.batch_events;
                           record(self->run_, self->stats_, start, count, result.ok() ? nullptr : &result.error());
                           self->run_.in_flight.fetch_sub(1);
                           self->next();
                         });
  }

 private:
  client::Client& client_;
  Run& run_;
  SlotStats& stats_;
  const BenchOptions& options_;
  std::string stream_;
  std::string payload_;
};

// ---------------------------------------------------------------- lifecycle scenario

class LifecycleSlot : public std::enable_shared_from_this<LifecycleSlot> {
 public:
  LifecycleSlot(client::Client& connection, Run& run, SlotStats& stats, std::string prefix)
      : client_(connection), run_(run), stats_(stats), prefix_(std::move(prefix)) {}

  void next() {
    if (step_ == 0) {
      if (run_.stopping.load(std::memory_order_relaxed) || stats_.errors > kErrorsMax) return;
      order_id_ = fmt::format("{}-{}", prefix_, ++orders_started_);
      lifecycle_start_ = Clock::now();
    }
    run_.in_flight.fetch_add(1);
    const Clock::time_point start = Clock::now();
    client_.execute_async(command(step_), {}, [self = shared_from_this(), start](client::Result<client::CommandResult> result) {
      self->completed(start, result.ok() ? nullptr : &result.error());
    });
  }

  uint64_t lifecycles_done = 0;

 private:
  void completed(Clock::time_point start, const client::Error* error) {
    record(run_, stats_, start, 1, error);
    run_.in_flight.fetch_sub(1);
    // A failed command abandons the order; the next one starts fresh.
    step_ = error != nullptr ? 0 : (step_ + 1) % 7;
    if (error == nullptr && step_ == 0 && run_.measuring.load(std::memory_order_relaxed)) ++lifecycles_done;
    next();
  }

  client::Command command(int step) const {
    switch (step) {
      case 0: return client::CreateOrder{order_id_, "customer-" + prefix_, "EUR", {{"sku-1", 2, 1250}}};
      case 1: return client::AddItem{order_id_, {"sku-2", 1, 4999}, ""};
      case 2: return client::AddItem{order_id_, {"sku-3", 3, 199}, ""};
      case 3: return client::RemoveItem{order_id_, "sku-3"};
      case 4: return client::ConfirmOrder{order_id_};
      case 5: return client::ShipOrder{order_id_, "parcel-co", "TRK-" + order_id_};
      default: return client::DeliverOrder{order_id_};
    }
  }

  client::Client& client_;
  Run& run_;
  SlotStats& stats_;
  std::string prefix_;
  std::string order_id_;
  int step_ = 0;
  uint64_t orders_started_ = 0;
  Clock::time_point lifecycle_start_;
};

// ---------------------------------------------------------------- reporting

uint32_t percentile(const std::vector<uint32_t>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  const size_t index = std::min(sorted.size() - 1, static_cast<size_t>(fraction * static_cast<double>(sorted.size())));
  return sorted[index];
}

void print_json(const BenchOptions& options, const std::vector<SlotStats>& stats, double measured_seconds,
                uint64_t lifecycles) {
  std::vector<uint32_t> latencies;
  uint64_t operations = 0, events = 0, errors = 0;
  std::string first_error;
  for (const SlotStats& slot : stats) {
    latencies.insert(latencies.end(), slot.latencies_us.begin(), slot.latencies_us.end());
    operations += slot.operations;
    events += slot.events;
    errors += slot.errors;
    if (first_error.empty()) first_error = slot.first_error;
  }
  std::sort(latencies.begin(), latencies.end());
  fmt::print(
      "{{\"scenario\": \"{}\", \"connections\": {}, \"io_threads\": {}, \"depth\": {}, \"batch_events\": {}, \"payload_bytes\": {}, "
      "\"seconds\": {:.3f}, \"operations\": {}, \"events\": {}, \"errors\": {}, \"first_error\": {}, "
      "\"operations_per_s\": {:.1f}, \"events_per_s\": {:.1f}, \"lifecycles_per_s\": {:.1f}, "
      "\"latency_us\": {{\"p50\": {}, \"p90\": {}, \"p99\": {}, \"p999\": {}, \"max\": {}}}}}\n",
      options.scenario, options.connections, options.io_threads, options.depth, options.batch_events, options.payload_bytes,
      measured_seconds, operations, events, errors, orderlog::tool::json_quote(first_error), static_cast<double>(operations) / measured_seconds,
      static_cast<double>(events) / measured_seconds, static_cast<double>(lifecycles) / measured_seconds,
      percentile(latencies, 0.50), percentile(latencies, 0.90), percentile(latencies, 0.99),
      percentile(latencies, 0.999), latencies.empty() ? 0 : latencies.back());
}

// ---------------------------------------------------------------- main

client::Result<client::ClientOptions> client_options(const BenchOptions& options) {
  client::ClientOptions result;
  const size_t colon = options.address.rfind(':');
  if (colon == std::string::npos) return client::Error{client::ErrorCode::BadRequest, "--addr must be host:port"};
  result.host = options.address.substr(0, colon);
  const std::string_view port = std::string_view(options.address).substr(colon + 1);
  unsigned value = 0;
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (result.host.empty() || port.empty() || error != std::errc() || end != port.data() + port.size() || value == 0 ||
      value > 65535) {
    return client::Error{client::ErrorCode::BadRequest, "--addr must be host:port with a port from 1 to 65535"};
  }
  result.port = static_cast<uint16_t>(value);
  result.token = options.token;
  if (!options.token_file.empty()) {
    std::ifstream in(options.token_file);
    if (!std::getline(in, result.token)) {
      return client::Error{client::ErrorCode::BadRequest, "cannot read the token file " + options.token_file};
    }
  }
  result.client_name = "orderlog-bench";
  result.inflight_max = std::max<size_t>(options.depth * 2, 16);
  return result;
}

int run_bench(const BenchOptions& options) {
  auto connect_options = client_options(options);
  if (!connect_options.ok()) {
    std::fprintf(stderr, "orderlog-bench: %s\n", connect_options.error().to_string().c_str());
    return 2;
  }
  // Declared before the clients: a loop must outlive the clients on it.
  std::vector<std::unique_ptr<client::EventLoop>> loops;
  const unsigned loop_count = std::min(options.io_threads, options.connections);
  for (unsigned i = 0; i < loop_count; ++i) loops.push_back(std::make_unique<client::EventLoop>());
  std::vector<std::unique_ptr<client::Client>> clients;
  for (unsigned i = 0; i < options.connections; ++i) {
    if (!loops.empty()) connect_options->event_loop = loops[i % loops.size()].get();
    auto connected = client::Client::connect(*connect_options);
    if (!connected.ok()) {
      std::fprintf(stderr, "orderlog-bench: connecting: %s\n", connected.error().to_string().c_str());
      return 1;
    }
    clients.push_back(std::move(connected).value());
  }
  Run run;
  std::vector<SlotStats> stats(options.connections);
  std::vector<std::shared_ptr<LifecycleSlot>> lifecycle_slots;
  const std::string run_id = client::Uuid::generate().to_string().substr(0, 8);
  for (unsigned c = 0; c < options.connections; ++c) {
    for (unsigned d = 0; d < options.depth; ++d) {
      const std::string name = fmt::format("bench-{}-{}-{}", run_id, c, d);
      if (options.scenario == "append") {
        std::make_shared<AppendSlot>(*clients[c], run, stats[c], options, name)->next();
      } else {
        lifecycle_slots.push_back(std::make_shared<LifecycleSlot>(*clients[c], run, stats[c], name));
        lifecycle_slots.back()->next();
      }
    }
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(options.warmup_seconds));
  const Clock::time_point measure_start = Clock::now();
  run.measuring.store(true);
  std::this_thread::sleep_for(std::chrono::duration<double>(options.seconds));
  run.measuring.store(false);
  const double measured = std::chrono::duration<double>(Clock::now() - measure_start).count();
  run.stopping.store(true);
  while (run.in_flight.load() != 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  uint64_t lifecycles = 0;
  for (const auto& slot : lifecycle_slots) lifecycles += slot->lifecycles_done;
  print_json(options, stats, measured, lifecycles);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  BenchOptions options;
  CLI::App app{"orderlog-bench: drives a running orderlogd and prints throughput and latency as JSON"};
  app.add_option("--addr", options.address, "orderlogd's host:port")->capture_default_str();
  app.add_option("--token", options.token, "the tenant token (prefer --token-file)");
  app.add_option("--token-file", options.token_file, "a file whose first line is the tenant token");
  app.add_option("--scenario", options.scenario, "append or lifecycle")
      ->check(CLI::IsMember({"append", "lifecycle"}))
      ->capture_default_str();
  app.add_option("--connections", options.connections, "client connections")->check(CLI::Range(1u, 1024u))->capture_default_str();
  app.add_option("--io-threads", options.io_threads,
                 "client io threads shared by the connections; 0: one per connection")
      ->check(CLI::Range(0u, 1024u))
      ->capture_default_str();
  app.add_option("--depth", options.depth, "requests (or orders) in flight per connection")
      ->check(CLI::Range(1u, 4096u))
      ->capture_default_str();
  app.add_option("--batch-events", options.batch_events, "events per append")->check(CLI::Range(1u, 10000u))->capture_default_str();
  app.add_option("--payload-bytes", options.payload_bytes, "bytes of payload per event")
      ->check(CLI::Range(0u, 1u << 20))
      ->capture_default_str();
  app.add_option("--seconds", options.seconds, "measured duration")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--warmup-seconds", options.warmup_seconds, "unmeasured run-in")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return run_bench(options);
}
