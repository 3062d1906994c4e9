// Builders of request frames for the wire-level server tests: each returns the
// complete size-prefixed frame, ready for RawConnection::send.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <string>
#include <vector>

#include "orderlog/fb/protocol_generated.h"
#include "orderlog/types.h"

namespace orderlog::testing {

template <typename Build>
flatbuffers::DetachedBuffer make_frame(uint64_t request_id, wire::Body type, Build build) {
  flatbuffers::FlatBufferBuilder builder(256);
  const flatbuffers::Offset<void> body = build(builder);
  builder.FinishSizePrefixed(wire::CreateMessage(builder, request_id, type, body), wire::MessageIdentifier());
  return builder.Release();
}

inline wire::Uuid new_uuid() {
  const EventId id = EventId::generate();
  return wire::Uuid(flatbuffers::span<const uint8_t, 16>(id.bytes));
}

inline flatbuffers::DetachedBuffer hello(uint64_t id, const std::string& token, uint32_t version = 1) {
  return make_frame(id, wire::Body::Hello, [&](auto& b) {
    return wire::CreateHello(b, version, b.CreateString(token), b.CreateString("server_tests")).Union();
  });
}

inline flatbuffers::DetachedBuffer ping(uint64_t id, uint64_t payload = 0) {
  return make_frame(id, wire::Body::Ping, [&](auto& b) { return wire::CreatePing(b, payload).Union(); });
}

inline flatbuffers::DetachedBuffer stats(uint64_t id) {
  return make_frame(id, wire::Body::Stats, [&](auto& b) { return wire::CreateStats(b).Union(); });
}

struct TestEvent {
  std::string type = "TestEvent";
  std::string payload = "{}";
};

struct TestStreamAppend {
  std::string stream;
  std::vector<TestEvent> events;
  wire::ExpectedKind kind = wire::ExpectedKind::Any;
  uint64_t expected_version = 0;
};

inline flatbuffers::Offset<wire::StreamAppend> build_stream_append(flatbuffers::FlatBufferBuilder& b,
                                                                    const TestStreamAppend& stream) {
  std::vector<flatbuffers::Offset<wire::NewEvent>> events;
  for (const TestEvent& event : stream.events) {
    const wire::Uuid id = new_uuid();
    const auto type = b.CreateString(event.type);
    const auto payload = b.CreateVector(reinterpret_cast<const uint8_t*>(event.payload.data()), event.payload.size());
    events.push_back(wire::CreateNewEvent(b, &id, type, 1, payload));
  }
  return wire::CreateStreamAppend(b, b.CreateString(stream.stream), stream.kind, stream.expected_version,
                                  b.CreateVector(events));
}

inline flatbuffers::DetachedBuffer append(uint64_t id, const std::vector<TestStreamAppend>& streams) {
  return make_frame(id, wire::Body::Append, [&](auto& b) {
    std::vector<flatbuffers::Offset<wire::StreamAppend>> offsets;
    for (const TestStreamAppend& stream : streams) offsets.push_back(build_stream_append(b, stream));
    return wire::CreateAppend(b, b.CreateVector(offsets)).Union();
  });
}

// `count` events of `type` to one stream.
inline flatbuffers::DetachedBuffer append_n(uint64_t id, const std::string& stream, size_t count,
                                            const std::string& type = "TestEvent",
                                            wire::ExpectedKind kind = wire::ExpectedKind::Any, uint64_t expected = 0) {
  TestStreamAppend one{stream, {}, kind, expected};
  for (size_t i = 0; i < count; ++i) one.events.push_back({type, "{\"n\":" + std::to_string(i) + "}"});
  return append(id, {one});
}

inline flatbuffers::DetachedBuffer read_stream(uint64_t id, const std::string& stream, uint64_t from, bool backward,
                                               uint32_t max_count) {
  return make_frame(id, wire::Body::ReadStream, [&](auto& b) {
    return wire::CreateReadStream(b, b.CreateString(stream), from, backward, max_count).Union();
  });
}

inline flatbuffers::DetachedBuffer read_all(uint64_t id, uint64_t from, uint32_t max_count) {
  return make_frame(id, wire::Body::ReadAll, [&](auto& b) { return wire::CreateReadAll(b, from, max_count).Union(); });
}

inline flatbuffers::DetachedBuffer read_by_type(uint64_t id, const std::string& type, uint64_t from,
                                                uint32_t max_count) {
  return make_frame(id, wire::Body::ReadByType, [&](auto& b) {
    return wire::CreateReadByType(b, b.CreateString(type), from, max_count).Union();
  });
}

inline flatbuffers::DetachedBuffer read_by_time(uint64_t id, uint64_t from_ns, uint64_t to_ns, uint64_t from,
                                                uint32_t max_count) {
  return make_frame(id, wire::Body::ReadByTime, [&](auto& b) {
    return wire::CreateReadByTime(b, from_ns, to_ns, from, max_count).Union();
  });
}

struct SubscribeOptions {
  uint64_t after_position = 0;
  bool from_live_end = false;
  std::string stream_prefix;
  std::vector<std::string> event_types;
  uint32_t initial_credit = 1000;
};

// Every stream under `prefix`, from the start of the log.
inline SubscribeOptions from_start(const std::string& prefix, uint32_t initial_credit = 1000) {
  SubscribeOptions options;
  options.stream_prefix = prefix;
  options.initial_credit = initial_credit;
  return options;
}

// Every stream under `prefix`, from the committed end.
inline SubscribeOptions from_live_end(const std::string& prefix = "") {
  SubscribeOptions options;
  options.from_live_end = true;
  options.stream_prefix = prefix;
  return options;
}

inline flatbuffers::DetachedBuffer subscribe(uint64_t id, const SubscribeOptions& options) {
  return make_frame(id, wire::Body::Subscribe, [&](auto& b) {
    const auto prefix = b.CreateString(options.stream_prefix);
    const auto types = b.CreateVectorOfStrings(options.event_types);
    return wire::CreateSubscribe(b, options.after_position, options.from_live_end, prefix, types,
                                 options.initial_credit)
        .Union();
  });
}

inline flatbuffers::DetachedBuffer credit(uint64_t id, uint64_t subscription, uint32_t amount) {
  return make_frame(id, wire::Body::Credit, [&](auto& b) { return wire::CreateCredit(b, subscription, amount).Union(); });
}

inline flatbuffers::DetachedBuffer unsubscribe(uint64_t id, uint64_t subscription) {
  return make_frame(id, wire::Body::Unsubscribe,
                    [&](auto& b) { return wire::CreateUnsubscribe(b, subscription).Union(); });
}

// ExecuteCommand with a fresh command id (or `command_id` to retry one).
template <typename BuildCommand>
flatbuffers::DetachedBuffer execute(uint64_t id, wire::Command kind, BuildCommand build,
                                    const wire::Uuid& command_id = new_uuid()) {
  return make_frame(id, wire::Body::ExecuteCommand, [&](auto& b) {
    const flatbuffers::Offset<void> command = build(b);
    return wire::CreateExecuteCommand(b, &command_id, nullptr, nullptr, kind, command).Union();
  });
}

template <typename BuildQuery>
flatbuffers::DetachedBuffer query(uint64_t id, wire::QueryKind kind, BuildQuery build, uint64_t min_position = 0,
                                  uint32_t timeout_ms = 5000) {
  return make_frame(id, wire::Body::Query, [&](auto& b) {
    const flatbuffers::Offset<void> body = build(b);
    return wire::CreateQuery(b, kind, body, min_position, timeout_ms).Union();
  });
}

inline flatbuffers::DetachedBuffer order_at(uint64_t id, const std::string& order_id, uint64_t version,
                                            uint64_t at_ns) {
  return make_frame(id, wire::Body::OrderAt, [&](auto& b) {
    return wire::CreateOrderAt(b, b.CreateString(order_id), version, at_ns).Union();
  });
}

}  // namespace orderlog::testing
