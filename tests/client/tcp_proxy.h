// A loopback TCP relay with a fixed port in front of a server whose port changes:
// lets a test restart orderlogd (which picks a new port) while the client keeps
// dialling the same address, exactly as it would for a server restarted in place.
// It can also play a server that went away (go_down) or a middlebox that accepts and
// then drops every connection (set_connection_lifetime).
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "loopback_listener.h"

namespace orderlog::client::testing {

class TcpProxy {
 public:
  explicit TcpProxy(uint16_t target_port) : target_port_(target_port) {
    listener_ = std::make_unique<LoopbackListener>([this](int client) { on_accept(client); });
  }
  ~TcpProxy() {
    listener_.reset();  // no more on_accept() calls
    drop_connections();
    for (auto& thread : pumps_) thread.join();
    for (int fd : fds_) ::close(fd);
  }

  uint16_t port() const { return listener_->port(); }
  void set_target(uint16_t port) { target_port_ = port; }
  // Connections accepted from now on are cut this long after they were accepted
  // (zero: never).
  void set_connection_lifetime(std::chrono::milliseconds lifetime) { lifetime_ms_ = lifetime.count(); }
  // Cuts every relayed connection and closes every new one at once: to the client,
  // the server went away.
  void go_down() {
    down_ = true;
    drop_connections();
  }

 private:
  using Clock = std::chrono::steady_clock;

  void drop_connections() {
    std::lock_guard lock(mutex_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);  // still open, so never another socket's number
  }

  void on_accept(int client) {
    if (down_) {
      ::close(client);
      return;
    }
    const int server = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address = loopback_address(target_port_.load());
    if (::connect(server, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      ::close(server);
      ::close(client);  // the client sees a refused connection, as without a proxy
      return;
    }
    const int64_t lifetime_ms = lifetime_ms_.load();
    const Clock::time_point cut_at =
        lifetime_ms > 0 ? Clock::now() + std::chrono::milliseconds(lifetime_ms) : Clock::time_point::max();
    std::lock_guard lock(mutex_);
    fds_.push_back(client);
    fds_.push_back(server);
    pumps_.emplace_back([client, server, cut_at] { pump(client, server, cut_at); });
    pumps_.emplace_back([client, server, cut_at] { pump(server, client, cut_at); });
  }

  // Copies `from` to `to` until either side ends or `cut_at` passes, then ends both.
  static void pump(int from, int to, Clock::time_point cut_at) {
    char buffer[64 * 1024];
    for (;;) {
      if (!readable_before(from, cut_at)) break;
      const ssize_t n = ::recv(from, buffer, sizeof(buffer), 0);
      if (n <= 0 || ::send(to, buffer, static_cast<size_t>(n), MSG_NOSIGNAL) != n) break;
    }
    ::shutdown(from, SHUT_RDWR);
    ::shutdown(to, SHUT_RDWR);
  }

  // Waits until `fd` can be read (or has ended); false once `deadline` has passed.
  static bool readable_before(int fd, Clock::time_point deadline) {
    for (;;) {
      int timeout_ms = -1;
      if (deadline != Clock::time_point::max()) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return false;
        timeout_ms = static_cast<int>(left.count());
      }
      pollfd poll_fd{fd, POLLIN, 0};
      if (::poll(&poll_fd, 1, timeout_ms) > 0) return true;
    }
  }

  std::atomic<uint16_t> target_port_;
  std::atomic<int64_t> lifetime_ms_{0};
  std::atomic<bool> down_{false};
  std::mutex mutex_;
  std::vector<int> fds_;
  std::vector<std::thread> pumps_;
  std::unique_ptr<LoopbackListener> listener_;  // last: its thread uses the members above
};

}  // namespace orderlog::client::testing
