// The request handlers: one verified request of an authenticated session in, one
// reply out. The session owns the connection-bound messages (Hello, Subscribe, Credit,
// Unsubscribe); everything else comes here. Each handler checks the tenant's ACL,
// charges its rate limit, translates to an engine call and the result back.
//
// Where work runs: reads, Stats and Ping answer at once on the calling io thread
// (mmap reads are fast and bounded by read_count_max); appends go to the store's
// writer through append_async; order commands, queries and OrderAt, which may block
// (fsync, min_position waits), run on the BlockingPool.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "orderlog/fb/protocol_generated.h"
#include "server/auth.h"
#include "server/services.h"
#include "server/wire_convert.h"

namespace orderlog::server {

// Delivers a reply to its session from any thread; called exactly once per request.
using ReplySink = std::function<void(Reply)>;

struct Request {
  uint64_t id = 0;
  const wire::Message* message = nullptr;  // verified; valid during dispatch() only
  Tenant* tenant = nullptr;
};

// Returns the reply when it is ready now, or std::nullopt when the sink made by
// `make_sink` (called at most once) will receive it later.
std::optional<Reply> dispatch(const Services& services, const Request& request,
                              const std::function<ReplySink()>& make_sink);

// The order handlers (order_handlers.cc), run through dispatch().
std::optional<Reply> handle_execute_command(const Services& services, const Request& request,
                                            const std::function<ReplySink()>& make_sink);
std::optional<Reply> handle_query(const Services& services, const Request& request,
                                  const std::function<ReplySink()>& make_sink);
std::optional<Reply> handle_order_at(const Services& services, const Request& request,
                                     const std::function<ReplySink()>& make_sink);

// Replies to ReadStream / ReadAll / ReadByType / ReadByTime pages and subscription
// batches must fit a frame: the body bytes left for events.
size_t event_bytes_budget(uint32_t frame_bytes_max);

}  // namespace orderlog::server
