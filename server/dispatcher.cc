// See dispatcher.h. Appends, reads, Stats and Ping; the order handlers are in
// order_handlers.cc.
#include "server/dispatcher.h"

#include <algorithm>
#include <chrono>
#include <string>

#include "server/order_convert.h"

namespace orderlog::server {
namespace {

// Room for the Message, the reply table and the page's own fields.
constexpr size_t kReplyOverheadBytes = 512;

std::string_view view(const flatbuffers::String* text) { return {text->c_str(), text->size()}; }

Reply forbidden(uint64_t request_id, std::string_view what) {
  return error_reply(request_id, wire::ErrorCode::Forbidden, std::string(what));
}

Reply over_rate(uint64_t request_id, const Tenant& tenant) {
  return error_reply(request_id, wire::ErrorCode::Busy, "tenant " + tenant.name() + " is over its rate limit");
}

size_t page_count(const Services& services, uint32_t max_count) {
  const uint32_t limit = services.config->read_count_max;
  return max_count == 0 ? limit : std::min(max_count, limit);
}

// Built on the writer thread: a few hundred bytes, cheaper than another hop.
Reply append_reply(uint64_t request_id, const Result<AppendResult>& result) {
  if (!result.is_ok()) return status_reply(request_id, result.status());
  flatbuffers::FlatBufferBuilder builder(256);
  std::vector<uint64_t> versions;
  versions.reserve(result->stream_versions.size());
  for (StreamVersion version : result->stream_versions) versions.push_back(version.value);
  const auto ok = wire::CreateAppendOk(builder, result->first_position.value, result->last_position.value,
                                       builder.CreateVector(versions), result->deduplicated);
  return finish_reply(builder, request_id, wire::Body::AppendOk, ok.Union());
}

std::optional<Reply> handle_append(const Services& services, const Request& request,
                                   const std::function<ReplySink()>& make_sink) {
  DecodedAppend decoded;
  if (Status status = decode_append(*request.message->body_as_Append(), &decoded); !status.is_ok()) {
    return status_reply(request.id, status);
  }
  for (const StreamAppend& stream : decoded.streams) {
    if (!request.tenant->may_write(stream.stream_id)) {
      return forbidden(request.id, "tenant may not append to stream '" + std::string(stream.stream_id) + "'");
    }
  }
  if (!request.tenant->admit(static_cast<double>(decoded.event_count))) return over_rate(request.id, *request.tenant);
  services.append_gate->acquire();
  ReplySink sink = make_sink();
  AppendGate* gate = services.append_gate;
  const uint64_t request_id = request.id;
  // The store encodes the events before append_async returns, so the frame the
  // decoded views point into may be reused right after.
  services.store->append_async(decoded.streams, [sink = std::move(sink), gate, request_id](Result<AppendResult> result) {
    sink(append_reply(request_id, result));
    gate->release();
  });
  return std::nullopt;
}

// `next_of(event)` is where a page cut short before `event` resumes.
template <typename NextOf>
Reply read_reply(const Services& services, uint64_t request_id, Result<ReadSlice> slice, NextOf next_of) {
  if (!slice.is_ok()) return status_reply(request_id, slice.status());
  flatbuffers::FlatBufferBuilder builder(4096);
  const EncodedEvents encoded =
      encode_events(builder, slice->events, event_bytes_budget(services.config->frame_bytes_max));
  uint64_t next = slice->next;
  bool end = slice->end;
  if (encoded.count < slice->events.size()) {
    const EventView& first_unsent = slice->events[encoded.count];
    if (encoded.count == 0) {
      return error_reply(request_id, wire::ErrorCode::TooLarge,
                         "the event at position " + std::to_string(first_unsent.position.value) +
                             " does not fit in a frame of frame_bytes_max bytes");
    }
    next = next_of(first_unsent);
    end = false;
  }
  const auto ok = wire::CreateReadOk(builder, encoded.vector, next, end);
  return finish_reply(builder, request_id, wire::Body::ReadOk, ok.Union());
}

uint64_t position_of(const EventView& event) { return event.position.value; }

Reply handle_read_stream(const Services& services, const Request& request) {
  const wire::ReadStream& read = *request.message->body_as_ReadStream();
  if (!request.tenant->may_read(view(read.stream_id()))) {
    return forbidden(request.id, "tenant may not read stream '" + read.stream_id()->str() + "'");
  }
  if (!request.tenant->admit(1)) return over_rate(request.id, *request.tenant);
  const ReadDirection direction = read.backward() ? ReadDirection::kBackward : ReadDirection::kForward;
  auto slice = services.store->read_stream(view(read.stream_id()), StreamVersion{read.from_version()}, direction,
                                           page_count(services, read.max_count()));
  return read_reply(services, request.id, std::move(slice), [](const EventView& event) { return event.version.value; });
}

// ReadAll, ReadByType and ReadByTime see every stream: they need the whole log.
std::optional<Reply> check_log_read(const Request& request) {
  if (!request.tenant->may_read_prefix("")) return forbidden(request.id, "tenant may not read the whole log");
  if (!request.tenant->admit(1)) return over_rate(request.id, *request.tenant);
  return std::nullopt;
}

Reply handle_read_all(const Services& services, const Request& request) {
  if (auto refused = check_log_read(request)) return std::move(*refused);
  const wire::ReadAll& read = *request.message->body_as_ReadAll();
  auto slice = services.store->read_all(GlobalPosition{read.from_position()}, page_count(services, read.max_count()));
  return read_reply(services, request.id, std::move(slice), position_of);
}

Reply handle_read_by_type(const Services& services, const Request& request) {
  if (auto refused = check_log_read(request)) return std::move(*refused);
  const wire::ReadByType& read = *request.message->body_as_ReadByType();
  auto slice = services.store->read_by_type(view(read.type()), GlobalPosition{read.from_position()},
                                            page_count(services, read.max_count()));
  return read_reply(services, request.id, std::move(slice), position_of);
}

Reply handle_read_by_time(const Services& services, const Request& request) {
  if (auto refused = check_log_read(request)) return std::move(*refused);
  const wire::ReadByTime& read = *request.message->body_as_ReadByTime();
  // to_ns 0 (absent) leaves the range open-ended.
  const TimeRange range{read.from_ns(), read.to_ns() == 0 ? UINT64_MAX : read.to_ns()};
  auto slice = services.store->read_by_time(range, GlobalPosition{read.from_position()},
                                            page_count(services, read.max_count()));
  return read_reply(services, request.id, std::move(slice), position_of);
}

Reply handle_stats(const Services& services, const Request& request) {
  if (!request.tenant->admit(1)) return over_rate(request.id, *request.tenant);
  const StoreStats stats = services.store->stats();
  const Status writer = services.store->writer_status();
  flatbuffers::FlatBufferBuilder builder(1024);
  const auto writer_error = builder.CreateString(writer.is_ok() ? std::string() : writer.to_string());
  const auto projections = encode_progress(builder, *services.views);
  const auto ok = wire::CreateStatsOk(builder, stats.committed_position.value, stats.segments, stats.streams,
                                      stats.appends, stats.events_appended, stats.batches, stats.syncs,
                                      stats.bytes_written, services.connections->load(), writer_error, projections);
  return finish_reply(builder, request.id, wire::Body::StatsOk, ok.Union());
}

Reply handle_ping(const Request& request) {
  if (!request.tenant->admit(1)) return over_rate(request.id, *request.tenant);
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  flatbuffers::FlatBufferBuilder builder(128);
  const auto pong = wire::CreatePong(builder, request.message->body_as_Ping()->payload(),
                                     static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count()));
  return finish_reply(builder, request.id, wire::Body::Pong, pong.Union());
}

}  // namespace

