// Configuration of a Client and of a Subscription.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace orderlog::client {

class EventLoop;  // event_loop.h

struct ClientOptions {
  std::string host = "127.0.0.1";  // a name or an address
  uint16_t port = 7070;
  std::string token;        // the tenant's secret, sent in the handshake
  std::string client_name;  // shown in the server's log; at most 64 bytes

  // One connect attempt: TCP connect plus handshake.
  std::chrono::milliseconds connect_timeout{5000};
  // From submitting a request to its response; then the request fails with Timeout
  // and a late response is dropped. Includes time spent waiting for a connection.
  std::chrono::milliseconds request_timeout{10000};
  // Reconnect attempts after a failure wait a jittered, doubling delay in this range.
  // It starts over from the minimum only once a connection has answered a request
  // (a subscription: has delivered an event), so a server that accepts and then
  // drops every connection is not hammered.
  std::chrono::milliseconds reconnect_backoff_min{50};
  std::chrono::milliseconds reconnect_backoff_max{5000};

  // Requests submitted but not yet answered, at most; a caller beyond it blocks until
  // one completes (or request_timeout passes). The server's own limit (HelloOk)
  // applies too, whichever is smaller.
  size_t inflight_max = 1024;
  // How often a request lost to a dropped connection (or a failed connect) is sent
  // again over a new one. Every request is idempotent on the wire: event and command
  // ids are fixed before the first attempt, so the server de-duplicates a resend.
  // 0: fail such requests at once with Disconnected / ConnectionFailed.
  uint32_t retries_max = 2;

  // The io thread to run on, shared with other Clients (event_loop.h); it must
  // outlive this Client and its Subscriptions. Null: the Client starts its own.
  EventLoop* event_loop = nullptr;
};

struct SubscribeOptions {
  // Deliver events with position > after_position (0: from the beginning).
  uint64_t after_position = 0;
  // Ignore after_position and start at the committed end (only new events).
  bool from_live_end = false;
  std::string stream_prefix;             // empty: every stream
  std::vector<std::string> event_types;  // empty: every type
  // Events the server may send ahead of the handler (flow control). Credit is
  // granted again each time half of it has been handled.
  uint32_t credit_window = 1024;
};

}  // namespace orderlog::client
