// RawConnection: a blocking loopback TCP connection that speaks orderlog frames by
// hand, for tests of orderlogd at the wire level (including malformed input no real
// client would send). Every read has a timeout so a broken server fails a test
// instead of hanging it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <flatbuffers/flatbuffers.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "orderlog/fb/protocol_generated.h"
#include "wire/frame.h"

namespace orderlog::testing {

// One received frame, kept 8-byte aligned so its Message can be read in place.
struct Frame {
  std::vector<uint64_t> storage;
  size_t size = 0;  // prefix + body

  const std::byte* bytes() const { return reinterpret_cast<const std::byte*>(storage.data()); }
  // The verified message, or nullptr when the frame is not a valid Message.
  const wire::Message* message() const {
    std::string_view why;
    return wire::verify_frame(bytes(), size, &why);
  }
  uint64_t request_id() const { return message()->request_id(); }
  wire::Body type() const { return message()->body_type(); }
  // ErrorCode::None unless the frame is an Error.
  wire::ErrorCode error_code() const {
    const auto* error = message()->body_as_Error();
    return error == nullptr ? wire::ErrorCode::None : error->code();
  }
  std::string error_message() const {
    const auto* error = message()->body_as_Error();
    return error == nullptr || error->message() == nullptr ? std::string() : error->message()->str();
  }
};

class RawConnection {
 public:
  static std::unique_ptr<RawConnection> connect(uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return nullptr;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd);
      return nullptr;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return std::unique_ptr<RawConnection>(new RawConnection(fd));
  }

  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool send_bytes(const void* data, size_t size) {
    const auto* bytes = static_cast<const char*>(data);
    while (size > 0) {
      const ssize_t n = ::send(fd_, bytes, size, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes += n;
      size -= static_cast<size_t>(n);
    }
    return true;
  }
  bool send(const flatbuffers::DetachedBuffer& frame) { return send_bytes(frame.data(), frame.size()); }

  // The next frame, or nullopt on timeout, EOF or error (closed() tells which).
  std::optional<Frame> read_frame(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::byte prefix[wire::kFramePrefixBytes];
    if (!read_exactly(prefix, sizeof prefix, deadline)) return std::nullopt;
    const uint32_t length = wire::decode_frame_length(prefix);
    Frame frame;
    frame.size = sizeof prefix + length;
    frame.storage.resize((frame.size + 7) / 8);
    auto* bytes = reinterpret_cast<std::byte*>(frame.storage.data());
    std::memcpy(bytes, prefix, sizeof prefix);
    if (!read_exactly(bytes + sizeof prefix, length, deadline)) return std::nullopt;
    return frame;
  }

  // True when the peer closes the connection (EOF or reset) within `timeout`;
  // frames arriving meanwhile are dropped.
  bool wait_closed(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::byte sink[4096];
    while (!closed_) {
      if (!read_some(sink, sizeof sink, deadline) && !closed_) return false;
    }
    return true;
  }
  bool closed() const { return closed_; }
  // The peer reset the connection (ECONNRESET) rather than closing it with a FIN.
  bool was_reset() const { return reset_; }
  int fd() const { return fd_; }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

 private:
  explicit RawConnection(int fd) : fd_(fd) {}

  // Reads up to `size` bytes; false on timeout or when the peer closed.
  bool read_some(std::byte* out, size_t size, std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd poll_fd{fd_, POLLIN, 0};
    const int ready = ::poll(&poll_fd, 1, static_cast<int>(left.count()));
    if (ready <= 0) return false;
    const ssize_t n = ::recv(fd_, out, size, 0);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) return true;
      closed_ = true;
      reset_ = n < 0 && errno == ECONNRESET;
      return false;
    }
    last_read_ = static_cast<size_t>(n);
    return true;
  }

  bool read_exactly(std::byte* out, size_t size, std::chrono::steady_clock::time_point deadline) {
    size_t done = 0;
    while (done < size) {
      last_read_ = 0;
      if (!read_some(out + done, size - done, deadline)) return false;
      done += last_read_;
    }
    return true;
  }

  int fd_;
  bool closed_ = false;
  bool reset_ = false;
  size_t last_read_ = 0;
};

}  // namespace orderlog::testing
