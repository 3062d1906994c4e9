// The client's error model: every operation returns a Result<T>, a value or an Error.
// No exceptions cross the client API. Error codes mirror the wire protocol's
// ErrorCode (same numbers) and add the failures only a client can see.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace orderlog::client {

enum class ErrorCode : uint16_t {
  // Sent by the server (values equal schemas/protocol.fbs ErrorCode).
  WrongExpectedVersion = 1,  // Error::actual_version holds the stream's version
  NotFound = 2,
  DomainRule = 3,            // Error::domain_error says which rule
  Unauthorized = 4,          // bad token; the server closed the connection
  Forbidden = 5,             // the tenant's ACL does not allow it
  TooLarge = 6,
  Busy = 7,                  // rate limit or full queue; retry later
  ReadOnly = 8,
  BadRequest = 9,
  Internal = 10,
  ServerTimeout = 11,        // the server did not reach a query's min_position in time
  Unavailable = 12,          // the server is shutting down
  // Seen only by the client.
  ConnectionFailed = 100,    // could not connect or complete the handshake
  Disconnected = 101,        // the connection was lost before the response arrived
  Timeout = 102,             // no response within ClientOptions::request_timeout
  ProtocolError = 103,       // the server sent something the protocol does not allow
  InvalidArgument = 104,     // refused before sending (empty id, over a server limit,
                             // a blocking call from a client callback, ...)
  Closed = 105,              // the Client or Subscription is being destroyed / stopped
};

// Why a command was refused (ErrorCode::DomainRule); values equal the wire's.
enum class DomainErrorCode : uint8_t {
  InvalidArgument = 0,
  OrderExists,
  OrderNotFound,
  InvalidTransition,
  ItemsLocked,
  InvalidQuantity,
  InvalidPrice,
  CurrencyMismatch,
  EmptyOrder,
  TooManyItems,
  ItemNotFound,
  TotalTooLarge,
};

std::string_view to_string(ErrorCode code);
std::string_view to_string(DomainErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::Internal;
  std::string message;
  uint64_t actual_version = 0;  // WrongExpectedVersion only
  DomainErrorCode domain_error = DomainErrorCode::InvalidArgument;  // DomainRule only

  // True for failures where sending the same request again may succeed
  // (Busy, Unavailable, Disconnected, ConnectionFailed, Timeout).
  bool retryable() const;
  // "WrongExpectedVersion: stream order-1 is at version 3 (actual_version=3)".
  std::string to_string() const;
};

// A value or an Error. Check ok() before value(); value() on an error is a bug.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

// For operations with nothing to return.
struct Done {};

}  // namespace orderlog::client
