// The POSIX Env against a real file system: round trips, the mapping's stability,
// write-and-sync with and without io_uring (including how a failed write is reported),
// locks and directory operations.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "orderlog/env.h"
#include "storage/aligned_buffer.h"
#include "scratch_dir.h"
#include "storage/uring_file.h"

namespace orderlog {
namespace {

using testing::ScratchDir;

std::span<const std::byte> as_bytes(std::string_view text) {
  return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

std::unique_ptr<File> open_or_die(Env& env, const std::string& path, OpenMode mode) {
  auto file = env.open_file(path, mode);
  EXPECT_TRUE(file.is_ok()) << file.status().to_string();
  return file.is_ok() ? std::move(file).value() : nullptr;
}

std::string read_all(File& file) {
  std::string bytes(file.size().value(), '\0');
  Status status = file.read_at(0, std::as_writable_bytes(std::span<char>(bytes.data(), bytes.size())));
  EXPECT_TRUE(status.is_ok()) << status.to_string();
  return bytes;
}

std::unique_ptr<Env> posix_env(bool use_io_uring) { return new_posix_env(PosixEnvOptions{.use_io_uring = use_io_uring}); }

TEST(PosixFile, WriteThenReadReturnsTheSameBytes) {
  ScratchDir dir;
  auto file = open_or_die(*default_env(), dir.file("a"), OpenMode::kCreate);
  ASSERT_TRUE(file->write_at(0, as_bytes("hello")).is_ok());
  ASSERT_TRUE(file->write_at(5, as_bytes(", world")).is_ok());
  ASSERT_TRUE(file->sync_data().is_ok());
  EXPECT_EQ(read_all(*file), "hello, world");
}

TEST(PosixFile, ReadPastTheEndIsAnError) {
  ScratchDir dir;
  auto file = open_or_die(*default_env(), dir.file("a"), OpenMode::kCreate);
  ASSERT_TRUE(file->write_at(0, as_bytes("abc")).is_ok());
  std::array<std::byte, 4> out{};
  Status status = file->read_at(0, out);
  EXPECT_EQ(status.code(), StatusCode::kIoError);
  EXPECT_NE(status.message().find("short read"), std::string::npos) << status.to_string();
  EXPECT_NE(status.message().find(dir.file("a")), std::string::npos) << status.to_string();
}

TEST(PosixFile, MapSeesLaterWritesAndGrowthAtTheSameAddress) {
  ScratchDir dir;
  auto file = open_or_die(*default_env(), dir.file("seg"), OpenMode::kCreate);
  ASSERT_TRUE(file->write_at(0, as_bytes("first")).is_ok());
  auto mapped = file->map(1 << 20);
  ASSERT_TRUE(mapped.is_ok()) << mapped.status().to_string();
  const std::byte* base = mapped.value();
  EXPECT_EQ(std::memcmp(base, "first", 5), 0);

  // Grow across a page boundary; the new page becomes readable in place.
  std::string tail(10'000, 'z');
  ASSERT_TRUE(file->write_at(5, as_bytes(tail)).is_ok());
  EXPECT_EQ(static_cast<char>(base[5 + 9'999]), 'z');
  EXPECT_EQ(file->map(4096).value(), base);
  EXPECT_EQ(file->map(2 << 20).status().code(), StatusCode::kInvalidArgument);
}

TEST(PosixFile, DroppedPagesLeaveThePageCacheAndReadBackThroughTheMapping) {
  // Given 4 MiB written in one go (the page cache may hold it in large folios, up to
  // 2 MiB and aligned to their size), synced and read through the mapping
  ScratchDir dir;
  auto file = open_or_die(*default_env(), dir.file("seg"), OpenMode::kCreate);
  constexpr size_t kMiB = 1024 * 1024;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::string bytes(4 * kMiB, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>('a' + (i / page + i) % 26);
  ASSERT_TRUE(file->write_at(0, as_bytes(bytes)).is_ok());
  ASSERT_TRUE(file->sync_data().is_ok());
  auto mapped = file->map(bytes.size());
  ASSERT_TRUE(mapped.is_ok()) << mapped.status().to_string();
  const std::byte* base = mapped.value();
  ASSERT_EQ(std::memcmp(base, bytes.data(), bytes.size()), 0);
  struct statfs fs {};
  ASSERT_EQ(statfs(dir.path().c_str(), &fs), 0);
  if (fs.f_type == TMPFS_MAGIC) GTEST_SKIP() << "tmpfs keeps its pages: nothing to drop";

  // When the first 2 MiB are dropped
  ASSERT_TRUE(file->drop_cached(0, 2 * kMiB).is_ok());

  // Then they left the page cache and the rest did not
  std::vector<unsigned char> resident(bytes.size() / page);
  ASSERT_EQ(mincore(const_cast<std::byte*>(base), bytes.size(), resident.data()), 0);
  const size_t dropped_pages = 2 * kMiB / page;
  EXPECT_EQ(std::count_if(resident.begin(), resident.begin() + dropped_pages, [](unsigned char r) { return r & 1; }), 0);
  EXPECT_EQ(std::count_if(resident.begin() + dropped_pages, resident.end(), [](unsigned char r) { return r & 1; }),
            static_cast<std::ptrdiff_t>(resident.size() - dropped_pages));
  // And the bytes read the same through the mapping and the file
  EXPECT_EQ(std::memcmp(base, bytes.data(), bytes.size()), 0);
  EXPECT_EQ(read_all(*file), bytes);
  // And an empty or sub-page range is no error
  EXPECT_TRUE(file->drop_cached(page + 1, page - 2).is_ok());
  EXPECT_TRUE(file->drop_cached(0, 0).is_ok());
}

TEST(PosixFile, WriteAndSyncLandsTheBytesWithAndWithoutIoUring) {
  for (bool use_io_uring : {true, false}) {
    ScratchDir dir;
    auto env = posix_env(use_io_uring);
    auto file = open_or_die(*env, dir.file("seg"), OpenMode::kCreate);
    std::string batch(100'000, 'b');
    ASSERT_TRUE(file->start_write_and_sync(0, as_bytes(batch), true).is_ok());
    ASSERT_TRUE(file->finish_write_and_sync().is_ok()) << use_io_uring;
    ASSERT_TRUE(file->start_write_and_sync(batch.size(), as_bytes("tail"), false).is_ok());
    ASSERT_TRUE(file->finish_write_and_sync().is_ok()) << use_io_uring;
    EXPECT_EQ(read_all(*file), batch + "tail") << use_io_uring;
  }
}

// A large buffered commit is copied in chunks, each handed to the device at once:
// every byte must still land at its own offset, around an earlier and a later write.
TEST(PosixFile, ALargeWriteAndSyncLandsEveryChunkAtItsOffset) {
  for (bool use_io_uring : {true, false}) {
    ScratchDir dir;
    auto env = posix_env(use_io_uring);
    auto file = open_or_die(*env, dir.file("seg"), OpenMode::kCreate);
    std::string head(4096, 'h');
    std::string batch(3 * 1024 * 1024 + 12'345, '\0');
    for (size_t i = 0; i < batch.size(); ++i) batch[i] = static_cast<char>('a' + (i / 4096 + i) % 26);
    ASSERT_TRUE(file->start_write_and_sync(0, as_bytes(head), true).is_ok());
    ASSERT_TRUE(file->finish_write_and_sync().is_ok());
    ASSERT_TRUE(file->start_write_and_sync(head.size(), as_bytes(batch), true).is_ok());
    ASSERT_TRUE(file->finish_write_and_sync().is_ok()) << use_io_uring;
    ASSERT_TRUE(file->start_write_and_sync(head.size() + batch.size(), as_bytes("tail"), true).is_ok());
    ASSERT_TRUE(file->finish_write_and_sync().is_ok());
    EXPECT_TRUE(read_all(*file) == head + batch + "tail") << use_io_uring;
  }
}

TEST(PosixFile, WriteAndSyncReportsTheWriteErrorNotTheCancelledSync) {
  for (bool use_io_uring : {true, false}) {
    ScratchDir dir;
    auto env = posix_env(use_io_uring);
    open_or_die(*env, dir.file("ro"), OpenMode::kCreate).reset();
    auto file = open_or_die(*env, dir.file("ro"), OpenMode::kReadOnly);
    ASSERT_TRUE(file->start_write_and_sync(0, as_bytes("x"), true).is_ok());
    Status status = file->finish_write_and_sync();
    EXPECT_EQ(status.code(), StatusCode::kIoError) << use_io_uring;
    EXPECT_NE(status.message().find("errno 9"), std::string::npos) << status.to_string();  // EBADF
  }
}

// RLIMIT_FSIZE makes the kernel write only up to the limit: a genuine short write.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &saved_);
    previous_handler_ = signal(SIGXFSZ, SIG_IGN);
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &saved_);
    signal(SIGXFSZ, previous_handler_);
  }

 private:
  rlimit saved_{};
  sighandler_t previous_handler_;
};

TEST(PosixFile, ShortWriteFailsWriteAndSyncWithAndWithoutIoUring) {
  for (bool use_io_uring : {true, false}) {
    ScratchDir dir;
    auto env = posix_env(use_io_uring);
    auto file = open_or_die(*env, dir.file("seg"), OpenMode::kCreate);
    std::string batch(8192, 'b');
    Status status;
    {
      FileSizeLimit limit(4096);
      ASSERT_TRUE(file->start_write_and_sync(0, as_bytes(batch), true).is_ok());
      status = file->finish_write_and_sync();
    }
    EXPECT_FALSE(status.is_ok()) << use_io_uring;
    EXPECT_EQ(status.message().find("errno 125"), std::string::npos) << status.to_string();  // not ECANCELED
  }
}

// `bytes` copies of `fill` in memory aligned for direct writes.
storage::AlignedBuffer aligned(size_t bytes, char fill) {
  storage::AlignedBuffer buffer;
  buffer.resize_zeroed(bytes);
  std::memset(buffer.data(), fill, bytes);
  return buffer;
}

// A file opened for direct writes, or nullptr where the file system refuses O_DIRECT
// (the test then skips). An open error fails the test.
std::unique_ptr<File> open_direct(Env& env, const std::string& path) {
  auto file = env.open_direct_file(path, OpenMode::kCreate);
  EXPECT_TRUE(file.is_ok()) << file.status().to_string();
  if (!file.is_ok() || (*file)->write_alignment() == 1) return nullptr;
  return std::move(file).value();
}

TEST(PosixFile, DirectWritesLandWithAndWithoutIoUringAndTheMappingSeesThem) {
  for (bool use_io_uring : {true, false}) {
    ScratchDir dir;
    auto env = posix_env(use_io_uring);
    auto file = open_direct(*env, dir.file("seg"));
    if (file == nullptr) GTEST_SKIP() << "this file system refuses O_DIRECT";
    EXPECT_EQ(file->write_alignment(), kDirectIoAlignment);
    ASSERT_TRUE(file->allocate(64 * 1024).is_ok());
    auto mapped = file->map(64 * 1024);
    ASSERT_TRUE(mapped.is_ok()) << mapped.status().to_string();
    const char* view = reinterpret_cast<const char*>(*mapped);
    EXPECT_EQ(view[0], '\0');  // the page is cached now, holding zeros

    const storage::AlignedBuffer first = aligned(8192, 'd');
    ASSERT_TRUE(file->start_write_and_sync(0, first.bytes(), true).is_ok());
    ASSERT_TRUE(file->finish_write_and_sync().is_ok()) << use_io_uring;
    EXPECT_EQ(std::string(view, 8192), std::string(8192, 'd')) << "the cached page was invalidated";

    // Rewriting a page readers have mapped, as the log's tail page is.
    const storage::AlignedBuffer second = aligned(4096, 'e');
    ASSERT_TRUE(file->start_write_and_sync(4096, second.bytes(), false).is_ok());
    ASSERT_TRUE(file->finish_write_and_sync().is_ok()) << use_io_uring;
    ASSERT_TRUE(file->sync_data().is_ok());
    EXPECT_EQ(std::string(view + 4096, 4096), std::string(4096, 'e'));
    EXPECT_EQ(read_all(*file).substr(0, 8192), std::string(4096, 'd') + std::string(4096, 'e'));
  }
}

TEST(PosixFile, DirectShortWriteFailsWriteAndSyncWithAndWithoutIoUring) {
  for (bool use_io_uring : {true, false}) {
    ScratchDir dir;
    auto env = posix_env(use_io_uring);
    auto file = open_direct(*env, dir.file("seg"));
    if (file == nullptr) GTEST_SKIP() << "this file system refuses O_DIRECT";
    const storage::AlignedBuffer batch = aligned(8192, 'b');
    Status status;
    {
      FileSizeLimit limit(4096);
      ASSERT_TRUE(file->start_write_and_sync(0, batch.bytes(), true).is_ok());
      status = file->finish_write_and_sync();
    }
    EXPECT_FALSE(status.is_ok()) << use_io_uring;
    EXPECT_EQ(status.message().find("errno 125"), std::string::npos) << status.to_string();  // not ECANCELED
  }
}

TEST(UringWriter, DirectWriteCompletes) {
  auto writer = UringWriter::create("ring");
  if (!writer.is_ok()) GTEST_SKIP() << "io_uring unavailable: " << writer.status().to_string();
  ScratchDir dir;
  const int fd = ::open(dir.file("direct").c_str(), O_RDWR | O_CREAT | O_DIRECT, 0644);
  if (fd < 0 && errno == EINVAL) GTEST_SKIP() << "this file system refuses O_DIRECT";
  ASSERT_GE(fd, 0);
  const storage::AlignedBuffer data = aligned(3 * 4096, 'u');
  ASSERT_TRUE(writer.value()->submit_write(fd, data.bytes(), 4096).is_ok());
  EXPECT_TRUE(writer.value()->in_flight());
  EXPECT_TRUE(writer.value()->wait().is_ok());
  EXPECT_FALSE(writer.value()->in_flight());
  struct stat info {};
  ASSERT_EQ(::fstat(fd, &info), 0);
  EXPECT_EQ(info.st_size, 4 * 4096);
  ::close(fd);
}

TEST(UringWriter, FailedWriteIsReportedWithItsErrno) {
  auto writer = UringWriter::create("ro");
  if (!writer.is_ok()) GTEST_SKIP() << "io_uring unavailable: " << writer.status().to_string();
  ScratchDir dir;
  ::close(::open(dir.file("ro").c_str(), O_RDWR | O_CREAT, 0644));
  const int fd = ::open(dir.file("ro").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  const storage::AlignedBuffer data = aligned(4096, 'r');
  ASSERT_TRUE(writer.value()->submit_write(fd, data.bytes(), 0).is_ok());
  const Status status = writer.value()->wait();
  EXPECT_EQ(status.code(), StatusCode::kIoError);
  EXPECT_NE(status.message().find("write ro at offset 0 via io_uring"), std::string::npos) << status.to_string();
  EXPECT_NE(status.message().find("errno 9"), std::string::npos) << status.to_string();  // EBADF
  EXPECT_FALSE(writer.value()->in_flight());
  ::close(fd);
}

TEST(UringWriter, FdatasyncCompletesAfterAPwrite) {
  auto syncer = UringWriter::create("ring");
  if (!syncer.is_ok()) GTEST_SKIP() << "io_uring unavailable: " << syncer.status().to_string();
  ScratchDir dir;
  const int fd = ::open(dir.file("ring").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, "uring", 5, 0), 5);
  ASSERT_TRUE(syncer.value()->submit_sync(fd).is_ok());
  EXPECT_TRUE(syncer.value()->in_flight());
  EXPECT_TRUE(syncer.value()->wait().is_ok());
  EXPECT_FALSE(syncer.value()->in_flight());
  ::close(fd);
}

TEST(UringWriter, FailedFdatasyncIsReportedWithItsErrno) {
  auto syncer = UringWriter::create("pipe");
  if (!syncer.is_ok()) GTEST_SKIP() << "io_uring unavailable: " << syncer.status().to_string();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ASSERT_TRUE(syncer.value()->submit_sync(fds[1]).is_ok());
  const Status status = syncer.value()->wait();  // a pipe cannot be synced: EINVAL
  EXPECT_EQ(status.code(), StatusCode::kIoError);
  EXPECT_NE(status.message().find("fdatasync pipe"), std::string::npos) << status.to_string();
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(PosixFile, AllocateGrowsTheSize) {
  ScratchDir dir;
  auto file = open_or_die(*default_env(), dir.file("seg"), OpenMode::kCreate);
  ASSERT_TRUE(file->allocate(1 << 16).is_ok());
  EXPECT_EQ(file->size().value(), uint64_t{1} << 16);
}

TEST(PosixFile, TruncateShrinksAndGrowsWithZeros) {
  ScratchDir dir;
  auto file = open_or_die(*default_env(), dir.file("idx"), OpenMode::kCreate);
  ASSERT_TRUE(file->write_at(0, as_bytes("abcdef")).is_ok());
  ASSERT_TRUE(file->truncate(2).is_ok());
  ASSERT_TRUE(file->truncate(4).is_ok());
  EXPECT_EQ(read_all(*file), std::string("ab\0\0", 4));
}

TEST(PosixEnv, SecondLockOnTheSameFileIsBusy) {
  ScratchDir dir;
  auto first = default_env()->lock_file(dir.file("LOCK"));
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  auto second = default_env()->lock_file(dir.file("LOCK"));
  EXPECT_EQ(second.status().code(), StatusCode::kBusy);
  EXPECT_NE(second.status().message().find(dir.file("LOCK")), std::string::npos);
  first.value().reset();
  EXPECT_TRUE(default_env()->lock_file(dir.file("LOCK")).is_ok());
}

TEST(PosixEnv, ListRenameAndRemoveFiles) {
  ScratchDir dir;
  Env& env = *default_env();
  ASSERT_TRUE(env.create_dir(dir.file("sub")).is_ok());
  ASSERT_TRUE(env.create_dir(dir.file("sub")).is_ok());  // already there is fine
  open_or_die(env, dir.file("a.tmp"), OpenMode::kCreate).reset();
  ASSERT_TRUE(env.rename_file(dir.file("a.tmp"), dir.file("a")).is_ok());
  ASSERT_TRUE(env.sync_dir(dir.path()).is_ok());
  auto names = env.list_dir(dir.path());
  ASSERT_TRUE(names.is_ok());
  std::sort(names->begin(), names->end());
  EXPECT_EQ(names.value(), (std::vector<std::string>{"a", "sub"}));

  ASSERT_TRUE(env.remove_file(dir.file("a")).is_ok());
  EXPECT_FALSE(env.file_exists(dir.file("a")));
  EXPECT_EQ(env.remove_file(dir.file("a")).code(), StatusCode::kNotFound);
}

TEST(PosixEnv, OpeningAMissingFileIsNotFoundAndNamesThePath) {
  ScratchDir dir;
  auto file = default_env()->open_file(dir.file("missing.log"), OpenMode::kReadOnly);
  ASSERT_FALSE(file.is_ok());
  EXPECT_EQ(file.status().code(), StatusCode::kNotFound);
  EXPECT_NE(file.status().message().find(dir.file("missing.log")), std::string::npos) << file.status().to_string();
}

TEST(PosixEnv, CreateExclusiveRefusesAnExistingFile) {
  ScratchDir dir;
  open_or_die(*default_env(), dir.file("x"), OpenMode::kCreateExclusive).reset();
  auto again = default_env()->open_file(dir.file("x"), OpenMode::kCreateExclusive);
  ASSERT_FALSE(again.is_ok());
  EXPECT_NE(again.status().message().find("File exists"), std::string::npos) << again.status().to_string();
}

TEST(PosixEnv, CreateDirOverAFileFails) {
  ScratchDir dir;
  open_or_die(*default_env(), dir.file("plain"), OpenMode::kCreate).reset();
  EXPECT_FALSE(default_env()->create_dir(dir.file("plain")).is_ok());
}

// A new directory is synced into its parent, which create_dir finds from the path
// however it is written; an existing one is left as it is.
TEST(PosixEnv, CreateDirMakesNewDirectoriesInTheirParentWhateverThePathsForm) {
  ScratchDir dir;
  for (const std::string& path : {dir.file("a"), dir.file("a/b/"), dir.file("a//c"), dir.file("a")}) {
    const Status created = default_env()->create_dir(path);
    EXPECT_TRUE(created.is_ok()) << path << ": " << created.to_string();
    struct stat info {};
    EXPECT_EQ(stat(path.c_str(), &info), 0) << path;
    EXPECT_TRUE(S_ISDIR(info.st_mode)) << path;
  }
  const Status orphan = default_env()->create_dir(dir.file("missing/child"));
  EXPECT_FALSE(orphan.is_ok());
  EXPECT_NE(orphan.message().find("missing/child"), std::string::npos) << orphan.to_string();
}

TEST(PosixEnv, NowIsWallClockNanoseconds) {
  uint64_t now_ns = default_env()->now_ns();
  EXPECT_GT(now_ns, 1'600'000'000'000'000'000u);
}

}  // namespace
}  // namespace orderlog
