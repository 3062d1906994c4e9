// See result.h: names of codes, and the human form of an Error.
#include "orderlog/client/result.h"

#include "orderlog/client/orders.h"

namespace orderlog::client {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::WrongExpectedVersion: return "WrongExpectedVersion";
    case ErrorCode::NotFound: return "NotFound";
    case ErrorCode::DomainRule: return "DomainRule";
    case ErrorCode::Unauthorized: return "Unauthorized";
    case ErrorCode::Forbidden: return "Forbidden";
    case ErrorCode::TooLarge: return "TooLarge";
    case ErrorCode::Busy: return "Busy";
    case ErrorCode::ReadOnly: return "ReadOnly";
    case ErrorCode::BadRequest: return "BadRequest";
    case ErrorCode::Internal: return "Internal";
    case ErrorCode::ServerTimeout: return "ServerTimeout";
    case ErrorCode::Unavailable: return "Unavailable";
    case ErrorCode::ConnectionFailed: return "ConnectionFailed";
    case ErrorCode::Disconnected: return "Disconnected";
    case ErrorCode::Timeout: return "Timeout";
    case ErrorCode::ProtocolError: return "ProtocolError";
    case ErrorCode::InvalidArgument: return "InvalidArgument";
    case ErrorCode::Closed: return "Closed";
  }
  return "Unknown";
}

std::string_view to_string(DomainErrorCode code) {
  switch (code) {
    case DomainErrorCode::InvalidArgument: return "InvalidArgument";
    case DomainErrorCode::OrderExists: return "OrderExists";
    case DomainErrorCode::OrderNotFound: return "OrderNotFound";
    case DomainErrorCode::InvalidTransition: return "InvalidTransition";
    case DomainErrorCode::ItemsLocked: return "ItemsLocked";
    case DomainErrorCode::InvalidQuantity: return "InvalidQuantity";
    case DomainErrorCode::InvalidPrice: return "InvalidPrice";
    case DomainErrorCode::CurrencyMismatch: return "CurrencyMismatch";
    case DomainErrorCode::EmptyOrder: return "EmptyOrder";
    case DomainErrorCode::TooManyItems: return "TooManyItems";
    case DomainErrorCode::ItemNotFound: return "ItemNotFound";
    case DomainErrorCode::TotalTooLarge: return "TotalTooLarge";
  }
  return "Unknown";
}

std::string_view to_string(OrderStatus status) {
  switch (status) {
    case OrderStatus::None: return "none";
    case OrderStatus::Pending: return "pending";
    case OrderStatus::Confirmed: return "confirmed";
    case OrderStatus::Shipped: return "shipped";
    case OrderStatus::Delivered: return "delivered";
    case OrderStatus::Cancelled: return "cancelled";
  }
  return "unknown";
}

bool Error::retryable() const {
  switch (code) {
    case ErrorCode::Busy:
    case ErrorCode::Unavailable:
    case ErrorCode::Disconnected:
    case ErrorCode::ConnectionFailed:
    case ErrorCode::Timeout: return true;
    default: return false;
  }
}

std::string Error::to_string() const {
  std::string text(client::to_string(code));
  if (code == ErrorCode::DomainRule) text += "(" + std::string(client::to_string(domain_error)) + ")";
  if (!message.empty()) text += ": " + message;
  if (code == ErrorCode::WrongExpectedVersion) text += " (actual_version=" + std::to_string(actual_version) + ")";
  return text;
}

}  // namespace orderlog::client
