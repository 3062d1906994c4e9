// The `orderlog` binary (tools/orderlog/) on real data directories: verify reports a
// healthy log and exits 0, names damage and exits 1; replay and browse print the
// events as JSON lines with their filters; rebuild recreates the derived state of a
// closed directory and refuses an open one; bad command lines exit 64.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "orderlog/event_store.h"
#include "orderlog/order/codec.h"
#include "scratch_dir.h"
#include "storage/record_format.h"

namespace orderlog::testing {
namespace {

struct ToolRun {
  int exit_code = -1;
  std::string out;
  std::string err;
  std::vector<std::string> lines() const {
    std::vector<std::string> result;
    std::istringstream stream(out);
    for (std::string line; std::getline(stream, line);) result.push_back(line);
    return result;
  }
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class OrderlogTool : public ::testing::Test {
 protected:
  void SetUp() override { data_ = scratch_.file("data"); }

  // Runs the tool with `args` (no shell quoting needed: the paths are mkdtemp's).
  ToolRun run(const std::string& args) {
    const std::string out = scratch_.file("out"), err = scratch_.file("err");
    const std::string command = std::string(ORDERLOG_TOOL_PATH) + " " + args + " >" + out + " 2>" + err;
    const int status = std::system(command.c_str());
    ToolRun result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = read_file(out);
    result.err = read_file(err);
    return result;
  }

  StoreOptions store_options() const {
    StoreOptions options;
    options.data_dir = data_;
    options.segment_bytes_max = 64 * 1024;
    options.segment_prefill = false;
    return options;
  }

  // 30 text events over streams s-a, s-b and s-c, one with a binary payload in s-b,
  // and two order events in order-o1: 33 events.
  void write_data() {
    ASSERT_TRUE(std::filesystem::create_directories(data_));
    Result<std::unique_ptr<EventStore>> store = EventStore::open(store_options());
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    for (int i = 0; i < 30; ++i) {
      const std::string payload = "event " + std::to_string(i) + " " + std::string(3000, 'p');
      const NewEvent event{EventId::generate(), "Text", 1, std::as_bytes(std::span(payload)), {}, {}, {}};
      const std::string stream = std::string("s-") + static_cast<char>('a' + i % 3);
      ASSERT_TRUE((*store)->append(stream, ExpectedVersion::any(), std::span(&event, 1)).is_ok());
    }
    const std::byte binary[] = {std::byte{0xff}, std::byte{0x00}, std::byte{0x10}};
    const NewEvent raw{EventId::generate(), "Blob", 1, binary, {}, {}, {}};
    ASSERT_TRUE((*store)->append("s-b", ExpectedVersion::any(), std::span(&raw, 1)).is_ok());
    const order::EncodedEvent created =
        order::encode_event(order::OrderCreated{"o1", "c1", "EUR", {{"book", 2, 1299}}});
    const order::EncodedEvent added = order::encode_event(order::ItemAdded{"o1", {"pen", 1, 250}, "EUR"});
    const NewEvent orders[] = {
        {EventId::generate(), created.type, created.schema_version, created.payload, {}, {}, {}},
        {EventId::generate(), added.type, added.schema_version, added.payload, {}, {}, {}}};
    ASSERT_TRUE((*store)->append("order-o1", ExpectedVersion::no_stream(), orders).is_ok());
    ASSERT_GT((*store)->stats().segments, 1u);
    ASSERT_TRUE((*store)->close().is_ok());
  }

  ScratchDir scratch_;
  std::string data_;
};

TEST_F(OrderlogTool, VerifyReportsAHealthyLogAndExitsZero) {
  ASSERT_NO_FATAL_FAILURE(write_data());
  const ToolRun text = run("verify " + data_);
  EXPECT_EQ(text.exit_code, 0) << text.out << text.err;
  EXPECT_NE(text.out.find("events    33 in 32 appends to 4 streams; positions 1-33"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("ending    clean"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("verdict   OK"), std::string::npos) << text.out;

  // verify creates nothing, not even the LOCK file it looks at when there is one.
  std::filesystem::remove(data_ + "/LOCK");
  const ToolRun json = run("verify --json " + data_);
  EXPECT_FALSE(std::filesystem::exists(data_ + "/LOCK"));
  EXPECT_EQ(json.exit_code, 0) << json.err;
  for (const char* field : {"\"healthy\":true", "\"ending\":\"clean\"", "\"events\":33", "\"appends\":32",
                            "\"last_position\":33", "\"checkpoint_position\":33", "\"inconsistency_count\":0"}) {
    EXPECT_NE(json.out.find(field), std::string::npos) << field << " in " << json.out;
  }
}

TEST_F(OrderlogTool, VerifyNamesDamageAndExitsOne) {
  ASSERT_NO_FATAL_FAILURE(write_data());
  const std::string segment = data_ + "/log/00000000000000000001.log";
  std::string bytes = read_file(segment);
  // The second unit: past the first one's header and body.
  storage::UnitHeader first;
  std::memcpy(&first, bytes.data(), sizeof(first));
  const size_t second = storage::kUnitHeaderBytes + first.body_bytes;
  bytes[second + 100] = static_cast<char>(bytes[second + 100] ^ 0x08);
  std::ofstream(segment, std::ios::binary | std::ios::in | std::ios::out).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));

  const ToolRun result = run("verify " + data_);
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_NE(result.out.find("ending    corrupt: " + segment + " offset " + std::to_string(second)), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("DAMAGED"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("events    1 in 1 appends"), std::string::npos) << result.out;
}

TEST_F(OrderlogTool, VerifyBesideAnOpenStoreSaysSoAndStillChecks) {
  ASSERT_NO_FATAL_FAILURE(write_data());
  Result<std::unique_ptr<EventStore>> store = EventStore::open(store_options());
  ASSERT_TRUE(store.is_ok()) << store.status().to_string();
  const ToolRun result = run("verify " + data_);
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.err.find("is open in another process"), std::string::npos) << result.err;
  EXPECT_NE(result.out.find("events    33 in"), std::string::npos) << result.out;
}

TEST_F(OrderlogTool, ReplayPrintsEventsAsJsonLinesInPositionOrder) {
  ASSERT_NO_FATAL_FAILURE(write_data());
  const ToolRun all = run("replay " + data_);
  ASSERT_EQ(all.exit_code, 0) << all.err;
  const std::vector<std::string> lines = all.lines();
  ASSERT_EQ(lines.size(), 33u);
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].rfind("{\"position\":" + std::to_string(i + 1) + ",", 0), 0u) << lines[i];
    EXPECT_EQ(lines[i].back(), '}') << lines[i];
  }
  EXPECT_NE(lines[0].find("\"stream\":\"s-a\",\"version\":1,\"type\":\"Text\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"payload\":\"event 0 ppp"), std::string::npos) << lines[0];
  EXPECT_NE(lines[30].find("\"payload_base64\":\"/wAQ\""), std::string::npos) << lines[30];

