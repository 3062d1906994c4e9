// Services: everything a session and its requests use, owned by the Server and
// outliving every session. Plain pointers because the Server owns them all; a
// session only borrows.
#pragma once

#include <atomic>
#include <cstdint>

#include "orderlog/event_store.h"
#include "orderlog/order/service.h"
#include "orderlog/projections.h"
#include "server/append_gate.h"
#include "server/auth.h"
#include "server/blocking_pool.h"
#include "server/commit_notifier.h"
#include "server/config.h"
#include "server/metrics.h"

namespace orderlog::server {

struct Services {
  const ServerConfig* config = nullptr;
  EventStore* store = nullptr;
  order::OrderService* orders = nullptr;
  projections::ProjectionSet* views = nullptr;
  Metrics* metrics = nullptr;
  const Authenticator* auth = nullptr;
  BlockingPool* pool = nullptr;
  AppendGate* append_gate = nullptr;
  CommitNotifier* notifier = nullptr;
  std::atomic<uint32_t>* connections = nullptr;  // open sessions
  // Queries whose min_position the log has not reached: they hold a pool thread while
  // they wait, so at most half the pool may (waiting_queries_max()).
  std::atomic<uint32_t>* waiting_queries = nullptr;
  uint32_t waiting_queries_max() const { return config->command_threads / 2 > 0 ? config->command_threads / 2 : 1; }
};

}  // namespace orderlog::server
