// Server::Impl, shared by server_open.cc (bringing the engine up and down) and
// server.cc (accepting, signals, shutdown). Private to the server library.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

// Standard headers before Asio: Asio picks aligned_alloc or operator new from a
// libstdc++ macro, and every translation unit must pick the same (ODR).
#include <asio/io_context.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include "orderlog/event_store.h"
#include "orderlog/order/service.h"
#include "orderlog/projections.h"
#include "orderlog/snapshot_store.h"
#include "server/metrics_http.h"
#include "server/server.h"
#include "server/services.h"
#include "server/session.h"

namespace orderlog::server {

struct Server::Impl {
  using Strand = asio::strand<asio::io_context::executor_type>;

  explicit Impl(ServerConfig config_in);

  // server_open.cc
  Status open_engine();
  Status bind_listeners();
  Status close_engine();
  // server.cc
  void accept_next();
  void on_accept(const asio::error_code& error, asio::ip::tcp::socket socket);
  void refuse(asio::ip::tcp::socket socket);
  void wait_for_signal();
  void begin_shutdown(std::string_view why);
  void check_drained();
  void finish_shutdown();

  ServerConfig config;
  Metrics metrics;
  std::unique_ptr<Authenticator> auth;
  std::unique_ptr<EventStore> store;
  std::unique_ptr<SnapshotStore> snapshots;
  projections::ProjectionSet views;
  std::unique_ptr<order::OrderService> orders;
  std::unique_ptr<AppendGate> append_gate;
  std::unique_ptr<BlockingPool> pool;
  std::unique_ptr<CommitNotifier> notifier;
  std::atomic<uint32_t> connections{0};
  std::atomic<uint32_t> waiting_queries{0};
  std::atomic<uint32_t> refusals_lingering{0};  // see refuse()
  Services services;
  SessionRegistry registry;

  // Declared after everything sessions borrow: destroyed first.
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  Strand strand;  // the acceptor, signals and shutdown steps
  asio::ip::tcp::acceptor acceptor;
  asio::signal_set signals;
  asio::steady_timer drain_timer;
  std::unique_ptr<MetricsHttpServer> metrics_http;
  std::string listen_address;
  std::string metrics_address = "-";
  bool shutting_down = false;
  std::chrono::steady_clock::time_point drain_deadline;
};

}  // namespace orderlog::server
