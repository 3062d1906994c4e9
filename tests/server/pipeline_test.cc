// Pipelining at the wire level: 10,000 requests written back to back on one
// connection, more than inflight_per_connection_max, are all answered exactly once
// (the server pauses reading instead of failing), and the connection stays usable.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "server_fixture.h"

namespace orderlog::testing {
namespace {

class PipelineTest : public SharedServerTest {};

TEST_F(PipelineTest, TenThousandPipelinedRequestsAreAllAnswered) {
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  constexpr uint64_t kRequests = 10'000;
  const std::string stream = unique_stream("pipelined");
  std::vector<uint8_t> bytes;
  for (uint64_t id = 1; id <= kRequests; ++id) {
    // Every fourth request is an append; the rest are pings.
    const auto frame = id % 4 == 0 ? append_n(id, stream, 1) : ping(id, id);
    bytes.insert(bytes.end(), frame.data(), frame.data() + frame.size());
  }
  // Written from another thread: the server stops reading while we are not reading
  // its replies, and a single thread doing both could deadlock on full buffers.
  std::thread writer([&] { EXPECT_TRUE(connection->send_bytes(bytes.data(), bytes.size())); });
  std::set<uint64_t> answered;
  std::set<uint64_t> positions;
  for (uint64_t i = 0; i < kRequests; ++i) {
    auto reply = connection->read_frame(std::chrono::seconds(20));
    if (!reply.has_value()) break;
    ASSERT_TRUE(answered.insert(reply->request_id()).second) << "answered twice: " << reply->request_id();
    if (const auto* ok = reply->message()->body_as_AppendOk()) {
      EXPECT_TRUE(positions.insert(ok->first_position()).second);
    } else {
      ASSERT_EQ(reply->type(), wire::Body::Pong) << reply->error_message();
      EXPECT_EQ(reply->message()->body_as_Pong()->payload(), reply->request_id());
    }
  }
  writer.join();
  EXPECT_EQ(answered.size(), kRequests);
  EXPECT_EQ(positions.size(), kRequests / 4);
  EXPECT_EQ(call(*connection, read_stream(1, stream, UINT64_MAX, true, 1)).message()->body_as_ReadOk()->events()->Get(0)->version(),
            kRequests / 4);
}

}  // namespace
}  // namespace orderlog::testing
