// Reading a data directory's log offline, without opening an EventStore: nothing is
// written, no index is used and no lock is taken, so it also works beside a running
// orderlogd (whose write in flight then reads as a torn tail). The `orderlog` tool's
// verify, browse and replay commands are built on it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "orderlog/env.h"
#include "orderlog/event.h"
#include "orderlog/event_store.h"
#include "orderlog/status.h"
#include "orderlog/types.h"

namespace orderlog {

struct LogCheckOptions {
  std::string data_dir;  // the store's directory (its log is in data_dir/log)
  Env* env = nullptr;    // nullptr: default_env()
  // The store's StoreOptions::batch_bytes_max: how far past an invalid unit the last
  // write may reach, which is what tells a torn write from corruption.
  size_t batch_bytes_max = StoreOptions{}.batch_bytes_max;
  // check_log() follows each stream's version in memory (~100 bytes a stream): up to
  // this many streams; the versions of streams first seen after that go unchecked.
  size_t streams_tracked_max = 10'000'000;
};

// What follows the log's last valid unit. After the index checkpoint's position this
// is decided by the code the open's recovery uses; before it, where an open does not
// read the log again, anything but valid units is damage.
enum class LogEnding : uint8_t {
  kClean,          // nothing: zeros up to the end of the last segment
  kTornTail,       // an unacknowledged torn write, which the next open cuts
  kStraySegments,  // empty segments left by an interrupted roll, which the next open removes
  // Damage: an invalid unit with acknowledged data after it (the next open refuses
  // it when it lies after the checkpoint), or anything missing or invalid in the part
  // the checkpoint covers, or a segment that is no segment.
  kCorrupt,
};

std::string_view log_ending_name(LogEnding ending);  // "clean", "torn tail", ...

struct LogCheck {
  uint64_t segments = 0;
  uint64_t segment_bytes = 0;  // their file sizes
  uint64_t units = 0;          // appends (one unit each)
  uint64_t events = 0;
  uint64_t log_bytes = 0;  // the valid units' bytes
  uint64_t streams = 0;    // distinct streams, counted up to streams_tracked_max
  bool all_streams_tracked = true;  // false: more streams than that; some versions went unchecked
  GlobalPosition last_position;
  uint64_t first_timestamp_ns = 0;
  uint64_t last_timestamp_ns = 0;
  // The last position index/CHECKPOINT covers (0 without a usable one, and then
  // `checkpoint_problem` says why: the next open re-indexes the whole log).
  GlobalPosition checkpoint_position;
  std::string checkpoint_problem;
  LogEnding ending = LogEnding::kClean;
  std::string ending_detail;  // for every ending but kClean: the file, offset and what is wrong
  // Events whose unit passed its checksum but that break the log's rules: a stream
  // version that does not follow the stream's previous event, a timestamp before the
  // previous event's. Only a defect in the writer writes such a log. The first
  // kInconsistenciesListed are described, with their positions.
  static constexpr size_t kInconsistenciesListed = 20;
  std::vector<std::string> inconsistencies;
  uint64_t inconsistency_count = 0;

  // Whether the store opens on this log and it keeps its rules.
  bool healthy() const { return ending != LogEnding::kCorrupt && inconsistency_count == 0; }
};

// Reads every unit of the log from position 1, verifying checksums, event records,
// gapless positions, the segment chain, stream versions and timestamps, and decides
// what follows the last valid unit. Errors: kNotFound when data_dir has no log/
// directory, kIoError when a segment cannot be opened or mapped (a segment that is
// not one, e.g. an empty file, is reported as kCorrupt instead).
Result<LogCheck> check_log(const LogCheckOptions& options);

// Calls `visit` for every event at position `from` or later, in log order, until it
// returns false or the valid log ends (what lies past that end is check_log()'s
// business). It starts reading in the segment holding `from` (from position 1 in the
// first one). Units are verified before their events are visited. The views are
// valid during the call only. Errors: as check_log(), and kCorruption for damage
// check_log() reports as kCorrupt.
Status scan_log(const LogCheckOptions& options, GlobalPosition from, const std::function<bool(const EventView&)>& visit);

}  // namespace orderlog
