// See orderlog/log_check.h.
#include "orderlog/log_check.h"

#include <algorithm>

#include "common/string_map.h"
#include "index/log_index.h"
#include "storage/unit_reader.h"
#include "store/log_scan.h"
#include "store/recovery.h"

namespace orderlog {

using storage::Segment;
using storage::SegmentList;

std::string_view log_ending_name(LogEnding ending) {
  switch (ending) {
    case LogEnding::kClean: return "clean";
    case LogEnding::kTornTail: return "torn tail";
    case LogEnding::kStraySegments: return "stray segments";
    case LogEnding::kCorrupt: return "corrupt";
  }
  return "unknown";
}

namespace {

struct WalkEnd {
  LogEnding ending = LogEnding::kClean;
  std::string detail;
};

// Called with each valid unit; false stops the walk.
using UnitVisitor = std::function<bool(const Segment&, uint64_t offset, const storage::UnitHeader&)>;

// "FILE offset N: PROBLEM, inside the part of the log the index checkpoint covers".
std::string acknowledged_damage(const Segment& segment, uint64_t offset, std::string_view problem, uint64_t trusted) {
  return segment.path() + " offset " + std::to_string(offset) + ": " + std::string(problem) +
         ", before position " + std::to_string(trusted) +
         " that the index checkpoint covers (acknowledged data is damaged or missing)";
}

// Walks the log's units from the start of segments.at(first), which should start at
// position `expected`, the way recovery reads its tail (store/log_scan.h), without
// changing anything. Positions up to `trusted` (the index checkpoint's) were
// acknowledged: anything but a valid unit there is damage, whatever follows it.
WalkEnd walk_units(const SegmentList& segments, size_t first, uint64_t expected, uint64_t trusted,
                   uint64_t torn_window, const UnitVisitor& visit) {
  WalkEnd end;
  for (size_t i = first; i < segments.size(); ++i) {
    const Segment& segment = *segments.at(i);
    if (segment.first_position() != expected) {
      if (expected > trusted && store::segments_empty_from(segments, i)) {
        end.ending = LogEnding::kStraySegments;
        end.detail = store::misplaced_segment_message(segment, expected) + ": empty, left by an interrupted roll";
      } else {
        end.ending = LogEnding::kCorrupt;
        end.detail = store::misplaced_segment_message(segment, expected);
      }
      return end;
    }
    uint64_t offset = 0;
    while (segment.capacity_bytes() - offset >= storage::kUnitHeaderBytes) {
      const store::ScanStep step = store::examine_unit(segments, i, offset, expected, torn_window);
      // The zeros after a sealed segment's last unit: the next segment must take over
      // at `expected`, which the chain check below verifies.
      const bool rolled = step.kind == store::StepKind::kEnd && i + 1 < segments.size();
      if (step.kind != store::StepKind::kUnit && expected <= trusted && !rolled) {
        end.ending = LogEnding::kCorrupt;
        end.detail = acknowledged_damage(
            segment, offset,
            step.kind == store::StepKind::kEnd ? "zeros where position " + std::to_string(expected) + " should start"
                                               : step.check.problem,
            trusted);
        return end;
      }
      if (step.kind == store::StepKind::kEnd) break;
      if (step.kind == store::StepKind::kCorrupt) {
        end.ending = LogEnding::kCorrupt;
        end.detail = store::corruption_message(segment, offset, step.check);
        return end;
      }
      if (step.kind == store::StepKind::kTorn) {
        end.ending = LogEnding::kTornTail;
        end.detail = segment.path() + " offset " + std::to_string(offset) + ": " + step.check.problem +
                     " (never acknowledged; the next open cuts it)";
        return end;
      }
      if (!visit(segment, offset, step.check.header)) return end;
      offset += step.check.total_bytes();
      expected += step.check.header.event_count;
    }
  }
  if (expected <= trusted) {
    end.ending = LogEnding::kCorrupt;
    end.detail = "the log ends before position " + std::to_string(expected) + ", but the index checkpoint covers " +
                 std::to_string(trusted) + " (acknowledged data is missing)";
  }
  return end;
}

// The last position the index checkpoint vouches for (0 without a usable one: the
// next open then re-reads the whole log, as the walk does). `problem` says why not.
uint64_t checkpoint_position(Env* env, const std::string& data_dir, std::string* problem) {
  Result<index::IndexedEnd> end = index::LogIndex::read_checkpoint_end(env, data_dir + "/index");
  if (end.is_ok()) return end->position;
  if (problem != nullptr) *problem = end.status().to_string();
  return 0;
}

Result<std::unique_ptr<SegmentList>> open_segments(const LogCheckOptions& options, Env* env) {
  const std::string log_dir = options.data_dir + "/log";
  if (!env->file_exists(log_dir)) return Status::not_found("no log in " + options.data_dir + " (" + log_dir + " is missing)");
  auto segments = std::make_unique<SegmentList>();
  OL_RETURN_IF_ERROR(store::load_segments(env, log_dir, segments.get(), /*direct_writes=*/false, OpenMode::kReadOnly));
  return segments;
}

// Tracks the rules a valid unit's events must keep beyond their checksums.
class RuleChecker {
 public:
  RuleChecker(LogCheck* check, size_t streams_tracked_max)
      : check_(check), streams_tracked_max_(streams_tracked_max) {}