  const ToolRun page = run("replay " + data_ + " --from 5 --count 3");
  ASSERT_EQ(page.exit_code, 0) << page.err;
  ASSERT_EQ(page.lines().size(), 3u);
  EXPECT_EQ(page.lines()[0].rfind("{\"position\":5,", 0), 0u);
  EXPECT_EQ(page.lines()[2].rfind("{\"position\":7,", 0), 0u);

  const ToolRun orders = run("replay " + data_ + " --type OrderCreated --type ItemAdded");
  ASSERT_EQ(orders.exit_code, 0) << orders.err;
  ASSERT_EQ(orders.lines().size(), 2u) << orders.out;
  EXPECT_NE(orders.lines()[0].find(
                "\"data\":{\"order_id\":\"o1\",\"customer_id\":\"c1\",\"currency\":\"EUR\",\"lines\":[{\"sku\":"
                "\"book\",\"quantity\":2,\"unit_price_minor\":1299}]}"),
            std::string::npos)
      << orders.lines()[0];
  EXPECT_NE(orders.lines()[1].find("\"line\":{\"sku\":\"pen\",\"quantity\":1,\"unit_price_minor\":250}"),
            std::string::npos)
      << orders.lines()[1];
}

TEST_F(OrderlogTool, BrowseListsStreamsOrPrintsOne) {
  ASSERT_NO_FATAL_FAILURE(write_data());
  const ToolRun list = run("browse " + data_);
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const std::vector<std::string> streams = list.lines();
  ASSERT_EQ(streams.size(), 4u) << list.out;
  EXPECT_EQ(streams[0].rfind("{\"stream\":\"order-o1\",\"version\":2,\"first_position\":32,\"last_position\":33,", 0), 0u)
      << streams[0];
  EXPECT_EQ(streams[2].rfind("{\"stream\":\"s-b\",\"version\":11,\"first_position\":2,\"last_position\":31,", 0), 0u)
      << streams[2];
  EXPECT_EQ(run("browse " + data_ + " --prefix s-").lines().size(), 3u);

  const ToolRun stream = run("browse " + data_ + " --stream s-c --count 4");
  ASSERT_EQ(stream.exit_code, 0) << stream.err;
  ASSERT_EQ(stream.lines().size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_NE(stream.lines()[i].find("\"stream\":\"s-c\",\"version\":" + std::to_string(i + 1) + ","),
              std::string::npos)
        << stream.lines()[i];
  }
}

