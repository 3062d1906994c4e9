// Channel's state, shared by channel.cc (requests, timeouts, lifetime) and
// channel_io.cc (connect, handshake, reads and writes). Private to the library.
//
// Locking: `mutex_` guards the request tables, the link state and the write flag;
// everything marked "io thread only" is touched by the io thread alone. Handlers are
// always called with the mutex released.
#pragma once

#include <asio.hpp>
#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "backoff.h"
#include "channel.h"
#include "event_loop_impl.h"
#include "wire/frame_decoder.h"

namespace orderlog::client::detail {

using Clock = std::chrono::steady_clock;

struct Op {
  uint64_t request_id = 0;
  Frame frame;  // kept only while a resend may need it
  ReplyHandler handler;
  Clock::time_point deadline;
  uint32_t attempts_left = 0;
  bool stream = false;
  bool answered = false;  // a stream's first frame arrived: no timeout any more
};

// One read asks for this much: many pipelined replies per syscall.
inline constexpr size_t kReadBytes = 64 * 1024;

// One TCP connection attempt and its buffers; handlers hold it by shared_ptr, so a
// late completion for a dropped connection still finds its buffers alive.
struct Connection {
  Connection(asio::io_context& io, uint32_t frame_bytes_max)
      : socket(io), resolver(io), handshake_timer(io), reader(frame_bytes_max, kReadBytes) {}
  asio::ip::tcp::socket socket;
  asio::ip::tcp::resolver resolver;
  asio::steady_timer handshake_timer;  // connect + handshake must finish by then
  wire::FrameDecoder reader;
  std::vector<std::byte> out;  // bytes of the write in flight
  bool writing = false;        // a write is in flight on this socket
  Frame hello;
  uint64_t hello_id = 0;
  bool ready = false;     // HelloOk received
  bool answered = false;  // a request was answered: the connection works, not only its handshake
  std::optional<Error> server_error;  // an Error frame not tied to a request
};

enum class LinkState { Idle, Connecting, Ready, Closed };

// Owned by shared_ptr: every handler it starts holds it, so a channel on a shared
// EventLoop stays alive until its last handler has run, after the Channel is gone.
class Channel::Impl : public std::enable_shared_from_this<Channel::Impl> {
 public:
  Impl(const ClientOptions& options, EventLoop::Impl& loop);

  // ---- channel.cc
  uint64_t submit(Frame frame, ReplyHandler handler, SubmitOptions submit_options);
  void send_oneway(Frame frame);
  void close();
  void sweep_timeouts();
  void complete(uint64_t request_id, const wire::Message& message);
  void fail_all(std::vector<Op> ops, const Error& error);
  void start_sweeping();
  void post_after(std::chrono::milliseconds delay, std::function<void()> task);
  bool on_io_thread() const { return loop_.on_thread(); }

  // ---- channel_io.cc
  void request_connect();  // io thread; at the backoff's time
  void start_connect();
  void on_connected(const std::shared_ptr<Connection>& connection);
  void on_hello(const std::shared_ptr<Connection>& connection, const wire::Message& message);
  void connect_failed(const std::shared_ptr<Connection>& connection, const Error& error);
  void connection_lost(const std::shared_ptr<Connection>& connection, const Error& error);
  // Either of the two above, by whether the handshake had completed.
  void lose(const std::shared_ptr<Connection>& connection, const Error& error);
  void drop_connection();
  void read_more(const std::shared_ptr<Connection>& connection);
  bool drain_frames(const std::shared_ptr<Connection>& connection);
  void flush();
  std::string peer() const;

  ClientOptions options_;
  EventLoop::Impl& loop_;  // ClientOptions::event_loop's, or the Channel's own
  asio::io_context& io_;
  asio::steady_timer sweep_timer_;
  asio::steady_timer reconnect_timer_;

  mutable std::mutex mutex_;
  std::condition_variable slot_freed_;
  size_t slot_waiters_ = 0;
  LinkState state_ = LinkState::Idle;
  std::deque<Op> queued_;                    // not yet written, in request-id order
  std::unordered_map<uint64_t, Op> sent_;    // written, awaiting replies
  std::vector<Frame> oneway_;                // unanswered frames to write next
  uint64_t next_request_id_ = 1;
  bool writing_ = false;                     // a flush is scheduled or in flight
  ServerInfo server_info_;
  size_t inflight_limit_;
  // Who waits for the current connect attempt (open()); io thread only.
  std::vector<std::function<void(const Error*)>> link_waiters_;

  std::shared_ptr<Connection> connection_;  // io thread only
  Backoff backoff_;                         // io thread only
  Clock::time_point reconnect_at_{};        // io thread only
  std::list<std::shared_ptr<asio::steady_timer>> delayed_;  // post_after; io thread only
  bool closed_ = false;                     // io thread only
};

}  // namespace orderlog::client::detail
