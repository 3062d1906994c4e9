// Shared helpers for the projection tests: a script that appends order events the way
// the order service stores them (encoded with the order codec, one stream per order),
// a store on a MemEnv, projection options tuned for fast tests, and waits that fail
// the test instead of hanging.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../store/store_test_util.h"
#include "mem_env.h"
#include "orderlog/event_store.h"
#include "orderlog/order/codec.h"
#include "orderlog/order/domain.h"
#include "orderlog/projections.h"

namespace orderlog::testing {

using namespace std::chrono_literals;
using order::OrderStatus;

inline constexpr auto kCatchUpTimeout = std::chrono::seconds(20);

// Appends order events to "order-<id>" and remembers each order's lines, so a test
// knows the totals the domain would compute without asking the code under test.
class OrderScript {
 public:
  explicit OrderScript(EventStore& store) : store_(&store) {}

  GlobalPosition create(const std::string& id, const std::string& customer, const std::string& currency = "EUR",
                        std::vector<order::OrderLine> lines = {}) {
    orders_[id] = Tracked{currency, lines};
    return append(id, order::OrderCreated{id, customer, currency, std::move(lines)});
  }
  GlobalPosition add(const std::string& id, const std::string& sku, uint32_t quantity, int64_t unit_price_minor) {
    Tracked& order = orders_.at(id);
    order.lines.push_back({sku, quantity, unit_price_minor});
    return append(id, order::ItemAdded{id, {sku, quantity, unit_price_minor}, order.currency});
  }
  GlobalPosition remove(const std::string& id, const std::string& sku) {
    std::erase_if(orders_.at(id).lines, [&](const order::OrderLine& line) { return line.sku == sku; });
    return append(id, order::ItemRemoved{id, sku});
  }
  GlobalPosition confirm(const std::string& id) {
    return append(id, order::OrderConfirmed{id, total_of(id), orders_.at(id).currency});
  }
  GlobalPosition cancel(const std::string& id, const std::string& reason) {
    return append(id, order::OrderCancelled{id, reason, total_of(id), orders_.at(id).currency});
  }
  GlobalPosition ship(const std::string& id, const std::string& carrier, const std::string& tracking) {
    return append(id, order::OrderShipped{id, carrier, tracking});
  }
  GlobalPosition deliver(const std::string& id) {
    return append(id, order::OrderDelivered{id, total_of(id), orders_.at(id).currency});
  }

  // Sum of quantity x unit price over the order's lines (a SKU added twice counts twice).
  int64_t total_of(const std::string& id) const {
    int64_t total = 0;
    for (const order::OrderLine& line : orders_.at(id).lines) total += line.unit_price_minor * line.quantity;
    return total;
  }

  // Appends one event that is not an order event, to a stream of its own.
  GlobalPosition append_other(const std::string& stream, const std::string& type) {
    const EventBatch batch = make_event(type, "not an order");
    return appended(store_->append(stream, ExpectedVersion::any(), batch.events()));
  }

  void retarget(EventStore& store) { store_ = &store; }

 private:
  struct Tracked {
    std::string currency;
    std::vector<order::OrderLine> lines;
  };

  GlobalPosition append(const std::string& id, const order::Event& event) {
    const order::EncodedEvent encoded = order::encode_event(event);
    NewEvent stored;
    stored.id = EventId::generate();
    stored.type = encoded.type;
    stored.schema_version = encoded.schema_version;
    stored.payload = encoded.payload;
    return appended(store_->append("order-" + id, ExpectedVersion::any(), std::span<const NewEvent>(&stored, 1)));
  }
  static GlobalPosition appended(const Result<AppendResult>& result) {
    EXPECT_TRUE(result.is_ok()) << result.status().to_string();
    return result.is_ok() ? result->last_position : GlobalPosition{};
  }

  EventStore* store_;
  std::map<std::string, Tracked> orders_;
};

// Fast-reacting options: a short idle wait, saves only when a test asks for them
// (or at close), and log lines captured (or dropped) instead of printed.
inline projections::ProjectionOptions fast_options(EventStore& store, Env& env, LogCapture* log = nullptr) {
  projections::ProjectionOptions options;
  options.store = &store;
  options.data_dir = kDataDir;
  options.env = &env;
  options.batch_events_max = 16;
  options.save_every_events = 1'000'000;
  options.save_interval = std::chrono::hours(1);
  options.save_spacing = 0;  // the count and interval policies alone, deterministic
  options.idle_wait = 5ms;
  options.query_wait_max = 10s;
  options.log = log != nullptr ? log->sink() : [](LogLevel, std::string_view) {};
  return options;
}

// Waits until `projection` has applied everything committed so far.
inline Status catch_up(const projections::Projection& projection, const EventStore& store) {
  return projection.wait_for(store.committed_position(), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                              kCatchUpTimeout));
}

// "Read after this write": consistency at `position`.
inline projections::ReadConsistency at(GlobalPosition position) {
  return projections::ReadConsistency{position, std::chrono::duration_cast<std::chrono::milliseconds>(kCatchUpTimeout)};
}

// A store on `env` with the default test options.
inline std::unique_ptr<EventStore> open_test_store(Env& env) {
  Result<std::unique_ptr<EventStore>> store = open_store(env);
  EXPECT_TRUE(store.is_ok()) << store.status().to_string();
  return store.is_ok() ? std::move(store).value() : nullptr;
}

template <typename Projection>
std::unique_ptr<Projection> open_projection(const projections::ProjectionOptions& options) {
  Result<std::unique_ptr<Projection>> projection = Projection::open(options);
  EXPECT_TRUE(projection.is_ok()) << projection.status().to_string();
  return projection.is_ok() ? std::move(projection).value() : nullptr;
}

inline std::vector<std::string> ids_of(const projections::OrderPage& page) {
  std::vector<std::string> ids;
  for (const projections::OrderListEntry& entry : page.orders) ids.push_back(entry.order_id);
  return ids;
}

}  // namespace orderlog::testing
