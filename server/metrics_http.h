// The metrics endpoint: plain HTTP/1.1 on its own port, GET /metrics answers the
// Prometheus exposition, anything else 404. Runs on the server's io_context.
#pragma once

#include <memory>
#include <string>

#include "orderlog/status.h"
#include "server/metrics.h"

namespace asio {
class io_context;
}

namespace orderlog::server {

class MetricsHttpServer {
 public:
  // Binds `listen` ("host:port", port 0 = any free port) and starts accepting.
  // kInvalidArgument for a bad address, kIoError when it cannot bind.
  static Result<std::unique_ptr<MetricsHttpServer>> start(asio::io_context& io, const std::string& listen,
                                                          const Metrics& metrics);
  virtual ~MetricsHttpServer() = default;
  // "host:port" as bound.
  virtual std::string local_endpoint() const = 0;
  // Closes the acceptor and open scrapes; idempotent. Call on an io thread or after
  // the io_context stopped.
  virtual void stop() = 0;
};

}  // namespace orderlog::server
