// See event_loop.h.
#include "orderlog/client/event_loop.h"

#include <pthread.h>

#include <cstdio>
#include <cstdlib>

#include "event_loop_impl.h"

namespace orderlog::client {

EventLoop::Impl::Impl() : work(asio::make_work_guard(io)) {
  thread = std::thread([this] {
    // The client's io thread, recognisable among the application's own (`top -H`).
    (void)pthread_setname_np(pthread_self(), "ol-client-io");
    io.run();
  });
  thread_id = thread.get_id();
}

void EventLoop::Impl::stop_and_join() {
  if (!thread.joinable()) return;
  work.reset();
  thread.join();
}

EventLoop::EventLoop() : impl_(std::make_unique<Impl>()) {}

EventLoop::~EventLoop() {
  // An open client keeps a read pending on its socket: run() would never return and
  // the join below would hang. Say why instead.
  if (const size_t open = impl_->open_channels.load(); open > 0) {
    std::fprintf(stderr, "orderlog::client::EventLoop destroyed while %zu client connection(s) still use it\n", open);
    std::abort();
  }
  impl_->stop_and_join();
}

}  // namespace orderlog::client
