// See log.h.
#include "server/log.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace orderlog::server {
namespace {

std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

bool needs_quotes(std::string_view value) {
  if (value.empty()) return true;
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

// Quotes and escapes so one field can never break the line into two or fake a key.
void append_value(std::string_view value, bool force_quotes, std::string* out) {
  if (!force_quotes && !needs_quotes(value)) {
    out->append(value);
    return;
  }
  out->push_back('"');
  for (char c : value) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (c == '\n') {
      out->append("\\n");
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<unsigned char>(c));
      out->append(escaped);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

void append_timestamp(uint64_t unix_ns, std::string* out) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ns / 1'000'000'000);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[64];  // room for any int the compiler imagines in each field
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", parts.tm_year + 1900, parts.tm_mon + 1,
                parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                static_cast<unsigned>(unix_ns % 1'000'000'000 / 1000));
  out->append(text);
}

uint64_t now_unix_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

}  // namespace

std::string format_log_line(uint64_t unix_ns, LogLevel level, std::string_view message,
                            std::initializer_list<LogField> fields) {
  std::string line;
  line.reserve(128);
  line.append("ts=");
  append_timestamp(unix_ns, &line);
  line.append(" level=");
  line.append(level_name(level));
  line.append(" msg=");
  append_value(message, /*force_quotes=*/true, &line);
  for (const LogField& field : fields) {
    line.push_back(' ');
    line.append(field.key);
    line.push_back('=');
    append_value(field.value, /*force_quotes=*/false, &line);
  }
  line.push_back('\n');
  return line;
}

void log_line(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
  const std::string line = format_log_line(now_unix_ns(), level, message, fields);
  // One write(2) per line: lines from different threads never interleave (stderr is
  // unbuffered and a pipe write of < PIPE_BUF bytes is atomic).
  size_t written = 0;
  while (written < line.size()) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + written, line.size() - written);
    if (n <= 0) return;  // nowhere to report a failing log
    written += static_cast<size_t>(n);
  }
}

LogSink engine_log_sink(std::string component) {
  return [component = std::move(component)](LogLevel level, std::string_view line) {
    log_line(level, line, {{"component", component}});
  };
}

}  // namespace orderlog::server
