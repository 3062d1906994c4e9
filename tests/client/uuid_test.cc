// Uuid: UUIDv7 generation, text form and parsing.
#include "orderlog/client/uuid.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>

namespace orderlog::client {
namespace {

TEST(Uuid, GenerateMakesVersion7WithRfcVariant) {
  const Uuid id = Uuid::generate();
  EXPECT_EQ(id.version(), 7);
  EXPECT_EQ(id.bytes[8] & 0xc0, 0x80);
  EXPECT_FALSE(id.is_nil());
}

TEST(Uuid, GenerateEmbedsTheCurrentUnixMilliseconds) {
  const auto now_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
  const uint64_t ms = Uuid::generate().unix_ms();
  EXPECT_GE(ms + 1000, now_ms);
  EXPECT_LE(ms, now_ms + 1000);
}

TEST(Uuid, GeneratedIdsAreUnique) {
  std::set<Uuid> ids;
  for (int i = 0; i < 10'000; ++i) ids.insert(Uuid::generate());
  EXPECT_EQ(ids.size(), 10'000u);
}

TEST(Uuid, ToStringThenParseRoundTrips) {
  const Uuid id = Uuid::generate();
  const std::string text = id.to_string();
  ASSERT_EQ(text.size(), 36u);
  EXPECT_EQ(text[14], '7');
  EXPECT_EQ(Uuid::parse(text), id);
}

TEST(Uuid, ParseAcceptsUpperCase) {
  const auto id = Uuid::parse("0190F5D2-7A3C-7B11-8F00-1234567890AB");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->to_string(), "0190f5d2-7a3c-7b11-8f00-1234567890ab");
}

TEST(Uuid, ParseRejectsMalformedText) {
  EXPECT_FALSE(Uuid::parse(""));
  EXPECT_FALSE(Uuid::parse("0190f5d2-7a3c-7b11-8f00-1234567890a"));    // short
  EXPECT_FALSE(Uuid::parse("0190f5d2-7a3c-7b11-8f00-1234567890abc"));  // long
  EXPECT_FALSE(Uuid::parse("0190f5d2x7a3c-7b11-8f00-1234567890ab"));   // dash missing
  EXPECT_FALSE(Uuid::parse("0190f5d2-7a3c-7b11-8f00-1234567890ag"));   // not hex
  EXPECT_FALSE(Uuid::parse("0190f5d27-a3c-7b11-8f00-1234567890ab"));   // dash misplaced
}

TEST(Uuid, DefaultIsNil) {
  EXPECT_TRUE(Uuid{}.is_nil());
  EXPECT_EQ(Uuid{}.to_string(), "00000000-0000-0000-0000-000000000000");
}

}  // namespace
}  // namespace orderlog::client
