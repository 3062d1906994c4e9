// A scripted stand-in for orderlogd on a loopback port, for client tests that need a
// server misbehaving on purpose: silent, slow, out of order, dropping connections.
// It answers the handshake itself and hands every later request to a script.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "orderlog/client/options.h"
#include "orderlog/fb/protocol_generated.h"
#include "loopback_listener.h"
#include "wire/frame.h"

namespace orderlog::client::testing {

class FakeConnection {
 public:
  explicit FakeConnection(int fd) : fd_(fd) {}
  ~FakeConnection() { ::close(fd_); }

  // Sends a reply built by `build` with `request_id`.
  template <typename Build>
  void reply(uint64_t request_id, wire::Body type, Build build) {
    flatbuffers::FlatBufferBuilder b;
    const flatbuffers::Offset<void> body = build(b);
    b.FinishSizePrefixed(wire::CreateMessage(b, request_id, type, body), wire::MessageIdentifier());
    std::lock_guard lock(write_mutex_);
    size_t sent = 0;
    while (sent < b.GetSize()) {
      const ssize_t n = ::send(fd_, b.GetBufferPointer() + sent, b.GetSize() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
  }
  void pong(uint64_t request_id, uint64_t payload) {
    reply(request_id, wire::Body::Pong, [&](auto& b) { return wire::CreatePong(b, payload, 1).Union(); });
  }
  void shutdown() { ::shutdown(fd_, SHUT_RDWR); }
  int fd() const { return fd_; }

 private:
  int fd_;
  std::mutex write_mutex_;
};

class FakeServer {
 public:
  using Script = std::function<void(FakeConnection&, const wire::Message&)>;

  explicit FakeServer(Script script, bool accept_token = true)
      : script_(std::move(script)), accept_token_(accept_token) {
    listener_ = std::make_unique<LoopbackListener>([this](int fd) { on_accept(fd); });
  }

  ~FakeServer() {
    listener_.reset();  // no more on_accept() calls
    drop_connections();
    for (auto& thread : readers_) thread.join();
  }

  uint16_t port() const { return listener_->port(); }
  int accepted() const { return accepted_.load(); }
  // Cuts every open connection (the client sees the peer go away).
  void drop_connections() {
    std::lock_guard lock(mutex_);
    for (auto& connection : connections_) connection->shutdown();
  }

 private:
  void on_accept(int fd) {
    ++accepted_;
    auto connection = std::make_shared<FakeConnection>(fd);
    std::lock_guard lock(mutex_);
    connections_.push_back(connection);
    readers_.emplace_back([this, connection] { serve(*connection); });
  }

  static bool read_exactly(int fd, void* data, size_t bytes) {
    auto* out = static_cast<char*>(data);
    while (bytes > 0) {
      const ssize_t n = ::recv(fd, out, bytes, 0);
      if (n <= 0) return false;
      out += n;
      bytes -= static_cast<size_t>(n);
    }
    return true;
  }

  void serve(FakeConnection& connection) {
    std::vector<uint64_t> words;
    for (;;) {
      std::byte prefix[4];
      if (!read_exactly(connection.fd(), prefix, 4)) return;
      const uint32_t length = wire::decode_frame_length(prefix);
      words.assign((length + 4 + 7) / 8, 0);
      auto* frame = reinterpret_cast<std::byte*>(words.data());
      std::memcpy(frame, prefix, 4);
      if (!read_exactly(connection.fd(), frame + 4, length)) return;
      std::string_view why;
      const wire::Message* message = wire::verify_frame(frame, length + 4, &why);
      if (message == nullptr) return;
      if (message->body_type() == wire::Body::Hello) {
        answer_hello(connection, *message);
        if (!accept_token_) return;
        continue;
      }
      script_(connection, *message);
    }
  }

  void answer_hello(FakeConnection& connection, const wire::Message& message) {
    if (!accept_token_) {
      connection.reply(message.request_id(), wire::Body::Error, [](auto& b) {
        return wire::CreateErrorDirect(b, wire::ErrorCode::Unauthorized, "unknown token").Union();
      });
      connection.shutdown();
      return;
    }
    connection.reply(message.request_id(), wire::Body::HelloOk, [](auto& b) {
      return wire::CreateHelloOkDirect(b, 1, "fake", "tenant", 1 << 20, 64, 100, 1000).Union();
    });
  }

  Script script_;
  bool accept_token_;
  std::atomic<int> accepted_{0};
  std::mutex mutex_;
  std::vector<std::shared_ptr<FakeConnection>> connections_;
  std::vector<std::thread> readers_;
  std::unique_ptr<LoopbackListener> listener_;  // last: its thread uses the members above
};

// Options for a client of `server`: short timeouts, so a broken test fails fast.
inline ClientOptions options_for(const FakeServer& server, const char* client_name) {
  ClientOptions options;
  options.port = server.port();
  options.token = "token";
  options.client_name = client_name;
  options.request_timeout = std::chrono::seconds(2);
  options.connect_timeout = std::chrono::seconds(2);
  return options;
}

inline uint64_t ping_payload(const wire::Message& message) { return message.body_as_Ping()->payload(); }

}  // namespace orderlog::client::testing
