// Faults on the log: a failed fsync, EIO, a torn write or a full disk fails the
// pending append, stops the writer (later appends get kReadOnly) and never turns
// into an acknowledgement. Committed data stays readable, and the disk as a power cut
// would leave it holds exactly the acknowledged events. A sweep injects each fault
// kind at many points of a segment-rolling workload.
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "fault_env.h"
#include "store_test_util.h"

namespace orderlog::testing {
namespace {

using std::chrono::milliseconds;

FaultRule log_fault(FaultOp op, int error_number) {
  FaultRule rule;
  rule.op = op;
  rule.path_contains = op == FaultOp::kSyncDir ? "/log" : "/log/";
  rule.error_number = error_number;
  return rule;
}

// A store on a FaultEnv over a MemEnv. Members are destroyed store first.
struct FaultyStore {
  MemEnv disk;
  FaultEnv faults{&disk};
  LogCapture log;
  std::unique_ptr<EventStore> store;
  std::vector<StoredEvent> acknowledged;  // every acknowledged event, as read back
};

StoreOptions faulty_options(FaultyStore& s, uint64_t sync_on_writer_below_bytes = StoreOptions{}.sync_on_writer_below_bytes) {
  StoreOptions options = test_options(&s.faults, kSmallSegmentBytes);
  options.log = s.log.sink();
  options.sync_on_writer_below_bytes = sync_on_writer_below_bytes;
  return options;
}

// Given: an open store with three acknowledged appends of two "Before" events each.
void open_with_acknowledged_appends(FaultyStore& s) {
  ASSERT_OK_AND_ASSIGN(s.store, open_store(s.faults, faulty_options(s)));
  for (int i = 0; i < 3; ++i) {
    const EventBatch batch = make_events(2, "Before");
    ASSERT_OK(s.store->append("order-" + std::to_string(i % 2), ExpectedVersion::any(), batch.events()));
  }
  s.acknowledged = read_all_events(*s.store);
  ASSERT_EQ(s.acknowledged.size(), 6u);
}

// Then: the writer is stopped, every kind of append is refused with kReadOnly, and
// every query still returns exactly the acknowledged events.
void expect_read_only_with(EventStore& store, const std::vector<StoredEvent>& acknowledged) {
  EXPECT_FALSE(store.writer_status().is_ok());
  const EventBatch later = make_events(1, "After");
  const std::vector<StreamAppend> request = {{"order-9", ExpectedVersion::any(), later.events()}};
  AsyncOutcome outcome;

  const Status single = store.append("order-0", ExpectedVersion::any(), later.events()).status();
  const Status multi = store.append_multi(request).status();
  store.append_async(request, outcome.callback());

  EXPECT_EQ(single.code(), StatusCode::kReadOnly) << single.to_string();
  EXPECT_EQ(multi.code(), StatusCode::kReadOnly) << multi.to_string();
  ASSERT_TRUE(outcome.ready_within(milliseconds(10'000)));
  EXPECT_EQ(outcome.get().status().code(), StatusCode::kReadOnly);
  EXPECT_EQ(store.committed_position(), GlobalPosition{acknowledged.size()});
  EXPECT_EQ(read_all_events(store), acknowledged);
  EXPECT_EQ(read_stream_events(store, "order-0"), of_stream(acknowledged, "order-0"));
  EXPECT_EQ(read_type_events(store, "Before"), of_type(acknowledged, "Before"));
}

// Then: a store opened on the disk as a power cut now would leave it holds exactly
// `acknowledged` and appends right after it.
void expect_power_cut_keeps_exactly(const MemEnv& disk, const std::vector<StoredEvent>& acknowledged) {
  std::unique_ptr<MemEnv> copy = disk.crash_copy();
  ASSERT_OK_AND_ASSIGN(auto recovered, open_store(*copy, test_options(copy.get(), kSmallSegmentBytes)));
  EXPECT_EQ(read_all_events(*recovered), acknowledged);
  EXPECT_EQ(recovered->committed_position(), GlobalPosition{acknowledged.size()});
  const EventBatch next = make_events(1);
  ASSERT_OK_AND_ASSIGN(AppendResult result, recovered->append("order-0", ExpectedVersion::any(), next.events()));
  EXPECT_EQ(result.first_position, GlobalPosition{acknowledged.size() + 1});
}

TEST(EventStoreFaults, FailedLogSyncFailsThePendingAppendAndMakesTheStoreReadOnly) {
  FaultyStore s;
  ASSERT_NO_FATAL_FAILURE(open_with_acknowledged_appends(s));
  s.faults.add_rule(log_fault(FaultOp::kSync, EIO));
  const EventBatch doomed = make_events(2, "Doomed");

  const Status status = s.store->append("order-0", ExpectedVersion::any(), doomed.events()).status();

  EXPECT_EQ(status.code(), StatusCode::kIoError) << status.to_string();
  EXPECT_GE(s.faults.failures_injected(), 1u);
  expect_read_only_with(*s.store, s.acknowledged);
  EXPECT_GE(s.log.count(LogLevel::kError), 1u) << "the writer failure should be logged:\n" << s.log.dump();
  expect_power_cut_keeps_exactly(s.disk, s.acknowledged);
}

TEST(EventStoreFaults, FailedLogWriteFailsThePendingAppendAndMakesTheStoreReadOnly) {
  FaultyStore s;
  ASSERT_NO_FATAL_FAILURE(open_with_acknowledged_appends(s));
  s.faults.add_rule(log_fault(FaultOp::kWrite, EIO));
  const EventBatch doomed = make_events(2, "Doomed");

  const Status status = s.store->append("order-0", ExpectedVersion::any(), doomed.events()).status();

  EXPECT_EQ(status.code(), StatusCode::kIoError) << status.to_string();
  EXPECT_GE(s.faults.failures_injected(), 1u);
  expect_read_only_with(*s.store, s.acknowledged);
  expect_power_cut_keeps_exactly(s.disk, s.acknowledged);
}

TEST(EventStoreFaults, TornLogWriteIsDiscardedWhenTheStoreRestarts) {
  for (size_t torn_bytes_kept : {size_t{1}, size_t{20}, size_t{100}, size_t{3000}}) {
    SCOPED_TRACE("torn_bytes_kept " + std::to_string(torn_bytes_kept));
    FaultyStore s;
    ASSERT_NO_FATAL_FAILURE(open_with_acknowledged_appends(s));
    FaultRule rule = log_fault(FaultOp::kWrite, EIO);
    rule.torn_bytes_kept = torn_bytes_kept;
    s.faults.add_rule(rule);
    std::vector<EventSpec> specs(2);
    for (EventSpec& spec : specs) spec.payload.assign(2000, 'd');
    const EventBatch doomed(std::move(specs));

    const Status status = s.store->append("order-0", ExpectedVersion::any(), doomed.events()).status();

    EXPECT_EQ(status.code(), StatusCode::kIoError) << status.to_string();
    expect_read_only_with(*s.store, s.acknowledged);
    expect_power_cut_keeps_exactly(s.disk, s.acknowledged);
    (void)s.store->close();
    s.store.reset();
    ASSERT_OK_AND_ASSIGN(auto restarted, open_store(s.disk, test_options(&s.disk, kSmallSegmentBytes)));
    EXPECT_EQ(read_all_events(*restarted), s.acknowledged);
    const EventBatch next = make_events(1);
    ASSERT_OK_AND_ASSIGN(AppendResult result, restarted->append("order-0", ExpectedVersion::any(), next.events()));
    EXPECT_EQ(result.first_position, GlobalPosition{s.acknowledged.size() + 1});
  }
}

TEST(EventStoreFaults, RestartAfterAFailedSyncAcceptsAppendsAgain) {
  FaultyStore s;
  ASSERT_NO_FATAL_FAILURE(open_with_acknowledged_appends(s));
  s.faults.add_rule(log_fault(FaultOp::kSync, EIO));
  const EventBatch doomed = make_events(2, "Doomed");
  ASSERT_FALSE(s.store->append("order-0", ExpectedVersion::any(), doomed.events()).is_ok());
  (void)s.store->close();
  s.store.reset();
  s.faults.clear_rules();

  ASSERT_OK_AND_ASSIGN(auto restarted, open_store(s.faults, faulty_options(s)));

  EXPECT_OK(restarted->writer_status());
  // The failed append was written but not synced: it may or may not have survived,
  // but only whole, and right after the acknowledged events.
  const std::vector<StoredEvent> log = read_all_events(*restarted);
  ASSERT_TRUE(log.size() == 6 || log.size() == 8) << log.size();
  EXPECT_EQ(std::vector<StoredEvent>(log.begin(), log.begin() + 6), s.acknowledged);
  if (log.size() == 8) {
    EXPECT_EQ(ids_of(std::vector<StoredEvent>(log.begin() + 6, log.end())), ids_of(doomed));
  }
  const EventBatch next = make_events(1);
  ASSERT_OK_AND_ASSIGN(AppendResult result, restarted->append("order-0", ExpectedVersion::any(), next.events()));
  EXPECT_EQ(result.first_position, GlobalPosition{log.size() + 1});
}

TEST(EventStoreFaults, FullDiskFailsWithNoSpaceAndNeverAcknowledgesUnwrittenData) {
  FaultyStore s;
  ASSERT_NO_FATAL_FAILURE(open_with_acknowledged_appends(s));
  FaultRule rule = log_fault(FaultOp::kWrite, ENOSPC);
  rule.sticky = true;
  s.faults.add_rule(rule);
  const EventBatch doomed = make_events(2, "Doomed");

  const Status first = s.store->append("order-0", ExpectedVersion::any(), doomed.events()).status();

  EXPECT_EQ(first.code(), StatusCode::kNoSpace) << first.to_string();
  for (int i = 0; i < 5; ++i) {
    const EventBatch again = make_events(1);
    const Status status = s.store->append("order-1", ExpectedVersion::any(), again.events()).status();
    EXPECT_TRUE(status.code() == StatusCode::kNoSpace || status.code() == StatusCode::kReadOnly)
        << status.to_string();
  }
  EXPECT_FALSE(s.store->writer_status().is_ok());
  EXPECT_EQ(read_all_events(*s.store), s.acknowledged);
  expect_power_cut_keeps_exactly(s.disk, s.acknowledged);
}

// The first event of a new type needs a postings file. When it cannot be made (too
// many open files, a full disk) that append fails with the reason and nothing of it is
// written; the writer goes on, and the type can be appended once the file can be made.
TEST(EventStoreFaults, ANewTypesIndexFileThatCannotBeMadeFailsThatAppendOnly) {
  FaultyStore s;
  ASSERT_NO_FATAL_FAILURE(open_with_acknowledged_appends(s));
  FaultRule rule;
  rule.op = FaultOp::kOpen;
  rule.path_contains = "/index/type-";
  rule.error_number = EMFILE;
  s.faults.add_rule(rule);
  const EventBatch novel = make_events(2, "Novel");

  const Status refused = s.store->append("order-0", ExpectedVersion::any(), novel.events()).status();

  EXPECT_FALSE(refused.is_ok());
  EXPECT_NE(refused.message().find("Novel"), std::string::npos) << refused.to_string();
  EXPECT_TRUE(s.store->writer_status().is_ok());
  EXPECT_EQ(read_all_events(*s.store), s.acknowledged);
  const EventBatch known = make_events(1, "Before");
  ASSERT_OK(s.store->append("order-1", ExpectedVersion::any(), known.events()));
  ASSERT_OK(s.store->append("order-0", ExpectedVersion::any(), novel.events()));
  EXPECT_EQ(read_type_events(*s.store, "Novel").size(), 2u);
  EXPECT_EQ(s.store->committed_position(), GlobalPosition{s.acknowledged.size() + 3});
}

struct Scenario {
  const char* name;
  FaultOp op;
  int error_number;
  size_t torn_bytes_kept;
  // A failed write or fsync stops the writer for good, and so does a failed sync of the
  // log directory after a new segment took its name: the name may not be durable,
  // and a log going on in a later segment could not be opened after a power cut. A
  // failed segment creation (open, fallocate) has written nothing and named nothing,
  // so the store may fail that append and go on.
  bool stops_the_writer;
};

// Runs a segment-rolling workload with the scenario's fault armed and checks that
// positions stay gapless, that no append succeeds once the writer has stopped, that
// the live store and a power cut both hold exactly the acknowledged events, and that a
// clean restart holds them too (plus, whole, the failed append that was written but
// not synced, which a restart without a power cut may find).
void run_fault_scenario(const Scenario& scenario, uint64_t successes_before_failure,
                        uint64_t sync_on_writer_below_bytes) {
  FaultyStore s;
  ASSERT_OK_AND_ASSIGN(s.store, open_store(s.faults, faulty_options(s, sync_on_writer_below_bytes)));
  FaultRule rule = log_fault(scenario.op, scenario.error_number);
  rule.torn_bytes_kept = scenario.torn_bytes_kept;
  rule.successes_before_failure = successes_before_failure;
  s.faults.add_rule(rule);
  std::vector<EventId> acknowledged;
  std::vector<EventId> first_failed;
  bool failed = false;

  for (int append = 0; append < 60; ++append) {
    std::vector<EventSpec> specs(1 + append % 3);
    for (EventSpec& spec : specs) spec.payload.assign(700, static_cast<char>('a' + append % 26));
    const EventBatch batch(std::move(specs));
    Result<AppendResult> result = s.store->append("order-" + std::to_string(append % 4),
                                                  ExpectedVersion::any(), batch.events());
    if (result.is_ok()) {
      ASSERT_FALSE(failed && scenario.stops_the_writer) << "append " << append << " succeeded after a stop";
      ASSERT_EQ(result->first_position, GlobalPosition{acknowledged.size() + 1});
      for (const EventId& id : ids_of(batch)) acknowledged.push_back(id);
      continue;
    }
    const StatusCode code = result.status().code();
    const bool stopped = failed && scenario.stops_the_writer;
    const bool expected_code = stopped ? (code == StatusCode::kReadOnly || code == StatusCode::kNoSpace)
                                       : (code == StatusCode::kIoError || code == StatusCode::kNoSpace);
    EXPECT_TRUE(expected_code) << "append " << append << ": " << result.status().to_string();
    if (scenario.stops_the_writer) {
      EXPECT_FALSE(s.store->writer_status().is_ok());
    }
    if (!failed) first_failed = ids_of(batch);
    failed = true;
  }

  if (scenario.stops_the_writer && s.faults.failures_injected() > 0) {
    EXPECT_TRUE(failed) << "an injected failure was swallowed";
  }
  EXPECT_EQ(ids_of(read_all_events(*s.store, 32)), acknowledged);
  std::unique_ptr<MemEnv> copy = s.disk.crash_copy();
  Result<std::unique_ptr<EventStore>> recovered = open_store(*copy, test_options(copy.get(), kSmallSegmentBytes));
  EXPECT_OK(recovered);
  if (recovered.is_ok()) {
    const std::vector<StoredEvent> recovered_log = read_all_events(**recovered, 32);
    EXPECT_EQ(ids_of(recovered_log), acknowledged);
    EXPECT_EQ(positions_of(recovered_log), sequence(1, recovered_log.size()));
  }

  (void)s.store->close();
  s.store.reset();
  ASSERT_OK_AND_ASSIGN(auto restarted, open_store(s.disk, test_options(&s.disk, kSmallSegmentBytes)));
  const std::vector<EventId> restarted_ids = ids_of(read_all_events(*restarted, 32));
  std::vector<EventId> with_failed = acknowledged;
  with_failed.insert(with_failed.end(), first_failed.begin(), first_failed.end());
  EXPECT_TRUE(restarted_ids == acknowledged || (scenario.stops_the_writer && restarted_ids == with_failed))
      << "restart holds " << restarted_ids.size() << " events, " << acknowledged.size() << " were acknowledged";
}

TEST(EventStoreFaults, EveryInjectedFaultLeavesExactlyTheAcknowledgedEvents) {
  const Scenario scenarios[] = {
      {"write EIO", FaultOp::kWrite, EIO, 0, true},
      {"write ENOSPC", FaultOp::kWrite, ENOSPC, 0, true},
      {"torn write", FaultOp::kWrite, EIO, 100, true},
      {"sync EIO", FaultOp::kSync, EIO, 0, true},
      {"open EIO", FaultOp::kOpen, EIO, 0, false},
      {"allocate ENOSPC", FaultOp::kAllocate, ENOSPC, 0, false},
      {"log directory sync EIO", FaultOp::kSyncDir, EIO, 0, true},
  };
  // Commits synced by the writer itself (the default for these small ones) and
  // commits started with start_write_and_sync().
  for (uint64_t sync_on_writer_below_bytes : {StoreOptions{}.sync_on_writer_below_bytes, uint64_t{0}}) {
    for (const Scenario& scenario : scenarios) {
      for (uint64_t successes : {0, 1, 2, 5, 9, 17, 30}) {
        SCOPED_TRACE(std::string(scenario.name) + " after " + std::to_string(successes) + " successes, " +
                     (sync_on_writer_below_bytes == 0 ? "started" : "synced on the writer"));
        EXPECT_NO_FATAL_FAILURE(run_fault_scenario(scenario, successes, sync_on_writer_below_bytes));
      }
    }
  }
}

}  // namespace
}  // namespace orderlog::testing
