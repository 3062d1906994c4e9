// The order domain as the client sees it: commands the server decides on, the state
// it answers with, and the options that make a command idempotent and traceable.
// Money is integer minor units (cents) with an ISO currency code; never floating point.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "orderlog/client/uuid.h"

namespace orderlog::client {

enum class OrderStatus : uint8_t { None = 0, Pending, Confirmed, Shipped, Delivered, Cancelled };
std::string_view to_string(OrderStatus status);

struct OrderLine {
  std::string sku;
  uint32_t quantity = 0;
  int64_t unit_price_minor = 0;
  friend bool operator==(const OrderLine&, const OrderLine&) = default;
};

struct OrderState {
  std::string order_id;
  std::string customer_id;
  std::string currency;
  OrderStatus status = OrderStatus::None;
  std::vector<OrderLine> lines;
  int64_t total_minor = 0;
  std::string cancel_reason;
  std::string carrier;
  std::string tracking_number;
  uint64_t version = 0;  // events applied
};

// ---------------------------------------------------------------- commands

struct CreateOrder {
  std::string order_id;
  std::string customer_id;
  std::string currency;
  std::vector<OrderLine> lines;
};
struct AddItem {
  std::string order_id;
  OrderLine line;
  std::string currency;  // empty: the order's
};
struct RemoveItem {
  std::string order_id;
  std::string sku;
};
struct ConfirmOrder {
  std::string order_id;
};
struct CancelOrder {
  std::string order_id;
  std::string reason;
};
struct ShipOrder {
  std::string order_id;
  std::string carrier;
  std::string tracking_number;
};
struct DeliverOrder {
  std::string order_id;
};

using Command =
    std::variant<CreateOrder, AddItem, RemoveItem, ConfirmOrder, CancelOrder, ShipOrder, DeliverOrder>;

struct CommandOptions {
  // Makes the command idempotent: the server answers a repeated id with the first
  // outcome. Nil: a fresh UUIDv7, generated once per call and reused by the client's
  // own retries. Pass your own id to make *your* retries (e.g. after a crash) safe.
  CommandId command_id;
  Uuid correlation_id;  // nil: the command id
  Uuid causation_id;    // nil: the command id
};

struct CommandResult {
  OrderState state;                      // after the command
  std::vector<std::string> event_types;  // appended, in order (empty for a duplicate)
  uint64_t first_position = 0;
  uint64_t last_position = 0;  // pass as min_position to a query to read this write
  bool duplicate = false;      // the command id was seen before; nothing appended
};

struct CommandRequest {
  using Response = CommandResult;
  Command command;
  CommandOptions options;
};

// The order (re)built from its events, at a version or a commit time.
struct OrderAtVersionRequest {
  using Response = OrderState;
  std::string order_id;
  uint64_t version = 0;  // > 0: the order after this many events
};
struct OrderAtTimeRequest {
  using Response = OrderState;
  std::string order_id;
  uint64_t at_ns = 0;  // as of this commit time (ns since the Unix epoch)
};

}  // namespace orderlog::client
