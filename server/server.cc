// Server runtime (see server.h): accepting connections, signals and the graceful
// shutdown. Start-up and the engine's teardown are in server_open.cc.
#include "server/server.h"

#include <asio/post.hpp>
#include <asio/write.hpp>

#include <csignal>
#include <string>

#include "orderlog/thread_name.h"
#include "server/bootstrap.h"
#include "server/log.h"
#include "server/server_impl.h"

namespace orderlog::server {
namespace {

constexpr std::chrono::milliseconds kDrainCheckInterval{20};

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

// Over connections_max: one Error{Busy} frame so the client knows why, then close.
void Server::Impl::refuse(asio::ip::tcp::socket socket) {
  metrics.on_connection_refused();
  log_warning("connection refused: connections_max reached", {{"connections_max", uint64_t{config.connections_max}}});
  auto frame = std::make_shared<flatbuffers::DetachedBuffer>(
      error_reply(0, wire::ErrorCode::Busy, "the server is at connections_max; retry later").frame);
  auto shared_socket = std::make_shared<asio::ip::tcp::socket>(std::move(socket));
  asio::async_write(*shared_socket, asio::buffer(frame->data(), frame->size()),
                    [shared_socket, frame](const asio::error_code&, size_t) {
                      asio::error_code ignored;
                      shared_socket->shutdown(asio::socket_base::shutdown_both, ignored);
                      shared_socket->close(ignored);
                    });
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
