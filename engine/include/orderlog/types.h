// Strong value types of the log: global positions, stream versions, event ids and
// expected versions. Distinct types so a position can never be passed as a version.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace orderlog {

// 1-based, gapless position of an event in the global log. 0 means "before the first".
struct GlobalPosition {
  uint64_t value = 0;
  friend auto operator<=>(GlobalPosition, GlobalPosition) = default;
};

// 1-based version of an event within its stream; a stream's version is its event count.
// 0 means the stream has no events.
struct StreamVersion {
  uint64_t value = 0;
  friend auto operator<=>(StreamVersion, StreamVersion) = default;
};

// A 16-byte identifier (UUID layout). Event ids make retried appends idempotent;
// correlation and causation ids use the same type.
struct EventId {
  std::array<uint8_t, 16> bytes{};

  // A new time-ordered (UUIDv7 layout) random id. Thread-safe.
  static EventId generate();
  // Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"; nullopt on malformed input.
  static std::optional<EventId> parse(std::string_view text);

  bool is_nil() const;
  std::string to_string() const;
  friend auto operator<=>(const EventId&, const EventId&) = default;
};

struct EventIdHash {
  size_t operator()(const EventId& id) const noexcept;
};

// The optimistic-concurrency condition of an append, checked by the writer against
// the stream's current version.
class ExpectedVersion {
 public:
  enum class Kind : uint8_t { kAny, kNoStream, kStreamExists, kExact };

  static ExpectedVersion any() { return ExpectedVersion(Kind::kAny, 0); }
  static ExpectedVersion no_stream() { return ExpectedVersion(Kind::kNoStream, 0); }
  static ExpectedVersion stream_exists() { return ExpectedVersion(Kind::kStreamExists, 0); }
  // The stream's current version must be exactly `version` (0 = the stream is empty).
  static ExpectedVersion exact(StreamVersion version) { return ExpectedVersion(Kind::kExact, version.value); }

  Kind kind() const { return kind_; }
  StreamVersion version() const { return StreamVersion{version_}; }  // kExact only
  bool is_satisfied_by(StreamVersion current) const;
  std::string to_string() const;

 private:
  ExpectedVersion(Kind kind, uint64_t version) : kind_(kind), version_(version) {}
  Kind kind_;
  uint64_t version_;
};

}  // namespace orderlog
