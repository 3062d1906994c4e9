// Shared helpers for the EventStore tests: event batches that own the bytes a NewEvent
// only views, a store opened on a MemEnv with small segments, owned copies of read
// events (EventView points into the store's mapping) and paging readers that walk a
// whole query the way a client would.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "log_capture.h"
#include "mem_env.h"
#include "scratch_dir.h"
#include "orderlog/event.h"
#include "orderlog/event_store.h"
#include "orderlog/status.h"
#include "orderlog/types.h"

namespace orderlog {

// Readable failure messages for the strong types.
inline void PrintTo(const EventId& id, std::ostream* os) { *os << id.to_string(); }
inline void PrintTo(GlobalPosition position, std::ostream* os) { *os << "position " << position.value; }
inline void PrintTo(StreamVersion version, std::ostream* os) { *os << "version " << version.value; }
inline void PrintTo(StatusCode code, std::ostream* os) { *os << status_code_name(code); }

namespace testing {

inline Status status_of(const Status& status) { return status; }
template <typename T>
Status status_of(const Result<T>& result) {
  return result.status();
}

}  // namespace testing
}  // namespace orderlog

#define ASSERT_OK(expr)                                                             \
  do {                                                                              \
    const ::orderlog::Status ol_test_status_ = ::orderlog::testing::status_of(expr); \
    ASSERT_TRUE(ol_test_status_.is_ok()) << ol_test_status_.to_string();            \
  } while (0)

#define EXPECT_OK(expr)                                                             \
  do {                                                                              \
    const ::orderlog::Status ol_test_status_ = ::orderlog::testing::status_of(expr); \
    EXPECT_TRUE(ol_test_status_.is_ok()) << ol_test_status_.to_string();            \
  } while (0)

