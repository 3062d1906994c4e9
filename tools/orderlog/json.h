// The little JSON the `orderlog` tool prints: one object per line, built field by
// field. Strings are escaped so any bytes (stream ids and tags are arbitrary) still
// make valid JSON: valid UTF-8 passes through, control characters and bytes that are
// not UTF-8 are escaped as \u00XX.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace orderlog::tool {

// `text` as a JSON string literal, quotes included.
std::string json_quote(std::string_view text);

// Standard base64 (RFC 4648, padded), for payloads that are not text.
std::string base64(std::span<const std::byte> bytes);

// Whether `bytes` is valid UTF-8 without control characters other than tab, newline
// and carriage return: what the tool prints as text rather than base64.
bool is_printable_text(std::span<const std::byte> bytes);

// "2026-12-06T22:00:00.123456789Z" for nanoseconds since the Unix epoch.
std::string utc_time(uint64_t unix_ns);

class JsonObject {
 public:
  JsonObject& string(std::string_view key, std::string_view value);
  JsonObject& number(std::string_view key, uint64_t value);
  JsonObject& signed_number(std::string_view key, int64_t value);
  JsonObject& boolean(std::string_view key, bool value);
  // `json` must already be a JSON value (an object, an array, ...).
  JsonObject& raw(std::string_view key, std::string_view json);
  // The object, closed.
  std::string str() const { return text_ + "}"; }

 private:
  void key(std::string_view name);
  std::string text_ = "{";
};

}  // namespace orderlog::tool
