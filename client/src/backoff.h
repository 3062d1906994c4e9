// Reconnect delays: doubling from `min` to `max`, each drawn uniformly from its upper
// half so that many clients that lost the same server do not return in lockstep.
#pragma once

#include <algorithm>
#include <chrono>
#include <random>

namespace orderlog::client::detail {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max)
      : min_(std::max(min, std::chrono::milliseconds(1))), max_(std::max(max, min_)), current_(min_),
        random_(std::random_device{}()) {}

  // The delay before the next attempt; each call doubles the following one.
  std::chrono::milliseconds next() {
    const auto ceiling = current_;
    current_ = std::min(current_ * 2, max_);
    std::uniform_int_distribution<long long> half(ceiling.count() / 2, ceiling.count());
    return std::chrono::milliseconds(half(random_));
  }
  void reset() { current_ = min_; }

 private:
  std::chrono::milliseconds min_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds current_;
  std::minstd_rand random_;
};

}  // namespace orderlog::client::detail