TEST_F(OrderlogTool, RebuildRecreatesTheIndexesOfAClosedDirectoryOnly) {
  ASSERT_NO_FATAL_FAILURE(write_data());
  {
    Result<std::unique_ptr<EventStore>> open = EventStore::open(store_options());
    ASSERT_TRUE(open.is_ok()) << open.status().to_string();
    const ToolRun refused = run("rebuild " + data_);
    EXPECT_EQ(refused.exit_code, 2);
    EXPECT_NE(refused.err.find("stop orderlogd first"), std::string::npos) << refused.err;
    EXPECT_TRUE(std::filesystem::exists(data_ + "/index/CHECKPOINT"));  // nothing was removed
  }
  std::filesystem::remove(data_ + "/index/positions.idx");  // damage the derived state
  const ToolRun rebuilt = run("rebuild " + data_ + " --projections");
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.out << rebuilt.err;
  EXPECT_NE(rebuilt.out.find("indexed   33 events"), std::string::npos) << rebuilt.out;
  EXPECT_NE(rebuilt.out.find("replayed  order_summary to position 33 (2 order events"), std::string::npos)
      << rebuilt.out;
  EXPECT_TRUE(std::filesystem::exists(data_ + "/index/positions.idx"));
  EXPECT_TRUE(std::filesystem::exists(data_ + "/projections/order_summary.proj"));

  // The rebuilt indexes answer as the log says, and the next open re-indexes nothing.
  std::string opened_log;
  StoreOptions options = store_options();
  options.log = [&](LogLevel, std::string_view line) { (opened_log += line) += "\n"; };
  Result<std::unique_ptr<EventStore>> store = EventStore::open(options);
  ASSERT_TRUE(store.is_ok()) << store.status().to_string();
  EXPECT_EQ(opened_log, "");
  EXPECT_EQ((*store)->stream_version("s-b").value, 11u);
  Result<ReadSlice> events = (*store)->read_stream("order-o1", StreamVersion{1}, ReadDirection::kForward, 10);
  ASSERT_TRUE(events.is_ok());
  ASSERT_EQ(events->events.size(), 2u);
  EXPECT_EQ(events->events[1].position.value, 33u);
}

TEST_F(OrderlogTool, BadCommandLinesAndMissingDirectoriesAreClearErrors) {
  EXPECT_EQ(run("").exit_code, 64);
  EXPECT_EQ(run("frobnicate " + data_).exit_code, 64);
  EXPECT_EQ(run("replay").exit_code, 64);
  const ToolRun missing = run("verify " + data_);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("no log in " + data_), std::string::npos) << missing.err;
  EXPECT_EQ(run("replay " + data_).exit_code, 2);
  EXPECT_EQ(run("rebuild " + data_).exit_code, 2);
  EXPECT_FALSE(std::filesystem::exists(data_)) << "a failed command created the directory";
}

}  // namespace
}  // namespace orderlog::testing
