// orderlogd's configuration (server/config.cc): a TOML file read strictly — unknown
// keys, wrong types and syntax errors are reported with file, line and key — and
// validate_config's range and tenant rules, one test per rule.
#include "server/config.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>

#include <gtest/gtest.h>

namespace orderlog::server {
namespace {

// A TOML file in the test's temporary directory, removed afterwards.
class TomlFile {
 public:
  explicit TomlFile(const std::string& contents) {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = ::testing::TempDir() + "orderlog-config-" + test->name() + "-" + std::to_string(::getpid()) + ".toml";
    std::ofstream(path_) << contents;
  }
  ~TomlFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

constexpr const char* kFullConfig = R"(
[server]
data = "/var/lib/orderlog"
listen = "0.0.0.0:7171"
metrics = ""
ready_file = "/run/orderlogd.ready"
io_threads = 4
command_threads = 8
connections_max = 100
inflight_max = 64
subscriptions_max = 4
frame_bytes_max = 1048576
read_count_max = 500
shutdown_grace_ms = 2500
handshake_timeout_ms = 1500
write_timeout_ms = 2500
durability = "none"
direct_io = true
page_cache_window_mib = 64

[[tenant]]
name = "demo"
token = "demo-token-0123456789"
read = ["order-", "demo-"]
write = ["order-"]
commands = ["*"]
query = true
rate = 100000
burst = 200000

[[tenant]]
name = "reader"
token = "reader-token-0123456789"
read = [""]
write = []
commands = ["CreateOrder", "ShipOrder"]
rate = 2.5
)";

Status load(const std::string& toml, ServerConfig* config) {
  TomlFile file(toml);
  return load_config_file(file.path(), config);
}

// The message of loading `toml` into a default config; "" when it loaded.
std::string load_error(const std::string& toml) {
  ServerConfig config;
  const Status status = load(toml, &config);
  EXPECT_TRUE(status.is_ok() || status.code() == StatusCode::kInvalidArgument) << status.to_string();
  return status.message();
}

TEST(ConfigFile, EveryKeyRoundTrips) {
  ServerConfig config;
  ASSERT_TRUE(load(kFullConfig, &config).is_ok());
  EXPECT_EQ(config.data_dir, "/var/lib/orderlog");
  EXPECT_EQ(config.listen, "0.0.0.0:7171");
  EXPECT_EQ(config.metrics_listen, "");
  EXPECT_EQ(config.ready_file, "/run/orderlogd.ready");
  EXPECT_EQ(config.io_threads, 4u);
  EXPECT_EQ(config.command_threads, 8u);
  EXPECT_EQ(config.connections_max, 100u);
  EXPECT_EQ(config.inflight_per_connection_max, 64u);
  EXPECT_EQ(config.subscriptions_per_connection_max, 4u);
  EXPECT_EQ(config.frame_bytes_max, 1048576u);
  EXPECT_EQ(config.read_count_max, 500u);
  EXPECT_EQ(config.shutdown_grace_ms, 2500u);
  EXPECT_EQ(config.handshake_timeout_ms, 1500u);
  EXPECT_EQ(config.write_timeout_ms, 2500u);
  EXPECT_EQ(config.durability, "none");
  EXPECT_TRUE(config.direct_io);
  EXPECT_FALSE(ServerConfig{}.direct_io) << "direct I/O is opt-in";
  EXPECT_EQ(config.page_cache_window_mib, 64u);
  ASSERT_EQ(config.tenants.size(), 2u);
  const TenantConfig& demo = config.tenants[0];
  EXPECT_EQ(demo.name, "demo");
  EXPECT_EQ(demo.token, "demo-token-0123456789");
  EXPECT_EQ(demo.read_prefixes, (std::vector<std::string>{"order-", "demo-"}));
  EXPECT_EQ(demo.write_prefixes, (std::vector<std::string>{"order-"}));
  EXPECT_EQ(demo.commands, (std::vector<std::string>{"*"}));
  EXPECT_TRUE(demo.may_query);
  EXPECT_EQ(demo.rate_per_second, 100000);
  EXPECT_EQ(demo.burst, 200000);
  const TenantConfig& reader = config.tenants[1];
  EXPECT_EQ(reader.read_prefixes, (std::vector<std::string>{""}));
  EXPECT_TRUE(reader.write_prefixes.empty());
  EXPECT_EQ(reader.commands, (std::vector<std::string>{"CreateOrder", "ShipOrder"}));
  EXPECT_FALSE(reader.may_query);
  EXPECT_EQ(reader.rate_per_second, 2.5);
  EXPECT_EQ(reader.burst, 0);
  EXPECT_TRUE(validate_config(config).is_ok()) << validate_config(config).to_string();
}

TEST(ConfigFile, AbsentKeysKeepTheirValue) {
  ServerConfig config;
  config.io_threads = 7;
  TenantConfig kept;
  kept.name = "kept";
  config.tenants.push_back(kept);
  ASSERT_TRUE(load("[server]\nlisten = \"127.0.0.1:1\"\n", &config).is_ok());
  EXPECT_EQ(config.listen, "127.0.0.1:1");
  EXPECT_EQ(config.io_threads, 7u);
  EXPECT_EQ(config.data_dir, "data");
  ASSERT_EQ(config.tenants.size(), 1u);
  EXPECT_EQ(config.tenants[0].name, "kept");
}

TEST(ConfigFile, EmptyFileChangesNothing) {
  ServerConfig config;
  ASSERT_TRUE(load("", &config).is_ok());
  EXPECT_EQ(config.listen, ServerConfig{}.listen);
}

TEST(ConfigFile, MissingFileIsNotFound) {
  ServerConfig config;
  const Status status = load_config_file(::testing::TempDir() + "no-such-orderlog.toml", &config);
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_NE(status.message().find("no-such-orderlog.toml"), std::string::npos);
}

TEST(ConfigFile, UnknownServerKeyNamesFileLineAndKey) {
  TomlFile file("[server]\nlisten = \"127.0.0.1:1\"\nlisen = \"x\"\n");
  ServerConfig config;
  const Status status = load_config_file(file.path(), &config);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find(file.path() + ":3:"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("unknown key 'server.lisen'"), std::string::npos) << status.message();
}

TEST(ConfigFile, UnknownTenantKeyIsAnError) {
  const std::string message = load_error("[[tenant]]\nname = \"a\"\nraed = [\"x\"]\n");
  EXPECT_NE(message.find("unknown key 'tenant[0].raed'"), std::string::npos) << message;
}

TEST(ConfigFile, UnknownSectionIsAnError) {
  EXPECT_NE(load_error("[sever]\nlisten = \"x:1\"\n").find("unknown key 'sever'"), std::string::npos);
  EXPECT_NE(load_error("listen = \"x:1\"\n").find("unknown key 'listen'"), std::string::npos);
}

TEST(ConfigFile, WrongTypeNamesKeyAndExpectedType) {
  const std::string message = load_error("[server]\nio_threads = \"2\"\n");
  EXPECT_NE(message.find(":2:"), std::string::npos) << message;
  EXPECT_NE(message.find("'server.io_threads' must be an integer from 0 to 4294967295 (got string)"),
            std::string::npos)
      << message;
  EXPECT_NE(load_error("[server]\nlisten = 7070\n").find("'server.listen' must be a string (got integer)"),
            std::string::npos);
  EXPECT_NE(load_error("[[tenant]]\nquery = \"yes\"\n").find("'tenant[0].query' must be a boolean"),
            std::string::npos);
  EXPECT_NE(load_error("[[tenant]]\nrate = \"fast\"\n").find("'tenant[0].rate' must be a number"),
            std::string::npos);
  EXPECT_NE(load_error("[[tenant]]\nread = \"order-\"\n").find("'tenant[0].read' must be an array of strings"),
            std::string::npos);
  EXPECT_NE(load_error("[[tenant]]\nread = [\"a\", 1]\n").find("must be a string (got integer)"),
            std::string::npos);
}

TEST(ConfigFile, IntegerOutOfItsTypeRangeIsAnError) {
  EXPECT_NE(load_error("[server]\nio_threads = -1\n").find("(got -1)"), std::string::npos);
  EXPECT_NE(load_error("[server]\nframe_bytes_max = 4294967296\n").find("from 0 to 4294967295"),
            std::string::npos);
}

TEST(ConfigFile, SectionsMustHaveTheirShape) {
  EXPECT_NE(load_error("server = 1\n").find("'server' must be a table"), std::string::npos);
  EXPECT_NE(load_error("[tenant]\nname = \"a\"\n").find("'tenant' must be an array of tables"), std::string::npos);
}

TEST(ConfigFile, SyntaxErrorReportsLineAndColumn) {
  TomlFile file("[server]\nio_threads = 2\nlisten = \"unterminated\n");
  ServerConfig config;
  const Status status = load_config_file(file.path(), &config);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find(file.path() + ":3:"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("TOML syntax error"), std::string::npos) << status.message();
}

TEST(ConfigFile, DuplicateKeyIsASyntaxError) {
  EXPECT_NE(load_error("[server]\nio_threads = 2\nio_threads = 3\n").find("TOML syntax error"), std::string::npos);
}

TEST(ConfigFile, TypeErrorNeverPrintsTheToken) {
  const std::string message = load_error("[[tenant]]\ntoken = [\"secret-token-abcdefgh\"]\n");
  EXPECT_NE(message.find("'tenant[0].token' must be a string"), std::string::npos) << message;
  EXPECT_EQ(message.find("secret-token"), std::string::npos) << message;
}

TEST(ConfigFile, FailedLoadLeavesTheConfigUnchanged) {
  ServerConfig config;
  EXPECT_FALSE(load("[server]\nlisten = \"10.0.0.1:1\"\nio_threads = \"x\"\n", &config).is_ok());
  EXPECT_EQ(config.listen, ServerConfig{}.listen);
}

// ---------------------------------------------------------------- validate_config

TenantConfig valid_tenant(std::string name, std::string token) {
  return TenantConfig{.name = std::move(name),
                      .token = std::move(token),
                      .read_prefixes = {"order-"},
                      .write_prefixes = {"order-"},
                      .commands = {"*"},
                      .may_query = true,
                      .rate_per_second = 100,
                      .burst = 200};
}

ServerConfig valid_config() {
  ServerConfig config;
  config.tenants.push_back(valid_tenant("demo", "demo-token-0123456789"));
  return config;
}

// The message of validating valid_config() after `change`; "" when valid.
std::string invalid_because(const std::function<void(ServerConfig&)>& change) {
  ServerConfig config = valid_config();
  change(config);
  const Status status = validate_config(config);
  if (status.is_ok()) return "";
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  return status.message();
}

bool mentions(const std::string& message, std::string_view text) { return message.find(text) != std::string::npos; }

TEST(ValidateConfig, DefaultsAndADemoTenantAreValid) {
  EXPECT_TRUE(validate_config(ServerConfig{}).is_ok());
  EXPECT_TRUE(validate_config(valid_config()).is_ok());
}

TEST(ValidateConfig, EveryNumberIsRangeChecked) {
  struct Case {
    std::function<void(ServerConfig&)> change;
    std::string_view key;
  };
  const Case cases[] = {
      {[](ServerConfig& c) { c.io_threads = 0; }, "server.io_threads = 0: must be from 1 to 64"},
      {[](ServerConfig& c) { c.io_threads = 65; }, "server.io_threads"},
      {[](ServerConfig& c) { c.command_threads = 0; }, "server.command_threads"},
      {[](ServerConfig& c) { c.command_threads = 1025; }, "server.command_threads"},
      {[](ServerConfig& c) { c.connections_max = 0; }, "server.connections_max"},
      {[](ServerConfig& c) { c.inflight_per_connection_max = 0; }, "server.inflight_max"},
      {[](ServerConfig& c) { c.subscriptions_per_connection_max = 1025; }, "server.subscriptions_max"},
      {[](ServerConfig& c) { c.frame_bytes_max = 1023; }, "server.frame_bytes_max"},
      {[](ServerConfig& c) { c.frame_bytes_max = (1u << 30) + 1; }, "server.frame_bytes_max"},
      {[](ServerConfig& c) { c.read_count_max = 0; }, "server.read_count_max"},
      {[](ServerConfig& c) { c.shutdown_grace_ms = 3'600'001; }, "server.shutdown_grace_ms"},
      {[](ServerConfig& c) { c.handshake_timeout_ms = 0; }, "server.handshake_timeout_ms"},
      {[](ServerConfig& c) { c.write_timeout_ms = 0; }, "server.write_timeout_ms"},
      {[](ServerConfig& c) { c.page_cache_window_mib = (1ull << 30) + 1; }, "server.page_cache_window_mib"},
  };
  for (const Case& test_case : cases) {
    const std::string message = invalid_because(test_case.change);
    EXPECT_TRUE(mentions(message, test_case.key)) << test_case.key << " -> " << message;
  }
}

TEST(ValidateConfig, BoundsThemselvesAreValid) {
  EXPECT_EQ(invalid_because([](ServerConfig& c) {
              c.io_threads = 64;
              c.command_threads = 1;
              c.frame_bytes_max = 1024;
              c.subscriptions_per_connection_max = 0;
            }),
            "");
  EXPECT_EQ(invalid_because([](ServerConfig& c) { c.frame_bytes_max = 1u << 30; }), "");
  EXPECT_EQ(invalid_because([](ServerConfig& c) { c.page_cache_window_mib = 0; }), "");
}

TEST(ValidateConfig, DataDirectoryMustBeNamed) {
  EXPECT_TRUE(mentions(invalid_because([](ServerConfig& c) { c.data_dir.clear(); }), "server.data"));
}

TEST(ValidateConfig, DurabilityIsAlwaysOrNone) {
  EXPECT_EQ(invalid_because([](ServerConfig& c) { c.durability = "none"; }), "");
  EXPECT_TRUE(mentions(invalid_because([](ServerConfig& c) { c.durability = "sometimes"; }), "server.durability"));
}

TEST(ValidateConfig, ListenAddressesMustBeHostPort) {
  for (const char* bad : {"7070", "localhost", "host:", ":7070", "host:70000", "host:-1", "host:12a", "::1:7070",
                          "[::1:7070", "[]:1", "a b:1", "host:+80"}) {
    EXPECT_TRUE(mentions(invalid_because([&](ServerConfig& c) { c.listen = bad; }), "server.listen")) << bad;
    EXPECT_TRUE(mentions(invalid_because([&](ServerConfig& c) { c.metrics_listen = bad; }), "server.metrics"))
        << bad;
  }
  EXPECT_EQ(invalid_because([](ServerConfig& c) { c.metrics_listen = ""; }), "");
  EXPECT_EQ(invalid_because([](ServerConfig& c) { c.listen = "[::1]:0"; }), "");
}

TEST(ParseHostPort, SplitsNamesIpv4AndBracketedIpv6) {
  Result<HostPort> v4 = parse_host_port("127.0.0.1:7070");
  ASSERT_TRUE(v4.is_ok());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 7070);
  Result<HostPort> v6 = parse_host_port("[::1]:0");
  ASSERT_TRUE(v6.is_ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  Result<HostPort> name = parse_host_port("metrics.internal:65535");
  ASSERT_TRUE(name.is_ok());
  EXPECT_EQ(name->host, "metrics.internal");
  EXPECT_EQ(name->port, 65535);
  EXPECT_EQ(parse_host_port("nonsense").status().code(), StatusCode::kInvalidArgument);
}

TEST(ValidateConfig, TenantNamesAreShortAndPlain) {
  for (const std::string& bad : {std::string(), std::string(65, 'a'), std::string("a b"), std::string("caf\xc3\xa9"),
                                std::string("a/b")}) {
    EXPECT_TRUE(mentions(invalid_because([&](ServerConfig& c) { c.tenants[0].name = bad; }), "tenant[0]: name"))
        << bad;
  }
  EXPECT_EQ(invalid_because([](ServerConfig& c) { c.tenants[0].name = "Team_1.eu-west"; }), "");
  EXPECT_EQ(invalid_because([](ServerConfig& c) { c.tenants[0].name = std::string(64, 'z'); }), "");
}

TEST(ValidateConfig, TokensAreAtLeastSixteenBytesAndNeverPrinted) {
  const std::string message = invalid_because([](ServerConfig& c) { c.tenants[0].token = "short-secret"; });
  EXPECT_TRUE(mentions(message, "tenant 'demo': token must be 16")) << message;
  EXPECT_FALSE(mentions(message, "short-secret")) << message;
  EXPECT_EQ(invalid_because([](ServerConfig& c) { c.tenants[0].token = std::string(16, 't'); }), "");
  EXPECT_TRUE(mentions(invalid_because([](ServerConfig& c) { c.tenants[0].token = std::string(1025, 't'); }),
                       "token must be"));
}

TEST(ValidateConfig, TenantNamesAreUnique) {
  const std::string message =
      invalid_because([](ServerConfig& c) { c.tenants.push_back(valid_tenant("demo", "other-token-0123456789")); });
  EXPECT_TRUE(mentions(message, "tenant 'demo': the name is used by two tenants")) << message;
}

TEST(ValidateConfig, TokensAreUniqueAndTheDuplicateIsNotPrinted) {
  const std::string message =
      invalid_because([](ServerConfig& c) { c.tenants.push_back(valid_tenant("second", "demo-token-0123456789")); });
  EXPECT_TRUE(mentions(message, "tenant 'second': has the same token as tenant 'demo'")) << message;
  EXPECT_FALSE(mentions(message, "demo-token")) << message;
}

TEST(ValidateConfig, CommandsAreStarOrKnownNames) {
  EXPECT_EQ(invalid_because([](ServerConfig& c) {
              c.tenants[0].commands = {"CreateOrder", "AddItem", "RemoveItem", "ConfirmOrder", "CancelOrder",
                                       "ShipOrder", "DeliverOrder"};
            }),
            "");
  EXPECT_EQ(invalid_because([](ServerConfig& c) { c.tenants[0].commands.clear(); }), "");
  for (const char* bad : {"createorder", "NONE", "Append", "", "all"}) {
    const std::string message = invalid_because([&](ServerConfig& c) { c.tenants[0].commands = {bad}; });
    EXPECT_TRUE(mentions(message, "unknown command")) << bad << " -> " << message;
  }
}

TEST(ValidateConfig, RateAndBurstAreFiniteAndNotNegative) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (const double bad : {-1.0, nan, inf}) {
    EXPECT_TRUE(mentions(invalid_because([&](ServerConfig& c) { c.tenants[0].rate_per_second = bad; }), "rate"));
    EXPECT_TRUE(mentions(invalid_because([&](ServerConfig& c) { c.tenants[0].burst = bad; }), "burst"));
  }
  EXPECT_EQ(invalid_because([](ServerConfig& c) {
              c.tenants[0].rate_per_second = 0;
              c.tenants[0].burst = 0;
            }),
            "");
}

}  // namespace
}  // namespace orderlog::server
