// See commit_notifier.h.
#include "server/commit_notifier.h"

#include <chrono>
#include <utility>

#include "orderlog/thread_name.h"

namespace orderlog::server {
namespace {

// Bounds stop()'s latency; not a polling interval (commits wake the thread at once).
constexpr std::chrono::milliseconds kStopCheckInterval{100};

}  // namespace

CommitNotifier::CommitNotifier(const EventStore& store) : store_(store) {}

CommitNotifier::~CommitNotifier() { stop(); }

// The position is read here, not on the new thread: commits made between start() and
// the thread's first instructions are then still news to it.
void CommitNotifier::start() {
  thread_ = std::thread([this, seen = store_.committed_position()] { run(seen); });
}

void CommitNotifier::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_.store(true);
  }
  listeners_changed_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  listeners_.clear();
}

uint64_t CommitNotifier::add(Listener listener) {
  std::lock_guard lock(mutex_);
  const uint64_t handle = next_handle_++;
  listeners_.emplace(handle, std::move(listener));
  listeners_changed_.notify_all();
  return handle;
}

void CommitNotifier::remove(uint64_t handle) {
  std::lock_guard lock(mutex_);
  listeners_.erase(handle);
}

void CommitNotifier::run(GlobalPosition seen) {
  name_this_thread("ol-notifier");
  while (!stopping_.load()) {
    {
      // With no one to tell, sleep until someone subscribes rather than wake for
      // every commit (a log written without subscribers cost this thread ~3% of the
      // server's CPU).
      std::unique_lock lock(mutex_);
      listeners_changed_.wait(lock, [this] { return !listeners_.empty() || stopping_.load(); });
    }
    if (stopping_.load()) break;
    if (!store_.wait_for_position(GlobalPosition{seen.value + 1}, kStopCheckInterval)) continue;
    seen = store_.committed_position();
    std::lock_guard lock(mutex_);
    for (auto& [handle, listener] : listeners_) listener();
  }
}

}  // namespace orderlog::server
