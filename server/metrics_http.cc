// The /metrics endpoint: just enough HTTP/1.1 for a Prometheus scrape. One request
// per connection (Connection: close), a bounded request head, a deadline per
// connection and a cap on concurrent connections, so a stuck or hostile client
// costs at most a few kilobytes and a socket for a few seconds.
//
// Lifetimes: the acceptor and every open scrape live in a shared State that their
// handlers keep alive, so destroying the MetricsHttpServer while operations are
// pending is safe. Everything touching a socket runs on one strand, which makes
// stop() safe to call from any io thread.
#include "server/metrics_http.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <string_view>
#include <system_error>
#include <vector>

#include <asio.hpp>
#include <fmt/format.h>

#include "server/config.h"

namespace orderlog::server {
namespace {

using asio::ip::tcp;
using Strand = asio::strand<asio::io_context::executor_type>;

constexpr size_t kRequestHeadBytesMax = 8 * 1024;
constexpr auto kScrapeTimeout = std::chrono::seconds(5);  // whole exchange, request to response
constexpr size_t kScrapesMax = 16;                        // more concurrent connections are closed at once
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

std::string http_response(std::string_view status, std::string_view content_type, std::string_view body) {
  return fmt::format(
      "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n{}", status,
      content_type, body.size(), status.starts_with("405") ? "Allow: GET\r\n" : "", body);
}

std::string error_response(std::string_view status) {
  return http_response(status, "text/plain; charset=utf-8", fmt::format("{}\n", status));
}

// The answer to one request head ("GET /metrics HTTP/1.1\r\nHost: ...\r\n\r\n").
std::string respond_to(std::string_view head, const Metrics& metrics) {
  const std::string_view line = head.substr(0, head.find("\r\n"));
  const size_t space1 = line.find(' ');
  const size_t space2 = space1 == std::string_view::npos ? space1 : line.find(' ', space1 + 1);
  if (space2 == std::string_view::npos || line.find(' ', space2 + 1) != std::string_view::npos ||
      !line.substr(space2 + 1).starts_with("HTTP/1.")) {
    return error_response("400 Bad Request");
  }
  const std::string_view method = line.substr(0, space1);
  const std::string_view target = line.substr(space1 + 1, space2 - space1 - 1);
  if (method != "GET") return error_response("405 Method Not Allowed");
  if (target.substr(0, target.find('?')) != "/metrics") return error_response("404 Not Found");
  return http_response("200 OK", "text/plain; version=0.0.4; charset=utf-8", metrics.render());
}

std::string format_endpoint(const tcp::endpoint& endpoint) {
  const asio::ip::address address = endpoint.address();
  if (address.is_v6()) return fmt::format("[{}]:{}", address.to_string(), endpoint.port());
  return fmt::format("{}:{}", address.to_string(), endpoint.port());
}

// One connection: read a head, write a response, close. Strand only.
class Scrape : public std::enable_shared_from_this<Scrape> {
 public:
  Scrape(tcp::socket socket, const Metrics& metrics)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), metrics_(metrics) {}

  void start() {
    timer_.expires_after(kScrapeTimeout);
    timer_.async_wait([self = shared_from_this()](std::error_code error) {
      if (!error) self->close();
    });
    asio::async_read_until(socket_, asio::dynamic_buffer(buffer_, kRequestHeadBytesMax), "\r\n\r\n",
                           [self = shared_from_this()](std::error_code error, size_t head_bytes) {
                             self->on_head(error, head_bytes);
                           });
  }

  void close() {
    std::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    timer_.cancel();
  }

 private:
  void on_head(std::error_code error, size_t head_bytes) {
    if (error == asio::error::not_found) {  // no end of head within the bound
      write(error_response("431 Request Header Fields Too Large"));
    } else if (error) {
      close();  // peer went away, timed out or stop()
    } else {
      write(respond_to(std::string_view(buffer_).substr(0, head_bytes), metrics_));
    }
  }

  void write(std::string response) {
    response_ = std::move(response);
    asio::async_write(socket_, asio::buffer(response_),
                      [self = shared_from_this()](std::error_code, size_t) { self->close(); });
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  const Metrics& metrics_;
  std::string buffer_;
  std::string response_;
};

// The acceptor and the open scrapes. Strand only, after start().
class State : public std::enable_shared_from_this<State> {
 public:
  State(asio::io_context& io, const Metrics& metrics)
      : io_(io), strand_(asio::make_strand(io)), acceptor_(strand_), retry_timer_(strand_), metrics_(metrics) {}

