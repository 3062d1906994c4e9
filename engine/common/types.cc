// Event ids (generation, text form, hashing) and the expected-version check. Ids are
// UUIDv7 so that ids generated later sort later, which keeps id-keyed indexes local.
#include "orderlog/types.h"

#include <chrono>
#include <cstring>
#include <random>

namespace orderlog {
namespace {

constexpr size_t kEventIdTextBytes = 36;
constexpr char kHexDigits[] = "0123456789abcdef";

bool is_hyphen_position(size_t index) { return index == 8 || index == 13 || index == 18 || index == 23; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One generator per thread: no lock on the hot path, and seeding from random_device
// keeps two processes started in the same millisecond from producing the same ids.
std::mt19937_64& thread_random() {
  thread_local std::mt19937_64 generator = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  return generator;
}

uint64_t unix_ms_now() {
  auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count());
}

// Folds a 64-bit value so every input bit affects every output bit (a multiply-
// xorshift finaliser); ids from one millisecond differ only in their random bits.
uint64_t mix64(uint64_t value) {
  value ^= value >> 33;
  value *= 0xff51afd7ed558ccdULL;
  value ^= value >> 33;
  value *= 0xc4ceb9fe1a85ec53ULL;
  value ^= value >> 33;
  return value;
}

uint64_t load_big_endian(const uint8_t* bytes) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | bytes[i];
  return value;
}

}  // namespace

EventId EventId::generate() {
  EventId id;
  uint64_t timestamp_ms = unix_ms_now();
  for (int i = 0; i < 6; ++i) id.bytes[i] = static_cast<uint8_t>(timestamp_ms >> (8 * (5 - i)));
  uint64_t random_high = thread_random()();
  uint64_t random_low = thread_random()();
  for (int i = 6; i < 8; ++i) id.bytes[i] = static_cast<uint8_t>(random_high >> (8 * (i - 6)));
  for (int i = 8; i < 16; ++i) id.bytes[i] = static_cast<uint8_t>(random_low >> (8 * (i - 8)));
  id.bytes[6] = static_cast<uint8_t>(0x70 | (id.bytes[6] & 0x0f));  // version 7
  id.bytes[8] = static_cast<uint8_t>(0x80 | (id.bytes[8] & 0x3f));  // RFC 9562 variant
  return id;
}

std::optional<EventId> EventId::parse(std::string_view text) {
  if (text.size() != kEventIdTextBytes) return std::nullopt;
  EventId id;
  size_t nibble = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (is_hyphen_position(i)) {
      if (text[i] != '-') return std::nullopt;
      continue;
    }
    int value = hex_value(text[i]);
    if (value < 0) return std::nullopt;
    uint8_t& byte = id.bytes[nibble / 2];
    byte = static_cast<uint8_t>(nibble % 2 == 0 ? value << 4 : byte | value);
    ++nibble;
  }
  return id;
}

bool EventId::is_nil() const {
  uint64_t words[2];
  std::memcpy(words, bytes.data(), sizeof(words));
  return (words[0] | words[1]) == 0;
}

std::string EventId::to_string() const {
  std::string text;
  text.reserve(kEventIdTextBytes);
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
    text += kHexDigits[bytes[i] >> 4];
    text += kHexDigits[bytes[i] & 0x0f];
  }
  return text;
}

size_t EventIdHash::operator()(const EventId& id) const noexcept {
  uint64_t high = load_big_endian(id.bytes.data());
  uint64_t low = load_big_endian(id.bytes.data() + 8);
  return static_cast<size_t>(mix64(high ^ mix64(low)));
}

bool ExpectedVersion::is_satisfied_by(StreamVersion current) const {
  switch (kind_) {
    case Kind::kAny: return true;
    case Kind::kNoStream: return current.value == 0;
    case Kind::kStreamExists: return current.value > 0;
    case Kind::kExact: return current.value == version_;
  }
  return false;
}

std::string ExpectedVersion::to_string() const {
  switch (kind_) {
    case Kind::kAny: return "any";
    case Kind::kNoStream: return "no_stream";
    case Kind::kStreamExists: return "stream_exists";
    case Kind::kExact: return "exactly " + std::to_string(version_);
  }
  return "unknown";
}

}  // namespace orderlog
