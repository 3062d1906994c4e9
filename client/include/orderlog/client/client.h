// orderlog::client::Client — one TCP connection to orderlogd, shared by any number of
// threads. Requests are pipelined: each carries a request id, responses are matched
// by it in whatever order they arrive, and many queued requests go out in one write.
//
// Every operation comes in three forms built on one asynchronous core:
//   Result<R>                  op(...)                 blocks for the response
//   void                       call_async(req, cb)     cb(Result<R>) on the io thread
//   std::future<Result<R>>     call_future(req)
// where `req` is a request struct (events.h, orders.h, queries.h) naming its Response.
// Named forms exist for every operation (sync) and for appends and commands (async).
//
// Failures are values: Error codes from the server, plus ConnectionFailed,
// Disconnected, Timeout and ProtocolError seen by the client. A lost connection fails
// (or, within ClientOptions::retries_max, resends) every request in flight; the next
// request reconnects with backoff.
//
// Thread-safety: every method may be called from any thread. Callbacks run on the
// client's io thread (or on the calling thread when a request is refused before it is
// sent) and must not block; a blocking call made from a callback returns
// InvalidArgument instead of deadlocking.
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "orderlog/client/event_loop.h"
#include "orderlog/client/events.h"
#include "orderlog/client/options.h"
#include "orderlog/client/orders.h"
#include "orderlog/client/queries.h"
#include "orderlog/client/result.h"
#include "orderlog/client/subscription.h"
#include "orderlog/client/uuid.h"

namespace orderlog::client {

template <typename T>
using Callback = std::function<void(Result<T>)>;

template <typename Request>
using ResponseOf = typename Request::Response;

class Client {
 public:
  // Connects and completes the handshake (one attempt, ClientOptions::connect_timeout):
  // ConnectionFailed, Unauthorized, or a ready client.
  static Result<std::unique_ptr<Client>> connect(const ClientOptions& options);
  // Fails every outstanding request with Closed (no callback runs after it) and joins
  // the io thread, unless that is a shared EventLoop's. REQUIRES: not called from a
  // callback on the client's io thread.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The handshake's answer (limits, tenant); refreshed on every reconnect.
  ServerInfo server_info() const;

  // ------------------------------------------------------------ generic forms
  template <typename Request>
  void call_async(const Request& request, Callback<ResponseOf<Request>> done) {
    start(request, std::move(done));
  }
  template <typename Request>
  std::future<Result<ResponseOf<Request>>> call_future(const Request& request) {
    auto promise = std::make_shared<std::promise<Result<ResponseOf<Request>>>>();
    auto future = promise->get_future();
    start(request, [promise](Result<ResponseOf<Request>> result) { promise->set_value(std::move(result)); });
    return future;
  }
  template <typename Request>
  Result<ResponseOf<Request>> call(const Request& request) {
    if (on_io_thread()) return blocking_call_from_callback();
    return call_future(request).get();
  }

  // ------------------------------------------------------------ appends and reads
  // Appends `events` to one stream atomically. A nil event id gets a UUIDv7.
  Result<AppendResult> append(std::string stream_id, ExpectedVersion expected, std::vector<NewEvent> events);
  void append_async(std::string stream_id, ExpectedVersion expected, std::vector<NewEvent> events,
                    Callback<AppendResult> done);
  std::future<Result<AppendResult>> append_future(std::string stream_id, ExpectedVersion expected,
                                                  std::vector<NewEvent> events);
  // Appends to several streams atomically (all or nothing).
  Result<AppendResult> append_multi(std::vector<AppendRequest> streams);
  // Appends any number of events to one stream in chunks that fit the server's
  // events_per_append_max and frame limits, pipelined. Each chunk is atomic, the whole
  // is not: on an error, the chunks before the failed one stay appended. After the
  // first chunk, chunks carry exact expected versions (unless `expected` is any), so
  // they can only land in order. The result spans every chunk.
  Result<AppendResult> append_batch(std::string stream_id, ExpectedVersion expected, std::vector<NewEvent> events);

  Result<ReadPage> read_stream(std::string stream_id, uint64_t from_version, Direction direction, uint32_t max_count);
  Result<ReadPage> read_all(uint64_t from_position, uint32_t max_count);
  Result<ReadPage> read_by_type(std::string type, uint64_t from_position, uint32_t max_count);
  Result<ReadPage> read_by_time(const ReadByTimeRequest& request);

  // ------------------------------------------------------------ order commands
  Result<CommandResult> execute(Command command, const CommandOptions& options = {});
  void execute_async(Command command, const CommandOptions& options, Callback<CommandResult> done);
  std::future<Result<CommandResult>> execute_future(Command command, const CommandOptions& options = {});

  Result<CommandResult> create_order(CreateOrder command, const CommandOptions& options = {});
  Result<CommandResult> add_item(AddItem command, const CommandOptions& options = {});
  Result<CommandResult> remove_item(RemoveItem command, const CommandOptions& options = {});
  Result<CommandResult> confirm_order(ConfirmOrder command, const CommandOptions& options = {});
  Result<CommandResult> cancel_order(CancelOrder command, const CommandOptions& options = {});
  Result<CommandResult> ship_order(ShipOrder command, const CommandOptions& options = {});
  Result<CommandResult> deliver_order(DeliverOrder command, const CommandOptions& options = {});

  // ------------------------------------------------------------ queries
  // `min_position`: wait until the read model has applied it (read your own writes).
  Result<OrderSummary> order_summary(std::string order_id, uint64_t min_position);
  Result<OrderPage> customer_orders(const CustomerOrdersQuery& query);
  Result<OrderPage> orders_by_status(const OrdersByStatusQuery& query);
  Result<uint64_t> status_count(OrderStatus status, uint64_t min_position);
  Result<RevenuePage> revenue(const RevenueQuery& query);
  Result<std::vector<std::string>> currencies(uint64_t min_position);
  Result<std::vector<HistoryEntry>> order_history(std::string order_id, uint64_t min_position);
  Result<std::vector<ProjectionProgress>> projections();

  Result<OrderState> order_at_version(std::string order_id, uint64_t version);
  Result<OrderState> order_at_time(std::string order_id, uint64_t at_ns);
  Result<Stats> stats();
  Result<Pong> ping(uint64_t payload);

  // ------------------------------------------------------------ subscriptions
  // Opens a subscription on its own connection (same host, token and timeouts) and
  // waits for the server to accept it. Errors: ConnectionFailed, Unauthorized,
  // Forbidden, BadRequest. Afterwards it reconnects by itself (see subscription.h).
  Result<std::unique_ptr<Subscription>> subscribe(const SubscribeOptions& options, EventHandler on_event,
                                                  StateHandler on_state = {});

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);

  // Encodes `request`, sends it and calls `done` once. Defined in client.cc for every
  // request type of the public headers.
  template <typename Request>
  void start(const Request& request, Callback<ResponseOf<Request>> done);
  bool on_io_thread() const;
  static Error blocking_call_from_callback();

  std::unique_ptr<Impl> impl_;
};

}  // namespace orderlog::client
