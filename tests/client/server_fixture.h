// A real orderlogd for the client tests: one shared by a test suite (tests use
// stream and order ids unique to them), started on demand, stopped at the end.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "orderlog/client/client.h"
#include "server_process.h"

namespace orderlog::client::testing {

inline constexpr const char* kToken = "client-tests-token-0123456789";

inline std::string server_config() {
  return "[[tenant]]\n"
         "name = \"tests\"\n"
         "token = \"client-tests-token-0123456789\"\n"
         "read = [\"\"]\n"
         "write = [\"\"]\n"
         "commands = [\"*\"]\n"
         "query = true\n";
}

inline std::string make_temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "orderlog-client-XXXXXX").string();
  const char* made = ::mkdtemp(pattern.data());
  EXPECT_NE(made, nullptr);
  return pattern;
}

// A name unique to this test run, for stream and order ids.
inline std::string unique(const std::string& prefix) { return prefix + "-" + Uuid::generate().to_string().substr(24); }

inline std::unique_ptr<orderlog::testing::ServerProcess> start_server(const std::string& data_dir,
                                                                      std::vector<std::string> extra_args = {}) {
  orderlog::testing::ServerProcessOptions options;
  options.data_dir = data_dir + "/data";
  options.config_toml = server_config();
  options.extra_args = std::move(extra_args);
  auto server = orderlog::testing::ServerProcess::start(ORDERLOGD_PATH, options);
  if (!server.is_ok()) {
    std::fprintf(stderr, "orderlogd did not start: %s\n", server.status().to_string().c_str());
    return nullptr;
  }
  return std::move(server).value();
}

inline ClientOptions client_options(uint16_t port) {
  ClientOptions options;
  options.port = port;
  options.token = kToken;
  options.client_name = "client_tests";
  options.request_timeout = std::chrono::seconds(10);
  return options;
}

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = make_temp_dir();
    server_ = start_server(dir_);
  }
  static void TearDownTestSuite() {
    if (server_ != nullptr) {
      const int code = server_->stop();
      EXPECT_EQ(code, 0) << server_->log();
      server_.reset();
    }
    std::filesystem::remove_all(dir_);
  }
  void SetUp() override { ASSERT_NE(server_, nullptr) << "orderlogd did not start"; }

  static std::unique_ptr<Client> connect() {
    auto client = Client::connect(client_options(server_->port()));
    EXPECT_TRUE(client.ok()) << client.error().to_string() << "\n" << server_->log();
    return client.ok() ? std::move(client).value() : nullptr;
  }

  static NewEvent event(const std::string& type, const std::string& payload = "{}") {
    NewEvent out;
    out.type = type;
    out.payload = payload;
    return out;
  }

  static inline std::unique_ptr<orderlog::testing::ServerProcess> server_;
  static inline std::string dir_;
};

}  // namespace orderlog::client::testing
