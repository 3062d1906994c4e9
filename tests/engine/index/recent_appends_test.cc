// RecentAppends (index/recent_appends.cc): the idempotency window forgets the oldest
// appends once it covers more than its event budget.
#include "index/recent_appends.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <random>
#include <utility>
#include <vector>

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

TEST(RecentAppends, AFirstIdAddedAgainMovesToTheNewestPlace) {
  // Given A, B, then A again with new contents (a unit re-indexed), 3 events each
  RecentAppends window(10);
  const EventId a = EventId::generate();
  const EventId b = EventId::generate();
  window.add(a, append_of(1, 3));
  window.add(b, append_of(4, 3));
  window.add(a, append_of(7, 3));

  // When two more appends push the window over its budget
  const EventId c = EventId::generate();
  const EventId d = EventId::generate();
  window.add(c, append_of(10, 3));
  window.add(d, append_of(13, 3));

  // Then B, now the oldest, is gone, and A is found with its newer contents
  EXPECT_EQ(window.find(b), nullptr);
  ASSERT_NE(window.find(a), nullptr);
  EXPECT_EQ(window.find(a)->first_position, 7u);
  EXPECT_NE(window.find(c), nullptr);
  EXPECT_NE(window.find(d), nullptr);
}

// The window against a plain model (a map and an append-ordered list) over many
// random appends, re-adds included: every id ever added is found exactly when the
// model still holds it, with the same contents. Exercises table growth and the
// deletions that shift probe runs.
TEST(RecentAppends, MatchesAPlainModelOverManyRandomAppends) {
  constexpr size_t kWindow = 3'000;
  RecentAppends window(kWindow);
  std::map<EventId, uint64_t> model;                  // id -> first_position
  std::deque<std::pair<EventId, uint32_t>> order;     // live ids, oldest first
  size_t model_events = 0;
  std::vector<EventId> ids;
  std::mt19937_64 random(42);
  for (uint64_t position = 1; position <= 40'000; ++position) {
    const bool again = !ids.empty() && random() % 10 == 0;
    const EventId id = again ? ids[random() % ids.size()] : EventId::generate();
    if (!again) ids.push_back(id);
    const auto events = static_cast<uint32_t>(1 + random() % 4);
    window.add(id, append_of(position, events));
    if (model.erase(id) > 0) {
      for (auto it = order.begin(); it != order.end(); ++it) {
        if (it->first == id) {
          model_events -= it->second;
          order.erase(it);
          break;
        }
      }
    }
    model[id] = position;
    order.emplace_back(id, events);
    model_events += events;
    while (model_events > kWindow && order.size() > 1) {
      model.erase(order.front().first);
      model_events -= order.front().second;
      order.pop_front();
    }
    if (position % 1'000 == 0) {
      for (const EventId& known : ids) {
        const RecentAppend* found = window.find(known);
        const auto expected = model.find(known);
        ASSERT_EQ(found != nullptr, expected != model.end()) << "at position " << position;
        if (found != nullptr) {
          ASSERT_EQ(found->first_position, expected->second);
        }
      }
    }
  }
}

TEST(RecentAppends, ClearForgetsEverything) {
  RecentAppends window(100);
  const EventId id = EventId::generate();
  window.add(id, append_of(1, 1));
  window.clear();
  EXPECT_EQ(window.find(id), nullptr);
  window.add(id, append_of(2, 1));
  ASSERT_NE(window.find(id), nullptr);
  EXPECT_EQ(window.find(id)->first_position, 2u);
}

TEST(RecentAppends, IdsHashDependsOnOrder) {
  const EventId a = EventId::generate();
  const EventId b = EventId::generate();
  EXPECT_NE(RecentAppends::hash_ids(RecentAppends::hash_ids(0, a), b),
            RecentAppends::hash_ids(RecentAppends::hash_ids(0, b), a));
}

}  // namespace
}  // namespace orderlog::index
