// While a group-commit write is on the device, the writer decides requests that arrive
// into the next batch. These tests hold a log write "on the device" (its completion is
// signalled only when the test releases it) and pin what that must never change: the
// next batch's requests are decided meanwhile but acknowledged only after their own
// write is durable; if the held write fails, none of them is acknowledged or written;
// a close while a write is held still makes every acknowledged append durable. The
// stores hand every commit to start_write_and_sync() (sync_on_writer_below_bytes 0);
// sync_on_writer_test.cc covers commits the writer syncs itself.
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "fault_env.h"
#include "forwarding_env.h"
#include "store/writer.h"
#include "store_test_util.h"

namespace orderlog::testing {
namespace {

using std::chrono::milliseconds;

// Shared by the held files: whether new writes are held, and how to end a held one.
class WriteHolder {
 public:
  void hold(bool holding) {
    std::lock_guard lock(mutex_);
    holding_ = holding;
  }
  // Lets every held write complete; with `error_number`, they complete with that error.
  void release_all(int error_number = 0) {
    std::lock_guard lock(mutex_);
    release_error_ = error_number;
    for (int fd : held_) signal(fd);
    held_.clear();
  }
  bool wait_for_held(size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, milliseconds(10'000), [&] { return held_.size() >= count; });
  }
  size_t held() {
    std::lock_guard lock(mutex_);
    return held_.size();
  }
  // Log writes the writer made itself (File::write_at: a batch it syncs on its own).
  void count_write_at() { writes_at_.fetch_add(1); }
  size_t writes_at() const { return writes_at_.load(); }

  // The file side: a started write gets an eventfd, signalled now or on release.
  int start() {
    const int fd = eventfd(0, EFD_CLOEXEC);
    EXPECT_GE(fd, 0);
    std::lock_guard lock(mutex_);
    if (holding_) {
      held_.push_back(fd);
      changed_.notify_all();
    } else {
      signal(fd);
    }
    return fd;
  }
  int release_error() {
    std::lock_guard lock(mutex_);
    return release_error_;
  }
  // Closes a completed write's eventfd under the lock its signal was written under, so
  // the race detector sees the order the kernel guarantees.
  void finished(int fd) {
    std::lock_guard lock(mutex_);
    close(fd);
  }

 private:
  static void signal(int fd) {
    const uint64_t one = 1;
    EXPECT_EQ(write(fd, &one, sizeof(one)), static_cast<ssize_t>(sizeof(one)));
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  bool holding_ = false;
  int release_error_ = 0;
  std::vector<int> held_;
  std::atomic<size_t> writes_at_{0};
};

// A segment whose started write-and-sync completes (for the writer) only once the
// holder releases it. The bytes go to the MemEnv at once: a failed held write may
// still leave them on "disk", as a real failed write may.
class HeldFile : public ForwardingFile {
 public:
  HeldFile(std::unique_ptr<File> base, WriteHolder* holder) : ForwardingFile(std::move(base)), holder_(holder) {}
  ~HeldFile() override {
    if (ready_fd_ >= 0) holder_->finished(ready_fd_);
  }

  Status write_at(uint64_t offset, std::span<const std::byte> data) override {
    holder_->count_write_at();
    return ForwardingFile::write_at(offset, data);
  }

  Status start_write_and_sync(uint64_t offset, std::span<const std::byte> data, bool sync) override {
    OL_RETURN_IF_ERROR(ForwardingFile::start_write_and_sync(offset, data, sync));
    ready_fd_ = holder_->start();
    return Status::ok();
  }
  int write_ready_fd() override { return ready_fd_; }
  Status finish_write_and_sync() override {
    pollfd ready{ready_fd_, POLLIN, 0};
    while (poll(&ready, 1, -1) < 0) {
    }
    holder_->finished(ready_fd_);
    ready_fd_ = -1;
    Status status = ForwardingFile::finish_write_and_sync();
    if (const int error_number = holder_->release_error(); error_number != 0) {
      return Status::from_errno(error_number, "held write failed");
    }
    return status;
  }

 private:
  WriteHolder* holder_;
  int ready_fd_ = -1;
};

class HeldLogEnv : public ForwardingEnv {
 public:
  HeldLogEnv(Env* base, WriteHolder* holder) : ForwardingEnv(base), holder_(holder) {}

  Result<std::unique_ptr<File>> open_direct_file(const std::string& path, OpenMode mode) override {
    OL_ASSIGN_OR_RETURN(std::unique_ptr<File> file, base()->open_direct_file(path, mode));
    if (path.find("/log/") == std::string::npos) return file;
    return std::unique_ptr<File>(std::make_unique<HeldFile>(std::move(file), holder_));
  }

 private:
  WriteHolder* holder_;
};

struct HeldStore {
  // A failed assertion may leave a write held: let it finish, or closing would wait forever.
  ~HeldStore() {
    holder.hold(false);
    holder.release_all();
    store.reset();
  }

  MemEnv mem;
  WriteHolder holder;
  HeldLogEnv env{&mem, &holder};
  std::unique_ptr<EventStore> store;
};

// Options under which every commit is started, so a HeldFile can hold it.
StoreOptions held_options(Env* env) {
  StoreOptions options = test_options(env, kDefaultTestSegmentBytes);
  options.sync_on_writer_below_bytes = 0;
  return options;
}

void open_held(HeldStore& s) {
  ASSERT_OK_AND_ASSIGN(s.store, open_store(s.mem, held_options(&s.env)));
  // A first acknowledged event, written without holding.
  ASSERT_OK(s.store->append("before", ExpectedVersion::any(), make_event("T", "before").events()));
  s.holder.hold(true);
}

// Appends `count` single events with payloads "<label> #<i>" to streams "s-<i % 3>",
// without waiting. `batches` keeps the events alive.
std::vector<std::unique_ptr<AsyncOutcome>> append_async(EventStore& store, size_t count, const std::string& label,
                                                        std::vector<EventBatch>* batches) {
  std::vector<std::unique_ptr<AsyncOutcome>> outcomes;
  const size_t first = batches->size();
  for (size_t i = 0; i < count; ++i) batches->push_back(make_event("T", label + " #" + std::to_string(i)));
  for (size_t i = 0; i < count; ++i) {
    outcomes.push_back(std::make_unique<AsyncOutcome>());
    const std::string stream = "s-" + std::to_string(i % 3);
    const std::vector<StreamAppend> request = {{stream, ExpectedVersion::any(), (*batches)[first + i].events()}};
    store.append_async(request, outcomes.back()->callback());
  }
  return outcomes;
}

// Waits until the writer has decided `appends` appends in all (StoreStats::appends).
bool wait_for_decided(const EventStore& store, uint64_t appends) {
  for (int i = 0; i < 10'000 && store.stats().appends < appends; ++i) std::this_thread::sleep_for(milliseconds(1));
  return store.stats().appends >= appends;
}

struct HeldWrite {
  HeldStore s;
  std::vector<EventBatch> batches;
  std::vector<std::unique_ptr<AsyncOutcome>> first;   // the held write's one append
  std::vector<std::unique_ptr<AsyncOutcome>> during;  // appended while it is held
};

// Given: one acknowledged event, then a write of one more held on the device, and
// `during` appends that arrive while it is held. The writer decides at least the first
// of them before the write completes (it wakes once per write for arrivals and takes
// what has queued by then; the rest wait for the write).
void hold_a_write_and_append(HeldWrite& w, size_t during) {
  ASSERT_NO_FATAL_FAILURE(open_held(w.s));
  w.first = append_async(*w.s.store, 1, "held", &w.batches);
  ASSERT_TRUE(w.s.holder.wait_for_held(1));
  w.during = append_async(*w.s.store, during, "during", &w.batches);
  ASSERT_TRUE(wait_for_decided(*w.s.store, 1 + 1 + 1)) << "nothing was decided while the write was held";
}

TEST(FormingDuringWrite, RequestsArrivingDuringAWriteAreDecidedAtOnceButAcknowledgedAfterTheirOwnWrite) {
  HeldWrite w;
  ASSERT_NO_FATAL_FAILURE(hold_a_write_and_append(w, 10));
  HeldStore& s = w.s;
  const auto& first = w.first;
  const auto& during = w.during;
  EXPECT_EQ(s.store->committed_position(), GlobalPosition{1});
  for (const auto& outcome : first) EXPECT_FALSE(outcome->ready_now());
  for (const auto& outcome : during) EXPECT_FALSE(outcome->ready_now());

  // The first write completes; the ten (decided then or already) go out as the next
  // write, which is held too.
  s.holder.release_all();
  ASSERT_TRUE(s.holder.wait_for_held(1));
  ASSERT_TRUE(first[0]->ready_within(milliseconds(10'000)));
  EXPECT_OK(first[0]->get());
  EXPECT_EQ(s.store->committed_position(), GlobalPosition{2});
  for (const auto& outcome : during) EXPECT_FALSE(outcome->ready_now()) << "acknowledged before its write";

  s.holder.hold(false);
  s.holder.release_all();
  uint64_t next = 3;
  for (const auto& outcome : during) {
    ASSERT_TRUE(outcome->ready_within(milliseconds(10'000)));
    ASSERT_OK_AND_ASSIGN(AppendResult result, outcome->get());
    EXPECT_EQ(result.first_position, GlobalPosition{next++});
  }
  EXPECT_EQ(read_all_events(*s.store).size(), 12u);
}

TEST(FormingDuringWrite, AFailedWriteFailsTheRequestsDecidedDuringItAndWritesNoneOfThem) {
  HeldWrite w;
  ASSERT_NO_FATAL_FAILURE(hold_a_write_and_append(w, 10));
  HeldStore& s = w.s;
  const auto& first = w.first;
  const auto& during = w.during;

  s.holder.hold(false);
  s.holder.release_all(EIO);
  for (const auto& outcome : first) {
    ASSERT_TRUE(outcome->ready_within(milliseconds(10'000)));
    EXPECT_FALSE(outcome->get().is_ok());
  }
  for (const auto& outcome : during) {
    ASSERT_TRUE(outcome->ready_within(milliseconds(10'000)));
    const Result<AppendResult> result = outcome->get();
    EXPECT_FALSE(result.is_ok()) << "acknowledged although the write before it failed";
  }
  EXPECT_FALSE(s.store->writer_status().is_ok());
  EXPECT_EQ(s.store->committed_position(), GlobalPosition{1});
  EXPECT_EQ(read_all_events(*s.store).size(), 1u);

  // On disk: the held write's bytes may have landed, the ten decided during it never.
  std::unique_ptr<MemEnv> disk = s.mem.crash_copy();
  ASSERT_OK_AND_ASSIGN(auto reopened, open_store(*disk, test_options(disk.get(), kDefaultTestSegmentBytes)));
  for (const StoredEvent& event : read_all_events(*reopened)) {
    EXPECT_EQ(event.payload.find("during"), std::string::npos)
        << "an event decided during the failed write reached the disk: " << event.payload;
  }
}

// A retry of the append whose write is on the device is answered from the idempotency
// window and has nothing of its own to write. If that write then fails, the retry
// fails too: it stands for events that never became durable.
TEST(FormingDuringWrite, ARetryOfTheHeldAppendFailsWhenTheHeldWriteFails) {
  HeldStore s;
  ASSERT_NO_FATAL_FAILURE(open_held(s));
  const EventBatch batch = make_event("T", "held");
  const std::vector<StreamAppend> request = {{"s-retry", ExpectedVersion::any(), batch.events()}};
  AsyncOutcome original;
  AsyncOutcome retry;
  s.store->append_async(request, original.callback());
  ASSERT_TRUE(s.holder.wait_for_held(1));
  s.store->append_async(request, retry.callback());
  for (int i = 0; i < 10'000 && s.store->stats().appends_deduplicated == 0; ++i) std::this_thread::sleep_for(milliseconds(1));
  ASSERT_EQ(s.store->stats().appends_deduplicated, 1u) << "the retry was not decided during the held write";

  s.holder.hold(false);
  s.holder.release_all(EIO);
  ASSERT_TRUE(original.ready_within(milliseconds(10'000)));
  EXPECT_FALSE(original.get().is_ok());
  ASSERT_TRUE(retry.ready_within(milliseconds(10'000)));
  const Result<AppendResult> retried = retry.get();
  EXPECT_FALSE(retried.is_ok()) << "a retry was acknowledged for a write that failed";
  EXPECT_EQ(s.store->committed_position(), GlobalPosition{1});
}

// The index entries of requests decided during a write are written before that write
// completes. If writing them fails, the store turns read-only and the write on the
// device is not acknowledged either: publishing its streams would also publish the
// streams of the failed requests, and a reader would follow index entries never written.
TEST(FormingDuringWrite, AFailedIndexWriteDuringAWriteAcknowledgesNothingMore) {
  MemEnv mem;
  FaultEnv faults(&mem);
  WriteHolder holder;
  HeldLogEnv env(&faults, &holder);
  std::unique_ptr<EventStore> store;
  struct Release {
    WriteHolder& holder;
    ~Release() {
      holder.hold(false);
      holder.release_all();
    }
  } release{holder};
  ASSERT_OK_AND_ASSIGN(store, open_store(mem, held_options(&env)));
  for (int i = 0; i < 2; ++i) {
    ASSERT_OK(store->append("s", ExpectedVersion::any(), make_event("T", "s #" + std::to_string(i)).events()));
  }
  holder.hold(true);
  const EventBatch held_event = make_event("T", "held");
  AsyncOutcome held;
  store->append_async(std::vector<StreamAppend>{{"t", ExpectedVersion::any(), held_event.events()}}, held.callback());
  ASSERT_TRUE(holder.wait_for_held(1));
  faults.add_rule({.op = FaultOp::kWrite, .path_contains = "positions.idx", .sticky = true});
  const EventBatch during_event = make_event("T", "s during");
  AsyncOutcome during;
  store->append_async(std::vector<StreamAppend>{{"s", ExpectedVersion::any(), during_event.events()}},
                      during.callback());
  for (int i = 0; i < 10'000 && faults.failures_injected() == 0; ++i) std::this_thread::sleep_for(milliseconds(1));
  ASSERT_GE(faults.failures_injected(), 1u) << "no index write failed during the held write";

  holder.hold(false);
  holder.release_all();
  ASSERT_TRUE(held.ready_within(milliseconds(10'000)));
  EXPECT_FALSE(held.get().is_ok()) << "acknowledged after the writer failed";
  ASSERT_TRUE(during.ready_within(milliseconds(10'000)));
  EXPECT_FALSE(during.get().is_ok());
  EXPECT_FALSE(store->writer_status().is_ok());
  EXPECT_EQ(store->committed_position(), GlobalPosition{2});
  EXPECT_EQ(store->stream_version("s"), StreamVersion{2});
  const std::vector<StoredEvent> events = read_stream_events(*store, "s", 16);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].payload, "s #1");
}

// An appender that answers its acknowledgement with its next append at once (a
// callback of append_async) joins the write that goes out next while that write is
// small, instead of waiting for the one after it.
TEST(FormingDuringWrite, AnAppendSentFromAnAcknowledgementJoinsTheNextSmallWrite) {
  HeldStore s;
  ASSERT_NO_FATAL_FAILURE(open_held(s));
  const EventBatch held = make_event("T", "held");
  const EventBatch answer = make_event("T", "answer");
  AsyncOutcome held_outcome;
  AsyncOutcome answer_outcome;
  const std::vector<StreamAppend> held_request = {{"a", ExpectedVersion::any(), held.events()}};
  s.store->append_async(held_request, [&, done = held_outcome.callback()](Result<AppendResult> result) {
    const std::vector<StreamAppend> next = {{"a", ExpectedVersion::any(), answer.events()}};
    s.store->append_async(next, answer_outcome.callback());
    done(std::move(result));
  });
  ASSERT_TRUE(s.holder.wait_for_held(1));
  std::vector<EventBatch> batches;
  const auto during = append_async(*s.store, 1, "during", &batches);
  ASSERT_TRUE(wait_for_decided(*s.store, 1 + 1 + 1)) << "nothing was decided while the write was held";
  const uint64_t batches_before = s.store->stats().batches;  // "before" only: the held write is not done
  s.holder.hold(false);
  s.holder.release_all();
  ASSERT_TRUE(held_outcome.ready_within(milliseconds(10'000)));
  ASSERT_TRUE(answer_outcome.ready_within(milliseconds(10'000)));
  ASSERT_TRUE(during[0]->ready_within(milliseconds(10'000)));
  ASSERT_OK(held_outcome.get().status());
  ASSERT_OK_AND_ASSIGN(const AppendResult answered, answer_outcome.get());
  ASSERT_OK_AND_ASSIGN(const AppendResult formed, during[0]->get());
  EXPECT_EQ(answered.first_position.value, formed.first_position.value + 1);
  EXPECT_EQ(s.store->stats().batches - batches_before, 2u)
      << "the held write, then one write of the append formed during it and the answer";
}

// A batch formed during a write, small enough for the writer to sync it itself but
// larger than kAcknowledgeFirstBelowBytes (sync_on_writer_below_bytes set above it),
// must not hold back the acknowledgements of the write before it, which is durable.
TEST(FormingDuringWrite, ADurableBatchIsAcknowledgedBeforeTheNextOneTheWriterSyncsItself) {
  HeldStore s;
  StoreOptions options = test_options(&s.env, 4 * 1024 * 1024);
  options.sync_on_writer_below_bytes = 2 * store::kAcknowledgeFirstBelowBytes;
  ASSERT_OK_AND_ASSIGN(s.store, open_store(s.mem, options));
  s.holder.hold(true);
  // Held: one event large enough to be started, not synced on the writer.
  const EventBatch held = make_event("T", std::string(options.sync_on_writer_below_bytes, 'h'));
  std::atomic<size_t> writes_at_when_acknowledged{SIZE_MAX};
  AsyncOutcome held_outcome;
  s.store->append_async(std::vector<StreamAppend>{{"a", ExpectedVersion::any(), held.events()}},
                        [&, done = held_outcome.callback()](Result<AppendResult> result) {
                          writes_at_when_acknowledged = s.holder.writes_at();
                          done(std::move(result));
                        });
  ASSERT_TRUE(s.holder.wait_for_held(1));
  const size_t writes_at_before = s.holder.writes_at();
  // Meanwhile: 300 KiB, decided into the next batch, which the writer will sync itself.
  const EventBatch formed = make_event("T", std::string(300 * 1024, 'd'));
  AsyncOutcome during;
  s.store->append_async(std::vector<StreamAppend>{{"b", ExpectedVersion::any(), formed.events()}},
                        during.callback());
  ASSERT_TRUE(wait_for_decided(*s.store, 2)) << "nothing was decided while the write was held";

  s.holder.hold(false);
  s.holder.release_all();
  ASSERT_TRUE(held_outcome.ready_within(milliseconds(10'000)));
  ASSERT_OK(held_outcome.get().status());
  ASSERT_TRUE(during.ready_within(milliseconds(10'000)));
  ASSERT_OK(during.get().status());
  EXPECT_EQ(writes_at_when_acknowledged.load(), writes_at_before)
      << "the durable write was acknowledged only after the next batch was written";
  EXPECT_EQ(s.holder.writes_at(), writes_at_before + 1) << "the batch formed meanwhile, synced on the writer";
}

TEST(FormingDuringWrite, CloseWhileAWriteIsHeldStillMakesEveryAcknowledgedAppendDurable) {
  HeldWrite w;
  ASSERT_NO_FATAL_FAILURE(hold_a_write_and_append(w, 5));
  HeldStore& s = w.s;
  const auto& during = w.during;
  std::thread closer([&] { EXPECT_OK(s.store->close()); });
  std::this_thread::sleep_for(milliseconds(20));
  s.holder.hold(false);
  s.holder.release_all();
  closer.join();
  size_t acknowledged = 0;
  for (const auto& outcome : during) {
    ASSERT_TRUE(outcome->ready_within(milliseconds(10'000)));
    acknowledged += outcome->get().is_ok() ? 1 : 0;
  }
  EXPECT_EQ(acknowledged, during.size()) << "requests decided before close() must be written";
  std::unique_ptr<MemEnv> disk = s.mem.crash_copy();
  ASSERT_OK_AND_ASSIGN(auto reopened, open_store(*disk, test_options(disk.get(), kDefaultTestSegmentBytes)));
  EXPECT_EQ(read_all_events(*reopened).size(), 1 + 1 + during.size());
}

}  // namespace
}  // namespace orderlog::testing
