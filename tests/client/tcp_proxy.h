// A loopback TCP relay with a fixed port in front of a server whose port changes:
// lets a test restart orderlogd (which picks a new port) while the client keeps
// dialling the same address, exactly as it would for a server restarted in place.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
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
    {
      std::lock_guard lock(mutex_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& thread : pumps_) thread.join();
    for (int fd : fds_) ::close(fd);
  }

  uint16_t port() const { return listener_->port(); }
  void set_target(uint16_t port) { target_port_ = port; }

 private:
  void on_accept(int client) {
    const int server = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address = loopback_address(target_port_.load());
    if (::connect(server, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      ::close(server);
      ::close(client);  // the client sees a refused connection, as without a proxy
      return;
    }
    std::lock_guard lock(mutex_);
    fds_.push_back(client);
    fds_.push_back(server);
    pumps_.emplace_back([client, server] { pump(client, server); });
    pumps_.emplace_back([client, server] { pump(server, client); });
  }

  // Copies `from` to `to` until either side ends, then ends both.
  static void pump(int from, int to) {
    char buffer[64 * 1024];
    for (;;) {
      const ssize_t n = ::recv(from, buffer, sizeof(buffer), 0);
      if (n <= 0 || ::send(to, buffer, static_cast<size_t>(n), MSG_NOSIGNAL) != n) break;
    }
    ::shutdown(from, SHUT_RDWR);
    ::shutdown(to, SHUT_RDWR);
  }

  std::atomic<uint16_t> target_port_;
  std::mutex mutex_;
  std::vector<int> fds_;
  std::vector<std::thread> pumps_;
  std::unique_ptr<LoopbackListener> listener_;  // last: its thread uses the members above
};

}  // namespace orderlog::client::testing
