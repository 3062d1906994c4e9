// orderlog::client::EventLoop — one io thread that many Clients (and their
// Subscriptions) can share.
//
// By default every Client starts its own io thread. An application that holds many
// connections (a gateway, a load generator) can put them on a few loops instead:
// one thread then waits on all their sockets at once, so a burst of replies costs one
// wake-up instead of one per connection, and the machine runs fewer threads.
//
//   orderlog::client::EventLoop loop;
//   ClientOptions options;
//   options.event_loop = &loop;
//   auto a = Client::connect(options), b = Client::connect(options);
//
// Callbacks of every Client on a loop run on its one thread, so a slow callback
// delays them all. A blocking call made from any callback on the loop returns
// InvalidArgument, as it would deadlock. The loop must outlive every Client and
// Subscription that uses it: destroying it while one is still open aborts the
// program with a message saying so.
#pragma once

#include <memory>

namespace orderlog::client {

class EventLoop {
 public:
  EventLoop();   // starts the thread
  ~EventLoop();  // joins it; see above
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderlog::client
