// BlockingPool: the threads that run requests which may block (order commands wait
// for their append's fsync, queries may wait for a projection to reach min_position),
// so io threads never block. Work posted here reports back by posting to its
// session's strand. Thread-safe.
#pragma once

#include <functional>
#include <memory>

namespace orderlog::server {

class BlockingPool {
 public:
  explicit BlockingPool(unsigned threads);
  ~BlockingPool();  // join()
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  void post(std::function<void()> work);
  // Waits for every posted piece of work to finish, then stops the threads.
  void join();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderlog::server
