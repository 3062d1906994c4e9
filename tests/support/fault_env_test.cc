// FaultEnv must fail exactly the operations a rule names, the way a real disk would,
// so store tests can pin their behaviour on EIO, ENOSPC, torn writes and bad fsyncs.
#include "fault_env.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "mem_env.h"

namespace orderlog::testing {
namespace {

std::span<const std::byte> as_bytes(std::string_view text) {
  return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

std::unique_ptr<File> open_or_die(Env& env, const std::string& path) {
  auto file = env.open_file(path, OpenMode::kCreate);
  EXPECT_TRUE(file.is_ok()) << file.status().to_string();
  return file.is_ok() ? std::move(file).value() : nullptr;
}

TEST(FaultEnv, NthWriteFailsWithEioAndLaterWritesSucceed) {
  MemEnv base;
  FaultEnv env(&base);
  FaultRule rule;
  rule.op = FaultOp::kWrite;
  rule.successes_before_failure = 2;
  rule.error_number = EIO;
  env.add_rule(rule);
  auto file = open_or_die(env, "1.log");
  EXPECT_TRUE(file->write_at(0, as_bytes("a")).is_ok());
  EXPECT_TRUE(file->write_at(1, as_bytes("b")).is_ok());
  Status third = file->write_at(2, as_bytes("c"));
  EXPECT_EQ(third.code(), StatusCode::kIoError);
  EXPECT_NE(third.message().find("injected: write 1.log"), std::string::npos) << third.to_string();
  EXPECT_TRUE(file->write_at(2, as_bytes("d")).is_ok());
  EXPECT_EQ(base.contents("1.log").value(), "abd");
  EXPECT_EQ(env.failures_injected(), 1u);
}

TEST(FaultEnv, EnospcMapsToNoSpace) {
  MemEnv base;
  FaultEnv env(&base);
  FaultRule rule;
  rule.op = FaultOp::kWrite;
  rule.error_number = ENOSPC;
  env.add_rule(rule);
  auto file = open_or_die(env, "1.log");
  EXPECT_EQ(file->write_at(0, as_bytes("a")).code(), StatusCode::kNoSpace);
}

TEST(FaultEnv, TornWriteKeepsExactlyTheLeadingBytes) {
  MemEnv base;
  FaultEnv env(&base);
  FaultRule rule;
  rule.op = FaultOp::kWrite;
  rule.torn_bytes_kept = 3;
  env.add_rule(rule);
  auto file = open_or_die(env, "1.log");
  EXPECT_FALSE(file->write_at(0, as_bytes("0123456789")).is_ok());
  EXPECT_EQ(base.contents("1.log").value(), "012");
}

TEST(FaultEnv, FailedSyncLeavesTheBytesUndurable) {
  MemEnv base;
  FaultEnv env(&base);
  FaultRule rule;
  rule.op = FaultOp::kSync;
  env.add_rule(rule);
  auto file = open_or_die(env, "1.log");
  ASSERT_TRUE(file->write_at(0, as_bytes("data")).is_ok());
  EXPECT_EQ(file->sync_data().code(), StatusCode::kIoError);
  EXPECT_EQ(base.crash_copy()->contents("1.log").value(), "");
}

TEST(FaultEnv, StickyRuleFailsEveryLaterOperation) {
  MemEnv base;
  FaultEnv env(&base);
  FaultRule rule;
  rule.op = FaultOp::kSync;
  rule.successes_before_failure = 1;
  rule.sticky = true;
  env.add_rule(rule);
  auto file = open_or_die(env, "1.log");
  EXPECT_TRUE(file->sync_data().is_ok());
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(file->sync_data().is_ok());
  EXPECT_EQ(env.failures_injected(), 3u);
  env.clear_rules();
  EXPECT_TRUE(file->sync_data().is_ok());
}

TEST(FaultEnv, StickyTornWriteTearsOnlyTheFirstWrite) {
  MemEnv base;
  FaultEnv env(&base);
  FaultRule rule;
  rule.op = FaultOp::kWrite;
  rule.torn_bytes_kept = 2;
  rule.sticky = true;
  env.add_rule(rule);
  auto file = open_or_die(env, "1.log");
  EXPECT_FALSE(file->write_at(0, as_bytes("abcd")).is_ok());
  EXPECT_FALSE(file->write_at(2, as_bytes("efgh")).is_ok());
  EXPECT_EQ(base.contents("1.log").value(), "ab");
}

TEST(FaultEnv, RuleOnlyCountsPathsContainingItsFilter) {
  MemEnv base;
  FaultEnv env(&base);
  FaultRule rule;
  rule.op = FaultOp::kWrite;
  rule.path_contains = ".idx";
  env.add_rule(rule);
  auto log = open_or_die(env, "1.log");
  auto index = open_or_die(env, "1.idx");
  EXPECT_TRUE(log->write_at(0, as_bytes("x")).is_ok());
  EXPECT_FALSE(index->write_at(0, as_bytes("x")).is_ok());
}

TEST(FaultEnv, WriteAndSyncReportsAnInjectedSyncFailureFromFinish) {
  MemEnv base;
  FaultEnv env(&base);
  FaultRule rule;
  rule.op = FaultOp::kSync;
  rule.error_number = EIO;
  env.add_rule(rule);
  auto file = open_or_die(env, "1.log");
  ASSERT_TRUE(file->start_write_and_sync(0, as_bytes("batch"), true).is_ok());
  Status finished = file->finish_write_and_sync();
  EXPECT_EQ(finished.code(), StatusCode::kIoError);
  EXPECT_NE(finished.message().find("injected: sync"), std::string::npos);
  EXPECT_EQ(base.contents("1.log").value(), "batch");
  EXPECT_EQ(base.crash_copy()->contents("1.log").value(), "");
}

TEST(FaultEnv, WriteAndSyncCountsItsWriteLikeWriteAt) {
  MemEnv base;
  FaultEnv env(&base);
  FaultRule rule;
  rule.op = FaultOp::kWrite;
  rule.successes_before_failure = 1;
  env.add_rule(rule);
  auto file = open_or_die(env, "1.log");
  ASSERT_TRUE(file->write_at(0, as_bytes("a")).is_ok());
  ASSERT_TRUE(file->start_write_and_sync(1, as_bytes("b"), true).is_ok());
  EXPECT_FALSE(file->finish_write_and_sync().is_ok());
  EXPECT_EQ(base.crash_copy()->contents("1.log").value(), "");
}

TEST(FaultEnv, OpenCanBeFailed) {
  MemEnv base;
  FaultEnv env(&base);
  FaultRule rule;
  rule.op = FaultOp::kOpen;
  rule.path_contains = "LOCK";
  rule.error_number = EACCES;
  env.add_rule(rule);
  EXPECT_EQ(env.open_file("LOCK", OpenMode::kCreate).status().code(), StatusCode::kIoError);
  EXPECT_TRUE(env.open_file("1.log", OpenMode::kCreate).is_ok());
}

TEST(FaultEnv, GrowingTruncateCountsAsAllocateButShrinkingDoesNot) {
  MemEnv base;
  FaultEnv env(&base);
  FaultRule rule;
  rule.op = FaultOp::kAllocate;
  rule.sticky = true;
  env.add_rule(rule);
  auto file = open_or_die(env, "1.idx");
  EXPECT_FALSE(file->truncate(10).is_ok());
  EXPECT_FALSE(file->allocate(10).is_ok());
  EXPECT_TRUE(file->truncate(0).is_ok());
}

TEST(FaultEnv, IndependentRulesEachCountTheirOwnMatches) {
  MemEnv base;
  FaultEnv env(&base);
  FaultRule eio;
  eio.successes_before_failure = 1;
  eio.error_number = EIO;
  FaultRule enospc;
  enospc.successes_before_failure = 2;
  enospc.error_number = ENOSPC;
  env.add_rule(eio);
  env.add_rule(enospc);
  auto file = open_or_die(env, "1.log");
  EXPECT_TRUE(file->write_at(0, as_bytes("a")).is_ok());
  EXPECT_EQ(file->write_at(1, as_bytes("b")).code(), StatusCode::kIoError);
  EXPECT_EQ(file->write_at(1, as_bytes("c")).code(), StatusCode::kNoSpace);
  EXPECT_TRUE(file->write_at(1, as_bytes("d")).is_ok());
}

}  // namespace
}  // namespace orderlog::testing
