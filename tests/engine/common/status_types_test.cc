// Status, OL_CHECK, EventId and ExpectedVersion: the value types every other
// component relies on for errors, ids and optimistic concurrency.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <thread>
#include <unordered_set>

#include "orderlog/check.h"
#include "orderlog/status.h"
#include "orderlog/types.h"

namespace orderlog {
namespace {

TEST(Status, DefaultIsOkAndPrintsOk) {
  Status status;
  EXPECT_TRUE(status.is_ok());
  EXPECT_EQ(status.to_string(), "Ok");
}

TEST(Status, ToStringPrefixesTheCodeName) {
  EXPECT_EQ(Status::corruption("segment 1 offset 4096: checksum mismatch").to_string(),
            "Corruption: segment 1 offset 4096: checksum mismatch");
  EXPECT_EQ(Status::io_error("x").to_string(), "IoError: x");
  EXPECT_EQ(Status::wrong_expected_version("v", 3).to_string(), "WrongExpectedVersion: v");
}

TEST(Status, EveryCodeHasAName) {
  for (int code = 0; code <= static_cast<int>(StatusCode::kTimedOut); ++code) {
    EXPECT_NE(status_code_name(static_cast<StatusCode>(code)), "Unknown") << code;
  }
}

TEST(Status, FromErrnoMapsFullDiskToNoSpace) {
  EXPECT_EQ(Status::from_errno(ENOSPC, "write a").code(), StatusCode::kNoSpace);
  EXPECT_EQ(Status::from_errno(EDQUOT, "write a").code(), StatusCode::kNoSpace);
}

TEST(Status, FromErrnoMapsOtherErrorsToIoErrorWithContextAndNumber) {
  Status status = Status::from_errno(EIO, "fdatasync /db/1.log");
  EXPECT_EQ(status.code(), StatusCode::kIoError);
  EXPECT_EQ(status.message(), "fdatasync /db/1.log: Input/output error (errno 5)");
}

TEST(Status, WrongExpectedVersionCarriesTheActualVersion) {
  EXPECT_EQ(Status::wrong_expected_version("stream a", 7).actual_version(), std::optional<uint64_t>(7));
  EXPECT_FALSE(Status::io_error("x").actual_version().has_value());
}

TEST(OlCheckDeathTest, FailedCheckAbortsNamingTheExpression) {
  EXPECT_DEATH(OL_CHECK(1 + 1 == 3), "check failed at .*status_types_test.cc:[0-9]+: 1 \\+ 1 == 3");
  EXPECT_DEATH(OL_CHECK_MSG(false, "why it matters"), "false \\(why it matters\\)");
}

TEST(EventId, ParseThenToStringRoundTripsInLowerCase) {
  std::optional<EventId> id = EventId::parse("0190A5B2-7C3D-7E4F-8A1B-2C3D4E5F6A7B");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->bytes[0], 0x01);
  EXPECT_EQ(id->bytes[15], 0x7b);
  EXPECT_EQ(id->to_string(), "0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b");
  EXPECT_EQ(EventId::parse(id->to_string()), id);
}

TEST(EventId, ParseRejectsMalformedText) {
  const char* malformed[] = {
      "",
      "0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7",    // one digit short
      "0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b0",  // one digit long
      "0190a5b2a7c3d-7e4f-8a1b-2c3d4e5f6a7b",   // hyphen replaced
      "0190a5b-27c3d-7e4f-8a1b-2c3d4e5f6a7b",   // hyphen moved
      "0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7g",   // not hex
      "{190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7}",
  };
  for (const char* text : malformed) EXPECT_FALSE(EventId::parse(text).has_value()) << text;
}

TEST(EventId, NilIsAllZeroes) {
  EXPECT_TRUE(EventId{}.is_nil());
  EXPECT_EQ(EventId{}.to_string(), "00000000-0000-0000-0000-000000000000");
  EXPECT_FALSE(EventId::parse("00000000-0000-0000-0000-000000000001")->is_nil());
}

TEST(EventId, GenerateGivesDistinctNonNilVersion7Ids) {
  std::unordered_set<EventId, EventIdHash> seen;
  for (int i = 0; i < 10'000; ++i) {
    EventId id = EventId::generate();
    EXPECT_FALSE(id.is_nil());
    EXPECT_EQ(id.bytes[6] >> 4, 7);        // version
    EXPECT_EQ(id.bytes[8] & 0xc0, 0x80);   // variant
    EXPECT_TRUE(seen.insert(id).second) << id.to_string();
  }
}

TEST(EventId, GenerateOrdersIdsFromLaterMillisecondsAfter) {
  EventId earlier = EventId::generate();
  std::this_thread::sleep_for(std::chrono::milliseconds(3));
  EventId later = EventId::generate();
  EXPECT_LT(earlier, later);
}

TEST(EventId, GenerateEmbedsTheCurrentUnixMilliseconds) {
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  EventId id = EventId::generate();
  int64_t stamped_ms = 0;
  for (int i = 0; i < 6; ++i) stamped_ms = (stamped_ms << 8) | id.bytes[i];
  EXPECT_LE(std::abs(stamped_ms - static_cast<int64_t>(now_ms)), 1000);
}

TEST(EventIdHash, EqualIdsHashEqual) {
  EventId a = *EventId::parse("0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b");
  EventId b = *EventId::parse("0190A5B2-7C3D-7E4F-8A1B-2C3D4E5F6A7B");
  EventId c = *EventId::parse("0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7c");
  EXPECT_EQ(EventIdHash{}(a), EventIdHash{}(b));
  EXPECT_NE(EventIdHash{}(a), EventIdHash{}(c));
}

TEST(ExpectedVersion, AnyIsSatisfiedByEveryVersion) {
  EXPECT_TRUE(ExpectedVersion::any().is_satisfied_by(StreamVersion{0}));
  EXPECT_TRUE(ExpectedVersion::any().is_satisfied_by(StreamVersion{42}));
}

TEST(ExpectedVersion, NoStreamRequiresAnEmptyStream) {
  EXPECT_TRUE(ExpectedVersion::no_stream().is_satisfied_by(StreamVersion{0}));
  EXPECT_FALSE(ExpectedVersion::no_stream().is_satisfied_by(StreamVersion{1}));
}

TEST(ExpectedVersion, StreamExistsRequiresAtLeastOneEvent) {
  EXPECT_FALSE(ExpectedVersion::stream_exists().is_satisfied_by(StreamVersion{0}));
  EXPECT_TRUE(ExpectedVersion::stream_exists().is_satisfied_by(StreamVersion{1}));
}

TEST(ExpectedVersion, ExactRequiresThatVersion) {
  ExpectedVersion expected = ExpectedVersion::exact(StreamVersion{3});
  EXPECT_EQ(expected.version(), StreamVersion{3});
  EXPECT_TRUE(expected.is_satisfied_by(StreamVersion{3}));
  EXPECT_FALSE(expected.is_satisfied_by(StreamVersion{2}));
  EXPECT_FALSE(expected.is_satisfied_by(StreamVersion{4}));
  EXPECT_TRUE(ExpectedVersion::exact(StreamVersion{0}).is_satisfied_by(StreamVersion{0}));
}

TEST(ExpectedVersion, ToStringNamesTheCondition) {
  EXPECT_EQ(ExpectedVersion::any().to_string(), "any");
  EXPECT_EQ(ExpectedVersion::no_stream().to_string(), "no_stream");
  EXPECT_EQ(ExpectedVersion::stream_exists().to_string(), "stream_exists");
  EXPECT_EQ(ExpectedVersion::exact(StreamVersion{12}).to_string(), "exactly 12");
}

}  // namespace
}  // namespace orderlog
