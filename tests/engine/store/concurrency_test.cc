// Concurrency: appenders and readers on many threads at once. Readers must only ever
// see a gapless prefix of committed events with correct versions; racing appends
// with exact expected versions let exactly one writer win each version; racing
// retries of one append write it once; every asynchronous append completes.
// Sizes are small so the suite stays fast under sanitizers.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <latch>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store_test_util.h"

namespace orderlog::testing {
namespace {

using std::chrono::milliseconds;

// Reads the whole log as it is now. Returns false after recording a failure unless it
// is a gapless prefix starting at 1, with versions counting 1, 2, 3... per stream,
// covering everything committed before the read and nothing committed after it.
bool check_committed_prefix(const EventStore& store) {
  const uint64_t committed_before = store.committed_position().value;
  std::map<std::string, uint64_t, std::less<>> versions;
  uint64_t cursor = 1;
  for (size_t page = 0; page < 100'000; ++page) {
    Result<ReadSlice> slice = store.read_all(GlobalPosition{cursor}, 32);
    const uint64_t committed_after = store.committed_position().value;
    if (!slice.is_ok()) {
      ADD_FAILURE() << slice.status().to_string();
      return false;
    }
    for (const EventView& event : slice->events) {
      uint64_t& version = versions[std::string(event.stream_id)];
      if (event.position.value != cursor || event.version.value != ++version || cursor > committed_after) {
        ADD_FAILURE() << "read " << event.stream_id << "@" << event.version.value << " at position "
                      << event.position.value << ", expected position " << cursor << " and version " << version
                      << " (committed " << committed_after << ")";
        return false;
      }
      ++cursor;
    }
    if (slice->end) break;
    if (slice->events.empty() || slice->next != cursor) {
      ADD_FAILURE() << "page before the end did not advance to " << cursor << " (next " << slice->next << ")";
      return false;
    }
  }
  if (cursor - 1 < committed_before) {
    ADD_FAILURE() << "read " << cursor - 1 << " events, but " << committed_before << " were committed before";
    return false;
  }
  return true;
}

// The same check on one stream via read_stream.
bool check_stream_prefix(const EventStore& store, std::string_view stream_id) {
  const uint64_t version_before = store.stream_version(stream_id).value;
  const std::vector<StoredEvent> events = read_stream_events(store, stream_id, 8);
  if (versions_of(events) != sequence(1, events.size()) || events.size() < version_before) {
    ADD_FAILURE() << stream_id << ": read " << events.size() << " events, version was " << version_before;
    return false;
  }
  return true;
}

TEST(EventStoreConcurrency, ReadersSeeOnlyGaplessCommittedPrefixesWhileAppendersRun) {
  constexpr int kAppenders = 4;
  constexpr int kReaders = 2;
  constexpr int kAppendsPerAppender = 40;
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  std::atomic<int> appenders_running{kAppenders};
  std::atomic<uint64_t> shared_events{0};
  std::vector<uint64_t> own_versions(kAppenders, 0);
  std::vector<std::thread> threads;

  for (int appender = 0; appender < kAppenders; ++appender) {
    threads.emplace_back([&, appender] {
      std::mt19937 random(appender);
      const std::string own = "writer-" + std::to_string(appender);
      uint64_t& version = own_versions[appender];
      for (int i = 0; i < kAppendsPerAppender; ++i) {
        const EventBatch batch = make_events(1 + random() % 3, "Own");
        const ExpectedVersion expected = ExpectedVersion::exact(StreamVersion{version});
        Result<AppendResult> result = store->append(own, expected, batch.events());
        if (!result.is_ok()) {
          ADD_FAILURE() << own << ": " << result.status().to_string();
          break;
        }
        version += batch.size();
        EXPECT_EQ(result->stream_versions, std::vector<StreamVersion>{StreamVersion{version}});
        if (i % 5 == 0) {
          const EventBatch shared = make_events(1, "Shared");
          EXPECT_OK(store->append("shared", ExpectedVersion::any(), shared.events()));
          ++shared_events;
        }
      }
      --appenders_running;
    });
  }
  for (int reader = 0; reader < kReaders; ++reader) {
    threads.emplace_back([&, reader] {
      const std::string watched = "writer-" + std::to_string(reader);
      for (int round = 0; appenders_running.load() > 0 || round < 2; ++round) {
        if (!check_committed_prefix(*store) || !check_stream_prefix(*store, watched)) return;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  uint64_t total = shared_events.load();
  for (int appender = 0; appender < kAppenders; ++appender) {
    total += own_versions[appender];
    EXPECT_EQ(store->stream_version("writer-" + std::to_string(appender)), StreamVersion{own_versions[appender]});
  }
  EXPECT_EQ(store->stream_version("shared"), StreamVersion{shared_events.load()});
  EXPECT_EQ(store->committed_position(), GlobalPosition{total});
  EXPECT_EQ(positions_of(read_all_events(*store, 64)), sequence(1, total));
  EXPECT_TRUE(check_committed_prefix(*store));
}

// committed_position() promises that every event up to it is readable: a stream's
// version read after it must cover every position it names.
TEST(EventStoreConcurrency, AStreamIsReadableUpToEveryCommittedPositionAReaderSaw) {
  constexpr int kAppends = 3000;
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  std::atomic<bool> done{false};
  std::thread appender([&] {
    // The only stream, one event per append, async so the writer commits back to
    // back: the stream's version equals the committed position.
    std::atomic<int> pending{0};
    for (int i = 0; i < kAppends; ++i) {
      const EventBatch batch = make_events(1, "Only");
      const StreamAppend append{"only", ExpectedVersion::any(), batch.events()};
      pending.fetch_add(1);
      store->append_async(std::span(&append, 1), [&](Result<AppendResult> result) {
        EXPECT_TRUE(result.is_ok()) << result.status().to_string();
        pending.fetch_sub(1);
      });
      while (pending.load() > 8) std::this_thread::yield();
    }
    while (pending.load() > 0) std::this_thread::yield();
    done.store(true);
  });
  uint64_t behind = 0;
  uint64_t looks = 0;
  while (!done.load()) {
    const uint64_t committed = store->committed_position().value;
    const uint64_t version = store->stream_version("only").value;
    ++looks;
    if (version < committed) ++behind;
  }
  appender.join();
  EXPECT_EQ(behind, 0u) << "of " << looks << " looks, the stream lagged the committed position";
  EXPECT_EQ(store->stream_version("only").value, static_cast<uint64_t>(kAppends));
}

TEST(EventStoreConcurrency, RacingExactAppendsLetExactlyOneWriterWinEachVersion) {
  constexpr int kThreads = 4;
  constexpr int kWinsPerThread = 15;
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  std::mutex mutex;
  std::vector<uint64_t> won_from_versions;
  std::vector<std::thread> threads;

  for (int thread = 0; thread < kThreads; ++thread) {
    threads.emplace_back([&] {
      int wins = 0;
      for (int attempt = 0; wins < kWinsPerThread && attempt < 100'000; ++attempt) {
        const StreamVersion seen = store->stream_version("contended");
        const EventBatch batch = make_events(1);
        Result<AppendResult> result = store->append("contended", ExpectedVersion::exact(seen), batch.events());
        if (result.is_ok()) {
          EXPECT_EQ(result->stream_versions, std::vector<StreamVersion>{StreamVersion{seen.value + 1}});
          std::lock_guard<std::mutex> lock(mutex);
          won_from_versions.push_back(seen.value);
          ++wins;
        } else {
          EXPECT_EQ(result.status().code(), StatusCode::kWrongExpectedVersion) << result.status().to_string();
          EXPECT_GT(result.status().actual_version().value_or(0), seen.value);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  std::sort(won_from_versions.begin(), won_from_versions.end());
  EXPECT_EQ(won_from_versions, sequence(0, kThreads * kWinsPerThread));
  EXPECT_EQ(store->stream_version("contended"), StreamVersion{kThreads * kWinsPerThread});
  EXPECT_EQ(versions_of(read_stream_events(*store, "contended", 16)), sequence(1, kThreads * kWinsPerThread));
}

TEST(EventStoreConcurrency, ConcurrentAsyncAppendsAllCompleteInSubmissionOrderPerStream) {
  constexpr int kThreads = 4;
  constexpr int kAppendsPerThread = 50;
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  std::vector<std::vector<AsyncOutcome>> outcomes(kThreads);
  for (std::vector<AsyncOutcome>& per_thread : outcomes) per_thread.resize(kAppendsPerThread);
  std::vector<std::thread> threads;

  for (int thread = 0; thread < kThreads; ++thread) {
    threads.emplace_back([&, thread] {
      const std::string stream = "async-" + std::to_string(thread);
      for (int i = 0; i < kAppendsPerThread; ++i) {
        const EventBatch batch = make_events(2);
        const std::vector<StreamAppend> request = {{stream, ExpectedVersion::any(), batch.events()}};
        store->append_async(request, outcomes[thread][i].callback());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  std::set<uint64_t> positions;
  for (int thread = 0; thread < kThreads; ++thread) {
    for (int i = 0; i < kAppendsPerThread; ++i) {
      ASSERT_TRUE(outcomes[thread][i].ready_within(milliseconds(10'000))) << thread << "/" << i;
      Result<AppendResult> result = outcomes[thread][i].get();
      ASSERT_OK(result);
      EXPECT_EQ(result->stream_versions, std::vector<StreamVersion>{StreamVersion{2u * (i + 1)}});
      EXPECT_EQ(result->last_position.value, result->first_position.value + 1);
      positions.insert(result->first_position.value);
      positions.insert(result->last_position.value);
    }
  }
  EXPECT_EQ(std::vector<uint64_t>(positions.begin(), positions.end()), sequence(1, 2 * kThreads * kAppendsPerThread));
  EXPECT_EQ(store->committed_position(), GlobalPosition{2 * kThreads * kAppendsPerThread});
}

TEST(EventStoreConcurrency, RacingRetriesOfOneAppendWriteItOnce) {
  constexpr int kRounds = 20;
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));

  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(round);
    const EventBatch batch = make_events(2);
    std::latch start(2);
    std::vector<Result<AppendResult>> results(2, Result<AppendResult>(Status::closed("not run")));
    std::vector<std::thread> threads;
    for (int copy = 0; copy < 2; ++copy) {
      threads.emplace_back([&, copy] {
        start.arrive_and_wait();
        results[copy] = store->append("retried", ExpectedVersion::any(), batch.events());
      });
    }
    for (std::thread& thread : threads) thread.join();

    ASSERT_OK(results[0]);
    ASSERT_OK(results[1]);
    EXPECT_EQ(results[0]->first_position, results[1]->first_position);
    EXPECT_EQ(results[0]->last_position, results[1]->last_position);
    EXPECT_NE(results[0]->deduplicated, results[1]->deduplicated) << "exactly one of the two must write";
  }

  const std::vector<EventId> ids = ids_of(read_all_events(*store, 64));
  EXPECT_EQ(ids.size(), 2u * kRounds);
  EXPECT_EQ(std::set<EventId>(ids.begin(), ids.end()).size(), ids.size());
  EXPECT_EQ(store->stream_version("retried"), StreamVersion{2 * kRounds});
}

}  // namespace
}  // namespace orderlog::testing
