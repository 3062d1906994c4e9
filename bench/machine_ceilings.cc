// machine_ceilings: what this machine can do for two shapes of work with none of
// orderlog's own work in them, so the throughput targets can be read against the
// hardware measured in the same run (docs/performance.md, "Ceilings").
//
//   loopback: a minimal epoll echo server and client over 127.0.0.1 sharing the
//     machine, with one and with two threads a side, `--connections` connections each with one request of `--request-bytes`
//     in flight (orderlog-bench's single-append load without any server work): the most
//     request/response round trips per second the kernel's loopback TCP allows here.
//   group_commit: `--threads` threads that each queue one request and block on a
//     condition variable until one writer thread acknowledges it; the writer takes all
//     queued requests at once. Once with no I/O at all, once with one pwrite of 512
//     bytes per request + fdatasync per group into a file in `--dir` written beforehand
//     (storage_bench's BM_ConcurrentSingleAppenders without encoding, indexing or checks).
//
// Prints one JSON object. Usage: machine_ceilings [--seconds S] [--dir DIR]
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kDescriptorsMax = 4096;  // both ends of every connection live in this process

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "machine_ceilings: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

struct Options {
  double seconds = 3;
  double warmup_seconds = 1;
  std::string dir = "/tmp/orderlog-bench";
  unsigned connections = 64;
  unsigned request_bytes = 300;  // about one single-event Append frame
  unsigned threads = 64;
};

// Counts what happens between the end of the warm-up and the end of the run.
class Window {
 public:
  explicit Window(const Options& options) : options_(options) {}
  void sleep_through(const std::atomic<uint64_t>& counter, std::atomic<uint64_t>* groups = nullptr) {
    std::this_thread::sleep_for(std::chrono::duration<double>(options_.warmup_seconds));
    const uint64_t count_before = counter.load();
    const uint64_t groups_before = groups ? groups->load() : 0;
    const auto start = Clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(options_.seconds));
    elapsed_ = std::chrono::duration<double>(Clock::now() - start).count();
    count_ = counter.load() - count_before;
    groups_ = groups ? groups->load() - groups_before : 0;
  }
  double rate() const { return static_cast<double>(count_) / elapsed_; }
  double per_group() const { return groups_ == 0 ? 0 : static_cast<double>(count_) / static_cast<double>(groups_); }

 private:
  const Options& options_;
  double elapsed_ = 0;
  uint64_t count_ = 0;
  uint64_t groups_ = 0;
};

// ---- loopback ----

int tcp_socket() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

void watch(int epoll_fd, int fd) {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = fd;
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) die("epoll_ctl");
}

// Runs `on_readable(fd)` for every readable descriptor until `stop`.
template <typename OnReadable>
void poll_loop(int epoll_fd, const std::atomic<bool>& stop, OnReadable on_readable) {
  epoll_event events[128];
  while (!stop.load(std::memory_order_relaxed)) {
    const int ready = epoll_wait(epoll_fd, events, 128, 50);
    for (int i = 0; i < ready; ++i) on_readable(events[i].data.fd);
  }
}

// `threads` server threads and as many client threads; the first server thread
// accepts and hands connections to the server threads in turn.
double loopback_round_trips(const Options& options, unsigned threads) {
  const int listener = tcp_socket();
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) die("bind");
  socklen_t length = sizeof(address);
  if (getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) die("getsockname");
  if (listen(listener, 1024) != 0) die("listen");

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> round_trips{0};
  std::vector<int> server_epolls;
  for (unsigned t = 0; t < threads; ++t) {
    server_epolls.push_back(epoll_create1(EPOLL_CLOEXEC));
    if (server_epolls.back() < 0) die("epoll_create1");
  }
  watch(server_epolls[0], listener);
  std::vector<int> accepted;  // touched by the first server thread only
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::vector<char> buffer(1 << 16);
      poll_loop(server_epolls[t], stop, [&](int fd) {
        if (fd == listener) {
          const int connection = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
          if (connection < 0) return;
          const int one = 1;
          setsockopt(connection, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
          watch(server_epolls[accepted.size() % server_epolls.size()], connection);
          accepted.push_back(connection);
          return;
        }
        const ssize_t got = read(fd, buffer.data(), buffer.size());
        if (got > 0 && write(fd, buffer.data(), static_cast<size_t>(got)) < 0) return;
      });
    });
  }
  for (unsigned t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
      if (epoll_fd < 0) die("epoll_create1");
      const std::vector<char> request(options.request_bytes, 'x');
      std::vector<char> buffer(1 << 16);
      std::vector<int> mine;
      for (unsigned i = t; i < options.connections; i += threads) {
        const int fd = tcp_socket();
        if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) die("connect");
        watch(epoll_fd, fd);
        mine.push_back(fd);
      }
      for (int fd : mine) {
        if (write(fd, request.data(), request.size()) < 0) die("write");
      }
      // A reply may arrive in pieces: the next request goes out once all of it is in.
      std::vector<size_t> received(kDescriptorsMax, 0);
      poll_loop(epoll_fd, stop, [&](int fd) {
        const ssize_t got = read(fd, buffer.data(), buffer.size());
        if (got <= 0) return;
        if (static_cast<size_t>(fd) >= received.size()) die("descriptor " + std::to_string(fd) + " out of range");
        size_t& have = received[static_cast<size_t>(fd)];
        have += static_cast<size_t>(got);
        if (have < request.size()) return;
        have = 0;
        round_trips.fetch_add(1, std::memory_order_relaxed);
        if (write(fd, request.data(), request.size()) < 0) return;
      });
      for (int fd : mine) close(fd);
      close(epoll_fd);
    });
  }
  Window window(options);
  window.sleep_through(round_trips);
  stop.store(true);
  for (std::thread& worker : workers) worker.join();
  for (int fd : accepted) close(fd);
  for (int fd : server_epolls) close(fd);
  close(listener);
  return window.rate();
}

