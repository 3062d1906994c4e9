// Server: orderlogd as a library. open() creates the data directory, opens the
// engine (store, snapshot store, projections, order service) and binds the
// listeners; run() serves until SIGINT/SIGTERM (or request_shutdown()) and then shuts
// down gracefully:
//   stop accepting -> sessions stop reading, end subscriptions (Unavailable), answer
//   what is in flight and flush (bounded by shutdown_grace_ms, then closed) -> io
//   threads stop -> command pool drains -> projections save -> snapshot store
//   closes -> the store closes (fsync + index checkpoint).
// Every step is logged. Threads: io_threads run Asio (one strand per session), the
// command pool runs blocking requests, one notifier thread wakes subscriptions.
#pragma once

#include <memory>
#include <string>

#include "orderlog/status.h"
#include "server/config.h"

namespace orderlog::server {

class Server {
 public:
  // `config` is validated here (after adding the default admin tenant when it has
  // none). Errors: kInvalidArgument (config), kBusy (data directory in use),
  // kIoError (cannot bind or create files), kCorruption (the log).
  static Result<std::unique_ptr<Server>> open(ServerConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves until shutdown is requested, then shuts down; returns the first error of
  // closing the engine. Call once.
  Status run();
  // Starts the graceful shutdown, as SIGTERM does. Thread-safe.
  void request_shutdown();

  std::string listen_endpoint() const;   // "host:port" as bound
  std::string metrics_endpoint() const;  // "host:port", or "-" when disabled

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderlog::server
