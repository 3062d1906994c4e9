// MemEnv must behave like a disk that loses exactly the unsynced bytes on a power cut,
// or every crash test built on it proves nothing.
#include "mem_env.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <thread>

namespace orderlog::testing {
namespace {

std::span<const std::byte> as_bytes(std::string_view text) {
  return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

std::unique_ptr<File> open_or_die(Env& env, const std::string& path, OpenMode mode) {
  auto file = env.open_file(path, mode);
  EXPECT_TRUE(file.is_ok()) << file.status().to_string();
  return file.is_ok() ? std::move(file).value() : nullptr;
}

std::string contents_or_die(const MemEnv& env, const std::string& path) {
  auto bytes = env.contents(path);
  EXPECT_TRUE(bytes.is_ok()) << bytes.status().to_string();
  return bytes.is_ok() ? bytes.value() : std::string();
}

TEST(MemEnv, CrashCopyKeepsOnlySyncedBytes) {
  MemEnv env;
  ASSERT_TRUE(env.create_dir("/db").is_ok());
  auto file = open_or_die(env, "/db/1.log", OpenMode::kCreate);
  ASSERT_TRUE(file->write_at(0, as_bytes("durable")).is_ok());
  ASSERT_TRUE(file->sync_data().is_ok());
  ASSERT_TRUE(file->write_at(7, as_bytes("-lost")).is_ok());
  EXPECT_EQ(contents_or_die(env, "/db/1.log"), "durable-lost");

  std::unique_ptr<MemEnv> after_crash = env.crash_copy();
  EXPECT_EQ(contents_or_die(*after_crash, "/db/1.log"), "durable");
  EXPECT_TRUE(after_crash->file_exists("/db"));
}

TEST(MemEnv, OverwriteBeforeSyncIsLostButSyncedOverwriteSurvives) {
  MemEnv env;
  auto file = open_or_die(env, "a", OpenMode::kCreate);
  ASSERT_TRUE(file->write_at(0, as_bytes("aaaa")).is_ok());
  ASSERT_TRUE(file->sync_data().is_ok());
  ASSERT_TRUE(file->write_at(1, as_bytes("bb")).is_ok());
  EXPECT_EQ(contents_or_die(*env.crash_copy(), "a"), "aaaa");
  ASSERT_TRUE(file->sync_data().is_ok());
  EXPECT_EQ(contents_or_die(*env.crash_copy(), "a"), "abba");
}

TEST(MemEnv, NeverSyncedFileIsEmptyAfterCrash) {
  MemEnv env;
  auto file = open_or_die(env, "fresh", OpenMode::kCreate);
  ASSERT_TRUE(file->write_at(0, as_bytes("unsynced")).is_ok());
  std::unique_ptr<MemEnv> after_crash = env.crash_copy();
  ASSERT_TRUE(after_crash->file_exists("fresh"));
  EXPECT_EQ(contents_or_die(*after_crash, "fresh"), "");
}

TEST(MemEnv, ShrinkThenGrowReadsZerosAndSyncsThem) {
  MemEnv env;
  auto file = open_or_die(env, "t", OpenMode::kCreate);
  ASSERT_TRUE(file->write_at(0, as_bytes("abcdef")).is_ok());
  ASSERT_TRUE(file->sync_data().is_ok());
  ASSERT_TRUE(file->truncate(2).is_ok());
  ASSERT_TRUE(file->truncate(6).is_ok());
  ASSERT_TRUE(file->sync_data().is_ok());
  EXPECT_EQ(contents_or_die(*env.crash_copy(), "t"), std::string("ab\0\0\0\0", 6));
}

TEST(MemEnv, WriteBeyondTheEndFillsTheGapWithZeros) {
  MemEnv env;
  auto file = open_or_die(env, "gap", OpenMode::kCreate);
  ASSERT_TRUE(file->write_at(3, as_bytes("x")).is_ok());
  EXPECT_EQ(contents_or_die(env, "gap"), std::string("\0\0\0x", 4));
  EXPECT_EQ(file->size().value(), 4u);
}

TEST(MemEnv, ReadPastTheEndIsAnError) {
  MemEnv env;
  auto file = open_or_die(env, "r", OpenMode::kCreate);
  ASSERT_TRUE(file->write_at(0, as_bytes("abc")).is_ok());
  std::array<std::byte, 4> out{};
  EXPECT_EQ(file->read_at(0, out).code(), StatusCode::kIoError);
  EXPECT_TRUE(file->read_at(0, std::span(out).first(3)).is_ok());
}

TEST(MemEnv, MapPointerSeesLaterWritesAndGrowth) {
  MemEnv env;
  auto file = open_or_die(env, "m", OpenMode::kCreate);
  ASSERT_TRUE(file->write_at(0, as_bytes("abc")).is_ok());
  auto mapped = file->map(1 << 20);
  ASSERT_TRUE(mapped.is_ok());
  const std::byte* base = mapped.value();
  ASSERT_TRUE(file->write_at(3, as_bytes("def")).is_ok());
  EXPECT_EQ(std::memcmp(base, "abcdef", 6), 0);
  EXPECT_EQ(file->map(4096).value(), base);
  EXPECT_EQ(file->map(2 << 20).status().code(), StatusCode::kInvalidArgument);
}

TEST(MemEnv, SetContentsIsVisibleAndDurable) {
  MemEnv env;
  env.set_contents("/db/CURRENT", "manifest-7");
  EXPECT_EQ(contents_or_die(env, "/db/CURRENT"), "manifest-7");
  EXPECT_EQ(contents_or_die(*env.crash_copy(), "/db/CURRENT"), "manifest-7");
  auto file = open_or_die(env, "/db/CURRENT", OpenMode::kReadOnly);
  EXPECT_EQ(file->size().value(), 10u);
}

TEST(MemEnv, ContentsOfMissingFileIsNotFound) {
  MemEnv env;
  EXPECT_EQ(env.contents("nope").status().code(), StatusCode::kNotFound);
}

TEST(MemEnv, SecondLockIsBusyUntilTheFirstIsReleased) {
  MemEnv env;
  ASSERT_TRUE(env.create_dir("/db").is_ok());
  auto first = env.lock_file("/db/LOCK");
  ASSERT_TRUE(first.is_ok());
  auto second = env.lock_file("/db/LOCK");
  EXPECT_EQ(second.status().code(), StatusCode::kBusy);
  first.value().reset();
  EXPECT_TRUE(env.lock_file("/db/LOCK").is_ok());
}

TEST(MemEnv, OpenInMissingDirectoryIsNotFound) {
  MemEnv env;
  auto file = env.open_file("/missing/1.log", OpenMode::kCreate);
  EXPECT_EQ(file.status().code(), StatusCode::kNotFound);
  EXPECT_NE(file.status().message().find("/missing/1.log"), std::string::npos);
}

TEST(MemEnv, OpenModesFollowPosixRules) {
  MemEnv env;
  EXPECT_EQ(env.open_file("f", OpenMode::kReadWrite).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(env.open_file("f", OpenMode::kCreateExclusive).is_ok());
  auto again = env.open_file("f", OpenMode::kCreateExclusive);
  ASSERT_FALSE(again.is_ok());
  EXPECT_NE(again.status().message().find("File exists"), std::string::npos);
  auto read_only = open_or_die(env, "f", OpenMode::kReadOnly);
  EXPECT_FALSE(read_only->write_at(0, as_bytes("x")).is_ok());
}

TEST(MemEnv, ListDirReturnsOnlyDirectChildren) {
  MemEnv env;
  ASSERT_TRUE(env.create_dir("/db").is_ok());
  ASSERT_TRUE(env.create_dir("/db/snapshots").is_ok());
  env.set_contents("/db/1.log", "");
  env.set_contents("/db/snapshots/1.snap", "");
  env.set_contents("/dbx/other", "");
  auto names = env.list_dir("/db");
  ASSERT_TRUE(names.is_ok());
  std::sort(names->begin(), names->end());
  EXPECT_EQ(names.value(), (std::vector<std::string>{"1.log", "snapshots"}));
  EXPECT_EQ(env.list_dir("/nowhere").status().code(), StatusCode::kNotFound);
}

TEST(MemEnv, RenameMovesTheFileWithItsDurableBytes) {
  MemEnv env;
  auto file = open_or_die(env, "tmp", OpenMode::kCreate);
  ASSERT_TRUE(file->write_at(0, as_bytes("checkpoint")).is_ok());
  ASSERT_TRUE(file->sync_data().is_ok());
  env.set_contents("final", "old");
  ASSERT_TRUE(env.rename_file("tmp", "final").is_ok());
  EXPECT_FALSE(env.file_exists("tmp"));
  EXPECT_EQ(contents_or_die(*env.crash_copy(), "final"), "checkpoint");
  EXPECT_EQ(env.rename_file("tmp", "final").code(), StatusCode::kNotFound);
}

TEST(MemEnv, RemovedFileIsGone) {
  MemEnv env;
  env.set_contents("gone", "x");
  ASSERT_TRUE(env.remove_file("gone").is_ok());
  EXPECT_FALSE(env.file_exists("gone"));
  EXPECT_EQ(env.remove_file("gone").code(), StatusCode::kNotFound);
}

TEST(MemEnv, StartAndFinishWriteAndSyncMakesTheBytesDurable) {
  MemEnv env;
  auto file = open_or_die(env, "w", OpenMode::kCreate);
  ASSERT_TRUE(file->start_write_and_sync(0, as_bytes("batch"), true).is_ok());
  ASSERT_TRUE(file->finish_write_and_sync().is_ok());
  ASSERT_TRUE(file->start_write_and_sync(5, as_bytes("-unsynced"), false).is_ok());
  ASSERT_TRUE(file->finish_write_and_sync().is_ok());
  EXPECT_EQ(contents_or_die(env, "w"), "batch-unsynced");
  EXPECT_EQ(contents_or_die(*env.crash_copy(), "w"), "batch");
}

TEST(MemEnv, AllocateOnlyGrows) {
  MemEnv env;
  auto file = open_or_die(env, "a", OpenMode::kCreate);
  ASSERT_TRUE(file->allocate(100).is_ok());
  EXPECT_EQ(file->size().value(), 100u);
  ASSERT_TRUE(file->allocate(10).is_ok());
  EXPECT_EQ(file->size().value(), 100u);
}

TEST(MemEnv, FixedClockIsReturnedUntilCleared) {
  MemEnv env;
  env.set_clock_ns(1234);
  EXPECT_EQ(env.now_ns(), 1234u);
  env.set_clock_ns(0);
  EXPECT_GT(env.now_ns(), 1'600'000'000'000'000'000u);
}

TEST(MemEnv, ReaderOfTheMappingSeesWhatTheWriterPublished) {
  MemEnv env;
  auto file = open_or_die(env, "seg", OpenMode::kCreate);
  const std::byte* base = file->map(1 << 20).value();
  std::atomic<uint64_t> published_bytes{0};
  constexpr uint64_t kBatches = 2'000;
  std::thread reader([&] {
    uint64_t checked = 0;
    while (checked < kBatches) {
      uint64_t visible = published_bytes.load(std::memory_order_acquire);
      for (; checked < visible; ++checked) {
        ASSERT_EQ(static_cast<char>(base[checked]), static_cast<char>('a' + checked % 26));
      }
    }
  });
  for (uint64_t i = 0; i < kBatches; ++i) {
    char byte = static_cast<char>('a' + i % 26);
    ASSERT_TRUE(file->write_at(i, std::as_bytes(std::span(&byte, 1))).is_ok());
    if (i % 64 == 0) {
      ASSERT_TRUE(file->sync_data().is_ok());
    }
    published_bytes.store(i + 1, std::memory_order_release);
  }
  reader.join();
}

TEST(MemEnv, ConcurrentFilesAndCrashCopiesAreSafe) {
  MemEnv env;
  ASSERT_TRUE(env.create_dir("/db").is_ok());
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&env, t] {
      auto file = open_or_die(env, "/db/" + std::to_string(t), OpenMode::kCreate);
      for (int i = 0; i < 200; ++i) {
        ASSERT_TRUE(file->write_at(static_cast<uint64_t>(i), as_bytes("x")).is_ok());
        ASSERT_TRUE(file->sync_data().is_ok());
        if (i % 50 == 0) {
          ASSERT_TRUE(env.crash_copy()->list_dir("/db").is_ok());
        }
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  std::unique_ptr<MemEnv> after_crash = env.crash_copy();
  for (int t = 0; t < 4; ++t) {
    EXPECT_EQ(contents_or_die(*after_crash, "/db/" + std::to_string(t)), std::string(200, 'x'));
  }
}

}  // namespace
}  // namespace orderlog::testing
