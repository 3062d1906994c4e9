// Translation between the engine's types and the wire protocol's tables
// (schemas/protocol.fbs) for events, appends, errors and response frames. The order
// domain's translations live in order_convert.h. The server is a thin translation:
// nothing here decides anything, it only maps.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "orderlog/event_store.h"
#include "orderlog/fb/protocol_generated.h"
#include "orderlog/status.h"

namespace orderlog::server {

// One encoded response frame ([u32 length][Message]) and, for metrics, its error code.
struct Reply {
  flatbuffers::DetachedBuffer frame;
  wire::ErrorCode error = wire::ErrorCode::None;
};

// Finishes `builder` as a size-prefixed Message carrying `body`.
Reply finish_reply(flatbuffers::FlatBufferBuilder& builder, uint64_t request_id, wire::Body type,
                   flatbuffers::Offset<void> body);

struct ErrorDetails {
  uint64_t actual_version = 0;  // WrongExpectedVersion only
  wire::DomainError domain_error = wire::DomainError::InvalidArgument;  // DomainRule only
};
Reply error_reply(uint64_t request_id, wire::ErrorCode code, std::string_view message, ErrorDetails details = {});
// The wire error for an engine Status (actual_version included).
Reply status_reply(uint64_t request_id, const Status& status);
wire::ErrorCode error_code_for(StatusCode code);

wire::Uuid to_wire(const EventId& id);
EventId from_wire(const wire::Uuid* id);  // nullptr: the nil id

// An upper bound on what encode_event() adds to a builder, so a page can stop
// before it outgrows a frame.
size_t encoded_event_bytes_max(const EventView& event);
flatbuffers::Offset<wire::Event> encode_event(flatbuffers::FlatBufferBuilder& builder, const EventView& event);

// Encodes a prefix of `events` into `builder`: at most `count_max` and only as many
// as keep the builder under `builder_bytes_max` (at least one when it alone fits).
struct EncodedEvents {
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<wire::Event>>> vector;
  size_t count = 0;
};
EncodedEvents encode_events(flatbuffers::FlatBufferBuilder& builder, std::span<const EventView> events,
                            size_t builder_bytes_max);

// A wire Append as engine StreamAppends. Its views point into the frame, which must
// stay alive (and unchanged) until the append call has returned.
struct DecodedAppend {
  std::vector<StreamAppend> streams;
  std::vector<NewEvent> events;  // every stream's events; streams[i].events views these
  std::vector<Tag> tags;         // every event's tags; events[i].tags views these
  size_t event_count = 0;
};
// kInvalidArgument / kTooLarge for what the engine could not even be asked.
Status decode_append(const wire::Append& append, DecodedAppend* out);

}  // namespace orderlog::server
