// `orderlog browse` and `orderlog replay`: the log read offline with scan_log(), in
// position order. Both read the whole log from the first position asked for (no
// index is used, so they work on a directory whose indexes are gone or damaged).
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "commands.h"
#include "event_json.h"
#include "json.h"
#include "orderlog/log_check.h"
#include "orderlog/order/service.h"

namespace orderlog::tool {
namespace {

LogCheckOptions scan_options(const std::string& data_dir) {
  LogCheckOptions options;
  options.data_dir = data_dir;
  return options;
}

void print_line(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
}

int scan_failed(std::string_view command, const Status& status) {
  std::fflush(stdout);
  fmt::print(stderr, "orderlog {}: {}\n", command, status.to_string());
  return kExitError;
}

struct StreamSummary {
  uint64_t version = 0;
  uint64_t first_position = 0;
  uint64_t last_position = 0;
  uint64_t last_timestamp_ns = 0;
};

int list_streams(const BrowseArgs& args) {
  std::map<std::string, StreamSummary, std::less<>> streams;
  const Status scanned = scan_log(scan_options(args.data_dir), GlobalPosition{1}, [&](const EventView& event) {
    if (!event.stream_id.starts_with(args.prefix)) return true;
    auto found = streams.find(event.stream_id);
    if (found == streams.end()) {
      found = streams.emplace(std::string(event.stream_id), StreamSummary{}).first;
      found->second.first_position = event.position.value;
    }
    found->second.version = event.version.value;
    found->second.last_position = event.position.value;
    found->second.last_timestamp_ns = event.timestamp_ns;
    return true;
  });
  if (!scanned.is_ok()) return scan_failed("browse", scanned);
  uint64_t printed = 0;
  for (const auto& [stream, summary] : streams) {
    if (args.count != 0 && printed == args.count) break;
    print_line(JsonObject()
                   .string("stream", stream)
                   .number("version", summary.version)
                   .number("first_position", summary.first_position)
                   .number("last_position", summary.last_position)
                   .string("last_time", utc_time(summary.last_timestamp_ns))
                   .str());
    ++printed;
  }
  return kExitOk;
}

// Order events are decoded as the server decodes them (its default legacy currency).
order::UpcasterRegistry upcasters() {
  return order::UpcasterRegistry::standard(order::OrderServiceOptions{}.legacy_currency);
}

}  // namespace

int run_browse(const BrowseArgs& args) {
  if (args.stream.empty()) return list_streams(args);
  const order::UpcasterRegistry registry = upcasters();
  uint64_t printed = 0;
  const Status scanned = scan_log(scan_options(args.data_dir), GlobalPosition{1}, [&](const EventView& event) {
    if (event.stream_id != args.stream) return true;
    print_line(event_json(event, registry));
    return args.count == 0 || ++printed < args.count;
  });
  if (!scanned.is_ok()) return scan_failed("browse", scanned);
  return kExitOk;
}

int run_replay(const ReplayArgs& args) {
  const order::UpcasterRegistry registry = upcasters();
  uint64_t printed = 0;
  const Status scanned =
      scan_log(scan_options(args.data_dir), GlobalPosition{std::max<uint64_t>(args.from, 1)}, [&](const EventView& event) {
        if (!args.types.empty() && std::find(args.types.begin(), args.types.end(), event.type) == args.types.end()) {
          return true;
        }
        print_line(event_json(event, registry));
        return args.count == 0 || ++printed < args.count;
      });
  if (!scanned.is_ok()) return scan_failed("replay", scanned);
  return kExitOk;
}

}  // namespace orderlog::tool
