// Session's output side (see session.h): request accounting, the gathered write
// queue, and closing.
#include "server/session.h"

#include <asio/post.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <chrono>
#include <string>

#include "server/log.h"
#include "wire/frame.h"

namespace orderlog::server {
namespace {

// Frames up to this size are copied into a shared chunk; larger ones are written
// from their own buffer (a copy would cost more than the extra iovec).
constexpr size_t kCoalesceFrameBytesMax = 16 * 1024;
constexpr size_t kChunkBytesMax = 256 * 1024;
constexpr std::chrono::milliseconds kLingerTimeout{1000};

uint64_t steady_now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

size_t chunk_bytes(const std::vector<std::byte>& bytes, const flatbuffers::DetachedBuffer& frame) {
  return bytes.empty() ? frame.size() : bytes.size();
}

}  // namespace

void Session::begin_request() {
  ++inflight_;
  services_.metrics->add_inflight(1);
}

void Session::deliver(Reply reply, wire::Body type, uint64_t request_id, uint64_t start_ns) {
  if (type != wire::Body::NONE) {
    --inflight_;
    services_.metrics->add_inflight(-1);
    services_.metrics->on_request(static_cast<uint8_t>(type), steady_now_ns() - start_ns);
  }
  // A reply the peer would have to refuse is replaced rather than sent.
  if (reply.frame.size() > wire::kFramePrefixBytes + services_.config->frame_bytes_max) {
    reply = error_reply(request_id, wire::ErrorCode::TooLarge, "the reply does not fit in frame_bytes_max");
  }
  if (reply.error != wire::ErrorCode::None) services_.metrics->on_error(static_cast<uint16_t>(reply.error));
  if (state_ == State::kClosed) return;
  queue_frame(std::move(reply.frame));
  if (queued_bytes_ > replies_queued_bytes_max()) {
    log_warning("closing a connection that does not read its replies",
                {{"peer", peer_}, {"queued_bytes", queued_bytes_}});
    // Not being written (the write in progress has its own buffers): freed now.
    for (const OutChunk& chunk : pending_) queued_bytes_ -= chunk_bytes(chunk.bytes, chunk.frame);
    pending_.clear();
    close_now("the peer does not read its replies");
    return;
  }
  maybe_finish_closing();
}

size_t Session::replies_queued_bytes_max() const {
  return std::max<size_t>(kRepliesQueuedBytesMin, 4 * (size_t{services_.config->frame_bytes_max} + wire::kFramePrefixBytes));
}

void Session::queue_frame(flatbuffers::DetachedBuffer frame) {
  const size_t size = frame.size();
  queued_bytes_ += size;
  if (size <= kCoalesceFrameBytesMax) {
    if (pending_.empty() || pending_.back().bytes.empty() || pending_.back().bytes.size() + size > kChunkBytesMax) {
      pending_.emplace_back();
      pending_.back().bytes.reserve(std::min(kChunkBytesMax, std::max<size_t>(size, 4096)));
    }
    const auto* data = reinterpret_cast<const std::byte*>(frame.data());
    pending_.back().bytes.insert(pending_.back().bytes.end(), data, data + size);
  } else {
    pending_.emplace_back();
    pending_.back().frame = std::move(frame);
  }
  if (!write_active_) start_write();
}

void Session::start_write() {
  if (pending_.empty() || state_ == State::kClosed) return;
  write_active_ = true;
  writing_.swap(pending_);
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(writing_.size());
  for (const OutChunk& chunk : writing_) {
    if (chunk.bytes.empty()) {
      buffers.emplace_back(chunk.frame.data(), chunk.frame.size());
    } else {
      buffers.emplace_back(chunk.bytes.data(), chunk.bytes.size());
    }
  }
  asio::async_write(socket_, buffers, [self = shared_from_this()](const asio::error_code& error, size_t) {
    self->on_write(error);
  });
  ++write_generation_;
  if (!write_watch_armed_) watch_writes();
}

// A peer that stopped reading keeps a write from finishing: the connection goes
// instead of holding its slot and buffers for ever. A timer per write would cost a
// timer-queue update per reply; this one looks every half write_timeout_ms and closes
// when the same write was in progress at the previous look (so after between a half
// and the whole timeout).
void Session::watch_writes() {
  write_watch_armed_ = true;
  const auto half = std::max<uint32_t>(services_.config->write_timeout_ms / 2, 1);
  write_timer_.expires_after(std::chrono::milliseconds(half));
  write_timer_.async_wait([self = shared_from_this()](const asio::error_code& error) {
    self->write_watch_armed_ = false;
    if (error || self->state_ == State::kClosed) return;
    if (self->write_active_ && self->write_generation_ == self->watched_write_generation_) {
      log_warning("closing a connection whose peer stopped reading",
                  {{"peer", self->peer_}, {"queued_bytes", self->queued_bytes_}});
      self->close_now("write timeout: the peer does not read");
      return;
    }
    self->watched_write_generation_ = self->write_generation_;
    if (self->write_active_) self->watch_writes();
  });
}

void Session::on_write(const asio::error_code& error) {
  write_active_ = false;
  for (const OutChunk& chunk : writing_) queued_bytes_ -= chunk_bytes(chunk.bytes, chunk.frame);
  writing_.clear();
  if (state_ == State::kClosed) return;
  if (error) {
    close_now("write failed: " + error.message());
    return;
  }
  start_write();
  maybe_finish_closing();
  if (state_ == State::kClosed) return;
  // Room in the queue again: paused reading goes on first, then the subscriptions
  // fill the queue again; the other way round, a subscription with a long backlog
  // would refill it past the high-water mark after every write and hold back the
  // connection's requests (a Subscribe, a Credit) until it had caught up.
  resume();
  if (state_ == State::kClosed) return;
  if (!subscriptions_.empty()) pump_subscriptions();
}

void Session::fail(wire::ErrorCode code, std::string_view message) {
  log_warning("closing connection after protocol error", {{"peer", peer_}, {"error", message}});
  deliver(error_reply(0, code, message), wire::Body::NONE, 0, 0);
  end_subscriptions(code, message, /*send_ended=*/true);
  enter_closing(message);
}

void Session::enter_closing(std::string_view reason) {
  if (state_ == State::kClosing || state_ == State::kClosed) return;
  state_ = State::kClosing;
  timer_.cancel();
  log_info("connection closing", {{"peer", peer_}, {"reason", reason}, {"inflight", inflight_}});
  maybe_finish_closing();
}

void Session::maybe_finish_closing() {
  if (state_ != State::kClosing || inflight_ > 0 || write_active_ || !pending_.empty()) return;
  if (peer_eof_) {
    close_now("done");
    return;
  }
  if (sent_fin_) return;
  // Everything is written: FIN, then wait (bounded) for the peer's EOF, dropping its
  // input, because closing with unread input would reset the connection.
  sent_fin_ = true;
  asio::error_code ignored;
  socket_.shutdown(asio::socket_base::shutdown_send, ignored);
  timer_.expires_after(kLingerTimeout);
  timer_.async_wait([self = shared_from_this()](const asio::error_code& error) {
    if (!error) self->close_now("linger timeout");
  });
  read_more();
}

void Session::close_now(std::string_view reason) {
  if (state_ == State::kClosed) return;
  const bool was_closing = state_ == State::kClosing;
  state_ = State::kClosed;
  timer_.cancel();
  write_timer_.cancel();
  end_subscriptions(wire::ErrorCode::None, "", /*send_ended=*/false);
  asio::error_code ignored;
  socket_.shutdown(asio::socket_base::shutdown_both, ignored);
  socket_.close(ignored);
  registry_.remove(this);
  services_.connections->fetch_sub(1);
  services_.metrics->on_connection_closed();
  if (!was_closing || reason != "done") log_info("connection closed", {{"peer", peer_}, {"reason", reason}});
  else log_info("connection closed", {{"peer", peer_}});
}

}  // namespace orderlog::server