size_t event_bytes_budget(uint32_t frame_bytes_max) {
  return frame_bytes_max > 2 * kReplyOverheadBytes ? frame_bytes_max - kReplyOverheadBytes : frame_bytes_max / 2;
}

std::optional<Reply> dispatch(const Services& services, const Request& request,
                              const std::function<ReplySink()>& make_sink) {
  switch (request.message->body_type()) {
    case wire::Body::Append: return handle_append(services, request, make_sink);
    case wire::Body::ReadStream: return handle_read_stream(services, request);
    case wire::Body::ReadAll: return handle_read_all(services, request);
    case wire::Body::ReadByType: return handle_read_by_type(services, request);
    case wire::Body::ReadByTime: return handle_read_by_time(services, request);
    case wire::Body::ExecuteCommand: return handle_execute_command(services, request, make_sink);
    case wire::Body::Query: return handle_query(services, request, make_sink);
    case wire::Body::OrderAt: return handle_order_at(services, request, make_sink);
    case wire::Body::Stats: return handle_stats(services, request);
    case wire::Body::Ping: return handle_ping(request);
    default:
      return error_reply(request.id, wire::ErrorCode::BadRequest,
                         "message type " + std::to_string(static_cast<int>(request.message->body_type())) +
                             " is not a request this server accepts");
  }
}

}  // namespace orderlog::server
