// See append_gate.h.
#include "server/append_gate.h"

#include <utility>

#include "orderlog/check.h"

namespace orderlog::server {

AppendGate::AppendGate(size_t pending_max) : pending_max_(pending_max) { OL_CHECK(pending_max > 0); }

void AppendGate::acquire() {
  std::lock_guard lock(mutex_);
  ++pending_;
}

void AppendGate::release() {
  std::vector<std::function<void()>> wake;
  {
    std::lock_guard lock(mutex_);
    OL_CHECK(pending_ > 0);
    --pending_;
    if (pending_ < pending_max_) wake.swap(waiters_);
  }
  // Outside the lock: a wake-up posts to a session's strand, which may call back in.
  for (auto& function : wake) function();
}

bool AppendGate::saturated() const {
  std::lock_guard lock(mutex_);
  return pending_ >= pending_max_;
}

bool AppendGate::wait(std::function<void()> wake) {
  std::lock_guard lock(mutex_);
  if (pending_ < pending_max_) return false;
  waiters_.push_back(std::move(wake));
  return true;
}

size_t AppendGate::pending() const {
  std::lock_guard lock(mutex_);
  return pending_;
}

}  // namespace orderlog::server
