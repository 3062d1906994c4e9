// See blocking_pool.h.
#include "server/blocking_pool.h"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "orderlog/thread_name.h"

namespace orderlog::server {

// An io_context run by our own threads rather than asio::thread_pool, so that each
// thread carries a name (`top -H`, perf) like the rest of orderlogd's.
struct BlockingPool::Impl {
  explicit Impl(unsigned count) : work(io.get_executor()) {
    threads.reserve(count);
    for (unsigned i = 0; i < count; ++i) {
      threads.emplace_back([this, i] {
        name_this_thread("ol-cmd-" + std::to_string(i));
        io.run();
      });
    }
  }

  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::mutex join_mutex;
  std::vector<std::thread> threads;
};

BlockingPool::BlockingPool(unsigned threads) : impl_(std::make_unique<Impl>(threads == 0 ? 1 : threads)) {}

BlockingPool::~BlockingPool() { join(); }

void BlockingPool::post(std::function<void()> work) { asio::post(impl_->io, std::move(work)); }

void BlockingPool::join() {
  std::lock_guard lock(impl_->join_mutex);
  impl_->work.reset();  // run() returns once the posted work is done
  for (std::thread& thread : impl_->threads) {
    if (thread.joinable()) thread.join();
  }
}

}  // namespace orderlog::server
