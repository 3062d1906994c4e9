// Client: connect, and the one generic path every request takes (encode, check
// against the server's limits, submit, decode). The named operations are thin
// wrappers in client_operations.cc.
#include "orderlog/client/client.h"

#include <optional>

#include "client_impl.h"
#include "codec.h"

namespace orderlog::client {
namespace {

Error invalid(std::string message) { return Error{ErrorCode::InvalidArgument, std::move(message), 0, {}}; }
Error too_large(std::string message) { return Error{ErrorCode::TooLarge, std::move(message), 0, {}}; }

// Refusals the client can make without a round trip; the server checks them again.
template <typename Request>
std::optional<Error> refuse(const Request&, const ServerInfo&) {
  return std::nullopt;
}

std::optional<Error> refuse(const AppendRequest& request, const ServerInfo& server) {
  if (request.stream_id.empty()) return invalid("an append needs a stream id");
  if (request.events.empty()) return invalid("an append needs at least one event");
  if (server.events_per_append_max > 0 && request.events.size() > server.events_per_append_max) {
    return too_large(std::to_string(request.events.size()) + " events in one append; the server allows " +
                     std::to_string(server.events_per_append_max) + " (use append_batch)");
  }
  return std::nullopt;
}

std::optional<Error> refuse(const AppendMultiRequest& request, const ServerInfo& server) {
  if (request.streams.empty()) return invalid("an append needs at least one stream");
  size_t events = 0;
  for (const AppendRequest& stream : request.streams) {
    if (auto error = refuse(stream, server)) return error;
    events += stream.events.size();
  }
  if (server.events_per_append_max > 0 && events > server.events_per_append_max) {
    return too_large(std::to_string(events) + " events in one append; the server allows " +
                     std::to_string(server.events_per_append_max));
  }
  return std::nullopt;
}

}  // namespace

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::connect(const ClientOptions& options) {
  auto channel = detail::Channel::open(options);
  if (!channel) return channel.error();
  auto impl = std::make_unique<Impl>(Impl{options, std::move(channel).value()});
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

ServerInfo Client::server_info() const { return impl_->channel->server_info(); }

bool Client::on_io_thread() const { return impl_->channel->on_io_thread(); }

Error Client::blocking_call_from_callback() {
  return invalid("a blocking call from a callback on the client's io thread would deadlock; use call_async");
}

template <typename Request>
void Client::start(const Request& request, Callback<ResponseOf<Request>> done) {
  using Response = ResponseOf<Request>;
  const ServerInfo server = impl_->channel->server_info();
  if (std::optional<Error> error = refuse(request, server)) {
    done(std::move(*error));
    return;
  }
  detail::Frame frame = detail::encode(request);
  if (server.frame_bytes_max > 0 && detail::body_bytes(frame) > server.frame_bytes_max) {
    done(too_large("the request is " + std::to_string(detail::body_bytes(frame)) + " bytes; the server allows " +
                   std::to_string(server.frame_bytes_max)));
    return;
  }
  auto on_reply = [done = std::move(done)](const wire::Message* message, const Error* error) {
    if (error != nullptr) {
      done(*error);
    } else {
      done(detail::decode<Response>(*message));
    }
    return false;
  };
  impl_->channel->submit(std::move(frame), std::move(on_reply), detail::SubmitOptions{});
}

// Every request type of the public headers.
template void Client::start(const AppendRequest&, Callback<AppendResult>);
template void Client::start(const AppendMultiRequest&, Callback<AppendResult>);
template void Client::start(const ReadStreamRequest&, Callback<ReadPage>);
template void Client::start(const ReadAllRequest&, Callback<ReadPage>);
template void Client::start(const ReadByTypeRequest&, Callback<ReadPage>);
template void Client::start(const ReadByTimeRequest&, Callback<ReadPage>);
template void Client::start(const CommandRequest&, Callback<CommandResult>);
template void Client::start(const OrderSummaryQuery&, Callback<OrderSummary>);
template void Client::start(const CustomerOrdersQuery&, Callback<OrderPage>);
template void Client::start(const OrdersByStatusQuery&, Callback<OrderPage>);
template void Client::start(const StatusCountQuery&, Callback<uint64_t>);
template void Client::start(const RevenueQuery&, Callback<RevenuePage>);
template void Client::start(const CurrenciesQuery&, Callback<std::vector<std::string>>);
template void Client::start(const OrderHistoryQuery&, Callback<std::vector<HistoryEntry>>);
template void Client::start(const ProjectionsQuery&, Callback<std::vector<ProjectionProgress>>);
template void Client::start(const OrderAtVersionRequest&, Callback<OrderState>);
template void Client::start(const OrderAtTimeRequest&, Callback<OrderState>);
template void Client::start(const StatsRequest&, Callback<Stats>);
template void Client::start(const PingRequest&, Callback<Pong>);

}  // namespace orderlog::client
