// See commit_notifier.h.
#include "server/commit_notifier.h"

#include <pthread.h>

#include <chrono>
#include <utility>

namespace orderlog::server {
namespace {

// Bounds stop()'s latency; not a polling interval (commits wake the thread at once).
constexpr std::chrono::milliseconds kStopCheckInterval{100};

}  // namespace

CommitNotifier::CommitNotifier(const EventStore& store) : store_(store) {}

CommitNotifier::~CommitNotifier() { stop(); }

void CommitNotifier::start() { thread_ = std::thread([this] { run(); }); }

void CommitNotifier::stop() {
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  listeners_.clear();
}

uint64_t CommitNotifier::add(Listener listener) {
  std::lock_guard lock(mutex_);
  const uint64_t handle = next_handle_++;
  listeners_.emplace(handle, std::move(listener));
  return handle;
}

void CommitNotifier::remove(uint64_t handle) {
  std::lock_guard lock(mutex_);
  listeners_.erase(handle);
}

void CommitNotifier::run() {
  (void)pthread_setname_np(pthread_self(), "ol-notifier");
  GlobalPosition seen = store_.committed_position();
  while (!stopping_.load()) {
    if (!store_.wait_for_position(GlobalPosition{seen.value + 1}, kStopCheckInterval)) continue;
    seen = store_.committed_position();
    std::lock_guard lock(mutex_);
    for (auto& [handle, listener] : listeners_) listener();
  }
}

}  // namespace orderlog::server
