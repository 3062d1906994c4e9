// AppendGate: a bounded count of appends handed to the store and not yet completed,
// shared by every session. When it is full, sessions stop reading their sockets
// (backpressure reaches the clients through TCP) instead of queueing without limit
// or failing requests with Busy; each waiting session is woken once the count drops.
// Thread-safe: acquire() runs on io threads, release() on the store's writer thread.
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <vector>

namespace orderlog::server {

class AppendGate {
 public:
  explicit AppendGate(size_t pending_max);

  // One more append is pending. Called only after saturated() was false, so the count
  // exceeds pending_max by at most the number of io threads.
  void acquire();
  // One pending append completed. Runs the wake-ups registered while saturated when
  // the count drops below the limit (on this thread: they must not block).
  void release();
  bool saturated() const;
  // Registers `wake` for when the gate opens; false (and `wake` dropped) if it is
  // open already, so the caller goes on at once. At most one per session.
  bool wait(std::function<void()> wake);
  size_t pending() const;

 private:
  const size_t pending_max_;
  mutable std::mutex mutex_;
  size_t pending_ = 0;
  std::vector<std::function<void()>> waiters_;
};

}  // namespace orderlog::server
