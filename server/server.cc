// Server runtime (see server.h): accepting connections, signals and the graceful
// shutdown. Start-up and the engine's teardown are in server_open.cc.
#include "server/server.h"

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <array>
#include <atomic>
#include <csignal>
#include <memory>
#include <string>

#include "orderlog/thread_name.h"
#include "server/bootstrap.h"
#include "server/log.h"
#include "server/server_impl.h"

namespace orderlog::server {
namespace {

constexpr std::chrono::milliseconds kDrainCheckInterval{20};
// How long a refused connection waits for its peer's EOF (as a session's close does).
constexpr std::chrono::milliseconds kRefusalLinger{1000};
// Refused connections lingering at once; more are closed at once.
constexpr uint32_t kRefusalsLingeringMax = 64;

}  // namespace

void Server::Impl::accept_next() {
  // Each connection gets its own strand; the socket's handlers run on it.
  auto session_strand = asio::make_strand(io);
  acceptor.async_accept(session_strand, [this, session_strand](const asio::error_code& error,
                                                               asio::ip::tcp::socket socket) mutable {
    if (error == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!error) {
      if (connections.load() >= config.connections_max) {
        refuse(std::move(socket));
      } else {
        connections.fetch_add(1);
        std::make_shared<Session>(std::move(socket), session_strand, services, registry)->start();
      }
    } else {
      log_warning("accept failed", {{"error", error.message()}});
    }
    accept_next();
  });
}

namespace {

// A connection refused over connections_max: it gets one Error{Busy} frame so the
// client knows why, then the graceful close a session gets (FIN, then input dropped
// until the peer's EOF or the linger ends): closing with the client's Hello unread
// would reset the connection, and the reset can discard the frame before the client
// reads it. Frees its slot among the lingering refusals when the last handler is done.
class Refusal : public std::enable_shared_from_this<Refusal> {
 public:
  Refusal(asio::ip::tcp::socket socket, std::atomic<uint32_t>* lingering)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), lingering_(lingering) {}
  ~Refusal() { lingering_->fetch_sub(1); }

  void start(flatbuffers::DetachedBuffer frame) {
    frame_ = std::move(frame);
    asio::async_write(socket_, asio::buffer(frame_.data(), frame_.size()),
                      [self = shared_from_this()](const asio::error_code& error, size_t) {
                        if (error) return self->close();
                        asio::error_code ignored;
                        self->socket_.shutdown(asio::socket_base::shutdown_send, ignored);
                        self->timer_.expires_after(kRefusalLinger);
                        self->timer_.async_wait([self](const asio::error_code& expired) {
                          if (!expired) self->close();
                        });
                        self->drain();
                      });
  }

 private:
  void drain() {
    socket_.async_read_some(asio::buffer(sink_), [self = shared_from_this()](const asio::error_code& error, size_t) {
      if (error) return self->close();  // the peer's EOF, or the close
      self->drain();
    });
  }

  void close() {
    asio::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
  }

  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  std::atomic<uint32_t>* lingering_;
  flatbuffers::DetachedBuffer frame_;
  std::array<char, 4096> sink_;
};

}  // namespace

void Server::Impl::refuse(asio::ip::tcp::socket socket) {
  metrics.on_connection_refused();
  log_warning("connection refused: connections_max reached", {{"connections_max", uint64_t{config.connections_max}}});
  // A flood of refused connections must not pile up lingering sockets: past the cap
  // they are closed at once, and may be reset.
  if (refusals_lingering.fetch_add(1) >= kRefusalsLingeringMax) {
    refusals_lingering.fetch_sub(1);
    asio::error_code ignored;
    socket.close(ignored);
    return;
  }
  std::make_shared<Refusal>(std::move(socket), &refusals_lingering)
      ->start(error_reply(0, wire::ErrorCode::Busy, "the server is at connections_max; retry later").frame);
}

void Server::Impl::wait_for_signal() {
  signals.async_wait([this](const asio::error_code& error, int signal) {
    if (error) return;
    begin_shutdown(signal == SIGINT ? "SIGINT" : "SIGTERM");
    wait_for_signal();
  });
}

void Server::Impl::begin_shutdown(std::string_view why) {
  if (shutting_down) {
    // A second signal: stop waiting for the stragglers.
    log_warning("shutdown: second request, closing every connection now", {{"reason", why}});
    drain_deadline = std::chrono::steady_clock::now();
    return;
  }
  shutting_down = true;
  log_info("shutdown started", {{"reason", why}, {"connections", uint64_t{registry.size()}}});
  asio::error_code ignored;
  acceptor.close(ignored);
  log_info("shutdown: stopped accepting connections");
  for (const auto& session : registry.all()) session->shut_down();
  drain_deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(config.shutdown_grace_ms);
  check_drained();
}

void Server::Impl::check_drained() {
  const size_t open = registry.size();
  if (open == 0) return finish_shutdown();
  if (std::chrono::steady_clock::now() >= drain_deadline) {
    log_warning("shutdown: grace period over, closing connections", {{"connections", uint64_t{open}}});
    for (const auto& session : registry.all()) session->force_close();
  }
  drain_timer.expires_after(kDrainCheckInterval);
  drain_timer.async_wait([this](const asio::error_code& error) {
    if (!error) check_drained();
  });
}

void Server::Impl::finish_shutdown() {
  log_info("shutdown: every connection is closed");
  asio::error_code ignored;
  signals.cancel(ignored);
  if (metrics_http != nullptr) metrics_http->stop();
  work.reset();
  io.stop();
}

Status Server::run() {
  Impl& impl = *impl_;
  impl.work.emplace(impl.io.get_executor());
  impl.signals.add(SIGINT);
  impl.signals.add(SIGTERM);
  impl.notifier->start();
  asio::post(impl.strand, [&impl] {
    impl.accept_next();
    impl.wait_for_signal();
  });
  log_info("listening", {{"addr", impl.listen_address}, {"metrics", impl.metrics_address},
                         {"io_threads", impl.config.io_threads}, {"command_threads", impl.config.command_threads}});
  if (!impl.config.ready_file.empty()) {
    Status written = write_file_atomically(
        impl.config.ready_file, "listen=" + impl.listen_address + " metrics=" + impl.metrics_address + "\n");
    if (!written.is_ok()) log_error("cannot write the ready file", {{"error", written.to_string()}});
  }
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < std::max(1u, impl.config.io_threads); ++i) {
    threads.emplace_back([&impl, i] {
      name_this_thread("ol-io-" + std::to_string(i));
      impl.io.run();
    });
  }
  for (std::thread& thread : threads) thread.join();
  log_info("shutdown: io threads stopped");
  return impl.close_engine();
}

void Server::request_shutdown() {
  Impl* impl = impl_.get();
  asio::post(impl->strand, [impl] { impl->begin_shutdown("requested"); });
}

}  // namespace orderlog::server
