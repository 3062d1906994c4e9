// See unit_reader.h. Checks run cheapest first (magic, lengths) so scanning zeroed
// space or garbage stops early; the FlatBuffers Verifier runs only on checksummed units.
#include "storage/unit_reader.h"

#include <flatbuffers/flatbuffers.h>

#include "orderlog/fb/event_record_generated.h"

namespace orderlog::storage {
namespace {

bool all_zero(const std::byte* at, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) {
    if (at[i] != std::byte{0}) return false;
  }
  return true;
}

UnitCheck invalid(UnitCheck check, std::string problem) {
  check.state = UnitState::kInvalid;
  check.problem = std::move(problem);
  return check;
}

// Frames must tile the body exactly and each record must verify.
std::string check_frames(const std::byte* unit, const UnitHeader& header) {
  size_t offset = kUnitHeaderBytes;
  const size_t end = kUnitHeaderBytes + header.body_bytes;
  for (uint32_t i = 0; i < header.event_count; ++i) {
    if (end - offset < kEventFrameHeaderBytes) return "event frame " + std::to_string(i) + " overruns the unit";
    const uint32_t record_bytes = load_u32(unit + offset);
    const size_t frame_bytes = kEventFrameHeaderBytes + align_up(record_bytes);
    if (record_bytes == 0 || frame_bytes > end - offset) {
      return "event frame " + std::to_string(i) + " has a bad length";
    }
    const auto* record = reinterpret_cast<const uint8_t*>(unit + offset + kEventFrameHeaderBytes);
    flatbuffers::Verifier verifier(record, record_bytes);
    if (!fb::VerifyEventRecordBuffer(verifier)) return "event " + std::to_string(i) + " fails verification";
    const uint64_t position = fb::GetEventRecord(record)->global_position();
    if (position != header.first_position + i) return "event " + std::to_string(i) + " has a wrong position";
    offset += frame_bytes;
  }
  return offset == end ? std::string() : "event frames do not fill the unit";
}

}  // namespace

UnitCheck check_unit(const std::byte* base, uint64_t limit, uint64_t offset, uint64_t expected_first_position) {
  UnitCheck check;
  if (offset % kAlignmentBytes != 0 || offset > limit || limit - offset < kUnitHeaderBytes) {
    return invalid(check, "no room for a unit header");
  }
  const std::byte* unit = base + offset;
  if (all_zero(unit, kUnitHeaderBytes)) {
    check.state = UnitState::kEnd;
    return check;
  }
  check.header = load_unit_header(unit);
  const UnitHeader& header = check.header;
  if (header.magic != kUnitMagic) return invalid(check, "bad magic");
  if (header.format_version != kFormatVersion) {
    return invalid(check, "unknown format version " + std::to_string(header.format_version));
  }
  if (header.body_bytes % kAlignmentBytes != 0 || header.body_bytes > kUnitBytesMax ||
      header.body_bytes > limit - offset - kUnitHeaderBytes) {
    return invalid(check, "unit length " + std::to_string(header.body_bytes) + " runs past the segment");
  }
  if (header.event_count == 0) return invalid(check, "unit has no events");
  if (header.first_position != expected_first_position) {
    return invalid(check, "unit starts at position " + std::to_string(header.first_position) + ", expected " +
                              std::to_string(expected_first_position));
  }
  if (unit_checksum(unit, header.body_bytes) != header.checksum) return invalid(check, "checksum mismatch");
  std::string frames_problem = check_frames(unit, header);
  if (!frames_problem.empty()) return invalid(check, std::move(frames_problem));
  check.state = UnitState::kValid;
  return check;
}

namespace {
EventId from_fb(const fb::Uuid* id) {
  EventId out;
  if (id != nullptr) std::memcpy(out.bytes.data(), id->bytes()->data(), out.bytes.size());
  return out;
}
}  // namespace

EventView decode_event(const std::byte* record) {
  const fb::EventRecord* event = fb::GetEventRecord(record);
  EventView view;
  view.position = GlobalPosition{event->global_position()};
  view.version = StreamVersion{event->stream_version()};
  view.timestamp_ns = event->timestamp_ns();
  view.schema_version = event->schema_version();
  view.id = from_fb(event->event_id());
  view.correlation_id = from_fb(event->correlation_id());
  view.causation_id = from_fb(event->causation_id());
  view.stream_id = event->stream_id()->string_view();
  view.type = event->event_type()->string_view();
  if (const auto* payload = event->payload(); payload != nullptr) {
    view.payload = {reinterpret_cast<const std::byte*>(payload->data()), payload->size()};
  }
  if (const auto* tags = event->tags(); tags != nullptr) {
    view.tags.reserve(tags->size());
    for (const fb::Tag* tag : *tags) view.tags.push_back({tag->key()->string_view(), tag->value()->string_view()});
  }
  return view;
}

std::optional<uint64_t> verified_event_position(const std::byte* base, uint64_t limit, uint64_t record_offset) {
  if (record_offset < kEventFrameHeaderBytes || record_offset % kAlignmentBytes != 0 || record_offset > limit) {
    return std::nullopt;
  }
  const uint32_t record_bytes = load_u32(base + record_offset - kEventFrameHeaderBytes);
  if (record_bytes == 0 || record_bytes > limit - record_offset) return std::nullopt;
  const auto* record = reinterpret_cast<const uint8_t*>(base + record_offset);
  flatbuffers::Verifier verifier(record, record_bytes);
  if (!fb::VerifyEventRecordBuffer(verifier)) return std::nullopt;
  return fb::GetEventRecord(record)->global_position();
}

uint64_t event_position(const std::byte* record) { return fb::GetEventRecord(record)->global_position(); }

uint64_t event_timestamp_ns(const std::byte* record) { return fb::GetEventRecord(record)->timestamp_ns(); }

}  // namespace orderlog::storage
