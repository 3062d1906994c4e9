// LogCapture: collects the log lines a store, snapshot store or projection sends to
// its LogSink (they arrive on the component's threads), for tests to inspect.
#pragma once

#include <algorithm>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "orderlog/event_store.h"

namespace orderlog::testing {

class LogCapture {
 public:
  LogSink sink() {
    return [this](LogLevel level, std::string_view line) {
      std::lock_guard<std::mutex> lock(mutex_);
      lines_.emplace_back(level, std::string(line));
    };
  }
  size_t count(LogLevel level) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<size_t>(std::count_if(lines_.begin(), lines_.end(),
                                             [&](const auto& line) { return line.first == level; }));
  }
  std::string dump() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string text;
    for (const auto& line : lines_) text += line.second + "\n";
    return text;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<LogLevel, std::string>> lines_;
};

}  // namespace orderlog::testing
