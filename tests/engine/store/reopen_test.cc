// Reopen and power cut: a store reopened after close (or after a power cut, simulated
// with MemEnv::crash_copy) holds every acknowledged append with the same positions,
// versions and indexes, never half of an append, and keeps appending gaplessly.
#include <array>
#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "forwarding_env.h"
#include "store_test_util.h"

namespace orderlog::testing {
namespace {

using std::chrono::milliseconds;

constexpr std::array<std::string_view, 4> kTypes = {"OrderCreated", "ItemAdded", "OrderShipped", "Tail"};
constexpr std::array<std::string_view, 6> kStreams = {"order-0", "order-1", "order-2",
                                                      "order-3", "order-tail", "order-new"};

// Given: `appends` appends of 1..3 events with varied types and metadata to order-0..3.
void append_mixed(EventStore& store, int appends, std::mt19937& random) {
  for (int append = 0; append < appends; ++append) {
    std::vector<EventSpec> specs(1 + random() % 3);
    for (EventSpec& spec : specs) {
      spec.type = std::string(kTypes[random() % 3]);
      spec.schema_version = static_cast<uint16_t>(1 + random() % 3);
      spec.payload = "payload " + std::to_string(random());
      spec.correlation_id = EventId::generate();
      spec.tags = {{"tenant", "tenant-" + std::to_string(random() % 2)}};
    }
    const EventBatch batch(std::move(specs));
    ASSERT_OK(store.append(kStreams[random() % 4], ExpectedVersion::any(), batch.events()));
  }
}

// Everything a client can observe about the store's contents.
struct StoreState {
  GlobalPosition committed;
  std::vector<StoredEvent> log;
  std::vector<StreamVersion> stream_versions;
  std::vector<std::vector<StoredEvent>> by_stream;
  std::vector<std::vector<StoredEvent>> by_type;
};

StoreState state_of(const EventStore& store) {
  StoreState state;
  state.committed = store.committed_position();
  state.log = read_all_events(store, 16);
  for (std::string_view stream : kStreams) {
    state.stream_versions.push_back(store.stream_version(stream));
    state.by_stream.push_back(read_stream_events(store, stream, 4));
  }
  for (std::string_view type : kTypes) state.by_type.push_back(read_type_events(store, type, 4));
  return state;
}

void expect_same_state(const StoreState& expected, const EventStore& store) {
  const StoreState actual = state_of(store);
  EXPECT_EQ(actual.committed, expected.committed);
  EXPECT_EQ(actual.log, expected.log);
  EXPECT_EQ(actual.stream_versions, expected.stream_versions);
  EXPECT_EQ(actual.by_stream, expected.by_stream);
  EXPECT_EQ(actual.by_type, expected.by_type);
}

// Then: the store takes new appends at the next position with correct versions and
// still detects conflicts.
void expect_appends_continue(EventStore& store) {
  const uint64_t committed = store.committed_position().value;
  const StreamVersion version = store.stream_version("order-0");
  ASSERT_GT(version.value, 0u);
  const EventBatch more = make_events(2, "Tail");
  const EventBatch fresh = make_events(1, "Tail");
  const EventBatch conflicting = make_events(1, "Tail");

  ASSERT_OK_AND_ASSIGN(AppendResult appended, store.append("order-0", ExpectedVersion::exact(version), more.events()));
  ASSERT_OK_AND_ASSIGN(AppendResult created, store.append("order-new", ExpectedVersion::no_stream(), fresh.events()));
  Result<AppendResult> conflict = store.append("order-0", ExpectedVersion::no_stream(), conflicting.events());

  EXPECT_EQ(appended.first_position, GlobalPosition{committed + 1});
  EXPECT_EQ(appended.stream_versions, std::vector<StreamVersion>{StreamVersion{version.value + 2}});
  EXPECT_EQ(created.first_position, GlobalPosition{committed + 3});
  EXPECT_EQ(conflict.status().code(), StatusCode::kWrongExpectedVersion);
  EXPECT_EQ(positions_of(read_all_events(store, 16)), sequence(1, committed + 3));
}

TEST(EventStoreReopen, ReopenAfterCloseShowsTheSameEventsVersionsAndIndexes) {
  MemEnv env;
  std::mt19937 random(21);
  StoreState before;
  {
    ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
    ASSERT_NO_FATAL_FAILURE(append_mixed(*store, 40, random));
    before = state_of(*store);
    ASSERT_OK(store->close());
  }

  ASSERT_OK_AND_ASSIGN(auto reopened, open_store(env));

  expect_same_state(before, *reopened);
  EXPECT_OK(reopened->writer_status());
}

TEST(EventStoreReopen, ReopenAfterDestructionWithoutCloseShowsTheSameEvents) {
  MemEnv env;
  std::mt19937 random(22);
  StoreState before;
  {
    ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
    ASSERT_NO_FATAL_FAILURE(append_mixed(*store, 25, random));
    before = state_of(*store);
  }

  ASSERT_OK_AND_ASSIGN(auto reopened, open_store(env));

  expect_same_state(before, *reopened);
}

TEST(EventStoreReopen, AppendsContinueGaplesslyAfterReopen) {
  MemEnv env;
  std::mt19937 random(23);
  {
    ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
    ASSERT_NO_FATAL_FAILURE(append_mixed(*store, 20, random));
    const EventBatch first = make_events(1, "Tail");
    ASSERT_OK(store->append("order-0", ExpectedVersion::any(), first.events()));
    ASSERT_OK(store->close());
  }

  ASSERT_OK_AND_ASSIGN(auto reopened, open_store(env));

  expect_appends_continue(*reopened);
}

TEST(EventStoreReopen, PowerCutKeepsEveryAcknowledgedAppend) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  std::mt19937 random(24);
  ASSERT_NO_FATAL_FAILURE(append_mixed(*store, 30, random));
  const EventBatch last = make_events(1, "Tail");
  ASSERT_OK(store->append("order-0", ExpectedVersion::any(), last.events()));
  const StoreState acknowledged = state_of(*store);

