// Channel: the transport under Client and Subscription. One TCP connection, one io
// thread (its own, or a shared EventLoop's), request ids, pipelining, timeouts,
// reconnects.
//
// Callers hand it complete frames; it assigns request ids, queues them, and the io
// thread writes everything queued in one gather of bytes (so a burst of requests
// costs one syscall), reads replies in bulk, verifies every frame and routes it by
// request id to its handler. If the connection drops, requests in flight are resent
// over a new one (up to retries_max) or fail with Disconnected; a request arriving
// while disconnected triggers a reconnect, spaced by a jittered backoff.
//
// Thread-safety: all public methods may be called from any thread. Handlers run on
// the io thread; a submit() from the io thread never blocks.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "codec.h"
#include "orderlog/client/event_loop.h"
#include "orderlog/client/options.h"
#include "orderlog/client/queries.h"
#include "orderlog/client/result.h"

namespace orderlog::client::detail {

// Called with a verified reply (`error` null), or with `message` null and the reason
// no reply will come. For a stream request, returning true keeps the handler for the
// next frame with the same request id; otherwise it is called exactly once.
using ReplyHandler = std::function<bool(const wire::Message* message, const Error* error)>;

struct SubmitOptions {
  bool stream = false;  // several frames answer it; no timeout after the first
  bool retry = true;    // may be resent over a new connection (ClientOptions::retries_max)
};

class Channel {
 public:
  // Starts the io thread (unless options.event_loop gives one), connects and
  // completes the handshake (one attempt).
  static Result<std::unique_ptr<Channel>> open(const ClientOptions& options);
  // Fails everything outstanding with Closed; once it returns no handler of this
  // channel runs again. Joins its own io thread; on a shared loop, the channel's
  // remaining (cancelled) operations finish there. Idempotent; the channel stays a
  // valid (closed) object, so handlers running meanwhile may still use it.
  // On a shared loop's thread (another channel's callback) it closes without waiting.
  // REQUIRES: not called from one of this channel's own handlers (nor, therefore, on
  // its own io thread).
  void shutdown();
  ~Channel();  // shutdown()
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Sends `frame` (from an encoder of codec.h) under a fresh request id, which it
  // returns. Blocks while the in-flight limit is reached, unless on the io thread.
  uint64_t submit(Frame frame, ReplyHandler handler, SubmitOptions options);
  // Sends a frame that is never answered (Credit) if connected; dropped otherwise.
  void send_oneway(Frame frame);
  // Runs `task` on the io thread after `delay` (unless the channel closes first).
  void post_after(std::chrono::milliseconds delay, std::function<void()> task);
  // Drops the connection as if it was lost (tests, and Subscription::stop()).
  void disconnect();

  ServerInfo server_info() const;
  bool on_io_thread() const;

  class Impl;

 private:
  Channel(std::unique_ptr<EventLoop> own_loop, std::shared_ptr<Impl> impl);
  std::unique_ptr<EventLoop> own_loop_;  // declared first: destroyed after impl_
  std::shared_ptr<Impl> impl_;
  bool shut_down_ = false;
};

}  // namespace orderlog::client::detail
