// Hostile and broken input at the wire level: random bytes, a truncated frame, a
// length over the limit or under the minimum, bytes that are not a FlatBuffer, an
// unknown union member, a flood of bad frames. Each is answered or cut off as the
// protocol says, and the server keeps serving other connections afterwards.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <thread>

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

// Before the handshake a frame may be at most kHelloFrameBytesMax: an unauthenticated
// connection announcing a large frame must not make the server hold its buffer.
TEST_F(MalformedInputTest, LargeFrameBeforeTheHandshakeIsTooLargeAndCloses) {
  auto connection = RawConnection::connect(port());
  ASSERT_NE(connection, nullptr);
  uint8_t prefix[4];
  wire::encode_frame_length(wire::kHelloFrameBytesMax + 1, reinterpret_cast<std::byte*>(prefix));
  ASSERT_TRUE(connection->send_bytes(prefix, sizeof prefix));
  auto reply = connection->read_frame();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->error_code(), wire::ErrorCode::TooLarge);
  EXPECT_NE(reply->error_message().find("before the handshake"), std::string::npos) << reply->error_message();
  EXPECT_TRUE(connection->wait_closed());
}

// Once shaken hands, frames up to frame_bytes_max are taken.
TEST_F(MalformedInputTest, FramesOverTheHelloLimitAreTakenAfterTheHandshake) {
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  const std::string stream = unique_stream("big");
  const auto frame = append(41, {{stream, {{"Big", std::string(wire::kHelloFrameBytesMax + 1024, 'x')}}}});
  ASSERT_GT(frame.size(), wire::kHelloFrameBytesMax + 4u);
  const Frame reply = call(*connection, frame);
  EXPECT_EQ(reply.type(), wire::Body::AppendOk) << reply.error_message();
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

// `body` is required but its type is not, so the Verifier passes a frame whose body
// has type NONE. It is answered like any bad request and counts as nothing in flight:
// a session that counted it would wait for its reply forever once the peer left, and
// never give its connection slot back.
TEST_F(MalformedInputTest, BodyWithoutATypeIsBadRequestAndTheConnectionStillCloses) {
  auto observer = connect();
  ASSERT_NE(observer, nullptr);
  {
    auto connection = connect();
    ASSERT_NE(connection, nullptr);
    const auto frame = make_frame(31, wire::Body::NONE, [](auto& b) { return wire::CreateOk(b).Union(); });
    const Frame reply = call(*connection, frame);
    EXPECT_EQ(reply.error_code(), wire::ErrorCode::BadRequest);
    EXPECT_EQ(reply.request_id(), 31u);
    EXPECT_EQ(call(*connection, ping(32)).type(), wire::Body::Pong);
  }
  // Only the observer is left once the closed connection's session has finished.
  EXPECT_EQ(wait_for_connections_at_most(*observer, 1), 1u) << "a session outlived its connection";
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
