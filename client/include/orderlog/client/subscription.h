// A live feed of committed events: catch-up from a position, then live. Each
// Subscription owns its own connection, so a slow handler never delays the Client's
// requests and reconnects are local to it.
//
// Delivery is at-least-once in order of position. After a lost connection the
// subscription reconnects with backoff and resumes after the last position it
// delivered, so in practice no event is delivered twice; handlers that must be exact
// can still compare Event::position with the last one they applied.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "orderlog/client/events.h"
#include "orderlog/client/options.h"
#include "orderlog/client/result.h"

namespace orderlog::client {

enum class SubscriptionState : uint8_t {
  CaughtUp,      // everything committed at the start was delivered; now live
  Disconnected,  // the connection was lost; reconnecting with backoff
  Reconnected,   // subscribed again, resuming after `position`
  Ended,         // final: stopped, or an error that retrying cannot fix (`error`)
};

struct SubscriptionStatus {
  SubscriptionState state = SubscriptionState::CaughtUp;
  uint64_t position = 0;  // the last delivered position (CaughtUp: the server's)
  Error error;            // Disconnected and Ended only
};

// Both run on the subscription's own delivery thread, one call at a time. A handler
// may block (flow control holds the server back); it must not destroy its own
// Subscription (that aborts with a message saying so). On a shared EventLoop, a
// callback may destroy another Subscription of the loop (see ~Subscription).
using EventHandler = std::function<void(const Event&)>;
using StateHandler = std::function<void(const SubscriptionStatus&)>;

class Subscription {
 public:
  class Impl;
  explicit Subscription(std::unique_ptr<Impl> impl);
  // Stops (see stop()). From a callback on a shared EventLoop's thread (another
  // subscription's or client's) it does not wait: the connection is closed right
  // there, the state handler sees Ended before it returns, and no handler of this
  // subscription runs after it.
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Unsubscribes, closes the connection and waits until no handler is running (from
  // a handler itself it does not wait). Idempotent. The state handler then sees Ended
  // with ErrorCode::Closed, exactly once, also when stopped while it waits to
  // reconnect.
  void stop();
  // The position of the last event handed to the handler (the starting position
  // before any). Thread-safe.
  uint64_t last_position() const;
  // False once Ended.
  bool active() const;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderlog::client
