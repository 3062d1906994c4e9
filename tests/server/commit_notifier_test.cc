// The commit notifier (server/commit_notifier.cc) on a real store over MemEnv: a
// listener added after a stretch of commits nobody listened to hears the next ones,
// a removed one hears nothing more, and stop() is prompt while nobody listens.
#include "server/commit_notifier.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "../engine/store/store_test_util.h"

namespace orderlog::testing {
namespace {

using namespace std::chrono_literals;

bool eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(CommitNotifier, AListenerAddedAfterUnheardCommitsHearsTheNextOnesUntilRemoved) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventStore> store, open_store(env));
  server::CommitNotifier notifier(*store);
  notifier.start();
  for (int i = 0; i < 5; ++i) ASSERT_OK(store->append("s", ExpectedVersion::any(), make_events(1).events()));

  std::atomic<int> heard{0};
  const uint64_t handle = notifier.add([&] { heard.fetch_add(1); });
  ASSERT_OK(store->append("s", ExpectedVersion::any(), make_events(1).events()));
  EXPECT_TRUE(eventually([&] { return heard.load() >= 1; }));

  notifier.remove(handle);
  std::this_thread::sleep_for(50ms);  // a notification already under way may land
  const int before = heard.load();
  ASSERT_OK(store->append("s", ExpectedVersion::any(), make_events(1).events()));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(heard.load(), before);
  notifier.stop();
}

TEST(CommitNotifier, StopsPromptlyWhileNobodyListens) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventStore> store, open_store(env));
  server::CommitNotifier notifier(*store);
  notifier.start();
  std::this_thread::sleep_for(20ms);  // asleep, waiting for a listener
  const auto stopping = std::chrono::steady_clock::now();
  notifier.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, 1s);
}

}  // namespace
}  // namespace orderlog::testing
