// Encoders of the handshake, appends, reads and subscription frames (codec.h).
#include <cstring>

#include "check.h"
#include "codec.h"
#include "encoder.h"
#include "wire/frame.h"

namespace orderlog::client::detail {

void set_request_id(Frame& frame, uint64_t request_id) {
  auto* message = wire::GetMutableSizePrefixedMessage(frame.data());
  OLC_CHECK(message->mutate_request_id(request_id));
}

uint32_t body_bytes(const Frame& frame) { return static_cast<uint32_t>(frame.size() - wire::kFramePrefixBytes); }

Frame encode_hello(const ClientOptions& options) {
  Encoder encoder;
  auto& b = encoder.builder();
  auto body = wire::CreateHelloDirect(b, wire::kProtocolVersion, options.token.c_str(), options.client_name.c_str());
  return encoder.finish(wire::Body::Hello, body.Union());
}

namespace {

flatbuffers::Offset<wire::NewEvent> new_event(Encoder& encoder, const NewEvent& event) {
  auto& b = encoder.builder();
  const Uuid id = event.id.is_nil() ? Uuid::generate() : event.id;
  const wire::Uuid wire_id = to_wire(id);
  const wire::Uuid correlation = to_wire(event.correlation_id);
  const wire::Uuid causation = to_wire(event.causation_id);
  auto type = b.CreateString(event.type);
  auto payload = encoder.bytes(event.payload);
  auto tags = encoder.tags(event.tags);
  return wire::CreateNewEvent(b, &wire_id, type, event.schema_version, payload,
                              event.correlation_id.is_nil() ? nullptr : &correlation,
                              event.causation_id.is_nil() ? nullptr : &causation, tags);
}

flatbuffers::Offset<wire::StreamAppend> stream_append(Encoder& encoder, const AppendRequest& request) {
  auto& b = encoder.builder();
  std::vector<flatbuffers::Offset<wire::NewEvent>> events;
  events.reserve(request.events.size());
  for (const NewEvent& event : request.events) events.push_back(new_event(encoder, event));
  auto stream_id = b.CreateString(request.stream_id);
  auto vector = b.CreateVector(events);
  const auto kind = static_cast<wire::ExpectedKind>(request.expected.kind());
  return wire::CreateStreamAppend(b, stream_id, kind, request.expected.version(), vector);
}

Frame finish_append(Encoder& encoder, const std::vector<flatbuffers::Offset<wire::StreamAppend>>& streams) {
  auto body = wire::CreateAppend(encoder.builder(), encoder.builder().CreateVector(streams));
  return encoder.finish(wire::Body::Append, body.Union());
}

}  // namespace

Frame encode(const AppendRequest& request) {
  Encoder encoder;
  return finish_append(encoder, {stream_append(encoder, request)});
}

Frame encode(const AppendMultiRequest& request) {
  Encoder encoder;
  std::vector<flatbuffers::Offset<wire::StreamAppend>> streams;
  for (const AppendRequest& stream : request.streams) streams.push_back(stream_append(encoder, stream));
  return finish_append(encoder, streams);
}

Frame encode(const ReadStreamRequest& request) {
  Encoder encoder;
  auto body = wire::CreateReadStreamDirect(encoder.builder(), request.stream_id.c_str(), request.from_version,
                                           request.direction == Direction::Backward, request.max_count);
  return encoder.finish(wire::Body::ReadStream, body.Union());
}

Frame encode(const ReadAllRequest& request) {
  Encoder encoder;
  auto body = wire::CreateReadAll(encoder.builder(), request.from_position, request.max_count);
  return encoder.finish(wire::Body::ReadAll, body.Union());
}

Frame encode(const ReadByTypeRequest& request) {
  Encoder encoder;
  auto body = wire::CreateReadByTypeDirect(encoder.builder(), request.type.c_str(), request.from_position,
                                           request.max_count);
  return encoder.finish(wire::Body::ReadByType, body.Union());
}

Frame encode(const ReadByTimeRequest& request) {
  Encoder encoder;
  auto body = wire::CreateReadByTime(encoder.builder(), request.from_ns, request.to_ns, request.from_position,
                                     request.max_count);
  return encoder.finish(wire::Body::ReadByTime, body.Union());
}

Frame encode_subscribe(const SubscribeOptions& options, uint64_t after_position, bool from_live_end) {
  Encoder encoder;
  auto& b = encoder.builder();
  auto prefix = b.CreateString(options.stream_prefix);
  auto types = options.event_types.empty() ? 0 : b.CreateVectorOfStrings(options.event_types);
  auto body = wire::CreateSubscribe(b, after_position, from_live_end, prefix, types, options.credit_window);
  return encoder.finish(wire::Body::Subscribe, body.Union());
}

Frame encode_credit(uint64_t subscription, uint32_t credit) {
  Encoder encoder;
  auto body = wire::CreateCredit(encoder.builder(), subscription, credit);
  return encoder.finish(wire::Body::Credit, body.Union());
}

Frame encode_unsubscribe(uint64_t subscription) {
  Encoder encoder;
  auto body = wire::CreateUnsubscribe(encoder.builder(), subscription);
  return encoder.finish(wire::Body::Unsubscribe, body.Union());
}

}  // namespace orderlog::client::detail
