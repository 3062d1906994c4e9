// See blocking_pool.h.
#include "server/blocking_pool.h"

#include <asio/post.hpp>
#include <asio/thread_pool.hpp>

namespace orderlog::server {

struct BlockingPool::Impl {
  explicit Impl(unsigned threads) : pool(threads) {}
  asio::thread_pool pool;
};

BlockingPool::BlockingPool(unsigned threads) : impl_(std::make_unique<Impl>(threads == 0 ? 1 : threads)) {}

BlockingPool::~BlockingPool() { join(); }

void BlockingPool::post(std::function<void()> work) { asio::post(impl_->pool, std::move(work)); }

void BlockingPool::join() { impl_->pool.join(); }

}  // namespace orderlog::server