// `ASSERT_OK_AND_ASSIGN(auto store, open_store(env));` binds the value or fails the test.
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(OL_CONCAT(ol_test_result_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr)           \
  auto tmp = (expr);                                        \
  ASSERT_TRUE(tmp.is_ok()) << tmp.status().to_string();     \
  lhs = std::move(tmp).value()

namespace orderlog::testing {

inline constexpr char kDataDir[] = "/db";
inline constexpr char kLogDir[] = "/db/log";
inline constexpr uint64_t kSmallSegmentBytes = 64 * 1024;
inline constexpr uint64_t kDefaultTestSegmentBytes = 256 * 1024;

// Everything an application says about one event, owned.
struct EventSpec {
  EventId id = EventId::generate();
  std::string type = "TestEvent";
  std::string payload;
  uint16_t schema_version = 1;
  EventId correlation_id;
  EventId causation_id;
  std::vector<std::pair<std::string, std::string>> tags;
};

// Owns a list of events and exposes them as the NewEvent views an append takes. The
// views are rebuilt on every change, copy and move, so they never dangle.
class EventBatch {
 public:
  EventBatch() = default;
  explicit EventBatch(std::vector<EventSpec> specs) : specs_(std::move(specs)) { rebuild(); }
  EventBatch(const EventBatch& other) : specs_(other.specs_) { rebuild(); }
  EventBatch(EventBatch&& other) : specs_(std::move(other.specs_)) { rebuild(); }
  EventBatch& operator=(const EventBatch& other) {
    specs_ = other.specs_;
    rebuild();
    return *this;
  }
  EventBatch& operator=(EventBatch&& other) {
    specs_ = std::move(other.specs_);
    rebuild();
    return *this;
  }

  EventBatch& add(EventSpec spec) {
    specs_.push_back(std::move(spec));
    rebuild();
    return *this;
  }
  std::span<const NewEvent> events() const { return views_; }
  const EventSpec& operator[](size_t index) const { return specs_.at(index); }
  const std::vector<EventSpec>& specs() const { return specs_; }
  size_t size() const { return specs_.size(); }

 private:
  void rebuild() {
    views_.clear();
    tag_views_.assign(specs_.size(), {});
    for (size_t i = 0; i < specs_.size(); ++i) {
      const EventSpec& spec = specs_[i];
      for (const auto& [key, value] : spec.tags) tag_views_[i].push_back(Tag{key, value});
      NewEvent event;
      event.id = spec.id;
      event.type = spec.type;
      event.schema_version = spec.schema_version;
      event.payload = std::as_bytes(std::span<const char>(spec.payload.data(), spec.payload.size()));
      event.correlation_id = spec.correlation_id;
      event.causation_id = spec.causation_id;
      event.tags = tag_views_[i];
      views_.push_back(event);
    }
  }

  std::vector<EventSpec> specs_;
  std::vector<std::vector<Tag>> tag_views_;
  std::vector<NewEvent> views_;
};

// `count` events of `type` with fresh random ids and payloads "<type> #<i>".
inline EventBatch make_events(size_t count, std::string_view type = "TestEvent") {
  std::vector<EventSpec> specs(count);
  for (size_t i = 0; i < count; ++i) {
    specs[i].type = std::string(type);
    specs[i].payload = std::string(type) + " #" + std::to_string(i);
  }
  return EventBatch(std::move(specs));
}

// One event with a fresh random id.
inline EventBatch make_event(std::string type, std::string payload) {
  EventSpec spec;
  spec.type = std::move(type);
  spec.payload = std::move(payload);
  return EventBatch({spec});
}

// An owned copy of an EventView, comparable across store instances.
struct StoredEvent {
  uint64_t position = 0;
  uint64_t version = 0;
  uint64_t timestamp_ns = 0;
  uint16_t schema_version = 0;
  EventId id;
  EventId correlation_id;
  EventId causation_id;
  std::string stream_id;
  std::string type;
  std::string payload;
  std::vector<std::pair<std::string, std::string>> tags;

  friend bool operator==(const StoredEvent&, const StoredEvent&) = default;
};

inline void PrintTo(const StoredEvent& event, std::ostream* os) {
  *os << "{position " << event.position << ", " << event.stream_id << "@" << event.version << ", "
      << event.type << ", id " << event.id.to_string() << ", " << event.payload.size() << " payload bytes, t "
      << event.timestamp_ns << "}";
}

inline StoredEvent to_stored(const EventView& view) {
  StoredEvent event;
  event.position = view.position.value;
  event.version = view.version.value;
  event.timestamp_ns = view.timestamp_ns;
  event.schema_version = view.schema_version;
  event.id = view.id;
  event.correlation_id = view.correlation_id;
  event.causation_id = view.causation_id;
  event.stream_id = std::string(view.stream_id);
  event.type = std::string(view.type);
  event.payload = std::string(view.payload_text());
  for (const Tag& tag : view.tags) event.tags.emplace_back(std::string(tag.key), std::string(tag.value));
  return event;
}

inline std::vector<StoredEvent> to_stored(const std::vector<EventView>& views) {
  std::vector<StoredEvent> events;
  for (const EventView& view : views) events.push_back(to_stored(view));
  return events;
}

inline std::vector<EventId> ids_of(const std::vector<StoredEvent>& events) {
  std::vector<EventId> ids;
  for (const StoredEvent& event : events) ids.push_back(event.id);
  return ids;
}

inline std::vector<EventId> ids_of(const EventBatch& batch) {
  std::vector<EventId> ids;
  for (const EventSpec& spec : batch.specs()) ids.push_back(spec.id);
  return ids;
}

inline std::vector<uint64_t> positions_of(const std::vector<StoredEvent>& events) {
  std::vector<uint64_t> positions;
  for (const StoredEvent& event : events) positions.push_back(event.position);
  return positions;
}

inline std::vector<uint64_t> versions_of(const std::vector<StoredEvent>& events) {
  std::vector<uint64_t> versions;
  for (const StoredEvent& event : events) versions.push_back(event.version);
  return versions;
}

// [first, first + count).
inline std::vector<uint64_t> sequence(uint64_t first, uint64_t count) {
  std::vector<uint64_t> values(count);
  for (uint64_t i = 0; i < count; ++i) values[i] = first + i;
  return values;
}

// Walks a paged query to its end. `read_page(cursor)` returns one page; the cursor
// starts at `first` and moves to each page's `next`. A page that neither ends the
// query nor advances the cursor is a failure (it would make a client loop forever).
template <typename ReadPage>
std::vector<StoredEvent> read_pages(uint64_t first, ReadPage read_page) {
  constexpr size_t kPagesMax = 1'000'000;
  std::vector<StoredEvent> events;
  uint64_t cursor = first;
  for (size_t page = 0; page < kPagesMax; ++page) {
    Result<ReadSlice> slice = read_page(cursor);
    if (!slice.is_ok()) {
      ADD_FAILURE() << "read at cursor " << cursor << " failed: " << slice.status().to_string();
      return events;
    }
    for (const EventView& view : slice->events) events.push_back(to_stored(view));
    if (slice->end) return events;
    if (slice->events.empty()) {
      ADD_FAILURE() << "page at cursor " << cursor << " is empty but not the end";
      return events;
    }
    cursor = slice->next;
  }
  ADD_FAILURE() << "query did not end within " << kPagesMax << " pages";
  return events;
}

// Every committed event, via read_all in pages of `page_events`.
inline std::vector<StoredEvent> read_all_events(const EventStore& store, size_t page_events = 7) {
  return read_pages(1, [&](uint64_t cursor) { return store.read_all(GlobalPosition{cursor}, page_events); });
}

// Every event of a stream, oldest first, via forward read_stream pages.
inline std::vector<StoredEvent> read_stream_events(const EventStore& store, std::string_view stream_id,
                                                   size_t page_events = 5) {
  return read_pages(1, [&](uint64_t cursor) {
    return store.read_stream(stream_id, StreamVersion{cursor}, ReadDirection::kForward, page_events);
  });
}

// Every event of a type, in position order, via read_by_type pages.
inline std::vector<StoredEvent> read_type_events(const EventStore& store, std::string_view type,
                                                 size_t page_events = 5) {
  return read_pages(1, [&](uint64_t cursor) {
    return store.read_by_type(type, GlobalPosition{cursor}, page_events);
  });
}

inline std::vector<StoredEvent> of_type(const std::vector<StoredEvent>& events, std::string_view type) {
  std::vector<StoredEvent> matching;
  for (const StoredEvent& event : events) {
    if (event.type == type) matching.push_back(event);
  }
  return matching;
}

inline std::vector<StoredEvent> of_stream(const std::vector<StoredEvent>& events, std::string_view stream_id) {
  std::vector<StoredEvent> matching;
  for (const StoredEvent& event : events) {
    if (event.stream_id == stream_id) matching.push_back(event);
  }
  return matching;
}

// Small segments and no prefill keep the tests fast and make segments roll early.
// Direct writes: on a MemEnv they are buffered writes that must be page-aligned, so
// every test also pins the writer's tail-page rewriting (the buffered writer is the
// same code with an alignment of 1).
inline StoreOptions test_options(Env* env, uint64_t segment_bytes_max) {
  StoreOptions options;
  options.data_dir = kDataDir;
  options.env = env;
  options.segment_bytes_max = segment_bytes_max;
  options.segment_prefill = false;
  options.direct_io = true;
  return options;
}

inline Result<std::unique_ptr<EventStore>> open_store(Env& env, const StoreOptions& options) {
  // The data directory's parent; open creates the data directory itself.
  (void)env.create_dir("/");
  return EventStore::open(options);
}

inline Result<std::unique_ptr<EventStore>> open_store(Env& env) {
  return open_store(env, test_options(&env, kDefaultTestSegmentBytes));
}

// Reads the log from `from` in pages of 64 until `done` is set and the committed end is
// read, as a reader following the log does; counts the events `intact` rejects in
// `mismatches` and publishes the last position read in `read_up_to`.
inline void follow_log(const EventStore& store, uint64_t from, const std::atomic<bool>& done,
                       const std::function<bool(const EventView&)>& intact, std::atomic<size_t>& mismatches,
                       std::atomic<uint64_t>& read_up_to) {
  uint64_t next = from;
  while (!done.load() || next <= store.committed_position().value) {
    Result<ReadSlice> slice = store.read_all(GlobalPosition{next}, 64);
    if (!slice.is_ok()) {
      ADD_FAILURE() << slice.status().to_string();
      return;
    }
    for (const EventView& event : slice->events) {
      if (!intact(event)) mismatches.fetch_add(1);
      next = event.position.value + 1;
    }
    read_up_to.store(next - 1);
  }
}

// Hands an append_async outcome to the test thread. The promise is shared with the
// callback so a callback that runs late (after a failed wait) still touches live memory.
class AsyncOutcome {
 public:
  AppendCallback callback() {
    return [promise = promise_](Result<AppendResult> result) { promise->set_value(std::move(result)); };
  }
  bool ready_within(std::chrono::milliseconds timeout) {
    return future_.wait_for(timeout) == std::future_status::ready;
  }
  bool ready_now() { return ready_within(std::chrono::milliseconds(0)); }
  // REQUIRES: ready_within() returned true.
  Result<AppendResult> get() { return future_.get(); }

 private:
  std::shared_ptr<std::promise<Result<AppendResult>>> promise_ =
      std::make_shared<std::promise<Result<AppendResult>>>();
  std::future<Result<AppendResult>> future_ = promise_->get_future();
};

}  // namespace orderlog::testing
