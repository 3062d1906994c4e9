// See subscription.h.
#include "server/subscription.h"

#include <algorithm>
#include <string>

namespace orderlog::server {
namespace {

// During a long filtered-out stretch, report the scanned position this often (in
// log positions) even without events, so a resuming client can skip it.
constexpr uint64_t kScannedReportStride = 4096;
// Credit is a u32 per Credit frame; the sum saturates here instead of overflowing.
constexpr uint64_t kCreditMax = uint64_t{1} << 48;

}  // namespace

bool SubscriptionFilter::matches(const EventView& event) const {
  if (!event.stream_id.starts_with(stream_prefix)) return false;
  if (event_types.empty()) return true;
  return std::find(event_types.begin(), event_types.end(), event.type) != event_types.end();
}

Subscription::Subscription(uint64_t id, SubscriptionFilter filter, GlobalPosition start_after, uint64_t credit)
    : id_(id),
      filter_(std::move(filter)),
      cursor_(start_after.value + 1),
      credit_(std::min(credit, kCreditMax)),
      reported_(start_after.value) {}

void Subscription::add_credit(uint64_t credit) { credit_ = std::min(credit_ + credit, kCreditMax); }

void Subscription::emit_caught_up(std::vector<Reply>* out) {
  flatbuffers::FlatBufferBuilder builder(64);
  const auto body = wire::CreateSubscriptionCaughtUp(builder, cursor_ - 1);
  out->push_back(finish_reply(builder, id_, wire::Body::SubscriptionCaughtUp, body.Union()));
  caught_up_sent_ = true;
}

Result<bool> Subscription::pump(const EventStore& store, const PumpLimits& limits, std::vector<Reply>* out) {
  if (cursor_ > store.committed_position().value) {
    if (!caught_up_sent_) emit_caught_up(out);
    return false;
  }
  if (credit_ == 0) return false;
  OL_ASSIGN_OR_RETURN(ReadSlice slice, store.read_all(GlobalPosition{cursor_}, limits.scan_events_max));
  flatbuffers::FlatBufferBuilder builder(4096);
  std::vector<flatbuffers::Offset<wire::Event>> events;
  size_t projected = 64;
  uint64_t scanned = cursor_ - 1;
  bool stopped_early = false;
  for (const EventView& event : slice.events) {
    if (filter_.matches(event)) {
      projected += encoded_event_bytes_max(event) + sizeof(flatbuffers::uoffset_t);
      if (projected > limits.event_bytes_max && events.empty()) {
        return Status::too_large("the event at position " + std::to_string(event.position.value) +
                                 " does not fit in a frame");
      }
      if (credit_ == 0 || events.size() == limits.batch_events_max || projected > limits.event_bytes_max) {
        stopped_early = true;
        break;
      }
      events.push_back(encode_event(builder, event));
      --credit_;
    }
    scanned = event.position.value;
  }
  cursor_ = scanned + 1;
  const bool at_head = !stopped_early && slice.end;
  const bool report_scan = scanned > reported_ && ((at_head && !caught_up_sent_) || scanned - reported_ >= kScannedReportStride);
  if (!events.empty() || report_scan) {
    const auto body = wire::CreateSubscriptionEvents(builder, builder.CreateVector(events), scanned);
    out->push_back(finish_reply(builder, id_, wire::Body::SubscriptionEvents, body.Union()));
    reported_ = scanned;
  }
  if (at_head && !caught_up_sent_) emit_caught_up(out);
  return !at_head && credit_ > 0;
}

Reply subscription_ended(uint64_t id, wire::ErrorCode code, std::string_view message) {
  flatbuffers::FlatBufferBuilder builder(128 + message.size());
  const auto text = builder.CreateString(message.data(), message.size());
  const auto body = wire::CreateSubscriptionEnded(builder, code, text);
  return finish_reply(builder, id, wire::Body::SubscriptionEnded, body.Union());
}

}  // namespace orderlog::server
