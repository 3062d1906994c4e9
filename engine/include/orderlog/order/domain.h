// The Order aggregate: its state, the commands it accepts, the events it records and
// the two pure functions between them. decide(state, command) returns the events a
// command produces or a typed DomainError; apply(state, event) folds one event in.
// Neither reads a clock, a random source or the store, so replay is deterministic.
//
// States: pending -> confirmed -> shipped -> delivered; pending | confirmed ->
// cancelled. Items change only while pending. Money is integer minor units with an
// ISO 4217 currency code; there is no floating point anywhere.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace orderlog::order {

inline constexpr size_t kIdBytesMax = 64;        // order, customer ids and SKUs
inline constexpr size_t kTextBytesMax = 256;     // cancel reason, carrier, tracking number
inline constexpr size_t kItemLinesMax = 100;     // distinct SKUs in one order
inline constexpr uint32_t kQuantityMax = 1'000'000;
inline constexpr int64_t kUnitPriceMinorMax = 1'000'000'000'000;  // 10^12 minor units
inline constexpr int64_t kOrderTotalMinorMax = 1'000'000'000'000'000;  // 10^15: totals never overflow

enum class OrderStatus : uint8_t { kNone, kPending, kConfirmed, kShipped, kDelivered, kCancelled };
std::string_view status_name(OrderStatus status);

struct OrderLine {
  std::string sku;
  uint32_t quantity = 0;
  int64_t unit_price_minor = 0;
  friend bool operator==(const OrderLine&, const OrderLine&) = default;
};

struct OrderState {
  std::string order_id;
  std::string customer_id;
  std::string currency;  // three upper-case letters
  OrderStatus status = OrderStatus::kNone;
  std::vector<OrderLine> lines;  // one per SKU, in the order first added
  std::string cancel_reason;
  std::string carrier;
  std::string tracking_number;
  uint64_t version = 0;  // events applied

  int64_t total_minor() const;
  friend bool operator==(const OrderState&, const OrderState&) = default;
};

// ---- Commands ----
struct CreateOrder {
  std::string order_id;
  std::string customer_id;
  std::string currency;
  std::vector<OrderLine> lines;  // may be empty
};
// Adds `quantity` of a SKU; a SKU already in the order must keep its unit price.
struct AddItem {
  std::string order_id;
  OrderLine line;
  std::string currency;  // empty: the order's; otherwise it must be the order's
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
using Command = std::variant<CreateOrder, AddItem, RemoveItem, ConfirmOrder, CancelOrder, ShipOrder, DeliverOrder>;
std::string_view command_name(const Command& command);
const std::string& command_order_id(const Command& command);

// ---- Events (the current schema of each; older versions are upcast on read) ----
struct OrderCreated {
  std::string order_id;
  std::string customer_id;
  std::string currency;
  std::vector<OrderLine> lines;
  friend bool operator==(const OrderCreated&, const OrderCreated&) = default;
};
struct ItemAdded {
  std::string order_id;
  OrderLine line;
  std::string currency;
  friend bool operator==(const ItemAdded&, const ItemAdded&) = default;
};
struct ItemRemoved {
  std::string order_id;
  std::string sku;
  friend bool operator==(const ItemRemoved&, const ItemRemoved&) = default;
};
// Confirmation, cancellation and delivery carry the order's total so read models
// (revenue per period) need no other event.
struct OrderConfirmed {
  std::string order_id;
  int64_t total_minor = 0;
  std::string currency;
  friend bool operator==(const OrderConfirmed&, const OrderConfirmed&) = default;
};
struct OrderCancelled {
  std::string order_id;
  std::string reason;
  int64_t total_minor = 0;
  std::string currency;
  friend bool operator==(const OrderCancelled&, const OrderCancelled&) = default;
};
struct OrderShipped {
  std::string order_id;
  std::string carrier;
  std::string tracking_number;
  friend bool operator==(const OrderShipped&, const OrderShipped&) = default;
};
struct OrderDelivered {
  std::string order_id;
  int64_t total_minor = 0;
  std::string currency;
  friend bool operator==(const OrderDelivered&, const OrderDelivered&) = default;
};
using Event = std::variant<OrderCreated, ItemAdded, ItemRemoved, OrderConfirmed, OrderCancelled, OrderShipped,
                           OrderDelivered>;
// The stored event type name ("OrderCreated", ...).
std::string_view event_type_name(const Event& event);

// ---- Decisions ----
enum class DomainErrorCode : uint8_t {
  kInvalidArgument,    // a field is empty, too long or malformed
  kOrderExists,        // CreateOrder for an order that exists
  kOrderNotFound,      // any other command for an order that does not
  kInvalidTransition,  // e.g. ship a pending order, confirm a cancelled one
  kItemsLocked,        // items change only while pending
  kInvalidQuantity,    // quantity < 1 or too large
  kInvalidPrice,       // negative or too large unit price, or a SKU's price changed
  kCurrencyMismatch,   // an item in another currency than the order
  kEmptyOrder,         // confirm an order without items
  kTooManyItems,       // more than kItemLinesMax SKUs
  kItemNotFound,       // remove a SKU the order does not have
  kTotalTooLarge,      // the order's total would exceed kOrderTotalMinorMax
};
std::string_view domain_error_name(DomainErrorCode code);

struct DomainError {
  DomainErrorCode code = DomainErrorCode::kInvalidArgument;
  std::string message;
  friend bool operator==(const DomainError&, const DomainError&) = default;
};

// Either the events a command produces (never empty) or why it is refused.
using Decision = std::variant<std::vector<Event>, DomainError>;

Decision decide(const OrderState& state, const Command& command);
// REQUIRES: `event` is one decide() could have produced for `state` (events from the
// log are trusted: they were decided before they were written).
OrderState apply(OrderState state, const Event& event);

}  // namespace orderlog::order
