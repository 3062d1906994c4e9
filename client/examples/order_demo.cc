// order_demo: a tour of orderlog::client against a running orderlogd.
//
//   orderlog-order-demo [--addr host:port] [--token T | --token-file F]
//   (or ORDERLOG_ADDR, ORDERLOG_TOKEN, ORDERLOG_TOKEN_FILE)
//
// Places a few orders and walks them through their life, shows a command the domain
// refuses and a retried command that the server de-duplicates, then reads the read
// models back (using min_position to read its own writes) and prints what a
// subscription saw meanwhile.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <mutex>
#include <thread>
#include <string>
#include <vector>

#include "orderlog/client/client.h"

namespace oc = orderlog::client;

namespace {

struct Settings {
  std::string host = "127.0.0.1";
  uint16_t port = 7070;
  std::string token;
};

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : value;
}

std::string read_token_file(const std::string& path) {
  std::ifstream file(path);
  std::string token;
  std::getline(file, token);
  return token;
}

bool parse_address(const std::string& address, Settings* settings) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  settings->host = address.substr(0, colon);
  settings->port = static_cast<uint16_t>(std::stoi(address.substr(colon + 1)));
  return true;
}

bool parse_settings(int argc, char** argv, Settings* settings) {
  std::string address = env("ORDERLOG_ADDR");
  settings->token = env("ORDERLOG_TOKEN");
  std::string token_file = env("ORDERLOG_TOKEN_FILE");
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--addr") address = argv[i + 1];
    else if (flag == "--token") settings->token = argv[i + 1];
    else if (flag == "--token-file") token_file = argv[i + 1];
    else return false;
  }
  if (argc % 2 == 0) return false;
  if (settings->token.empty() && !token_file.empty()) settings->token = read_token_file(token_file);
  return address.empty() || parse_address(address, settings);
}

std::string money(int64_t minor, const std::string& currency) {
  const char* sign = minor < 0 ? "-" : "";
  const int64_t magnitude = minor < 0 ? -minor : minor;
  char text[64];
  std::snprintf(text, sizeof(text), "%s%lld.%02lld %s", sign, static_cast<long long>(magnitude / 100),
                static_cast<long long>(magnitude % 100), currency.c_str());
  return text;
}

void heading(const char* title) { std::printf("\n== %s\n", title); }

// Runs a command; prints one line about it; returns its last position (0 on error).
uint64_t run(oc::Client& client, const char* what, const oc::Command& command, const oc::CommandOptions& options = {}) {
  oc::Result<oc::CommandResult> result = client.execute(command, options);
  if (!result) {
    std::printf("  %-34s refused: %s\n", what, result.error().to_string().c_str());
    return 0;
  }
  std::string events;
  for (const std::string& type : result->event_types) events += (events.empty() ? "" : ", ") + type;
  std::printf("  %-34s -> %-9s %s%s\n", what, std::string(oc::to_string(result->state.status)).c_str(),
              result->duplicate ? "(duplicate: nothing appended)" : events.c_str(),
              result->duplicate ? "" : (" @" + std::to_string(result->last_position)).c_str());
  return result->last_position;
}

