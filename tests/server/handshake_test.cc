// orderlogd's handshake at the wire level: Hello first, the right protocol version
// and a known token, or an error and a closed connection.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "server_fixture.h"

namespace orderlog::testing {
namespace {

class HandshakeTest : public SharedServerTest {};

TEST_F(HandshakeTest, HelloWithTheAdminTokenIsAnsweredWithTheLimits) {
  auto connection = RawConnection::connect(port());
  ASSERT_NE(connection, nullptr);
  const Frame reply = call(*connection, hello(7, token()));
  ASSERT_EQ(reply.type(), wire::Body::HelloOk) << reply.error_message();
  EXPECT_EQ(reply.request_id(), 7u);
  const wire::HelloOk* ok = reply.message()->body_as_HelloOk();
  EXPECT_EQ(ok->protocol_version(), 1u);
  EXPECT_EQ(ok->tenant()->str(), "admin");
  EXPECT_EQ(ok->frame_bytes_max(), 16u * 1024 * 1024);
  EXPECT_EQ(ok->inflight_requests_max(), 1024u);
  EXPECT_EQ(ok->events_per_append_max(), 10'000u);
  EXPECT_EQ(ok->read_count_max(), 10'000u);
  EXPECT_FALSE(ok->server_version()->str().empty());
  // The session serves requests afterwards.
  EXPECT_EQ(call(*connection, ping(8, 42)).type(), wire::Body::Pong);
}

TEST_F(HandshakeTest, UnknownTokenIsUnauthorizedAndTheConnectionIsClosed) {
  auto connection = RawConnection::connect(port());
  ASSERT_NE(connection, nullptr);
  const Frame reply = call(*connection, hello(1, "not-the-token-0123456789"));
  EXPECT_EQ(reply.error_code(), wire::ErrorCode::Unauthorized);
  EXPECT_TRUE(connection->wait_closed());
}

TEST_F(HandshakeTest, WrongProtocolVersionIsBadRequestAndTheConnectionIsClosed) {
  auto connection = RawConnection::connect(port());
  ASSERT_NE(connection, nullptr);
  const Frame reply = call(*connection, hello(1, token(), /*version=*/2));
  EXPECT_EQ(reply.error_code(), wire::ErrorCode::BadRequest);
  EXPECT_NE(reply.error_message().find("version"), std::string::npos) << reply.error_message();
  EXPECT_TRUE(connection->wait_closed());
}

TEST_F(HandshakeTest, RequestBeforeHelloIsUnauthorizedAndTheConnectionIsClosed) {
  auto connection = RawConnection::connect(port());
  ASSERT_NE(connection, nullptr);
  const Frame reply = call(*connection, ping(3));
  EXPECT_EQ(reply.error_code(), wire::ErrorCode::Unauthorized);
  EXPECT_TRUE(connection->wait_closed());
}

TEST_F(HandshakeTest, SecondHelloIsBadRequestButTheSessionGoesOn) {
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  EXPECT_EQ(call(*connection, hello(2, token())).error_code(), wire::ErrorCode::BadRequest);
  EXPECT_EQ(call(*connection, ping(3)).type(), wire::Body::Pong);
}

TEST_F(HandshakeTest, TheTokenNeverAppearsInTheLog) {
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  EXPECT_EQ(call(*connection, ping(2)).type(), wire::Body::Pong);
  const std::string log = server_->log();
  EXPECT_NE(log.find("session authenticated"), std::string::npos) << log;
  EXPECT_EQ(log.find(token()), std::string::npos);
  EXPECT_NE(log.find("admin.token"), std::string::npos) << "the token file's path is logged";
}

// A connection that never completes the handshake is closed after
// handshake_timeout_ms, however it trickles bytes, so idle or slow sockets cannot pile
// up against connections_max; one that completed it stays.
TEST(HandshakeTimeoutTest, AConnectionWithoutAHelloIsClosedAfterTheTimeout) {
  OwnServer server("handshake-timeout", {"--handshake-timeout-ms", "300"});
  ASSERT_TRUE(server.ok());
  const std::string& token = server.token();
  auto ready = server.connect();
  ASSERT_NE(ready, nullptr);

  // A silent connection, and one that sends the first bytes of a Hello, one a time
  const auto started = std::chrono::steady_clock::now();
  auto silent = RawConnection::connect(server.port());
  auto trickling = RawConnection::connect(server.port());
  ASSERT_TRUE(silent && trickling);
  const flatbuffers::DetachedBuffer partial = hello(1, token);
  for (size_t i = 0; i < 6; ++i) {
    ASSERT_TRUE(trickling->send_bytes(partial.data() + i, 1));
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
  }

  // Both are closed, not before the timeout, and the ready connection still answers
  EXPECT_TRUE(silent->wait_closed(std::chrono::seconds(10)));
  EXPECT_TRUE(trickling->wait_closed(std::chrono::seconds(10)));
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(300));
  EXPECT_EQ(call(*ready, ping(2)).type(), wire::Body::Pong);
  const std::string log = server.process().log();
  EXPECT_NE(log.find("handshake timeout"), std::string::npos) << log;
}

}  // namespace
}  // namespace orderlog::testing