  Status listen(const tcp::endpoint& endpoint) {
    std::error_code error;
    acceptor_.open(endpoint.protocol(), error);
    if (!error) acceptor_.set_option(tcp::acceptor::reuse_address(true), error);
    if (!error) acceptor_.bind(endpoint, error);
    if (!error) acceptor_.listen(asio::socket_base::max_listen_connections, error);
    if (error) {
      return Status::io_error(fmt::format("metrics: cannot listen on {}: {}", format_endpoint(endpoint), error.message()));
    }
    return Status::ok();
  }

  std::string local_endpoint() const {
    std::error_code error;
    return format_endpoint(acceptor_.local_endpoint(error));
  }

  void accept() {
    acceptor_.async_accept(strand_, [self = shared_from_this()](std::error_code error, tcp::socket socket) {
      self->on_accept(error, std::move(socket));
    });
  }

  // Stops on the strand, or at once when no thread runs the io_context any more.
  void stop() {
    if (io_.stopped()) return close_all();
    asio::dispatch(strand_, [self = shared_from_this()] { self->close_all(); });
  }

 private:
  void on_accept(std::error_code error, tcp::socket socket) {
    if (stopped_) return;
    if (error) {  // e.g. out of file descriptors: pause instead of spinning
      retry_timer_.expires_after(kAcceptRetryDelay);
      retry_timer_.async_wait([self = shared_from_this()](std::error_code wait_error) {
        if (!wait_error && !self->stopped_) self->accept();
      });
      return;
    }
    std::erase_if(scrapes_, [](const std::weak_ptr<Scrape>& scrape) { return scrape.expired(); });
    if (scrapes_.size() < kScrapesMax) {
      auto scrape = std::make_shared<Scrape>(std::move(socket), metrics_);
      scrapes_.push_back(scrape);
      scrape->start();
    }  // else: `socket` closes as it goes out of scope
    accept();
  }

  void close_all() {
    stopped_ = true;
    std::error_code ignored;
    acceptor_.close(ignored);
    retry_timer_.cancel();
    for (const std::weak_ptr<Scrape>& weak : scrapes_) {
      if (const std::shared_ptr<Scrape> scrape = weak.lock()) scrape->close();
    }
    scrapes_.clear();
  }

  asio::io_context& io_;
  Strand strand_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_timer_;
  const Metrics& metrics_;
  std::vector<std::weak_ptr<Scrape>> scrapes_;  // at most kScrapesMax
  bool stopped_ = false;
};

class MetricsHttpServerImpl final : public MetricsHttpServer {
 public:
  MetricsHttpServerImpl(std::shared_ptr<State> state, std::string endpoint)
      : state_(std::move(state)), endpoint_(std::move(endpoint)) {}
  ~MetricsHttpServerImpl() override { stop(); }

  std::string local_endpoint() const override { return endpoint_; }

  void stop() override {
    if (stopped_.exchange(true)) return;
    state_->stop();
  }

 private:
  std::shared_ptr<State> state_;
  std::string endpoint_;
  std::atomic<bool> stopped_{false};
};

Result<tcp::endpoint> resolve(asio::io_context& io, const std::string& listen) {
  OL_ASSIGN_OR_RETURN(const HostPort address, parse_host_port(listen));
  tcp::resolver resolver(io);
  std::error_code error;
  const auto results = resolver.resolve(address.host, std::to_string(address.port),
                                        tcp::resolver::numeric_service | tcp::resolver::passive, error);
  if (error || results.empty()) {
    return Status::invalid_argument(
        fmt::format("metrics address \"{}\": cannot resolve host \"{}\": {}", listen, address.host,
                    error ? error.message() : "no address"));
  }
  return results.begin()->endpoint();
}

}  // namespace

Result<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::start(asio::io_context& io, const std::string& listen,
                                                                    const Metrics& metrics) {
  OL_ASSIGN_OR_RETURN(const tcp::endpoint endpoint, resolve(io, listen));
  auto state = std::make_shared<State>(io, metrics);
  OL_RETURN_IF_ERROR(state->listen(endpoint));
  std::string bound = state->local_endpoint();
  // Nothing else can reach the acceptor yet, so the first accept may start here.
  state->accept();
  return std::unique_ptr<MetricsHttpServer>(std::make_unique<MetricsHttpServerImpl>(std::move(state), std::move(bound)));
}

}  // namespace orderlog::server