uint64_t unix_now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  if (!parse_settings(argc, argv, &settings)) {
    std::fprintf(stderr, "usage: %s [--addr host:port] [--token T | --token-file F]\n", argv[0]);
    return 2;
  }
  oc::ClientOptions options;
  options.host = settings.host;
  options.port = settings.port;
  options.token = settings.token;
  options.client_name = "order-demo";
  auto connected = oc::Client::connect(options);
  if (!connected) {
    std::fprintf(stderr, "cannot connect to %s:%u: %s\n", settings.host.c_str(), settings.port,
                 connected.error().to_string().c_str());
    return 1;
  }
  oc::Client& client = **connected;
  const oc::ServerInfo server = client.server_info();
  std::printf("connected to orderlogd %s as tenant '%s' (up to %u events per append)\n",
              server.server_version.c_str(), server.tenant.c_str(), server.events_per_append_max);

  // Everything committed from now on, as it happens.
  std::mutex seen_mutex;
  std::vector<std::string> seen;
  oc::SubscribeOptions live;
  live.from_live_end = true;
  auto subscription = client.subscribe(live, [&](const oc::Event& event) {
    std::lock_guard lock(seen_mutex);
    seen.push_back("  #" + std::to_string(event.position) + "  " + event.stream_id + " v" +
                   std::to_string(event.version) + "  " + event.type);
  });
  if (!subscription) std::printf("(no subscription: %s)\n", subscription.error().to_string().c_str());

  // Ids unique to this run, so the demo can run again against the same data.
  const std::string run_id = oc::Uuid::generate().to_string().substr(9, 9);
  const std::string customer = "alice-" + run_id;
  auto order_id = [&](int n) { return "demo-" + run_id + "-" + std::to_string(n); };

  heading("Placing orders");
  uint64_t last = 0;
  auto step = [&](const char* what, const oc::Command& command) { last = std::max(last, run(client, what, command)); };
  step("create order 1 (2 items)", oc::CreateOrder{order_id(1), customer, "EUR", {{"book", 2, 1250}, {"pen", 1, 199}}});
  step("create order 2", oc::CreateOrder{order_id(2), customer, "EUR", {{"lamp", 1, 4999}}});
  step("create order 3", oc::CreateOrder{order_id(3), customer, "EUR", {{"mug", 4, 850}}});
  step("create order 4", oc::CreateOrder{order_id(4), "bob-" + run_id, "EUR", {{"desk", 1, 25900}}});
  step("add an item to order 3", oc::AddItem{order_id(3), {"tea", 2, 450}, ""});

  heading("Moving them along");
  for (int n : {1, 2}) {
    const std::string number = std::to_string(n);
    step(("confirm order " + number).c_str(), oc::ConfirmOrder{order_id(n)});
    step(("ship order " + number).c_str(), oc::ShipOrder{order_id(n), "DHL", "JD000" + number});
  }
  step("deliver order 1", oc::DeliverOrder{order_id(1)});
  step("cancel order 4", oc::CancelOrder{order_id(4), "customer changed their mind"});

  heading("A command the domain refuses");
  run(client, "ship cancelled order 4", oc::ShipOrder{order_id(4), "UPS", "1Z999"});
  run(client, "add an item to shipped order 2", oc::AddItem{order_id(2), {"cable", 1, 999}, ""});

  heading("An idempotent retry");
  oc::CommandOptions confirm_once;
  confirm_once.command_id = oc::Uuid::generate();  // kept for the retry
  last = std::max(last, run(client, "confirm order 3", oc::ConfirmOrder{order_id(3)}, confirm_once));
  run(client, "confirm order 3 again (same id)", oc::ConfirmOrder{order_id(3)}, confirm_once);

  heading("Order summaries (read your writes: min_position)");
  for (int n = 1; n <= 4; ++n) {
    auto summary = client.order_summary(order_id(n), last);
    if (!summary) {
      std::printf("  %s: %s\n", order_id(n).c_str(), summary.error().to_string().c_str());
      continue;
    }
    std::printf("  %-22s %-10s %zu line(s) %14s %s\n", summary->order_id.c_str(),
                std::string(oc::to_string(summary->status)).c_str(), summary->lines.size(),
                money(summary->total_minor, summary->currency).c_str(),
                summary->carrier.empty() ? summary->cancel_reason.c_str()
                                         : (summary->carrier + " " + summary->tracking_number).c_str());
  }

  heading(("Orders of " + customer).c_str());
  oc::CustomerOrdersQuery by_customer;
  by_customer.customer_id = customer;
  by_customer.consistency.min_position = last;
  auto orders = client.customer_orders(by_customer);
  if (orders) {
    for (const auto& entry : orders->orders) {
      std::printf("  %-22s %s\n", entry.order_id.c_str(), std::string(oc::to_string(entry.status)).c_str());
    }
  }

  heading("Orders by status (whole store)");
  for (auto status : {oc::OrderStatus::Pending, oc::OrderStatus::Confirmed, oc::OrderStatus::Shipped,
                      oc::OrderStatus::Delivered, oc::OrderStatus::Cancelled}) {
    auto count = client.status_count(status, last);
    std::printf("  %-10s %s\n", std::string(oc::to_string(status)).c_str(),
                count ? std::to_string(*count).c_str() : count.error().to_string().c_str());
  }

  heading("Revenue per day (EUR)");
  const uint64_t day_ns = 86'400ull * 1'000'000'000ull;
  const uint64_t today = unix_now_ns() / day_ns * day_ns;
  oc::RevenueQuery per_day;
  per_day.period = oc::Period::Day;
  per_day.currency = "EUR";
  per_day.from_ns = today - 6 * day_ns;
  per_day.to_ns = today + day_ns;
  per_day.consistency.min_position = last;
  auto revenue = client.revenue(per_day);
  if (revenue) {
    for (const auto& bucket : revenue->buckets) {
      const auto seconds = static_cast<std::time_t>(bucket.from_ns / 1'000'000'000ull);
      char day[16];
      std::strftime(day, sizeof(day), "%Y-%m-%d", std::gmtime(&seconds));
      std::printf("  %s: confirmed %s, delivered %s, cancelled %s (%llu created)\n", day,
                  money(bucket.confirmed_minor, "EUR").c_str(), money(bucket.delivered_minor, "EUR").c_str(),
                  money(bucket.cancelled_minor, "EUR").c_str(),
                  static_cast<unsigned long long>(bucket.orders_created));
    }
  } else {
    std::printf("  %s\n", revenue.error().to_string().c_str());
  }

  if (subscription) {
    // Give the live feed a moment to reach the last write, then show it.
    for (int i = 0; i < 100 && (*subscription)->last_position() < last; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    (*subscription)->stop();
    heading("What the subscription saw");
    std::lock_guard lock(seen_mutex);
    for (const std::string& line : seen) std::printf("%s\n", line.c_str());
  }
  return 0;
}
