// Which of the log's bytes the writer drops from the page cache (cache_trimmer.cc):
// only what lies a whole window behind the durable head, in 2 MiB-aligned steps, the
// rest of a sealed segment once the window has passed its end, nothing with a zero
// window, and nothing more after a failed drop.
#include "storage/cache_trimmer.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "forwarding_env.h"
#include "mem_env.h"

namespace orderlog::storage {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

struct Drop {
  std::string path;
  uint64_t from = 0;
  uint64_t to = 0;
  friend bool operator==(const Drop&, const Drop&) = default;
};

void PrintTo(const Drop& drop, std::ostream* out) {
  *out << drop.path << " [" << drop.from / kMiB << " MiB, " << drop.to / kMiB << " MiB)";
}

// Records every drop_cached() of the files it opens; fails them while `failing`.
class DropRecordingEnv : public testing::ForwardingEnv {
 public:
  explicit DropRecordingEnv(Env* base) : ForwardingEnv(base) {}
  Result<std::unique_ptr<File>> open_file(const std::string& path, OpenMode mode) override {
    OL_ASSIGN_OR_RETURN(std::unique_ptr<File> file, ForwardingEnv::open_file(path, mode));
    return std::unique_ptr<File>(std::make_unique<RecordingFile>(std::move(file), path, this));
  }
  std::vector<Drop> drops;
  bool failing = false;

 private:
  class RecordingFile : public testing::ForwardingFile {
   public:
    RecordingFile(std::unique_ptr<File> base, std::string path, DropRecordingEnv* env)
        : ForwardingFile(std::move(base)), path_(std::move(path)), env_(env) {}
    Status drop_cached(uint64_t offset, uint64_t length) override {
      if (env_->failing) return Status::io_error("madvise: injected failure");
      env_->drops.push_back({path_, offset, offset + length});
      return ForwardingFile::drop_cached(offset, length);
    }

   private:
    std::string path_;
    DropRecordingEnv* env_;
  };
};

class CacheTrimmerTest : public ::testing::Test {
 protected:
  Segment* segment(uint64_t first_position, uint64_t capacity) {
    const std::string path = "/" + segment_file_name(first_position);
    auto file = env_.open_file(path, OpenMode::kCreate);
    EXPECT_TRUE(file.is_ok() && (*file)->allocate(capacity).is_ok());
    auto opened = Segment::open(&env_, path, first_position, OpenMode::kReadWrite);
    EXPECT_TRUE(opened.is_ok()) << opened.status().to_string();
    segments_.push_back(std::move(opened).value());
    return segments_.back().get();
  }
  static std::string name(const Segment* segment) { return "/" + segment_file_name(segment->first_position()); }