  std::unique_ptr<MemEnv> disk = env.crash_copy();
  ASSERT_OK_AND_ASSIGN(auto recovered, open_store(*disk));

  expect_same_state(acknowledged, *recovered);
  expect_appends_continue(*recovered);
}

TEST(EventStoreReopen, PowerCutBeforeAnyAppendOpensAnEmptyStore) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));

  std::unique_ptr<MemEnv> disk = env.crash_copy();
  ASSERT_OK_AND_ASSIGN(auto recovered, open_store(*disk));

  EXPECT_EQ(recovered->committed_position(), GlobalPosition{0});
  EXPECT_TRUE(read_all_events(*recovered).empty());
  const EventBatch first = make_events(1);
  ASSERT_OK_AND_ASSIGN(AppendResult result, recovered->append("s", ExpectedVersion::no_stream(), first.events()));
  EXPECT_EQ(result.first_position, GlobalPosition{1});
}

TEST(EventStoreReopen, PowerCutDuringAppendsKeepsWholeAppendsAndEveryAcknowledgedOne) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  std::mutex mutex;
  std::vector<EventBatch> issued;
  size_t acknowledged = 0;
  std::atomic<bool> stop{false};
  std::thread appender([&] {
    for (size_t i = 0; !stop.load() && i < 100'000; ++i) {
      const EventBatch batch = make_events(3);
      {
        std::lock_guard<std::mutex> lock(mutex);
        issued.push_back(batch);
      }
      const Status status = store->append(kStreams[i % 3], ExpectedVersion::any(), batch.events()).status();
      if (!status.is_ok()) {
        ADD_FAILURE() << status.to_string();
        return;
      }
      std::lock_guard<std::mutex> lock(mutex);
      ++acknowledged;
    }
  });
  size_t acknowledged_before_cut = 0;
  for (int wait = 0; wait < 10'000 && acknowledged_before_cut < 30; ++wait) {
    std::this_thread::sleep_for(milliseconds(1));
    std::lock_guard<std::mutex> lock(mutex);
    acknowledged_before_cut = acknowledged;
  }

  std::unique_ptr<MemEnv> disk = env.crash_copy();
  stop = true;
  appender.join();
  ASSERT_OK_AND_ASSIGN(auto recovered, open_store(*disk));

  const std::vector<StoredEvent> log = read_all_events(*recovered, 64);
  ASSERT_GE(acknowledged_before_cut, 30u);
  ASSERT_EQ(log.size() % 3, 0u) << "an append survived the power cut only in part";
  const size_t appends_kept = log.size() / 3;
  EXPECT_GE(appends_kept, acknowledged_before_cut);
  ASSERT_LE(appends_kept, issued.size());
  EXPECT_EQ(positions_of(log), sequence(1, log.size()));
  for (size_t i = 0; i < appends_kept; ++i) {
    const std::vector<StoredEvent> unit(log.begin() + 3 * i, log.begin() + 3 * i + 3);
    ASSERT_EQ(ids_of(unit), ids_of(issued[i])) << "append " << i;
  }
  EXPECT_EQ(recovered->committed_position(), GlobalPosition{log.size()});
}

