// EventLoop's state (event_loop.h), shared with Channel. Private to the library.
#pragma once

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <thread>

#include "orderlog/client/event_loop.h"

namespace orderlog::client {

struct EventLoop::Impl {
  Impl();
  // Lets run() return once no work is left (every channel on the loop is closed and
  // its last handlers have run), then joins the thread. Idempotent.
  void stop_and_join();
  bool on_thread() const { return std::this_thread::get_id() == thread_id; }

  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::thread thread;
  std::thread::id thread_id;
  std::atomic<size_t> open_channels{0};  // opened and not yet shut down
};

}  // namespace orderlog::client
