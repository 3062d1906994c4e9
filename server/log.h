// orderlogd's structured log: one line per event on stderr, logfmt style,
//   ts=2024-05-01T12:00:00.123456Z level=info msg="listening" addr=127.0.0.1:7070
// so operators can grep and ship it without a parser of our own. The engine's
// LogSink lines are routed here too (engine_log_sink). Secrets (tokens) must never be
// passed as fields. Thread-safe: each line is written with one write(2).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "orderlog/event_store.h"

namespace orderlog::server {

struct LogField {
  LogField(std::string_view key_in, std::string_view value_in) : key(key_in), value(value_in) {}
  LogField(std::string_view key_in, const std::string& value_in) : key(key_in), value(value_in) {}
  LogField(std::string_view key_in, const char* value_in) : key(key_in), value(value_in) {}
  LogField(std::string_view key_in, uint64_t number) : key(key_in), owned(std::to_string(number)), value(owned) {}
  LogField(std::string_view key_in, int64_t number) : key(key_in), owned(std::to_string(number)), value(owned) {}
  LogField(std::string_view key_in, int number) : key(key_in), owned(std::to_string(number)), value(owned) {}
  LogField(std::string_view key_in, unsigned number) : key(key_in), owned(std::to_string(number)), value(owned) {}
  LogField(const LogField&) = delete;
  LogField& operator=(const LogField&) = delete;

  std::string_view key;
  std::string owned;  // numbers are formatted here; `value` views it
  std::string_view value;
};

void log_line(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {});

inline void log_info(std::string_view message, std::initializer_list<LogField> fields = {}) {
  log_line(LogLevel::kInfo, message, fields);
}
inline void log_warning(std::string_view message, std::initializer_list<LogField> fields = {}) {
  log_line(LogLevel::kWarning, message, fields);
}
inline void log_error(std::string_view message, std::initializer_list<LogField> fields = {}) {
  log_line(LogLevel::kError, message, fields);
}

// The engine components' LogSink: their lines become msg="..." with component=`name`.
LogSink engine_log_sink(std::string component);

// Formats one line (without writing it); exposed for tests of the escaping rules.
std::string format_log_line(uint64_t unix_ns, LogLevel level, std::string_view message,
                            std::initializer_list<LogField> fields);

}  // namespace orderlog::server
