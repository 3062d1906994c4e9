// RecentAppends (index/recent_appends.cc): the idempotency window forgets the oldest
// appends once it covers more than its event budget.
#include "index/recent_appends.h"

#include <gtest/gtest.h>

namespace orderlog::index {
namespace {

RecentAppend append_of(uint64_t first_position, uint32_t events) {
  RecentAppend append;
  append.first_position = first_position;
  append.event_count = events;
  append.stream_versions = {events};
  return append;
}

TEST(RecentAppends, FindsAnAppendByItsFirstEventId) {
  RecentAppends window(100);
  const EventId id = EventId::generate();
  window.add(id, append_of(7, 3));
  ASSERT_NE(window.find(id), nullptr);
  EXPECT_EQ(window.find(id)->first_position, 7u);
  EXPECT_EQ(window.find(EventId::generate()), nullptr);
}

TEST(RecentAppends, ForgetsTheOldestOnceOverTheEventBudget) {
  RecentAppends window(10);
  std::vector<EventId> ids;
  for (uint64_t i = 0; i < 6; ++i) {
    ids.push_back(EventId::generate());
    window.add(ids.back(), append_of(1 + i * 3, 3));  // 3 events each
  }
  // 10 events fit three whole appends of 3 (9), not four (12).
  EXPECT_EQ(window.find(ids[2]), nullptr);
  EXPECT_NE(window.find(ids[3]), nullptr);
  EXPECT_NE(window.find(ids[5]), nullptr);
}

TEST(RecentAppends, KeepsAnAppendLargerThanTheWholeWindow) {
  RecentAppends window(4);
  const EventId id = EventId::generate();
  window.add(id, append_of(1, 50));
  EXPECT_NE(window.find(id), nullptr);
}

TEST(RecentAppends, ZeroWindowRemembersNothing) {
  RecentAppends window(0);
  const EventId id = EventId::generate();
  window.add(id, append_of(1, 1));
  EXPECT_EQ(window.find(id), nullptr);
}

TEST(RecentAppends, IdsHashDependsOnOrder) {
  const EventId a = EventId::generate();
  const EventId b = EventId::generate();
  EXPECT_NE(RecentAppends::hash_ids(RecentAppends::hash_ids(0, a), b),
            RecentAppends::hash_ids(RecentAppends::hash_ids(0, b), a));
}

}  // namespace
}  // namespace orderlog::index
