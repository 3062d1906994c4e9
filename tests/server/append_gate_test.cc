// AppendGate (server/append_gate.h) in-process: it saturates at its limit, a waiter
// registered while saturated is woken once when the count drops, and a wait on an
// open gate returns at once.
#include "server/append_gate.h"

#include <gtest/gtest.h>

namespace orderlog::server {
namespace {

TEST(AppendGateTest, SaturatesAtTheLimitAndWakesWaitersWhenAnAppendCompletes) {
  AppendGate gate(2);
  EXPECT_FALSE(gate.saturated());
  gate.acquire();
  gate.acquire();
  EXPECT_TRUE(gate.saturated());
  int woken = 0;
  EXPECT_TRUE(gate.wait([&] { ++woken; }));
  EXPECT_EQ(woken, 0);
  gate.release();
  EXPECT_EQ(woken, 1);
  EXPECT_FALSE(gate.saturated());
  gate.release();
  EXPECT_EQ(woken, 1) << "each waiter is woken once";
  EXPECT_EQ(gate.pending(), 0u);
}

TEST(AppendGateTest, WaitOnAnOpenGateReturnsFalseAndDropsTheWakeUp) {
  AppendGate gate(1);
  int woken = 0;
  EXPECT_FALSE(gate.wait([&] { ++woken; }));
  gate.acquire();
  gate.release();
  EXPECT_EQ(woken, 0);
}

}  // namespace
}  // namespace orderlog::server
