// CommitNotifier: one thread that watches the store's committed position and tells
// every listener (a session with live subscriptions) when it advances. One waiter
// for the whole server, never one per subscription, and no polling: the thread sleeps
// in EventStore::wait_for_position until a commit (or a timeout that only bounds how
// long stop() takes), and while there is no listener, until one is added.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "orderlog/event_store.h"

namespace orderlog::server {

class CommitNotifier {
 public:
  // Listeners run on the notifier thread under its lock: they must only post work
  // elsewhere (never block, never call add() or remove()).
  using Listener = std::function<void()>;

  explicit CommitNotifier(const EventStore& store);
  ~CommitNotifier();
  CommitNotifier(const CommitNotifier&) = delete;
  CommitNotifier& operator=(const CommitNotifier&) = delete;

  void start();
  // Joins the thread; idempotent. Listeners are not called afterwards.
  void stop();

  // Returns a handle for remove(). Thread-safe.
  uint64_t add(Listener listener);
  void remove(uint64_t handle);

 private:
  void run(GlobalPosition seen);

  const EventStore& store_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable listeners_changed_;  // a listener added, or stopping
  uint64_t next_handle_ = 1;
  std::map<uint64_t, Listener> listeners_;
};

}  // namespace orderlog::server
