// orderlogd: the orderlog server. Options come from defaults, then the --config TOML
// file, then the flags given on the command line (a flag always wins), and are
// validated before anything touches the disk.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <string>

#include "server/config.h"
#include "server/log.h"
#include "server/server.h"

namespace {

using orderlog::Status;
using orderlog::server::ServerConfig;

// Flags as given; each is applied only if the user passed it.
struct Flags {
  std::string config_file;
  ServerConfig values;
};

void add_options(CLI::App& app, Flags& flags) {
  ServerConfig& v = flags.values;
  app.add_option("--config", flags.config_file, "TOML configuration file ([server] keys and [[tenant]] tables)");
  app.add_option("--data", v.data_dir, "data directory (created on first start)")->capture_default_str();
  app.add_option("--listen", v.listen, "host:port for clients (port 0: any free port)")->capture_default_str();
  app.add_option("--metrics", v.metrics_listen, "host:port for the Prometheus /metrics endpoint (\"\": disabled)")
      ->capture_default_str();
  app.add_option("--ready-file", v.ready_file,
                 "once serving, write \"listen=HOST:PORT metrics=HOST:PORT\" to this file (atomically)");
  app.add_option("--io-threads", v.io_threads, "threads running network I/O")->capture_default_str();
  app.add_option("--command-threads", v.command_threads, "threads running queries, temporal reads and command retries (they may block)")
      ->capture_default_str();
  app.add_option("--connections-max", v.connections_max, "open connections; more are refused with Busy")
      ->capture_default_str();
  app.add_option("--inflight-max", v.inflight_per_connection_max,
                 "unanswered requests per connection before the server stops reading it")
      ->capture_default_str();
  app.add_option("--subscriptions-max", v.subscriptions_per_connection_max, "subscriptions per connection")
      ->capture_default_str();
  app.add_option("--frame-bytes-max", v.frame_bytes_max, "largest frame body, either direction")->capture_default_str();
  app.add_option("--read-count-max", v.read_count_max, "events per read page or subscription batch")
      ->capture_default_str();
  app.add_option("--shutdown-grace-ms", v.shutdown_grace_ms,
                 "at SIGINT/SIGTERM, how long in-flight requests may take before connections are closed")
      ->capture_default_str();
  app.add_option("--handshake-timeout-ms", v.handshake_timeout_ms,
                 "a connection that has not completed the handshake by then is closed")
      ->capture_default_str();
  app.add_option("--write-timeout-ms", v.write_timeout_ms,
                 "a connection whose peer has not taken a write of replies by then is closed (it stopped reading)")
      ->capture_default_str();
  app.add_option("--durability", v.durability, "\"always\" (fsync before ack) or \"none\" (benchmarks only)")
      ->capture_default_str();
  app.add_option("--direct-io", v.direct_io,
                 "write the log with O_DIRECT, bypassing the page cache: faster bulk ingestion, slower readers that "
                 "follow the log's end (falls back to buffered writes, with a log line, where the file system "
                 "refuses it)")
      ->capture_default_str();
  app.add_option("--page-cache-window-mib", v.page_cache_window_mib,
                 "MiB of the log kept in the page cache behind its end, where live readers read; older pages are "
                 "dropped as the log grows (new writes then reuse that memory), 0 leaves caching to the kernel")
      ->capture_default_str();
}

// The flags the user gave override the file's values.
void apply_given(const CLI::App& app, const ServerConfig& given, ServerConfig* config) {
  const auto set = [&app](const char* flag) { return app.count(flag) > 0; };
  if (set("--data")) config->data_dir = given.data_dir;
  if (set("--listen")) config->listen = given.listen;
  if (set("--metrics")) config->metrics_listen = given.metrics_listen;
  if (set("--ready-file")) config->ready_file = given.ready_file;
  if (set("--io-threads")) config->io_threads = given.io_threads;
  if (set("--command-threads")) config->command_threads = given.command_threads;
  if (set("--connections-max")) config->connections_max = given.connections_max;
  if (set("--inflight-max")) config->inflight_per_connection_max = given.inflight_per_connection_max;
  if (set("--subscriptions-max")) config->subscriptions_per_connection_max = given.subscriptions_per_connection_max;
  if (set("--frame-bytes-max")) config->frame_bytes_max = given.frame_bytes_max;
  if (set("--read-count-max")) config->read_count_max = given.read_count_max;
  if (set("--shutdown-grace-ms")) config->shutdown_grace_ms = given.shutdown_grace_ms;
  if (set("--handshake-timeout-ms")) config->handshake_timeout_ms = given.handshake_timeout_ms;
  if (set("--write-timeout-ms")) config->write_timeout_ms = given.write_timeout_ms;
  if (set("--durability")) config->durability = given.durability;
  if (set("--direct-io")) config->direct_io = given.direct_io;
  if (set("--page-cache-window-mib")) config->page_cache_window_mib = given.page_cache_window_mib;
}

int fail(std::string_view what, const Status& status) {
  orderlog::server::log_error(what, {{"error", status.to_string()}});
  return EXIT_FAILURE;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"orderlogd: the orderlog event store server (binary protocol over TCP, Prometheus metrics)"};
  Flags flags;
  add_options(app, flags);
  app.set_version_flag("--version", ORDERLOGD_VERSION);
  app.footer(
      "Precedence: built-in defaults, then the --config file, then the flags given here.\n"
      "Without any [[tenant]] configured, an 'admin' tenant (every right, no rate limit) is used; its\n"
      "token is created in DATA_DIR/admin.token (mode 0600) on first start and kept.\n"
      "SIGINT/SIGTERM shut down gracefully (in-flight requests finish, the store is synced); exit 0.");
  CLI11_PARSE(app, argc, argv);

  ServerConfig config;
  if (!flags.config_file.empty()) {
    if (Status loaded = orderlog::server::load_config_file(flags.config_file, &config); !loaded.is_ok()) {
      return fail("cannot load the configuration", loaded);
    }
  }
  apply_given(app, flags.values, &config);
  // Tenants may be empty here: Server::open adds the admin tenant and validates again.
  if (Status valid = orderlog::server::validate_config(config); !valid.is_ok()) {
    return fail("invalid configuration", valid);
  }
  orderlog::server::log_info("starting orderlogd", {{"version", ORDERLOGD_VERSION}, {"data", config.data_dir}});
  auto server = orderlog::server::Server::open(std::move(config));
  if (!server.is_ok()) return fail("cannot start", server.status());
  if (Status closed = (*server)->run(); !closed.is_ok()) return fail("shutdown finished with an error", closed);
  orderlog::server::log_info("stopped");
  return EXIT_SUCCESS;
}
