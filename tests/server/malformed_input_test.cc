// Hostile and broken input at the wire level: random bytes, a truncated frame, a
// length over the limit or under the minimum, bytes that are not a FlatBuffer, an
// unknown union member, a flood of bad frames. Each is answered or cut off as the
// protocol says, and the server keeps serving other connections afterwards.
#include <gtest/gtest.h>

#include <random>

#include "server_fixture.h"

namespace orderlog::testing {
namespace {

class MalformedInputTest : public SharedServerTest {
 protected:
  void TearDown() override {
    // Whatever the test did, a fresh connection is still served.
    auto connection = connect();
    ASSERT_NE(connection, nullptr);
    EXPECT_EQ(call(*connection, ping(1)).type(), wire::Body::Pong);
  }
};

// A frame whose body is `body` (length prefix included).
std::vector<uint8_t> raw_frame(const std::vector<uint8_t>& body) {
  std::vector<uint8_t> frame(4 + body.size());
  wire::encode_frame_length(static_cast<uint32_t>(body.size()), reinterpret_cast<std::byte*>(frame.data()));
  std::copy(body.begin(), body.end(), frame.begin() + 4);
  return frame;
}

TEST_F(MalformedInputTest, RandomBytesGetAnErrorAndTheConnectionClosed) {
  std::mt19937 random(42);
  std::vector<uint8_t> noise(4096);
  for (uint8_t& byte : noise) byte = static_cast<uint8_t>(random());
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->send_bytes(noise.data(), noise.size()));
  // Whatever the noise decodes to (bad length, or frames that fail verification),
  // the server answers with errors and eventually closes.
  auto reply = connection->read_frame();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->type(), wire::Body::Error);
  EXPECT_TRUE(connection->wait_closed());
}

TEST_F(MalformedInputTest, LengthOverFrameBytesMaxIsTooLargeAndCloses) {
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  const uint8_t prefix[4] = {0xff, 0xff, 0xff, 0x7f};
  ASSERT_TRUE(connection->send_bytes(prefix, sizeof prefix));
  auto reply = connection->read_frame();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->error_code(), wire::ErrorCode::TooLarge);
  EXPECT_TRUE(connection->wait_closed());
}

TEST_F(MalformedInputTest, LengthUnderTheMinimumIsBadRequestAndCloses) {
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  const auto frame = raw_frame({1, 2, 3});
  ASSERT_TRUE(connection->send_bytes(frame.data(), frame.size()));
  auto reply = connection->read_frame();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->error_code(), wire::ErrorCode::BadRequest);
  EXPECT_TRUE(connection->wait_closed());
}

TEST_F(MalformedInputTest, TruncatedFrameThenCloseIsHarmless) {
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  const auto frame = ping(5);
  ASSERT_TRUE(connection->send_bytes(frame.data(), frame.size() - 3));
  connection->shutdown_write();
  EXPECT_TRUE(connection->wait_closed());
}

TEST_F(MalformedInputTest, InvalidFlatBufferIsBadRequestAndTheSessionGoesOn) {
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  std::vector<uint8_t> body(64, 0xab);
  const auto frame = raw_frame(body);
  ASSERT_TRUE(connection->send_bytes(frame.data(), frame.size()));
  auto reply = connection->read_frame();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->error_code(), wire::ErrorCode::BadRequest);
  EXPECT_EQ(reply->request_id(), 0u);
  EXPECT_EQ(call(*connection, ping(6)).type(), wire::Body::Pong) << "the frame's boundaries were known";
}

TEST_F(MalformedInputTest, FlippedBytesInAValidFrameNeverCrashTheServer) {
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  const auto valid = append_n(9, unique_stream("flip"), 2);
  std::mt19937 random(7);
  for (int round = 0; round < 6; ++round) {
    std::vector<uint8_t> frame(valid.data(), valid.data() + valid.size());
    for (int flips = 0; flips < 4; ++flips) {
      frame[4 + random() % (frame.size() - 4)] ^= static_cast<uint8_t>(1 + random() % 255);
    }
    ASSERT_TRUE(connection->send_bytes(frame.data(), frame.size()));
  }
  // Whatever the flips turned the frames into, every answer is a valid frame and a
  // Ping sent afterwards is answered (unless six bad frames... they are fewer than 8).
  ASSERT_TRUE(connection->send(ping(0xabcdef, 1)));
  for (;;) {
    auto reply = connection->read_frame();
    ASSERT_TRUE(reply.has_value()) << "no Pong after the flipped frames";
    ASSERT_NE(reply->message(), nullptr);
    if (reply->type() == wire::Body::Pong && reply->request_id() == 0xabcdef) break;
  }
}

TEST_F(MalformedInputTest, UnknownUnionMemberIsBadRequest) {
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  // A body type from a future protocol version: a table the server cannot know.
  const auto frame = make_frame(21, static_cast<wire::Body>(200), [](auto& b) { return wire::CreateOk(b).Union(); });
  const Frame reply = call(*connection, frame);
  EXPECT_EQ(reply.error_code(), wire::ErrorCode::BadRequest);
  EXPECT_EQ(reply.request_id(), 21u);
  EXPECT_EQ(call(*connection, ping(22)).type(), wire::Body::Pong);
}

TEST_F(MalformedInputTest, ManyBadFramesCloseTheConnection) {
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  const auto frame = raw_frame(std::vector<uint8_t>(32, 0x5a));
  int errors = 0;
  for (int i = 0; i < 20 && !connection->closed(); ++i) {
    if (!connection->send_bytes(frame.data(), frame.size())) break;
    if (auto reply = connection->read_frame(std::chrono::seconds(5)); reply.has_value()) ++errors;
  }
  EXPECT_GE(errors, 1);
  EXPECT_LE(errors, 8);
  EXPECT_TRUE(connection->wait_closed());
}

TEST_F(MalformedInputTest, HelloThatIsNotAFlatBufferLeavesTheHandshakePending) {
  auto connection = RawConnection::connect(port());
  ASSERT_NE(connection, nullptr);
  const auto frame = raw_frame(std::vector<uint8_t>(40, 0x11));
  ASSERT_TRUE(connection->send_bytes(frame.data(), frame.size()));
  auto reply = connection->read_frame();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->error_code(), wire::ErrorCode::BadRequest);
  EXPECT_EQ(call(*connection, hello(2, token())).type(), wire::Body::HelloOk);
}

}  // namespace
}  // namespace orderlog::testing
