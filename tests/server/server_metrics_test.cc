// orderlogd's metrics as a scraper sees them: after requests over the wire, the
// /metrics endpoint (--metrics) reports commits, requests by type, errors by code and
// the open connections.
#include <gtest/gtest.h>

#include <sstream>

#include "server_fixture.h"

namespace orderlog::testing {
namespace {

class ServerMetricsTest : public SharedServerTest {};

// GET /metrics over a raw socket; the body, or "" on failure.
std::string scrape(const std::string& endpoint) {
  const uint16_t metrics_port = static_cast<uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
  auto connection = RawConnection::connect(metrics_port);
  if (connection == nullptr) return "";
  const std::string request = "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n";
  if (!connection->send_bytes(request.data(), request.size())) return "";
  std::string response;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::recv(connection->fd(), buffer, sizeof buffer, 0);
    if (n <= 0) break;
    response.append(buffer, static_cast<size_t>(n));
  }
  const size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

// The value of the first sample line starting with `series` (name and labels).
double sample(const std::string& exposition, const std::string& series) {
  std::istringstream lines(exposition);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
  }
  ADD_FAILURE() << "no sample " << series << " in:\n" << exposition;
  return -1;
}

TEST_F(ServerMetricsTest, ScrapeReportsCommitsRequestsErrorsAndConnections) {
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  ASSERT_EQ(call(*connection, append_n(1, unique_stream("metered"), 3)).type(), wire::Body::AppendOk);
  ASSERT_EQ(call(*connection, ping(2)).type(), wire::Body::Pong);
  ASSERT_EQ(call(*connection, append_n(3, "", 1)).error_code(), wire::ErrorCode::BadRequest);
  const std::string metrics = scrape(server_->metrics_endpoint());
  ASSERT_FALSE(metrics.empty());
  EXPECT_GE(sample(metrics, "orderlog_events_appended_total"), 3);
  EXPECT_GE(sample(metrics, "orderlog_commits_total"), 1);
  EXPECT_GE(sample(metrics, "orderlog_connections"), 1);
  EXPECT_GE(sample(metrics, "orderlog_committed_position"), 3);
  EXPECT_NE(metrics.find("orderlog_requests_total{op=\"Ping\"} "), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("orderlog_errors_total{code=\"BadRequest\"} "), std::string::npos) << metrics;
  EXPECT_GE(sample(metrics, "orderlog_errors_total{code=\"BadRequest\"}"), 1);
}

}  // namespace
}  // namespace orderlog::testing