TEST(EventStoreReopen, RetryAfterAPowerCutIsDeduplicated) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  const EventBatch batch = make_events(2);
  ASSERT_OK_AND_ASSIGN(AppendResult first, store->append("order-1", ExpectedVersion::no_stream(), batch.events()));

  std::unique_ptr<MemEnv> disk = env.crash_copy();
  ASSERT_OK_AND_ASSIGN(auto recovered, open_store(*disk));
  ASSERT_OK_AND_ASSIGN(AppendResult retry, recovered->append("order-1", ExpectedVersion::no_stream(), batch.events()));

  EXPECT_TRUE(retry.deduplicated);
  EXPECT_EQ(retry.first_position, first.first_position);
  EXPECT_EQ(retry.last_position, first.last_position);
  EXPECT_EQ(ids_of(read_all_events(*recovered)), ids_of(batch));
}

TEST(EventStoreReopen, PowerCutAfterACheckpointReindexesTheTail) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  std::mt19937 random(25);
  ASSERT_NO_FATAL_FAILURE(append_mixed(*store, 20, random));
  ASSERT_OK(store->checkpoint());
  const EventBatch tail_of_old_stream = make_events(2, "Tail");
  const EventBatch tail_of_new_stream = make_events(3, "Tail");
  ASSERT_OK(store->append("order-0", ExpectedVersion::any(), tail_of_old_stream.events()));
  ASSERT_OK(store->append("order-tail", ExpectedVersion::no_stream(), tail_of_new_stream.events()));
  const StoreState acknowledged = state_of(*store);

  std::unique_ptr<MemEnv> disk = env.crash_copy();
  ASSERT_OK_AND_ASSIGN(auto recovered, open_store(*disk));

  expect_same_state(acknowledged, *recovered);
  EXPECT_EQ(read_type_events(*recovered, "Tail").size(), 5u);
  EXPECT_EQ(recovered->stream_version("order-tail"), StreamVersion{3});
}

// Fails the rename that puts a new index CHECKPOINT in place while armed.
class FailCheckpointRenameEnv : public ForwardingEnv {
 public:
  using ForwardingEnv::ForwardingEnv;
  std::atomic<bool> armed{false};
  Status rename_file(const std::string& from, const std::string& to) override {
    if (armed && to.ends_with("/CHECKPOINT")) return Status::io_error("injected: rename " + from);
    return ForwardingEnv::rename_file(from, to);
  }
};

