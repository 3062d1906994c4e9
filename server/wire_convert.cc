// See wire_convert.h.
#include "server/wire_convert.h"

#include <string>

namespace orderlog::server {
namespace {

// Fixed overhead of one wire Event beyond its strings, payload and tags: the table,
// its vtable, three Uuids, scalars and alignment padding, generously rounded up.
constexpr size_t kEventOverheadBytes = 192;
constexpr size_t kTagOverheadBytes = 32;

std::string_view view(const flatbuffers::String* text) {
  return text == nullptr ? std::string_view() : std::string_view(text->c_str(), text->size());
}

ExpectedVersion expected_from_wire(const wire::StreamAppend& stream) {
  switch (stream.expected_kind()) {
    case wire::ExpectedKind::NoStream: return ExpectedVersion::no_stream();
    case wire::ExpectedKind::StreamExists: return ExpectedVersion::stream_exists();
    case wire::ExpectedKind::Exact: return ExpectedVersion::exact(StreamVersion{stream.expected_version()});
    case wire::ExpectedKind::Any: break;
  }
  return ExpectedVersion::any();
}

// Counts before allocating, so a hostile frame cannot make us reserve more than the
// engine would ever accept.
Status count_append(const wire::Append& append, size_t* events, size_t* tags) {
  const auto* streams = append.streams();
  if (streams->size() == 0) return Status::invalid_argument("an append needs at least one stream");
  if (streams->size() > kStreamsPerAppendMax) {
    return Status::too_large("an append may touch at most " + std::to_string(kStreamsPerAppendMax) + " streams");
  }
  for (const wire::StreamAppend* stream : *streams) {
    // The Verifier does not range-check enums; an unknown kind must not pass as Any.
    if (stream->expected_kind() > wire::ExpectedKind::MAX) {
      return Status::invalid_argument("unknown expected_kind " +
                                      std::to_string(static_cast<unsigned>(stream->expected_kind())));
    }
    *events += stream->events()->size();
    for (const wire::NewEvent* event : *stream->events()) {
      const size_t event_tags = event->tags() == nullptr ? 0 : event->tags()->size();
      if (event_tags > kTagCountMax) {
        return Status::too_large("an event may carry at most " + std::to_string(kTagCountMax) + " tags");
      }
      *tags += event_tags;
    }
  }
  if (*events > kEventsPerAppendMax) {
    return Status::too_large("an append may carry at most " + std::to_string(kEventsPerAppendMax) + " events");
  }
  return Status::ok();
}

NewEvent event_from_wire(const wire::NewEvent& event, std::vector<Tag>* tags) {
  NewEvent out;
  out.id = from_wire(event.id());
  out.type = view(event.type());
  out.schema_version = event.schema_version();
  if (event.payload() != nullptr) {
    out.payload = {reinterpret_cast<const std::byte*>(event.payload()->data()), event.payload()->size()};
  }
  out.correlation_id = from_wire(event.correlation_id());
  out.causation_id = from_wire(event.causation_id());
  if (event.tags() != nullptr) {
    const size_t first = tags->size();
    for (const wire::Tag* tag : *event.tags()) tags->push_back(Tag{view(tag->key()), view(tag->value())});
    out.tags = std::span<const Tag>(tags->data() + first, tags->size() - first);
  }
  return out;
}

}  // namespace

Reply finish_reply(flatbuffers::FlatBufferBuilder& builder, uint64_t request_id, wire::Body type,
                   flatbuffers::Offset<void> body) {
  const auto message = wire::CreateMessage(builder, request_id, type, body);
  wire::FinishSizePrefixedMessageBuffer(builder, message);
  return Reply{builder.Release(), wire::ErrorCode::None};
}

Reply error_reply(uint64_t request_id, wire::ErrorCode code, std::string_view message, ErrorDetails details) {
  flatbuffers::FlatBufferBuilder builder(128 + message.size());
  const auto text = builder.CreateString(message.data(), message.size());
  const auto error = wire::CreateError(builder, code, text, details.actual_version, details.domain_error);
  Reply reply = finish_reply(builder, request_id, wire::Body::Error, error.Union());
  reply.error = code;
  return reply;
}

wire::ErrorCode error_code_for(StatusCode code) {
  switch (code) {
    case StatusCode::kWrongExpectedVersion: return wire::ErrorCode::WrongExpectedVersion;
    case StatusCode::kNotFound: return wire::ErrorCode::NotFound;
    case StatusCode::kInvalidArgument: return wire::ErrorCode::BadRequest;
    case StatusCode::kTooLarge: return wire::ErrorCode::TooLarge;
    case StatusCode::kBusy: return wire::ErrorCode::Busy;
    case StatusCode::kReadOnly: return wire::ErrorCode::ReadOnly;
    case StatusCode::kClosed: return wire::ErrorCode::Unavailable;
    case StatusCode::kTimedOut: return wire::ErrorCode::Timeout;
    default: return wire::ErrorCode::Internal;
  }
}

Reply status_reply(uint64_t request_id, const Status& status) {
  ErrorDetails details;
  details.actual_version = status.actual_version().value_or(0);
  return error_reply(request_id, error_code_for(status.code()), status.message(), details);
}

wire::Uuid to_wire(const EventId& id) { return wire::Uuid(flatbuffers::span<const uint8_t, 16>(id.bytes)); }

EventId from_wire(const wire::Uuid* id) {
  EventId out;
  if (id == nullptr) return out;
  for (size_t i = 0; i < out.bytes.size(); ++i) out.bytes[i] = id->bytes()->Get(static_cast<flatbuffers::uoffset_t>(i));
  return out;
}

size_t encoded_event_bytes_max(const EventView& event) {
  size_t bytes = kEventOverheadBytes + event.stream_id.size() + event.type.size() + event.payload.size();
  for (const Tag& tag : event.tags) bytes += kTagOverheadBytes + tag.key.size() + tag.value.size();
  return bytes;
}

flatbuffers::Offset<wire::Event> encode_event(flatbuffers::FlatBufferBuilder& builder, const EventView& event) {
  const auto stream_id = builder.CreateString(event.stream_id.data(), event.stream_id.size());
  const auto type = builder.CreateString(event.type.data(), event.type.size());
  const auto payload =
      builder.CreateVector(reinterpret_cast<const uint8_t*>(event.payload.data()), event.payload.size());
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<wire::Tag>>> tags = 0;
  if (!event.tags.empty()) {
    std::vector<flatbuffers::Offset<wire::Tag>> offsets;
    offsets.reserve(event.tags.size());
    for (const Tag& tag : event.tags) {
      offsets.push_back(wire::CreateTag(builder, builder.CreateString(tag.key.data(), tag.key.size()),
                                        builder.CreateString(tag.value.data(), tag.value.size())));
    }
    tags = builder.CreateVector(offsets);
  }
  const wire::Uuid id = to_wire(event.id);
  const wire::Uuid correlation = to_wire(event.correlation_id);
  const wire::Uuid causation = to_wire(event.causation_id);
  return wire::CreateEvent(builder, event.position.value, stream_id, event.version.value, event.timestamp_ns, type,
                           event.schema_version, &id, event.correlation_id.is_nil() ? nullptr : &correlation,
                           event.causation_id.is_nil() ? nullptr : &causation, payload, tags);
}

EncodedEvents encode_events(flatbuffers::FlatBufferBuilder& builder, std::span<const EventView> events,
                            size_t builder_bytes_max) {
  std::vector<flatbuffers::Offset<wire::Event>> offsets;
  offsets.reserve(events.size());
  // Every event also costs a 4-byte slot in the vector built at the end.
  size_t projected = builder.GetSize() + 64;
  for (const EventView& event : events) {
    projected += encoded_event_bytes_max(event) + sizeof(flatbuffers::uoffset_t);
    if (projected > builder_bytes_max) break;
    offsets.push_back(encode_event(builder, event));
  }
  EncodedEvents out;
  out.count = offsets.size();
  out.vector = builder.CreateVector(offsets);
  return out;
}

Status decode_append(const wire::Append& append, DecodedAppend* out) {
  size_t event_count = 0;
  size_t tag_count = 0;
  OL_RETURN_IF_ERROR(count_append(append, &event_count, &tag_count));
  // Reserved up front: the spans below point into these vectors.
  out->events.reserve(event_count);
  out->tags.reserve(tag_count);
  out->streams.reserve(append.streams()->size());
  for (const wire::StreamAppend* stream : *append.streams()) {
    const size_t first = out->events.size();
    for (const wire::NewEvent* event : *stream->events()) out->events.push_back(event_from_wire(*event, &out->tags));
    StreamAppend decoded;
    decoded.stream_id = view(stream->stream_id());
    decoded.expected = expected_from_wire(*stream);
    decoded.events = std::span<const NewEvent>(out->events.data() + first, out->events.size() - first);
    out->streams.push_back(decoded);
  }
  out->event_count = event_count;
  return Status::ok();
}

}  // namespace orderlog::server