  void add(const EventView& event) {
    check_version(event);
    if (event.timestamp_ns < check_->last_timestamp_ns) {
      report(event, "timestamp " + std::to_string(event.timestamp_ns) + " is before the previous event's " +
                        std::to_string(check_->last_timestamp_ns));
    }
    if (check_->events == 0) check_->first_timestamp_ns = event.timestamp_ns;
    check_->last_timestamp_ns = std::max(check_->last_timestamp_ns, event.timestamp_ns);
    check_->last_position = event.position;
    ++check_->events;
  }

  uint64_t streams() const { return versions_.size(); }

 private:
  void check_version(const EventView& event) {
    auto found = versions_.find(event.stream_id);
    if (found == versions_.end()) {
      if (versions_.size() >= streams_tracked_max_) {
        check_->all_streams_tracked = false;
        return;
      }
      found = versions_.emplace(std::string(event.stream_id), 0).first;
    }
    const uint64_t previous = found->second;
    if (event.version.value != previous + 1) {
      report(event, "stream '" + std::string(event.stream_id) + "' jumps from version " + std::to_string(previous) +
                        " to " + std::to_string(event.version.value));
    }
    found.value() = event.version.value;
  }

  void report(const EventView& event, std::string what) {
    if (check_->inconsistencies.size() < LogCheck::kInconsistenciesListed) {
      check_->inconsistencies.push_back("position " + std::to_string(event.position.value) + ": " + what);
    }
    ++check_->inconsistency_count;
  }

  LogCheck* check_;
  const size_t streams_tracked_max_;
  FlatStringMap<uint64_t> versions_;
};

}  // namespace

Result<LogCheck> check_log(const LogCheckOptions& options) {
  Env* env = options.env != nullptr ? options.env : default_env();
  LogCheck check;
  Result<std::unique_ptr<SegmentList>> segments = open_segments(options, env);
  if (!segments.is_ok()) {
    // A segment that cannot be mapped as one (an empty file) fails the open too.
    if (segments.status().code() != StatusCode::kCorruption) return segments.status();
    check.ending = LogEnding::kCorrupt;
    check.ending_detail = segments.status().message();
    return check;
  }
  const SegmentList& list = **segments;
  check.segments = list.size();
  for (size_t i = 0; i < list.size(); ++i) check.segment_bytes += list.at(i)->capacity_bytes();
  check.checkpoint_position = GlobalPosition{checkpoint_position(env, options.data_dir, &check.checkpoint_problem)};
  RuleChecker rules(&check, options.streams_tracked_max);
  const WalkEnd end = walk_units(list, 0, 1, check.checkpoint_position.value,
                                 store::torn_window_bytes(options.batch_bytes_max),
                                 [&](const Segment& segment, uint64_t offset, const storage::UnitHeader& header) {
                                   ++check.units;
                                   check.log_bytes += storage::kUnitHeaderBytes + header.body_bytes;
                                   storage::for_each_event(segment.data() + offset, header,
                                                           [&](size_t, const std::byte* record) {
                                                             rules.add(storage::decode_event(record));
                                                           });
                                   return true;
                                 });
  check.streams = rules.streams();
  check.ending = end.ending;
  check.ending_detail = end.detail;
  return check;
}

Status scan_log(const LogCheckOptions& options, GlobalPosition from,
                const std::function<bool(const EventView&)>& visit) {
  Env* env = options.env != nullptr ? options.env : default_env();
  OL_ASSIGN_OR_RETURN(std::unique_ptr<SegmentList> segments, open_segments(options, env));
  if (segments->size() == 0) return Status::ok();
  // Start in the last segment whose first position is at or before `from` (names are
  // first positions); from the first one, the chain is checked from position 1.
  size_t first = 0;
  while (first + 1 < segments->size() && segments->at(first + 1)->first_position() <= from.value) ++first;
  const uint64_t expected = first == 0 ? 1 : segments->at(first)->first_position();
  bool stopped = false;
  const WalkEnd end = walk_units(*segments, first, expected, checkpoint_position(env, options.data_dir, nullptr),
                                 store::torn_window_bytes(options.batch_bytes_max),
                                 [&](const Segment& segment, uint64_t offset, const storage::UnitHeader& header) {
                                   if (header.first_position + header.event_count <= from.value) return true;
                                   storage::for_each_event(segment.data() + offset, header,
                                                           [&](size_t, const std::byte* record) {
                                                             if (stopped) return;
                                                             const EventView event = storage::decode_event(record);
                                                             if (event.position.value < from.value) return;
                                                             stopped = !visit(event);
                                                           });
                                   return !stopped;
                                 });
  if (end.ending == LogEnding::kCorrupt) return Status::corruption(end.detail);
  return Status::ok();
}

}  // namespace orderlog
