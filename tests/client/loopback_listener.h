// A listening socket on 127.0.0.1 and an ephemeral port, with a thread that hands
// every accepted connection to a callback: the common part of the test servers
// (fake_server.h, tcp_proxy.h).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <thread>

namespace orderlog::client::testing {

inline sockaddr_in loopback_address(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  return address;
}

class LoopbackListener {
 public:
  // `on_accept(fd)` runs on the listener's thread and owns `fd` from then on.
  explicit LoopbackListener(std::function<void(int)> on_accept) : on_accept_(std::move(on_accept)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address = loopback_address(0);
    socklen_t length = sizeof(address);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::listen(fd_, 16) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      std::perror("LoopbackListener: cannot listen on 127.0.0.1");
      std::abort();
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { accept_loop(); });
  }
  // Stops accepting; connections already handed out stay with their owner.
  ~LoopbackListener() {
    stopping_ = true;
    thread_.join();
    ::close(fd_);
  }
  LoopbackListener(const LoopbackListener&) = delete;
  LoopbackListener& operator=(const LoopbackListener&) = delete;

  uint16_t port() const { return port_; }

 private:
  void accept_loop() {
    while (!stopping_) {
      pollfd poll_fd{fd_, POLLIN, 0};
      if (::poll(&poll_fd, 1, 20) <= 0) continue;
      const int connection = ::accept(fd_, nullptr, nullptr);
      if (connection >= 0) on_accept_(connection);
    }
  }

  std::function<void(int)> on_accept_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace orderlog::client::testing
