// orderlogd's configuration: every option with its default, loaded from a TOML file
// (docs/operations.md shows one) and then overridden by command-line flags.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "orderlog/status.h"

namespace orderlog::server {

// One tenant: who may connect (its token) and what it may do.
struct TenantConfig {
  std::string name;   // 1..64 bytes, [A-Za-z0-9_.-]
  std::string token;  // the secret a client presents; never logged; >= 16 bytes
  // Stream-id prefixes the tenant may read / append to; "" matches every stream.
  std::vector<std::string> read_prefixes;
  std::vector<std::string> write_prefixes;
  // Order commands it may execute, by name ("CreateOrder", ...); "*" allows all.
  std::vector<std::string> commands;
  bool may_query = false;  // projections, OrderAt and order history
  // Token bucket: sustained operations per second (an append costs its event count,
  // anything else 1) and the bucket's size. 0: unlimited.
  double rate_per_second = 0;
  double burst = 0;  // 0: max(1, rate_per_second)
};

struct ServerConfig {
  std::string data_dir = "data";                // created on first start
  std::string listen = "127.0.0.1:7070";        // host:port; port 0 = any free port
  std::string metrics_listen = "127.0.0.1:9464";  // empty: no metrics endpoint
  std::string ready_file;                       // if set: "listen=host:port metrics=host:port\n" once serving
  unsigned io_threads = 2;
  unsigned command_threads = 32;                // threads for queries, temporal reads and command retries (they may block)
  size_t connections_max = 1024;
  size_t inflight_per_connection_max = 1024;    // requests read but not yet answered
  size_t subscriptions_per_connection_max = 16;
  uint32_t frame_bytes_max = 16u * 1024 * 1024;  // one frame's body
  uint32_t read_count_max = 10'000;             // events in one read or subscription batch
  uint32_t shutdown_grace_ms = 10'000;          // to finish in-flight requests at shutdown
  uint32_t handshake_timeout_ms = 10'000;       // a connection without a valid Hello by then is closed
  uint32_t write_timeout_ms = 60'000;           // a reply write not finished by then closes the connection
  std::string durability = "always";            // "always" or "none" (benchmarks only)
  bool direct_io = false;                       // log writes bypass the page cache (StoreOptions::direct_io)
  uint64_t page_cache_window_mib = 256;         // of the log kept cached behind its end; 0: all (StoreOptions::page_cache_window_bytes)
  std::vector<TenantConfig> tenants;
};

// Reads a TOML file into `config` (keys absent from the file keep their value).
// Errors name the file, the key and what is wrong: kNotFound, kInvalidArgument
// (unknown key, wrong type, TOML syntax with line and column), kIoError when the file
// exists but cannot be read. On error `config` is left as it was.
Status load_config_file(const std::string& path, ServerConfig* config);

// "host:port" split: host is a name, an IPv4 address or a bracketed IPv6 address
// ("[::1]:7070", returned without brackets); port 0..65535. kInvalidArgument saying
// what is wrong.
struct HostPort {
  std::string host;
  uint16_t port = 0;
};
Result<HostPort> parse_host_port(std::string_view address);

// Checks ranges and tenants (unique names and tokens, token length, known command
// names). kInvalidArgument saying what to fix.
Status validate_config(const ServerConfig& config);

}  // namespace orderlog::server
