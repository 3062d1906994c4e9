// Session: one client connection. Everything a session does runs on its own strand,
// so its state needs no locks; work finished elsewhere (the store's writer thread, the
// command pool, the commit notifier) is posted back to the strand.
//
// Reading: large reads into a wire::FrameDecoder, then every complete frame is handled
// in turn. Reading stops (backpressure, not errors) while the connection has
// inflight_per_connection_max requests unanswered, while its unsent output is over a
// high-water mark, and while the server's AppendGate is full; it resumes when that
// clears. Writing: replies are gathered into one queue and written with one
// async_write per batch, small frames copied together so 10,000 pipelined replies
// are a handful of syscalls.
//
// Lifecycle: handshake (Hello within handshake_timeout_ms) -> ready -> closing (no more requests; the
// in-flight ones are answered, the queue flushed, then FIN is sent and input is read
// and dropped until the peer closes or a short linger ends, so a close never resets
// the connection before the peer has read our last frame) -> closed.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

// Standard headers before Asio: Asio picks aligned_alloc or operator new from a
// libstdc++ macro, and every translation unit must pick the same (ODR).
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include "server/services.h"
#include "server/subscription.h"
#include "server/wire_convert.h"
#include "wire/frame_decoder.h"

namespace orderlog::server {

class Session;

// The open sessions, for shutdown. Thread-safe.
class SessionRegistry {
 public:
  void add(const std::shared_ptr<Session>& session);
  void remove(const Session* session);
  std::vector<std::shared_ptr<Session>> all() const;
  size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::map<const Session*, std::weak_ptr<Session>> sessions_;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  using Strand = asio::strand<asio::io_context::executor_type>;

  // `socket` must use `strand` as its executor. The caller has counted the connection.
  Session(asio::ip::tcp::socket socket, Strand strand, const Services& services, SessionRegistry& registry);
  ~Session();

  void start();
  // Server shutdown: stop reading, end subscriptions (Unavailable), answer what is in
  // flight, flush, close. Thread-safe.
  void shut_down();
  // Closes the socket now, whatever is pending. Thread-safe.
  void force_close();

 private:
  enum class State { kHandshake, kReady, kClosing, kClosed };
  // Unsent output above which the session stops reading requests and pumping
  // subscriptions until the socket drains.
  static constexpr size_t kWriteHighWaterBytes = 4 * 1024 * 1024;
  // The high-water mark stops reading, but replies to requests read before it (up to
  // inflight_max of them, each up to a frame) still arrive. A peer that lets more than
  // this wait unread is closed rather than buffered for (replies_queued_bytes_max()).
  static constexpr size_t kRepliesQueuedBytesMin = 64 * 1024 * 1024;
  size_t replies_queued_bytes_max() const;
  struct OutChunk {
    std::vector<std::byte> bytes;        // small frames copied together
    flatbuffers::DetachedBuffer frame;   // or one large frame as is
  };

  // reading and frames (session.cc)
  void read_more();
  void on_read(const asio::error_code& error, size_t bytes);
  void process_frames();
  bool can_process();
  void resume();
  void handle_frame(std::span<const std::byte> frame);
  void handle_bad_frame(std::string_view why);
  void handle_hello(const wire::Message& message);
  void handle_request(const wire::Message& message);
  // requests, replies and output (session_output.cc)
  void begin_request();
  void deliver(Reply reply, wire::Body type, uint64_t request_id, uint64_t start_ns);
  void queue_frame(flatbuffers::DetachedBuffer frame);
  void start_write();
  void on_write(const asio::error_code& error);
  void watch_writes();
  void fail(wire::ErrorCode code, std::string_view message);
  void enter_closing(std::string_view reason);
  void maybe_finish_closing();
  void close_now(std::string_view reason);
  // subscriptions (session_subscriptions.cc)
  Reply subscribe(const wire::Message& message);
  void handle_credit(const wire::Credit& credit);
  Reply unsubscribe(uint64_t request_id, const wire::Unsubscribe& request);
  void pump_subscriptions();
  void end_subscriptions(wire::ErrorCode code, std::string_view message, bool send_ended);
  void on_commit();

  asio::ip::tcp::socket socket_;
  Strand strand_;
  asio::steady_timer timer_;  // the handshake timeout, then the closing linger
  asio::steady_timer write_timer_;  // watch_writes(): a write stuck for write_timeout_ms
  const Services& services_;
  SessionRegistry& registry_;
  const std::string peer_;
  wire::FrameDecoder decoder_;

  State state_ = State::kHandshake;
  Tenant* tenant_ = nullptr;
  bool reading_ = false;
  bool peer_eof_ = false;
  bool sent_fin_ = false;
  bool processing_ = false;
  bool waiting_for_gate_ = false;
  size_t inflight_ = 0;
  size_t bad_frames_ = 0;

  std::vector<OutChunk> pending_;  // not yet handed to the socket
  std::vector<OutChunk> writing_;  // the async_write in progress
  bool write_active_ = false;
  uint64_t write_generation_ = 0;          // writes started
  uint64_t watched_write_generation_ = 0;  // write_generation_ at the watch's last look
  bool write_watch_armed_ = false;
  size_t queued_bytes_ = 0;        // pending_ + writing_

  std::map<uint64_t, std::unique_ptr<Subscription>> subscriptions_;
  uint64_t pump_next_ = 0;  // the subscription id the next pump turn starts from
  uint64_t notifier_handle_ = 0;
  std::atomic<bool> commit_wake_pending_{false};
  bool pump_posted_ = false;
};

}  // namespace orderlog::server
