// Shared pieces of the wire-level server tests: a real orderlogd (ServerProcess) on
// a fresh data directory, the admin token it created, and connections that have done
// the handshake. Starting an (ASan) orderlogd costs about a second, so most suites
// share one server per suite and keep their streams apart by name.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <string>
#include <thread>

#include "raw_connection.h"
#include "server_process.h"
#include "wire_messages.h"

namespace orderlog::testing {

// A data directory path unique to this process and `name`; removed if it exists.
inline std::string fresh_data_dir(const std::string& name) {
  static std::atomic<int> counter{0};
  const std::string dir = std::filesystem::temp_directory_path().string() + "/orderlogd-test-" +
                          std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

// Removes a data directory and the files ServerProcess puts next to it.
inline void remove_data_dir(const std::string& dir) {
  std::filesystem::remove_all(dir);
  for (const char* suffix : {".log", ".ready", ".toml"}) std::filesystem::remove(dir + suffix);
}

inline std::string read_admin_token(const std::string& data_dir) {
  std::ifstream in(data_dir + "/admin.token");
  std::string token;
  std::getline(in, token);
  return token;
}

// Starts orderlogd; fails the test (and returns nullptr) if it does not come up.
inline std::unique_ptr<ServerProcess> start_server(const std::string& data_dir, const std::string& toml = "",
                                                   std::vector<std::string> extra_args = {}) {
  ServerProcessOptions options;
  options.data_dir = data_dir;
  options.config_toml = toml;
  options.extra_args = std::move(extra_args);
  auto started = ServerProcess::start(ORDERLOGD_PATH, options);
  EXPECT_TRUE(started.is_ok()) << started.status().to_string();
  if (!started.is_ok()) return nullptr;
  return std::move(started).value();
}

// Connects and shakes hands; nullptr (with a test failure) if that fails.
inline std::unique_ptr<RawConnection> connect_ready(uint16_t port, const std::string& token) {
  auto connection = RawConnection::connect(port);
  EXPECT_NE(connection, nullptr) << "cannot connect to port " << port;
  if (connection == nullptr) return nullptr;
  EXPECT_TRUE(connection->send(hello(1, token)));
  auto reply = connection->read_frame();
  EXPECT_TRUE(reply.has_value()) << "no reply to Hello";
  if (!reply.has_value()) return nullptr;
  EXPECT_EQ(reply->type(), wire::Body::HelloOk) << reply->error_message();
  if (reply->type() != wire::Body::HelloOk) return nullptr;
  return connection;
}

// A test's own orderlogd, for tests that need other flags than the shared one: started
// on a fresh data directory, stopped at the end (a test failure unless it exits 0),
// its directory removed. Check ok() before using it.
class OwnServer {
 public:
  OwnServer(const std::string& name, std::vector<std::string> args, const std::string& toml = "")
      : data_dir_(fresh_data_dir(name)), server_(start_server(data_dir_, toml, std::move(args))) {
    if (server_ != nullptr) token_ = read_admin_token(data_dir_);
  }
  ~OwnServer() {
    if (server_ != nullptr && server_->running()) {
      EXPECT_EQ(server_->stop(), 0) << server_->log();
    }
    remove_data_dir(data_dir_);
  }
  OwnServer(const OwnServer&) = delete;
  OwnServer& operator=(const OwnServer&) = delete;

  bool ok() const { return server_ != nullptr; }
  ServerProcess& process() { return *server_; }
  uint16_t port() const { return server_->port(); }
  const std::string& token() const { return token_; }
  // A connection that has shaken hands as the admin tenant; nullptr with a failure.
  std::unique_ptr<RawConnection> connect() const { return connect_ready(port(), token_); }

 private:
  std::string data_dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string token_;
};

// Sends `frame` and returns the next frame (the reply, when nothing else is pending).
inline Frame call(RawConnection& connection, const flatbuffers::DetachedBuffer& frame) {
  EXPECT_TRUE(connection.send(frame));
  auto reply = connection.read_frame();
  EXPECT_TRUE(reply.has_value()) << "no reply";
  return reply.has_value() ? std::move(*reply) : Frame{};
}

// The connections the server counts, as a Stats reply on `observer` says.
inline uint32_t server_connections(RawConnection& observer) {
  const Frame reply = call(observer, stats(900));
  const wire::Message* message = reply.message();
  const auto* ok = message == nullptr ? nullptr : message->body_as_StatsOk();
  EXPECT_NE(ok, nullptr);
  return ok == nullptr ? 0 : ok->connections();
}

// Polls `observer` until the server counts at most `connections` (10 s at most);
// returns the last count.
inline uint32_t wait_for_connections_at_most(RawConnection& observer, uint32_t connections) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  uint32_t now = server_connections(observer);
  while (now > connections && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    now = server_connections(observer);
  }
  return now;
}

// A reply frame together with its body as T, so the body cannot outlive its frame.
template <typename T>
struct Typed {
  Frame frame;
  const T* body = nullptr;

  const T* operator->() const { return body; }
  explicit operator bool() const { return body != nullptr; }
  friend bool operator==(const Typed& typed, std::nullptr_t) { return typed.body == nullptr; }
  friend std::ostream& operator<<(std::ostream& out, const Typed& typed) {
    return out << (typed.body != nullptr ? "a reply of the expected type" : "an unexpected reply");
  }
};

// `frame` as a T reply; a test failure naming what came instead if it is not one.
template <typename T>
Typed<T> expect_reply(Frame frame) {
  Typed<T> typed{std::move(frame)};
  const wire::Message* message = typed.frame.message();
  typed.body = message == nullptr ? nullptr : message->template body_as<T>();
  EXPECT_NE(typed.body, nullptr) << "got body type "
                                 << (message == nullptr ? -1 : static_cast<int>(message->body_type())) << ": "
                                 << (message == nullptr ? std::string("no frame") : typed.frame.error_message());
  return typed;
}

// A test suite with one orderlogd for all its tests, started with the admin tenant.
class SharedServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_dir_ = new std::string(fresh_data_dir("shared"));
    server_ = start_server(*data_dir_).release();
    if (server_ != nullptr) token_ = new std::string(read_admin_token(*data_dir_));
  }
  static void TearDownTestSuite() {
    if (server_ != nullptr) {
      EXPECT_EQ(server_->stop(), 0) << server_->log();
      delete server_;
      server_ = nullptr;
    }
    remove_data_dir(*data_dir_);
    delete data_dir_;
    delete token_;
    data_dir_ = token_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(server_, nullptr) << "orderlogd did not start"; }

  static uint16_t port() { return server_->port(); }
  static const std::string& token() { return *token_; }
  std::unique_ptr<RawConnection> connect() { return connect_ready(port(), token()); }
  // A stream name no other test uses.
  static std::string unique_stream(const std::string& prefix) {
    static std::atomic<int> counter{0};
    return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  }

  static inline ServerProcess* server_ = nullptr;
  static inline std::string* data_dir_ = nullptr;
  static inline std::string* token_ = nullptr;
};

}  // namespace orderlog::testing
