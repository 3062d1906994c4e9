// A real orderlogd as a child process, for end-to-end tests: started on ephemeral
// loopback ports, its stderr captured to a file, stopped with a signal.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "orderlog/status.h"

namespace orderlog::testing {

struct ServerProcessOptions {
  std::string data_dir;     // --data
  std::string config_toml;  // non-empty: written to <data_dir>.toml and passed as --config
  // Appended to the command line; a --listen or --metrics here replaces the default.
  std::vector<std::string> extra_args;
  std::chrono::milliseconds ready_timeout{30'000};
};

class ServerProcess {
 public:
  // Runs `binary` --data D [--config F] --listen 127.0.0.1:0 --metrics 127.0.0.1:0
  // --ready-file R <extra_args> and waits until R appears. kTimedOut (with the
  // server's log) if it does not; kIoError if it exits first.
  static Result<std::unique_ptr<ServerProcess>> start(const std::string& binary,
                                                       const ServerProcessOptions& options);
  ~ServerProcess();  // SIGKILL if still running

  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  uint16_t port() const { return port_; }
  // "host:port" of the metrics endpoint, or "" when it is disabled.
  const std::string& metrics_endpoint() const { return metrics_endpoint_; }
  pid_t pid() const { return pid_; }
  bool running();
  // Sends `signal` and waits for the exit: the exit code, -signal when a signal
  // ended it, or -1000 when it did not exit within `timeout` (it is then killed).
  int stop(int signal = 15, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Everything it wrote to stderr so far.
  std::string log() const;

 private:
  ServerProcess() = default;

  pid_t pid_ = -1;
  int exit_status_ = 0;
  uint16_t port_ = 0;
  std::string metrics_endpoint_;
  std::string log_path_;
};

}  // namespace orderlog::testing
