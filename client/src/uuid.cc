// See uuid.h. UUIDv7 layout (RFC 9562 section 5.7): 48-bit big-endian Unix time in
// milliseconds, 4-bit version (7), 12 random bits, 2-bit variant (10), 62 random bits.
#include "orderlog/client/uuid.h"

#include <chrono>
#include <random>

namespace orderlog::client {
namespace {

std::mt19937_64& thread_random() {
  // Seeded once per thread from the OS so ids from different threads and processes
  // do not collide.
  thread_local std::mt19937_64 generator([] {
    std::random_device device;
    return (uint64_t{device()} << 32) ^ device();
  }());
  return generator;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_dash_position(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

}  // namespace

Uuid Uuid::generate() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
  const uint64_t random_high = thread_random()();
  const uint64_t random_low = thread_random()();
  Uuid id;
  for (int i = 0; i < 6; ++i) id.bytes[i] = static_cast<uint8_t>(ms >> (40 - 8 * i));
  for (int i = 6; i < 8; ++i) id.bytes[i] = static_cast<uint8_t>(random_high >> (8 * i));
  for (int i = 8; i < 16; ++i) id.bytes[i] = static_cast<uint8_t>(random_low >> (8 * (i - 8)));
  id.bytes[6] = static_cast<uint8_t>(0x70 | (id.bytes[6] & 0x0f));  // version 7
  id.bytes[8] = static_cast<uint8_t>(0x80 | (id.bytes[8] & 0x3f));  // variant 10
  return id;
}

std::optional<Uuid> Uuid::parse(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  Uuid id;
  size_t byte = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (is_dash_position(i)) {
      if (text[i] != '-') return std::nullopt;
      continue;
    }
    const int high = hex_value(text[i]);
    const int low = hex_value(text[i + 1]);
    if (high < 0 || low < 0 || is_dash_position(i + 1)) return std::nullopt;
    id.bytes[byte++] = static_cast<uint8_t>(high << 4 | low);
    ++i;
  }
  return id;
}

bool Uuid::is_nil() const {
  for (uint8_t b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

std::string Uuid::to_string() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  text.reserve(36);
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text.push_back('-');
    text.push_back(kHex[bytes[i] >> 4]);
    text.push_back(kHex[bytes[i] & 0x0f]);
  }
  return text;
}

uint64_t Uuid::unix_ms() const {
  uint64_t ms = 0;
  for (int i = 0; i < 6; ++i) ms = ms << 8 | bytes[i];
  return ms;
}

}  // namespace orderlog::client
