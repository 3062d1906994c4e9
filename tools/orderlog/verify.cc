// `orderlog verify`: check_log() over a data directory, as a report.
#include <fmt/core.h>

#include <iterator>
#include <memory>

#include "commands.h"
#include "json.h"
#include "orderlog/log_check.h"

namespace orderlog::tool {
namespace {

std::string size_text(uint64_t bytes) {
  constexpr const char* kUnits[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} bytes", bytes) : fmt::format("{:.1f} {}", value, kUnits[unit]);
}

void print_text(const std::string& data_dir, const LogCheck& check) {
  fmt::print("log       {}/log: {} segments, {} allocated, {} of appends\n", data_dir, check.segments,
             size_text(check.segment_bytes), size_text(check.log_bytes));
  fmt::print("events    {} in {} appends to {} streams; positions 1-{}\n", check.events, check.units, check.streams,
             check.last_position.value);
  if (check.events > 0) {
    fmt::print("time      {} .. {}\n", utc_time(check.first_timestamp_ns), utc_time(check.last_timestamp_ns));
  }
  if (check.checkpoint_position.value > 0) {
    fmt::print("index     checkpoint at position {} (an open reads the log after it only)\n",
               check.checkpoint_position.value);
  } else {
    fmt::print("index     no usable checkpoint ({}): the next open re-indexes the whole log\n",
               check.checkpoint_problem);
  }
  fmt::print("ending    {}{}{}\n", log_ending_name(check.ending), check.ending_detail.empty() ? "" : ": ",
             check.ending_detail);
  const char* scope = check.all_streams_tracked ? "" : "; versions checked for the first streams seen only";
  if (check.inconsistency_count == 0) {
    fmt::print("rules     kept (stream versions follow one another, timestamps never go back{})\n", scope);
  } else {
    fmt::print("rules     BROKEN by {} events{}:\n", check.inconsistency_count, scope);
    for (const std::string& problem : check.inconsistencies) fmt::print("          {}\n", problem);
  }
  if (check.healthy()) {
    fmt::print("verdict   OK{}\n", check.ending == LogEnding::kClean ? "" : " (the next open tidies the ending)");
  } else if (check.ending == LogEnding::kCorrupt) {
    fmt::print("verdict   DAMAGED: acknowledged data is damaged or missing; restore log/ from a backup "
               "(docs/operations.md)\n");
  } else {
    fmt::print("verdict   DAMAGED: the log passed its checksums but breaks its rules\n");
  }
}

void print_json(const std::string& data_dir, const LogCheck& check) {
  std::string problems = "[";
  for (const std::string& problem : check.inconsistencies) {
    if (problems.size() > 1) problems += ',';
    problems += json_quote(problem);
  }
  problems += ']';
  JsonObject report;
  report.string("data_dir", data_dir)
      .boolean("healthy", check.healthy())
      .string("ending", log_ending_name(check.ending))
      .string("ending_detail", check.ending_detail)
      .number("segments", check.segments)
      .number("segment_bytes", check.segment_bytes)
      .number("log_bytes", check.log_bytes)
      .number("appends", check.units)
      .number("events", check.events)
      .number("streams", check.streams)
      .boolean("all_streams_tracked", check.all_streams_tracked)
      .number("last_position", check.last_position.value)
      .number("checkpoint_position", check.checkpoint_position.value)
      .number("first_timestamp_ns", check.first_timestamp_ns)
      .number("last_timestamp_ns", check.last_timestamp_ns)
      .number("inconsistency_count", check.inconsistency_count)
      .raw("inconsistencies", problems);
  fmt::print("{}\n", report.str());
}

// Notes on stderr when another process has the directory open. The lock is taken
// only for a moment, so a long check never keeps orderlogd from starting; and only
// where a LOCK file exists, as verify creates nothing.
void note_if_open_elsewhere(Env* env, const std::string& data_dir) {
  const std::string lock_path = data_dir + "/LOCK";
  if (!env->file_exists(lock_path)) return;
  Result<std::unique_ptr<FileLock>> lock = env->lock_file(lock_path);
  if (lock.is_ok()) return;
  if (lock.status().code() == StatusCode::kBusy) {
    fmt::print(stderr, "orderlog verify: {} is open in another process; a write in flight there reads as a torn tail\n",
               data_dir);
  } else {
    fmt::print(stderr, "orderlog verify: cannot tell whether {} is open elsewhere ({}); checking anyway\n", data_dir,
               lock.status().to_string());
  }
}

}  // namespace

int run_verify(const VerifyArgs& args) {
  Env* env = default_env();
  note_if_open_elsewhere(env, args.data_dir);
  LogCheckOptions options;
  options.data_dir = args.data_dir;
  options.env = env;
  if (args.batch_bytes_max != 0) options.batch_bytes_max = args.batch_bytes_max;
  Result<LogCheck> check = check_log(options);
  if (!check.is_ok()) {
    fmt::print(stderr, "orderlog verify: {}\n", check.status().to_string());
    return kExitError;
  }
  if (args.json) {
    print_json(args.data_dir, *check);
  } else {
    print_text(args.data_dir, *check);
  }
  return check->healthy() ? kExitOk : kExitDamaged;
}

}  // namespace orderlog::tool
