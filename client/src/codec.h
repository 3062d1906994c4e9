// Translation between the client's public types and wire frames (schemas/protocol.fbs).
// Encoders produce a complete frame ([u32 length][Message]) whose request id is a
// placeholder, set by the Channel when it sends; decoders turn a verified reply into
// a Result. Pure functions: unit-tested without a server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "orderlog/client/events.h"
#include "orderlog/client/options.h"
#include "orderlog/client/orders.h"
#include "orderlog/client/queries.h"
#include "orderlog/client/result.h"

namespace orderlog::wire {
struct Message;
struct Error;
struct Event;
struct HelloOk;
enum class ErrorCode : uint16_t;
}  // namespace orderlog::wire

namespace orderlog::client::detail {

using Frame = std::vector<std::byte>;

// Encoders write this id so the field is present in the buffer (FlatBuffers omits a
// field equal to its default, 0, and then it could not be mutated in place).
inline constexpr uint64_t kRequestIdPlaceholder = ~uint64_t{0};
void set_request_id(Frame& frame, uint64_t request_id);
uint32_t body_bytes(const Frame& frame);

Frame encode_hello(const ClientOptions& options);
// Nil event ids are replaced by fresh UUIDv7s here, once per request.
Frame encode(const AppendRequest& request);
Frame encode(const AppendMultiRequest& request);
Frame encode(const ReadStreamRequest& request);
Frame encode(const ReadAllRequest& request);
Frame encode(const ReadByTypeRequest& request);
Frame encode(const ReadByTimeRequest& request);
// A nil command id is replaced by a fresh UUIDv7 here, once per request.
Frame encode(const CommandRequest& request);
Frame encode(const OrderSummaryQuery& query);
Frame encode(const CustomerOrdersQuery& query);
Frame encode(const OrdersByStatusQuery& query);
Frame encode(const StatusCountQuery& query);
Frame encode(const RevenueQuery& query);
Frame encode(const CurrenciesQuery& query);
Frame encode(const OrderHistoryQuery& query);
Frame encode(const ProjectionsQuery& query);
Frame encode(const OrderAtVersionRequest& request);
Frame encode(const OrderAtTimeRequest& request);
Frame encode(const StatsRequest& request);
Frame encode(const PingRequest& request);
Frame encode_subscribe(const SubscribeOptions& options, uint64_t after_position, bool from_live_end);
Frame encode_credit(uint64_t subscription, uint32_t credit);
Frame encode_unsubscribe(uint64_t subscription);

Error protocol_error(std::string message);
Error to_error(const wire::Error& error);
// An Error of a wire code; a code this client does not know (a newer server's) is
// Internal, with the number in the message.
Error error_with_code(wire::ErrorCode code, std::string message);
Event to_event(const wire::Event& event);
ServerInfo to_server_info(const wire::HelloOk& hello);

// The reply to a request whose Response is T: its value, the server's Error, or a
// ProtocolError when the reply has the wrong body.
template <typename T>
Result<T> decode(const wire::Message& message);

}  // namespace orderlog::client::detail
