// Events and the requests that append and read them. Every type owns its data (no
// views into network buffers), so values outlive the call that produced them.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "orderlog/client/result.h"
#include "orderlog/client/uuid.h"

namespace orderlog::client {

struct AppendResult;
struct ReadPage;

// What the caller believes about a stream before appending to it.
class ExpectedVersion {
 public:
  enum class Kind : uint8_t { Any = 0, NoStream, StreamExists, Exact };

  static ExpectedVersion any() { return ExpectedVersion(Kind::Any, 0); }
  static ExpectedVersion no_stream() { return ExpectedVersion(Kind::NoStream, 0); }
  static ExpectedVersion stream_exists() { return ExpectedVersion(Kind::StreamExists, 0); }
  // The stream holds exactly `version` events (0: it is empty or absent).
  static ExpectedVersion exact(uint64_t version) { return ExpectedVersion(Kind::Exact, version); }

  Kind kind() const { return kind_; }
  uint64_t version() const { return version_; }  // Exact only

 private:
  ExpectedVersion(Kind kind, uint64_t version) : kind_(kind), version_(version) {}
  Kind kind_;
  uint64_t version_;
};

struct Tag {
  std::string key;
  std::string value;
  friend bool operator==(const Tag&, const Tag&) = default;
};

// An event to append. A nil id is replaced by a fresh UUIDv7 when the request is
// encoded; the same id is then used for the client's own retries, which the server
// de-duplicates.
struct NewEvent {
  EventId id;
  std::string type;
  uint16_t schema_version = 1;
  std::string payload;  // opaque bytes
  Uuid correlation_id;  // nil: absent
  Uuid causation_id;    // nil: absent
  std::vector<Tag> tags;
};

// A committed event.
struct Event {
  uint64_t position = 0;  // global, strictly increasing
  std::string stream_id;
  uint64_t version = 0;   // 1-based within its stream
  uint64_t timestamp_ns = 0;  // commit time, ns since the Unix epoch
  std::string type;
  uint16_t schema_version = 1;
  EventId id;
  Uuid correlation_id;
  Uuid causation_id;
  std::string payload;
  std::vector<Tag> tags;
};

struct AppendResult {
  uint64_t first_position = 0;
  uint64_t last_position = 0;
  std::vector<uint64_t> stream_versions;  // per stream after the append, request order
  bool deduplicated = false;  // every event id was already written: nothing appended
};

enum class Direction : uint8_t { Forward, Backward };

struct ReadPage {
  std::vector<Event> events;
  uint64_t next = 0;  // where the next page starts (a version for stream reads)
  bool end = false;   // nothing more committed past this page now
};

// ---------------------------------------------------------------- requests
// Each request names its Response; Client::call / call_async / call_future take any.

struct AppendRequest {
  using Response = AppendResult;
  std::string stream_id;
  ExpectedVersion expected = ExpectedVersion::any();
  std::vector<NewEvent> events;
};

// Several streams appended atomically: all or nothing.
struct AppendMultiRequest {
  using Response = AppendResult;
  std::vector<AppendRequest> streams;
};

inline constexpr uint64_t kStreamEnd = std::numeric_limits<uint64_t>::max();

struct ReadStreamRequest {
  using Response = ReadPage;
  std::string stream_id;
  uint64_t from_version = 0;  // inclusive; Backward from kStreamEnd = from the end
  Direction direction = Direction::Forward;
  uint32_t max_count = 100;
};

struct ReadAllRequest {
  using Response = ReadPage;
  uint64_t from_position = 0;  // inclusive
  uint32_t max_count = 100;
};

struct ReadByTypeRequest {
  using Response = ReadPage;
  std::string type;
  uint64_t from_position = 0;
  uint32_t max_count = 100;
};

struct ReadByTimeRequest {
  using Response = ReadPage;
  uint64_t from_ns = 0;  // inclusive
  uint64_t to_ns = 0;    // exclusive
  uint64_t from_position = 0;  // the paging cursor
  uint32_t max_count = 100;
};

}  // namespace orderlog::client
