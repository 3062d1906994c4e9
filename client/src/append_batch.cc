// Client::append_batch (client.h): many events to one stream, cut into chunks the
// server accepts and sent pipelined. Chunks after the first carry exact expected
// versions derived from the first chunk's result, so a chunk can only land right
// after its predecessor; a reordering or a concurrent writer fails loudly with
// WrongExpectedVersion instead of interleaving silently.
#include <algorithm>
#include <future>

#include "orderlog/client/client.h"

namespace orderlog::client {
namespace {

// Without a server limit, chunks stay modest so one chunk never monopolises the writer.
constexpr size_t kEventsPerChunkDefault = 1000;
// Per-event overhead, generously: on the wire (table, vtable, ids, offsets) and in the
// log record the server encodes (frame header, positions, timestamps, the stream id).
constexpr size_t kEventOverheadBytes = 192;
// The server refuses an append whose encoded events exceed 4 MiB (protocol.md §4),
// whatever its frame size; a quarter is left for the estimate's error.
constexpr size_t kChunkBytesMax = size_t{3} << 20;

size_t encoded_bytes_estimate(const NewEvent& event, size_t stream_id_bytes) {
  size_t bytes = kEventOverheadBytes + stream_id_bytes + event.type.size() + event.payload.size();
  for (const Tag& tag : event.tags) bytes += tag.key.size() + tag.value.size() + 16;
  return bytes;
}

std::vector<std::vector<NewEvent>> split(std::vector<NewEvent> events, size_t stream_id_bytes,
                                         const ServerInfo& server) {
  const size_t events_max = server.events_per_append_max > 0 ? server.events_per_append_max : kEventsPerChunkDefault;
  // Within the append limit, and leaving a quarter of the frame for the envelope.
  const size_t bytes_max = server.frame_bytes_max > 0 ? std::min(kChunkBytesMax, size_t{server.frame_bytes_max} / 4 * 3)
                                                      : kChunkBytesMax;
  std::vector<std::vector<NewEvent>> chunks(1);
  size_t chunk_bytes = 0;
  for (NewEvent& event : events) {
    const size_t bytes = encoded_bytes_estimate(event, stream_id_bytes);
    if (!chunks.back().empty() && (chunks.back().size() == events_max || chunk_bytes + bytes > bytes_max)) {
      chunks.emplace_back();
      chunk_bytes = 0;
    }
    chunk_bytes += bytes;
    chunks.back().push_back(std::move(event));
  }
  return chunks;
}

Error chunk_error(Error error, size_t chunk, size_t chunks) {
  error.message = "chunk " + std::to_string(chunk + 1) + " of " + std::to_string(chunks) +
                  " failed (earlier chunks were appended): " + error.message;
  return error;
}

}  // namespace

Result<AppendResult> Client::append_batch(std::string stream_id, ExpectedVersion expected,
                                          std::vector<NewEvent> events) {
  if (events.empty()) return Error{ErrorCode::InvalidArgument, "append_batch needs at least one event", 0, {}};
  if (on_io_thread()) return blocking_call_from_callback();
  std::vector<std::vector<NewEvent>> chunks = split(std::move(events), stream_id.size(), server_info());
  const bool chain = expected.kind() != ExpectedVersion::Kind::Any;

  // The first chunk alone when later chunks need its resulting version.
  std::vector<std::future<Result<AppendResult>>> pending;
  pending.push_back(call_future(AppendRequest{stream_id, expected, std::move(chunks[0])}));
  uint64_t version = 0;
  if (chain) {
    Result<AppendResult> first = pending[0].get();
    if (!first) return chunk_error(first.error(), 0, chunks.size());
    version = first->stream_versions.empty() ? 0 : first->stream_versions[0];
    std::promise<Result<AppendResult>> done;
    done.set_value(std::move(first));
    pending[0] = done.get_future();
  }
  for (size_t i = 1; i < chunks.size(); ++i) {
    const size_t count = chunks[i].size();
    const ExpectedVersion chunk_expected = chain ? ExpectedVersion::exact(version) : ExpectedVersion::any();
    pending.push_back(call_future(AppendRequest{stream_id, chunk_expected, std::move(chunks[i])}));
    version += count;
  }

  AppendResult total;
  total.deduplicated = true;
  for (size_t i = 0; i < pending.size(); ++i) {
    Result<AppendResult> chunk = pending[i].get();
    if (!chunk) return chunk_error(chunk.error(), i, pending.size());
    if (i == 0) total.first_position = chunk->first_position;
    total.last_position = std::max(total.last_position, chunk->last_position);
    total.stream_versions = chunk->stream_versions;
    total.deduplicated = total.deduplicated && chunk->deduplicated;
  }
  return total;
}

}  // namespace orderlog::client