  testing::MemEnv mem_;
  DropRecordingEnv env_{&mem_};
  std::vector<std::unique_ptr<Segment>> segments_;
};

TEST_F(CacheTrimmerTest, DropsWhatFallsAWindowBehindTheHeadInAlignedSteps) {
  // Given an 8 MiB window (2 MiB steps) over one 64 MiB segment
  CacheTrimmer trimmer(8 * kMiB);
  EXPECT_EQ(trimmer.step_bytes(), 2 * kMiB);
  Segment* active = segment(1, 64 * kMiB);
  const std::string path = name(active);

  // When the head moves to 5, 10, 11, 20 and 20.5 MiB
  for (uint64_t head : {5 * kMiB, 10 * kMiB, 11 * kMiB, 20 * kMiB, 20 * kMiB + kMiB / 2}) {
    ASSERT_TRUE(trimmer.advance(active, head).is_ok());
  }

  // Then only whole 2 MiB pieces more than 8 MiB behind it were dropped, each once
  EXPECT_EQ(env_.drops, (std::vector<Drop>{{path, 0, 2 * kMiB}, {path, 2 * kMiB, 12 * kMiB}}));
  EXPECT_EQ(trimmer.dropped_bytes(), 12 * kMiB);
}

TEST_F(CacheTrimmerTest, ASealedSegmentGoesWhollyOnceTheWindowHasPassedItsEnd) {
  // Given an 8 MiB window, a 16 MiB segment sealed at 12 MiB and the next one
  CacheTrimmer trimmer(8 * kMiB);
  Segment* first = segment(1, 16 * kMiB);
  Segment* second = segment(1000, 16 * kMiB);
  ASSERT_TRUE(trimmer.advance(first, 12 * kMiB).is_ok());
  EXPECT_EQ(env_.drops, (std::vector<Drop>{{name(first), 0, 4 * kMiB}}));

  // When the log grows into the second segment: 1 MiB (the window still reaches into
  // the first), 7 MiB, then 9 MiB (the window's start has passed the first's end)
  ASSERT_TRUE(trimmer.advance(second, 1 * kMiB).is_ok());
  EXPECT_EQ(env_.drops.size(), 1u);
  ASSERT_TRUE(trimmer.advance(second, 7 * kMiB).is_ok());
  ASSERT_TRUE(trimmer.advance(second, 9 * kMiB).is_ok());
  ASSERT_TRUE(trimmer.advance(second, 14 * kMiB).is_ok());

  // Then the first segment went up to the window, then entirely (its unwritten end
  // too), and the second only once the window had passed 2 MiB of it
  EXPECT_EQ(env_.drops, (std::vector<Drop>{{name(first), 0, 4 * kMiB},
                                           {name(first), 4 * kMiB, 10 * kMiB},
                                           {name(first), 10 * kMiB, 16 * kMiB},
                                           {name(second), 0, 6 * kMiB}}));
}

TEST_F(CacheTrimmerTest, SegmentsSmallerThanTheWindowAreDroppedInOrder) {
  // Given a 4 MiB window (steps of 2 MiB, its quarter rounded up) and 2 MiB segments
  CacheTrimmer trimmer(4 * kMiB);
  EXPECT_EQ(trimmer.step_bytes(), 2 * kMiB);
  std::vector<Segment*> rolled;
  for (uint64_t i = 0; i < 5; ++i) rolled.push_back(segment(1 + i * 100, 2 * kMiB));

  // When each fills up in turn
  for (Segment* active : rolled) {
    ASSERT_TRUE(trimmer.advance(active, kMiB).is_ok());
    ASSERT_TRUE(trimmer.advance(active, 2 * kMiB).is_ok());
  }

  // Then the three segments wholly more than 4 MiB behind went, oldest first
  EXPECT_EQ(env_.drops, (std::vector<Drop>{{name(rolled[0]), 0, 2 * kMiB},
                                           {name(rolled[1]), 0, 2 * kMiB},
                                           {name(rolled[2]), 0, 2 * kMiB}}));
}

TEST_F(CacheTrimmerTest, AZeroWindowDropsNothing) {
  CacheTrimmer trimmer(0);
  Segment* active = segment(1, 64 * kMiB);
  for (uint64_t head = kMiB; head <= 64 * kMiB; head += kMiB) ASSERT_TRUE(trimmer.advance(active, head).is_ok());
  EXPECT_TRUE(env_.drops.empty());
  EXPECT_EQ(trimmer.dropped_bytes(), 0u);
}

TEST_F(CacheTrimmerTest, AFailedDropIsReportedOnceAndEndsTrimming) {
  // Given a trimmer whose first drop fails
  CacheTrimmer trimmer(2 * kMiB);
  Segment* active = segment(1, 64 * kMiB);
  env_.failing = true;

  // When the head moves far enough for a drop, then on
  const Status failed = trimmer.advance(active, 8 * kMiB);

  // Then the failure is returned with its cause, once; nothing more is tried
  EXPECT_EQ(failed.code(), StatusCode::kIoError);
  EXPECT_NE(failed.message().find("injected"), std::string::npos) << failed.to_string();
  env_.failing = false;
  EXPECT_TRUE(trimmer.advance(active, 32 * kMiB).is_ok());
  EXPECT_TRUE(env_.drops.empty());
  EXPECT_EQ(trimmer.dropped_bytes(), 0u);
}

}  // namespace
}  // namespace orderlog::storage
