// MetricsHttpServer (server/metrics_http.cc) over real loopback sockets: GET /metrics
// answers the exposition, anything else an HTTP error, garbage never stops it, and
// stop() releases the port and lets the io_context finish.
#include "server/metrics_http.h"

#include <chrono>
#include <optional>
#include <thread>
#include <vector>

#include <asio.hpp>
#include <gtest/gtest.h>

#include "orderlog/fb/protocol_generated.h"

namespace orderlog::server {
namespace {

using asio::ip::tcp;

// An io_context run by two threads, as orderlogd runs it, and a server on port 0.
class MetricsHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    metrics_.on_request(static_cast<uint8_t>(wire::Body::Hello), 1000);
    Result<std::unique_ptr<MetricsHttpServer>> started = MetricsHttpServer::start(io_, "127.0.0.1:0", metrics_);
    ASSERT_TRUE(started.is_ok()) << started.status().to_string();
    server_ = std::move(started).value();
    for (std::thread& thread : threads_) thread = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    if (server_) server_->stop();
    work_.reset();
    join();
  }

  // Returns only once every handler has finished.
  void join() {
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

  // Sends `request`, then reads until the server closes the connection.
  std::string exchange(std::string_view request) {
    asio::io_context client_io;
    tcp::socket socket(client_io);
    socket.connect(endpoint());
    asio::write(socket, asio::buffer(request));
    std::string response;
    std::error_code error;
    asio::read(socket, asio::dynamic_buffer(response), error);
    EXPECT_TRUE(error == asio::error::eof || error == asio::error::connection_reset) << error.message();
    return response;
  }

  tcp::endpoint endpoint() const {
    const std::string bound = server_->local_endpoint();
    const size_t colon = bound.rfind(':');
    return {asio::ip::make_address(bound.substr(0, colon)),
            static_cast<uint16_t>(std::stoi(bound.substr(colon + 1)))};
  }

  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{io_.get_executor()};
  Metrics metrics_;
  std::unique_ptr<MetricsHttpServer> server_;
  std::thread threads_[2];
};

std::string body_of(const std::string& response) {
  const size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

TEST_F(MetricsHttpTest, BindsAnEphemeralPortOnLoopback) {
  EXPECT_TRUE(server_->local_endpoint().starts_with("127.0.0.1:"));
  EXPECT_NE(endpoint().port(), 0);
}

TEST_F(MetricsHttpTest, GetMetricsAnswersTheExposition) {
  const std::string response = exchange("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
  ASSERT_TRUE(response.starts_with("HTTP/1.1 200 OK\r\n")) << response.substr(0, 200);
  EXPECT_NE(response.find("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(response.find("\r\nConnection: close\r\n"), std::string::npos);
  const std::string body = body_of(response);
  EXPECT_NE(response.find("\r\nContent-Length: " + std::to_string(body.size()) + "\r\n"), std::string::npos);
  EXPECT_NE(body.find("# TYPE orderlog_appends_total counter\n"), std::string::npos);
  EXPECT_NE(body.find("orderlog_requests_total{op=\"Hello\"} 1\n"), std::string::npos);
}

TEST_F(MetricsHttpTest, QueryStringIsIgnored) {
  EXPECT_TRUE(exchange("GET /metrics?x=1 HTTP/1.0\r\n\r\n").starts_with("HTTP/1.1 200 OK\r\n"));
}

TEST_F(MetricsHttpTest, OtherPathsAreNotFound) {
  EXPECT_TRUE(exchange("GET / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404 Not Found\r\n"));
  EXPECT_TRUE(exchange("GET /metricsx HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404 Not Found\r\n"));
}

TEST_F(MetricsHttpTest, OtherMethodsAreNotAllowed) {
  const std::string response = exchange("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  EXPECT_TRUE(response.starts_with("HTTP/1.1 405 Method Not Allowed\r\n")) << response;
  EXPECT_NE(response.find("\r\nAllow: GET\r\n"), std::string::npos);
}

TEST_F(MetricsHttpTest, GarbageIsABadRequestAndServingGoesOn) {
  constexpr char kGarbage[] = "\x00\xff\x16\x03\x01 hello\r\n\r\n";
  const std::string garbage(kGarbage, sizeof kGarbage - 1);
  EXPECT_TRUE(exchange(garbage).starts_with("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_TRUE(exchange("GET  /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 400"));
  EXPECT_TRUE(exchange("GET /metrics SPDY/3\r\n\r\n").starts_with("HTTP/1.1 400"));
  EXPECT_TRUE(exchange("\r\n\r\n").starts_with("HTTP/1.1 400"));
  EXPECT_TRUE(exchange("GET /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200 OK\r\n"));
}

TEST_F(MetricsHttpTest, OversizedHeadIsRefusedAndServingGoesOn) {
  const std::string huge = "GET /metrics HTTP/1.1\r\nX-Filler: " + std::string(20'000, 'a') + "\r\n\r\n";
  EXPECT_TRUE(exchange(huge).starts_with("HTTP/1.1 431"));
  EXPECT_TRUE(exchange("GET /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200 OK\r\n"));
}

TEST_F(MetricsHttpTest, ClientsThatHangUpEarlyDoNotDisturbIt) {
  for (int i = 0; i < 20; ++i) {
    asio::io_context client_io;
    tcp::socket socket(client_io);
    socket.connect(endpoint());
    if (i % 2 == 0) asio::write(socket, asio::buffer(std::string_view("GET /met")));
  }  // each socket closes here, mid-request
  EXPECT_TRUE(exchange("GET /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200 OK\r\n"));
}

// Every exchange has a 5 s deadline and at most 16 run at once: clients that open a
// connection and stall hold a slot only until their deadline.
TEST_F(MetricsHttpTest, StalledClientsHoldTheirSlotsOnlyUntilTheDeadline) {
  // Given 16 clients that sent half a request and stalled
  asio::io_context client_io;
  std::vector<tcp::socket> stalled;
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 16; ++i) {
    stalled.emplace_back(client_io);
    stalled.back().connect(endpoint());
    asio::write(stalled.back(), asio::buffer(std::string_view("GET /met")));
  }

  // Then one more is closed without an answer while they hold every slot
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(exchange("GET /metrics HTTP/1.1\r\n\r\n"), "");

  // And each stalled one is closed at its deadline, not before
  for (tcp::socket& socket : stalled) {
    std::string ignored;
    std::error_code error;
    asio::read(socket, asio::dynamic_buffer(ignored), error);
    EXPECT_TRUE(error == asio::error::eof || error == asio::error::connection_reset) << error.message();
  }
  const auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_GE(elapsed, std::chrono::milliseconds(4'500));
  EXPECT_LE(elapsed, std::chrono::seconds(15));

  // And the slots are free again
  EXPECT_TRUE(exchange("GET /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200 OK\r\n"));
}

TEST_F(MetricsHttpTest, ConcurrentScrapesAllSucceed) {
  std::thread clients[4];
  for (std::thread& client : clients) {
    client = std::thread([this] {
      for (int i = 0; i < 10; ++i) {
        EXPECT_TRUE(exchange("GET /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 200 OK\r\n"));
        metrics_.on_request(static_cast<uint8_t>(wire::Body::Ping), 1000);  // racing the scrapes
      }
    });
  }
  for (std::thread& client : clients) client.join();
  EXPECT_NE(body_of(exchange("GET /metrics HTTP/1.1\r\n\r\n")).find("orderlog_requests_total{op=\"Ping\"} 40\n"),
            std::string::npos);
}

TEST_F(MetricsHttpTest, StopIsIdempotentReleasesThePortAndLetsTheIoContextFinish) {
  const tcp::endpoint bound = endpoint();
  server_->stop();
  server_->stop();
  work_.reset();
  join();  // hangs if stop() left an accept pending
  asio::io_context client_io;
  tcp::socket socket(client_io);
  std::error_code error;
  socket.connect(bound, error);
  EXPECT_EQ(error, asio::error::connection_refused);
  server_.reset();
}

TEST_F(MetricsHttpTest, APortInUseIsAnIoError) {
  const Result<std::unique_ptr<MetricsHttpServer>> second =
      MetricsHttpServer::start(io_, server_->local_endpoint(), metrics_);
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), StatusCode::kIoError);
  EXPECT_NE(second.status().message().find("cannot listen on " + server_->local_endpoint()), std::string::npos)
      << second.status().message();
}

TEST(MetricsHttpServer, BadAddressesAreInvalidArguments) {
  asio::io_context io;
  const Metrics metrics;
  for (const char* bad : {"nonsense", "127.0.0.1:99999", "127.0.0.1:", "::1:80", "no-such-host.invalid:80"}) {
    const Result<std::unique_ptr<MetricsHttpServer>> started = MetricsHttpServer::start(io, bad, metrics);
    ASSERT_FALSE(started.is_ok()) << bad;
    EXPECT_EQ(started.status().code(), StatusCode::kInvalidArgument) << bad << ": " << started.status().to_string();
  }
}

TEST(MetricsHttpServer, StopsCleanlyWhenTheIoContextNeverRan) {
  asio::io_context io;
  const Metrics metrics;
  Result<std::unique_ptr<MetricsHttpServer>> started = MetricsHttpServer::start(io, "127.0.0.1:0", metrics);
  ASSERT_TRUE(started.is_ok()) << started.status().to_string();
  started.value()->stop();
  started.value().reset();  // pending handlers keep its state until io is destroyed
  io.run();                 // runs the posted stop and the aborted accept
}

}  // namespace
}  // namespace orderlog::server
