// The projection file format: what is written reads back the same, and every flipped
// byte, every truncation and an unknown format version is reported as corruption
// (the caller then rebuilds). Also the body decoder's bounds.
#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "projection_test_util.h"
#include "projections/projection_file.h"

namespace orderlog::testing {
namespace {

using projections::BodyDecoder;
using projections::BodyEncoder;
using projections::FileHeader;
using projections::LoadedFile;

constexpr char kDir[] = "/db/projections";
constexpr char kPath[] = "/db/projections/sample.proj";

FileHeader sample_header() {
  FileHeader header;
  header.model_id = 4;
  header.model_version = 1;
  header.checkpoint = GlobalPosition{77};
  header.checkpoint_event_id = EventId::generate();
  return header;
}

void sample_body(BodyEncoder& out) {
  out.u64(2);
  out.string("EUR");
  out.i64(-5);
  out.u8(9);
  out.u32(123456);
  out.string("");
}

class ProjectionFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(env_.create_dir("/db"));
    ASSERT_OK(env_.create_dir(kDir));
  }
  std::string written_bytes() {
    EXPECT_OK(projections::write_projection_file(&env_, kDir, "sample", header_, sample_body));
    Result<std::string> bytes = env_.contents(kPath);
    EXPECT_OK(bytes);
    return bytes.is_ok() ? *bytes : std::string();
  }
  StatusCode read_code(const std::string& bytes) {
    env_.set_contents(kPath, bytes);
    return projections::read_projection_file(&env_, kPath).status().code();
  }

  MemEnv env_;
  FileHeader header_ = sample_header();
};

TEST_F(ProjectionFileTest, WhatIsWrittenReadsBackTheSame) {
  // Given a file written with a header and a few fields
  (void)written_bytes();

  // When it is read
  Result<LoadedFile> loaded = projections::read_projection_file(&env_, kPath);

  // Then header and fields come back, and no temporary file is left
  ASSERT_OK(loaded);
  EXPECT_EQ(loaded->header.model_id, 4);
  EXPECT_EQ(loaded->header.model_version, 1);
  EXPECT_EQ(loaded->header.checkpoint, GlobalPosition{77});
  EXPECT_EQ(loaded->header.checkpoint_event_id, header_.checkpoint_event_id);
  BodyDecoder in(loaded->body);
  EXPECT_EQ(in.u64(), 2u);
  EXPECT_EQ(in.string(16), "EUR");
  EXPECT_EQ(in.i64(), -5);
  EXPECT_EQ(in.u8(), 9);
  EXPECT_EQ(in.u32(), 123456u);
  EXPECT_EQ(in.string(16), "");
  EXPECT_TRUE(in.ok());
  EXPECT_TRUE(in.at_end());
  EXPECT_FALSE(env_.file_exists(std::string(kDir) + "/sample.proj.tmp"));
}

TEST_F(ProjectionFileTest, EveryFlippedByteIsCorruption) {
  // Given a valid file
  const std::string good = written_bytes();
  ASSERT_GT(good.size(), projections::kHeaderBytes);

  // When any one byte is flipped
  for (size_t offset = 0; offset < good.size(); ++offset) {
    std::string bad = good;
    bad[offset] = static_cast<char>(bad[offset] ^ 0x20);

    // Then reading it reports corruption
    EXPECT_EQ(read_code(bad), StatusCode::kCorruption) << "byte " << offset;
  }
}

TEST_F(ProjectionFileTest, EveryTruncationIsCorruption) {
  // Given a valid file
  const std::string good = written_bytes();

  // When it is cut at any length, or extended by a byte
  for (size_t size = 0; size < good.size(); ++size) {
    // Then reading it reports corruption
    EXPECT_EQ(read_code(good.substr(0, size)), StatusCode::kCorruption) << "size " << size;
  }
  EXPECT_EQ(read_code(good + '\0'), StatusCode::kCorruption);
}

TEST_F(ProjectionFileTest, AnUnknownFormatVersionIsCorruptionEvenWithAValidChecksum) {
  // Given a valid file whose format version is changed and its checksum recomputed
  std::string bytes = written_bytes();
  const uint16_t version = projections::kFileFormatVersion + 1;
  std::memcpy(bytes.data() + 4, &version, sizeof(version));
  const uint64_t body_hash =
      XXH3_64bits(bytes.data() + projections::kHeaderBytes, bytes.size() - projections::kHeaderBytes);
  const uint64_t checksum = XXH3_64bits_withSeed(bytes.data(), projections::kHeaderChecksumOffset, body_hash);
  std::memcpy(bytes.data() + projections::kHeaderChecksumOffset, &checksum, sizeof(checksum));

  // When it is read
  env_.set_contents(kPath, bytes);
  Status status = projections::read_projection_file(&env_, kPath).status();

  // Then the version is named in the corruption
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_NE(status.message().find("format version"), std::string::npos) << status.to_string();
}

TEST_F(ProjectionFileTest, AMissingFileIsNotFound) {
  // Given no file
  // When one is read
  // Then it is not found (a first open, not a corruption)
  EXPECT_EQ(projections::read_projection_file(&env_, kPath).status().code(), StatusCode::kNotFound);
}

TEST(BodyDecoder, ReadingPastTheEndFailsAndStaysFailed) {
  // Given a body of five bytes
  const std::vector<std::byte> body(5, std::byte{1});
  BodyDecoder in(body);

  // When eight are read, then one more
  EXPECT_EQ(in.u64(), 0u);
  EXPECT_EQ(in.u8(), 0u);

  // Then the decoder failed and yields zeros
  EXPECT_FALSE(in.ok());
}

TEST(BodyDecoder, CountsAndStringsLargerThanTheRestFail) {
  // Given a body claiming 1,000 records of 8 bytes in 16 bytes
  std::vector<std::byte> body(16);
  const uint64_t count = 1000;
  std::memcpy(body.data(), &count, sizeof(count));
  BodyDecoder records(body);

  // When the count is read
  // Then it is refused rather than trusted
  EXPECT_EQ(records.count(8), 0u);
  EXPECT_FALSE(records.ok());

  // And a string longer than its bound fails too
  std::vector<std::byte> text(8);
  const uint32_t length = 4;
  std::memcpy(text.data(), &length, sizeof(length));
  BodyDecoder strings(text);
  EXPECT_EQ(strings.string(3), "");
  EXPECT_FALSE(strings.ok());
}

}  // namespace
}  // namespace orderlog::testing
