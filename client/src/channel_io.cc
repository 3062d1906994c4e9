// Channel: connect, handshake, reads and writes (channel.h). Everything here runs on
// the io thread. A handler that finds `connection_` no longer equal to the connection
// it was started for belongs to a dropped connection and does nothing.
#include <algorithm>

#include "channel_impl.h"
#include "check.h"
#include "orderlog/fb/protocol_generated.h"
#include "wire/frame.h"

namespace orderlog::client::detail {
namespace {

// Replies may be larger than requests (a read page); this bounds the read buffer.
constexpr uint32_t kInboundFrameBytesMax = 64u * 1024 * 1024;
// One write carries at most this much (at least one frame), so the lock that guards
// the queue is never held for long.
constexpr size_t kWriteBytesMax = 1u << 20;

Error connection_failed(std::string message) { return Error{ErrorCode::ConnectionFailed, std::move(message), 0, {}}; }

}  // namespace

std::string Channel::Impl::peer() const { return options_.host + ":" + std::to_string(options_.port); }

void Channel::Impl::request_connect() {
  // A request submitted just before close() may have posted this after it: a closed
  // channel never connects again (the connection would keep the loop running).
  if (closed_) return;
  const auto delay = reconnect_at_ - Clock::now();
  if (delay <= Clock::duration::zero()) {
    start_connect();
    return;
  }
  reconnect_timer_.expires_after(delay);
  reconnect_timer_.async_wait([this, self = shared_from_this()](std::error_code error) {
    if (!error && !closed_) start_connect();
  });
}

void Channel::Impl::start_connect() {
  auto connection = std::make_shared<Connection>(io_, kInboundFrameBytesMax);
  connection_ = connection;
  connection->handshake_timer.expires_after(options_.connect_timeout);
  connection->handshake_timer.async_wait([this, self = shared_from_this(), connection](std::error_code error) {
    if (error || connection != connection_ || connection->ready) return;
    connect_failed(connection, connection_failed("connecting to " + peer() + " timed out after " +
                                                 std::to_string(options_.connect_timeout.count()) + " ms"));
  });
  connection->resolver.async_resolve(
      options_.host, std::to_string(options_.port),
      [this, self = shared_from_this(), connection](std::error_code error, asio::ip::tcp::resolver::results_type endpoints) {
        if (connection != connection_) return;
        if (error) {
          connect_failed(connection, connection_failed("cannot resolve " + options_.host + ": " + error.message()));
          return;
        }
        asio::async_connect(connection->socket, endpoints,
                            [this, self = shared_from_this(), connection](std::error_code connect_error, const asio::ip::tcp::endpoint&) {
                              if (connection != connection_) return;
                              if (connect_error) {
                                connect_failed(connection, connection_failed("cannot connect to " + peer() + ": " +
                                                                             connect_error.message()));
                                return;
                              }
                              on_connected(connection);
                            });
      });
}

void Channel::Impl::on_connected(const std::shared_ptr<Connection>& connection) {
  std::error_code ignored;
  connection->socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  connection->hello = encode_hello(options_);
  {
    std::lock_guard lock(mutex_);
    connection->hello_id = next_request_id_++;
  }
  set_request_id(connection->hello, connection->hello_id);
  asio::async_write(connection->socket, asio::buffer(connection->hello),
                    [this, self = shared_from_this(), connection](std::error_code error, size_t) {
                      if (error && connection == connection_) {
                        lose(connection, connection_failed("handshake with " + peer() + " failed: " + error.message()));
                      }
                    });
  read_more(connection);
}

void Channel::Impl::on_hello(const std::shared_ptr<Connection>& connection, const wire::Message& message) {
  const auto* ok = message.body_as_HelloOk();
  if (ok == nullptr) {
    const auto* error = message.body_as_Error();
    connect_failed(connection, error != nullptr ? to_error(*error)
                                                : protocol_error(std::string("handshake answered with ") +
                                                                 wire::EnumNameBody(message.body_type())));
    return;
  }
  connection->ready = true;
  connection->handshake_timer.cancel();
  bool flush_now = false;
  {
    std::lock_guard lock(mutex_);
    server_info_ = to_server_info(*ok);
    const size_t server_limit = server_info_.inflight_requests_max;
    inflight_limit_ = std::max<size_t>(1, std::min(options_.inflight_max, server_limit > 0 ? server_limit : SIZE_MAX));
    state_ = LinkState::Ready;
    flush_now = !writing_ && (!queued_.empty() || !oneway_.empty());
    if (flush_now) writing_ = true;
    slot_freed_.notify_all();
  }
  for (auto& waiter : std::exchange(link_waiters_, {})) waiter(nullptr);
  if (flush_now) flush();
}

void Channel::Impl::drop_connection() {
  if (!connection_) return;
  std::error_code ignored;
  connection_->handshake_timer.cancel();
  connection_->resolver.cancel();
  connection_->socket.close(ignored);
  connection_.reset();
}

void Channel::Impl::connect_failed(const std::shared_ptr<Connection>& connection, const Error& error) {
  if (connection != connection_) return;
  drop_connection();
  reconnect_at_ = Clock::now() + backoff_.next();
  // A refused token will be refused again: only transport failures are retried.
  const bool retry = error.code == ErrorCode::ConnectionFailed;
  std::vector<Op> failed;
  bool again = false;
  {
    std::lock_guard lock(mutex_);
    for (auto it = queued_.begin(); it != queued_.end();) {
      if (retry && it->attempts_left > 0) {
        --it->attempts_left;
        ++it;
        continue;
      }
      failed.push_back(std::move(*it));
      it = queued_.erase(it);
    }
    again = !queued_.empty();
    state_ = again ? LinkState::Connecting : LinkState::Idle;
    writing_ = false;
    oneway_.clear();
    if (slot_waiters_ > 0) slot_freed_.notify_all();
  }
  for (auto& waiter : std::exchange(link_waiters_, {})) waiter(&error);
  fail_all(std::move(failed), error);
  if (again) request_connect();
}

void Channel::Impl::connection_lost(const std::shared_ptr<Connection>& connection, const Error& error) {
  if (connection != connection_) return;
  drop_connection();
  // Even a first reconnect waits a little: a server that drops every connection at
  // once must not be hammered by a busy loop.
  reconnect_at_ = Clock::now() + backoff_.next();
  std::vector<Op> failed;
  bool again = false;
  {
    std::lock_guard lock(mutex_);
    std::vector<Op> resend;
    for (auto& [id, op] : sent_) {
      if (op.attempts_left > 0 && !op.frame.empty()) {
        --op.attempts_left;
        resend.push_back(std::move(op));
      } else {
        failed.push_back(std::move(op));
      }
    }
    sent_.clear();
    // Resent requests go first and keep their order (request ids increase).
    std::sort(resend.begin(), resend.end(), [](const Op& a, const Op& b) { return a.request_id < b.request_id; });
    queued_.insert(queued_.begin(), std::make_move_iterator(resend.begin()), std::make_move_iterator(resend.end()));
    oneway_.clear();
    writing_ = false;
    again = !queued_.empty();
    state_ = again ? LinkState::Connecting : LinkState::Idle;
    if (slot_waiters_ > 0) slot_freed_.notify_all();
  }
  fail_all(std::move(failed), error);
  if (again) request_connect();
}

void Channel::Impl::lose(const std::shared_ptr<Connection>& connection, const Error& error) {
  Error reason = connection->server_error.value_or(error);
  if (connection->ready) {
    connection_lost(connection, reason);
    return;
  }
  if (reason.code == ErrorCode::Disconnected) reason.code = ErrorCode::ConnectionFailed;
  connect_failed(connection, reason);
}

void Channel::Impl::read_more(const std::shared_ptr<Connection>& connection) {
  const std::span<std::byte> space = connection->reader.prepare();
  connection->socket.async_read_some(
      asio::buffer(space.data(), space.size()), [this, self = shared_from_this(), connection](std::error_code error, size_t bytes) {
        if (connection != connection_) return;
        if (error) {
          const std::string why = error == asio::error::eof ? "closed by the server" : error.message();
          lose(connection, {ErrorCode::Disconnected, "connection to " + peer() + " lost: " + why, 0, {}});
          return;
        }
        connection->reader.commit(bytes);
        if (drain_frames(connection)) read_more(connection);
      });
}

// Handles every complete frame in the read buffer; false when the connection is gone.
bool Channel::Impl::drain_frames(const std::shared_ptr<Connection>& connection) {
  for (;;) {
    const wire::FrameDecoder::Next next = connection->reader.next();
    if (next.outcome == wire::FrameDecoder::Outcome::kNeedMore) return true;
    if (next.outcome == wire::FrameDecoder::Outcome::kBadLength) {
      lose(connection, protocol_error("the server sent a frame with an invalid length"));
      return false;
    }
    std::string_view why;
    const wire::Message* message = wire::verify_frame(next.frame.data(), next.frame.size(), &why);
    if (message == nullptr) {
      lose(connection, protocol_error("the server sent an invalid frame: " + std::string(why)));
      return false;
    }
    if (message->request_id() == 0 && message->body_as_Error() != nullptr) {
      // Not about a request: the reason the server is about to close the connection.
      connection->server_error = to_error(*message->body_as_Error());
    } else if (!connection->ready) {
      if (message->request_id() != connection->hello_id) {
        lose(connection, protocol_error("the server replied before the handshake completed"));
        return false;
      }
      on_hello(connection, *message);
    } else {
      // The backoff starts over only once the connection has answered a request: a
      // server that shakes hands and then drops every connection is not to be
      // reconnected to at the shortest delay for ever.
      if (!connection->answered) {
        connection->answered = true;
        backoff_.reset();
      }
      complete(message->request_id(), *message);
    }
    if (connection != connection_) return false;
  }
}

void Channel::Impl::flush() {
  const std::shared_ptr<Connection> connection = connection_;
  // A flush posted for an earlier connection may arrive while this one is writing;
  // that write's completion flushes again, so there is nothing to do now.
  if (connection && connection->writing) return;
  {
    std::lock_guard lock(mutex_);
    if (state_ != LinkState::Ready || !connection || (queued_.empty() && oneway_.empty())) {
      writing_ = false;
      return;
    }
    std::vector<std::byte>& out = connection->out;
    out.clear();
    for (const Frame& frame : oneway_) out.insert(out.end(), frame.begin(), frame.end());
    oneway_.clear();
    while (!queued_.empty() && (out.empty() || out.size() + queued_.front().frame.size() <= kWriteBytesMax)) {
      Op& op = queued_.front();
      out.insert(out.end(), op.frame.begin(), op.frame.end());
      if (op.attempts_left == 0) Frame().swap(op.frame);  // no resend: free it now
      const uint64_t request_id = op.request_id;
      sent_.emplace(request_id, std::move(op));
      queued_.pop_front();
    }
  }
  connection->writing = true;
  asio::async_write(connection->socket, asio::buffer(connection->out),
                    [this, self = shared_from_this(), connection](std::error_code error, size_t) {
                      connection->writing = false;
                      if (connection != connection_) return;
                      if (error) {
                        lose(connection, {ErrorCode::Disconnected, "writing to " + peer() + " failed: " +
                                                                       error.message(), 0, {}});
                        return;
                      }
                      flush();
                    });
}

}  // namespace orderlog::client::detail