// A checkpoint that dies between putting its stream-table snapshot in place and
// putting the checkpoint file itself in place leaves the previous checkpoint, which
// must still find its own snapshot: the log after it is re-indexed onto that table.
TEST(EventStoreReopen, ACheckpointCutBetweenItsTwoFilesLeavesThePreviousOneWhole) {
  MemEnv mem;
  FailCheckpointRenameEnv env(&mem);
  ASSERT_OK_AND_ASSIGN(auto store, open_store(mem, test_options(&env, kDefaultTestSegmentBytes)));
  std::mt19937 random(26);
  ASSERT_NO_FATAL_FAILURE(append_mixed(*store, 20, random));
  ASSERT_OK(store->checkpoint());
  // Streams the first checkpoint knows already: the two snapshots hold as many streams.
  for (int i = 0; i < 4; ++i) {
    const EventBatch later = make_events(2, "Later");
    ASSERT_OK(store->append(kStreams[i], ExpectedVersion::any(), later.events()));
  }
  env.armed = true;
  EXPECT_FALSE(store->checkpoint().is_ok());
  const StoreState acknowledged = state_of(*store);

  std::unique_ptr<MemEnv> disk = mem.crash_copy();
  ASSERT_OK_AND_ASSIGN(auto recovered, open_store(*disk));
  expect_same_state(acknowledged, *recovered);
  EXPECT_EQ(read_type_events(*recovered, "Later").size(), 8u);
  const EventBatch next = make_events(1, "Next");
  ASSERT_OK_AND_ASSIGN(AppendResult appended, recovered->append(kStreams[0], ExpectedVersion::any(), next.events()));
  EXPECT_EQ(appended.stream_versions.at(0), StreamVersion{store->stream_version(kStreams[0]).value + 1});
}

// Given a closed store, applies `damage` to every file in its index directory.
template <typename Damage>
void damage_index_files(MemEnv& env, Damage damage) {
  const std::string index_dir = std::string(kDataDir) + "/index";
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, env.list_dir(index_dir));
  ASSERT_FALSE(names.empty()) << "close() should leave index files in " << index_dir;
  for (const std::string& name : names) damage(index_dir + "/" + name);
}

TEST(EventStoreReopen, ReopenWithoutIndexFilesRebuildsThemFromTheLog) {
  MemEnv env;
  std::mt19937 random(26);
  StoreState before;
  {
    ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
    ASSERT_NO_FATAL_FAILURE(append_mixed(*store, 30, random));
    before = state_of(*store);
    ASSERT_OK(store->close());
  }
  ASSERT_NO_FATAL_FAILURE(damage_index_files(env, [&](const std::string& path) { ASSERT_OK(env.remove_file(path)); }));

  ASSERT_OK_AND_ASSIGN(auto reopened, open_store(env));

  expect_same_state(before, *reopened);
}

TEST(EventStoreReopen, ReopenWithGarbledIndexFilesRebuildsThemFromTheLog) {
  MemEnv env;
  std::mt19937 random(27);
  StoreState before;
  {
    ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
    ASSERT_NO_FATAL_FAILURE(append_mixed(*store, 30, random));
    before = state_of(*store);
    ASSERT_OK(store->close());
  }
  ASSERT_NO_FATAL_FAILURE(damage_index_files(env, [&](const std::string& path) {
    env.set_contents(path, std::string(100, '\x5a'));
  }));

  ASSERT_OK_AND_ASSIGN(auto reopened, open_store(env));

  expect_same_state(before, *reopened);
}

TEST(EventStoreReopen, SecondOpenOfAnOpenDataDirectoryIsBusy) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));

  Result<std::unique_ptr<EventStore>> second = open_store(env);

  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), StatusCode::kBusy) << second.status().to_string();
  const EventBatch batch = make_events(1);
  ASSERT_OK(store->append("s", ExpectedVersion::any(), batch.events()));
  ASSERT_OK(store->close());
  ASSERT_OK_AND_ASSIGN(auto after_close, open_store(env));
  EXPECT_EQ(after_close->committed_position(), GlobalPosition{1});
}

TEST(EventStoreReopen, CloseIsIdempotentAndLaterAppendsFailWithClosed) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  const EventBatch batch = make_events(1);
  ASSERT_OK(store->append("s", ExpectedVersion::any(), batch.events()));

  ASSERT_OK(store->close());
  EXPECT_OK(store->close());

  const EventBatch late = make_events(1);
  EXPECT_EQ(store->append("s", ExpectedVersion::any(), late.events()).status().code(), StatusCode::kClosed);
  const std::vector<StreamAppend> request = {{"s", ExpectedVersion::any(), late.events()}};
  AsyncOutcome outcome;
  store->append_async(request, outcome.callback());
  ASSERT_TRUE(outcome.ready_within(milliseconds(10'000)));
  EXPECT_EQ(outcome.get().status().code(), StatusCode::kClosed);
}

}  // namespace
}  // namespace orderlog::testing
