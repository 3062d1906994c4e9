// Subscription: one client's catch-up-then-live feed of the global log, filtered by
// stream prefix and event types, with credit-based flow control (protocol.fbs).
//
// There is a single cursor over the log for both phases: pump() reads read_all pages
// from the cursor up to the committed head, so the switch from catch-up to live has
// no gap and no duplicate, and positions strictly increase. It sends at most as many
// events as the client has granted credit; filtered-out events cost no credit but
// advance `scanned_position`, reported so a client can resume past long filtered
// stretches. SubscriptionCaughtUp is sent once, when the cursor first passes the head.
//
// Socket-free: the session calls pump() on its strand when credit arrives, when the
// CommitNotifier says the head moved, and when its write queue drains. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "orderlog/event_store.h"
#include "server/wire_convert.h"

namespace orderlog::server {

struct SubscriptionFilter {
  std::string stream_prefix;             // "" = every stream
  std::vector<std::string> event_types;  // empty = every type
  bool matches(const EventView& event) const;
};

struct PumpLimits {
  size_t scan_events_max = 2048;      // log positions read per pump
  size_t batch_events_max = 10'000;   // events in one SubscriptionEvents
  size_t event_bytes_max = 1 << 20;   // encoded events in one frame
};

class Subscription {
 public:
  // Delivers positions > start_after; `credit` events may be sent before more arrives.
  Subscription(uint64_t id, SubscriptionFilter filter, GlobalPosition start_after, uint64_t credit);

  uint64_t id() const { return id_; }
  void add_credit(uint64_t credit);

  // Reads the next stretch past the cursor and appends what to send to `out`
  // (SubscriptionEvents, and SubscriptionCaughtUp once). Returns true when more could
  // be sent right away (committed events and credit left), false when it must wait
  // for a commit or for credit. kTooLarge when an event cannot fit in a frame; read
  // errors pass through. Either ends the subscription.
  Result<bool> pump(const EventStore& store, const PumpLimits& limits, std::vector<Reply>* out);

 private:
  void emit_caught_up(std::vector<Reply>* out);

  const uint64_t id_;
  const SubscriptionFilter filter_;
  uint64_t cursor_;        // the next position to consider
  uint64_t credit_;
  uint64_t reported_;      // the last scanned_position sent
  bool caught_up_sent_ = false;
};

// The last frame of subscription `id`.
Reply subscription_ended(uint64_t id, wire::ErrorCode code, std::string_view message);

}  // namespace orderlog::server