// ---- group commit ----

struct GroupCommitResult {
  double acks_per_s = 0;
  double per_group = 0;
};

GroupCommitResult group_commit(const Options& options, bool with_io) {
  struct Request {
    std::mutex mutex;
    std::condition_variable acked;
    bool done = false;
  };
  constexpr size_t kRequestBytes = 512;
  constexpr uint64_t kFileBytes = 64ull << 20;
  int fd = -1;
  std::string path;
  if (with_io) {
    std::filesystem::create_directories(options.dir);
    path = options.dir + "/machine-ceilings.dat";
    fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) die("open " + path);
    // Written and synced beforehand, as orderlog's segments are zero-filled ahead.
    const std::vector<char> zeros(1 << 20, 0);
    for (uint64_t offset = 0; offset < kFileBytes; offset += zeros.size()) {
      if (pwrite(fd, zeros.data(), zeros.size(), static_cast<off_t>(offset)) < 0) die("pwrite " + path);
    }
    if (fdatasync(fd) != 0) die("fdatasync " + path);
  }

  std::mutex queue_mutex;
  std::condition_variable queue_changed;
  std::vector<Request*> queue;
  std::atomic<bool> stop{false};          // appenders send no more
  std::atomic<bool> appenders_gone{false};  // the writer may go: nobody waits for an ack
  std::atomic<uint64_t> acks{0};
  std::atomic<uint64_t> groups{0};
  std::thread writer([&] {
    std::vector<Request*> group;
    std::vector<char> bytes(kRequestBytes * options.threads, 'x');
    uint64_t offset = 0;
    while (!appenders_gone.load()) {
      {
        std::unique_lock lock(queue_mutex);
        queue_changed.wait_for(lock, std::chrono::milliseconds(20), [&] { return !queue.empty(); });
        group.swap(queue);
      }
      if (group.empty()) continue;
      if (with_io) {
        const size_t size = group.size() * kRequestBytes;
        if (pwrite(fd, bytes.data(), size, static_cast<off_t>(offset)) < 0) die("pwrite " + path);
        if (fdatasync(fd) != 0) die("fdatasync " + path);
        offset = (offset + size) % (kFileBytes - bytes.size());
      }
      for (Request* request : group) {
        {
          std::lock_guard lock(request->mutex);
          request->done = true;
        }
        request->acked.notify_one();
      }
      acks.fetch_add(group.size());
      groups.fetch_add(1);
      group.clear();
    }
  });
  std::vector<std::thread> appenders;
  for (unsigned i = 0; i < options.threads; ++i) {
    appenders.emplace_back([&] {
      Request request;
      while (!stop.load(std::memory_order_relaxed)) {
        request.done = false;
        {
          std::lock_guard lock(queue_mutex);
          queue.push_back(&request);
        }
        queue_changed.notify_one();
        std::unique_lock lock(request.mutex);
        request.acked.wait(lock, [&] { return request.done; });
      }
    });
  }
  Window window(options);
  window.sleep_through(acks, &groups);
  stop.store(true);
  for (std::thread& appender : appenders) appender.join();  // each one's last request is acked
  appenders_gone.store(true);
  writer.join();
  if (fd >= 0) {
    close(fd);
    std::filesystem::remove(path);
  }
  return {window.rate(), window.per_group()};
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"machine_ceilings: loopback round trips and group-commit acknowledgements per second with no "
               "orderlog work in them; prints JSON"};
  app.add_option("--seconds", options.seconds, "measured seconds per run")->check(CLI::Range(0.1, 600.0))->capture_default_str();
  app.add_option("--warmup-seconds", options.warmup_seconds, "unmeasured seconds first")
      ->check(CLI::Range(0.0, 60.0))
      ->capture_default_str();
  app.add_option("--dir", options.dir, "directory for the fdatasync run's 64 MiB file")->capture_default_str();
  app.add_option("--connections", options.connections, "loopback connections")->check(CLI::Range(2u, 256u))->capture_default_str();
  app.add_option("--request-bytes", options.request_bytes, "bytes per loopback request")
      ->check(CLI::Range(1u, 60000u))
      ->capture_default_str();
  app.add_option("--threads", options.threads, "group-commit appender threads")->check(CLI::Range(1u, 1024u))->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  // One and two threads a side (orderlogd and orderlog-bench run two io threads each);
  // the better is the ceiling.
  const double loopback_one = loopback_round_trips(options, 1);
  const double loopback_two = loopback_round_trips(options, 2);
  const GroupCommitResult no_io = group_commit(options, false);
  const GroupCommitResult with_io = group_commit(options, true);
  fmt::print(
      "{{\"seconds\": {}, \"loopback\": {{\"connections\": {}, \"request_bytes\": {}, \"round_trips_per_s\": {:.0f}, "
      "\"one_thread_a_side\": {:.0f}, \"two_threads_a_side\": {:.0f}}}, "
      "\"group_commit\": {{\"threads\": {}, \"no_io\": {{\"acks_per_s\": {:.0f}, \"per_group\": {:.1f}}}, "
      "\"fdatasync\": {{\"acks_per_s\": {:.0f}, \"per_group\": {:.1f}}}}}}}\n",
      options.seconds, options.connections, options.request_bytes, std::max(loopback_one, loopback_two),
      loopback_one, loopback_two, options.threads, no_io.acks_per_s,
      no_io.per_group, with_io.acks_per_s, with_io.per_group);
  return 0;
}
