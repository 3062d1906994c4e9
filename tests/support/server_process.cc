// See server_process.h.
#include "server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace orderlog::testing {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// "listen=127.0.0.1:4242 metrics=127.0.0.1:4243" -> the value of `key`.
std::string ready_value(const std::string& line, const std::string& key) {
  std::istringstream words(line);
  std::string word;
  while (words >> word) {
    if (word.rfind(key + "=", 0) == 0) return word.substr(key.size() + 1);
  }
  return "";
}

}  // namespace

Result<std::unique_ptr<ServerProcess>> ServerProcess::start(const std::string& binary,
                                                           const ServerProcessOptions& options) {
  std::unique_ptr<ServerProcess> process(new ServerProcess());
  const std::string ready_path = options.data_dir + ".ready";
  process->log_path_ = options.data_dir + ".log";
  ::unlink(ready_path.c_str());

  std::vector<std::string> args = {binary, "--data", options.data_dir, "--ready-file", ready_path};
  // Ephemeral ports unless the test pins one (e.g. to restart on the same port).
  for (const char* flag : {"--listen", "--metrics"}) {
    const auto& extra = options.extra_args;
    if (std::find(extra.begin(), extra.end(), flag) == extra.end()) args.insert(args.end(), {flag, "127.0.0.1:0"});
  }
  if (!options.config_toml.empty()) {
    const std::string config_path = options.data_dir + ".toml";
    std::ofstream(config_path) << options.config_toml;
    args.insert(args.end(), {"--config", config_path});
  }
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // Nothing of the test's own stdio: if the test dies before stopping the server, an
  // orphan holding the test's stdout would keep ctest waiting for its timeout.
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, process->log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  const int spawned = posix_spawn(&process->pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return Status::from_errno(spawned, "spawning " + binary);

  const auto deadline = std::chrono::steady_clock::now() + options.ready_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process->running()) {
      return Status::io_error("orderlogd exited with status " + std::to_string(process->exit_status_) +
                              " before it was ready; its log:\n" + process->log());
    }
    const std::string ready = read_file(ready_path);
    if (!ready.empty() && ready.back() == '\n') {
      const std::string listen = ready_value(ready, "listen");
      process->port_ = static_cast<uint16_t>(std::stoi(listen.substr(listen.rfind(':') + 1)));
      const std::string metrics = ready_value(ready, "metrics");
      process->metrics_endpoint_ = metrics == "-" ? "" : metrics;
      return process;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Status::timed_out("orderlogd was not ready within the timeout; its log:\n" + process->log());
}

ServerProcess::~ServerProcess() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

bool ServerProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t waited = ::waitpid(pid_, &status, WNOHANG);
  if (waited == 0) return true;
  exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  pid_ = -1;
  return false;
}

int ServerProcess::stop(int signal, std::chrono::milliseconds timeout) {
  if (!running()) return exit_status_;
  ::kill(pid_, signal);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return exit_status_;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  exit_status_ = -1000;
  return exit_status_;
}

std::string ServerProcess::log() const { return read_file(log_path_); }

}  // namespace orderlog::testing
