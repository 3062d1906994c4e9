// See log.h.
#include "common/log.h"

#include <cstdio>

namespace orderlog {

std::string_view log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
  }
  return "?";
}

void write_log(const LogSink& sink, LogLevel level, std::string_view line) {
  if (sink) {
    sink(level, line);
    return;
  }
  const std::string_view name = log_level_name(level);
  std::fprintf(stderr, "orderlog %.*s: %.*s\n", static_cast<int>(name.size()), name.data(),
               static_cast<int>(line.size()), line.data());
}

}  // namespace orderlog
