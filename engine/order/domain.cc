// See domain.h. decide() validates first (fields, then the state machine, then the
// business rules) and builds events; apply() trusts its input and only folds.
#include "orderlog/order/domain.h"

#include <algorithm>
#include <numeric>
#include <optional>

#include "orderlog/check.h"

namespace orderlog::order {

namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};

DomainError error(DomainErrorCode code, std::string message) { return DomainError{code, std::move(message)}; }

std::optional<DomainError> check_text(std::string_view field, const std::string& value, size_t bytes_max) {
  if (value.empty() || value.size() > bytes_max) {
    return error(DomainErrorCode::kInvalidArgument,
                 std::string(field) + " must be 1.." + std::to_string(bytes_max) + " bytes");
  }
  return std::nullopt;
}

std::optional<DomainError> check_currency(const std::string& currency) {
  const bool valid = currency.size() == 3 &&
                     std::all_of(currency.begin(), currency.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  if (!valid) return error(DomainErrorCode::kInvalidArgument, "currency must be three upper-case letters (ISO 4217)");
  return std::nullopt;
}

std::optional<DomainError> check_line(const OrderLine& line) {
  if (auto bad = check_text("sku", line.sku, kIdBytesMax)) return bad;
  if (line.quantity < 1 || line.quantity > kQuantityMax) {
    return error(DomainErrorCode::kInvalidQuantity,
                 "quantity of " + line.sku + " must be 1.." + std::to_string(kQuantityMax));
  }
  if (line.unit_price_minor < 0 || line.unit_price_minor > kUnitPriceMinorMax) {
    return error(DomainErrorCode::kInvalidPrice, "unit price of " + line.sku + " must be 0.." +
                                                     std::to_string(kUnitPriceMinorMax) + " minor units");
  }
  return std::nullopt;
}

const OrderLine* find_line(const OrderState& state, std::string_view sku) {
  auto it = std::find_if(state.lines.begin(), state.lines.end(), [&](const OrderLine& l) { return l.sku == sku; });
  return it == state.lines.end() ? nullptr : &*it;
}

std::string order_label(const OrderState& state) { return "order " + state.order_id; }

// Each line is bounded (quantity 10^6 x price 10^12 fits in int64), and so is the sum of
// lines, so OrderState::total_minor() can never overflow.
// A running total stays <= 10^15 before each step and a line is <= 10^18, so the
// sum below never overflows either.
std::optional<DomainError> check_total(const std::vector<OrderLine>& lines, const OrderLine* extra) {
  static_assert(kQuantityMax * kUnitPriceMinorMax + kOrderTotalMinorMax < INT64_MAX);
  int64_t total = 0;
  const auto add = [&](const OrderLine& line) {
    total += line.unit_price_minor * static_cast<int64_t>(line.quantity);
    return total <= kOrderTotalMinorMax;
  };
  bool within = std::all_of(lines.begin(), lines.end(), add);
  if (within && extra != nullptr) within = add(*extra);
  if (!within) {
    return error(DomainErrorCode::kTotalTooLarge,
                 "the order total would exceed " + std::to_string(kOrderTotalMinorMax) + " minor units");
  }
  return std::nullopt;
}

// Refuses a command whose order does not exist or is not in one of `allowed`.
std::optional<DomainError> require_status(const OrderState& state, std::string_view command,
                                          std::initializer_list<OrderStatus> allowed) {
  if (state.status == OrderStatus::kNone) return error(DomainErrorCode::kOrderNotFound, "no such order");
  if (std::find(allowed.begin(), allowed.end(), state.status) != allowed.end()) return std::nullopt;
  return error(DomainErrorCode::kInvalidTransition, std::string(command) + " is not allowed: " +
                                                        order_label(state) + " is " +
                                                        std::string(status_name(state.status)));
}

Decision decide_create(const OrderState& state, const CreateOrder& command) {
  if (auto bad = check_text("customer id", command.customer_id, kIdBytesMax)) return *bad;
  if (auto bad = check_currency(command.currency)) return *bad;
  if (command.lines.size() > kItemLinesMax) {
    return error(DomainErrorCode::kTooManyItems, "an order has at most " + std::to_string(kItemLinesMax) + " items");
  }
  for (size_t i = 0; i < command.lines.size(); ++i) {
    if (auto bad = check_line(command.lines[i])) return *bad;
    for (size_t j = 0; j < i; ++j) {
      if (command.lines[j].sku == command.lines[i].sku) {
        return error(DomainErrorCode::kInvalidArgument, "sku " + command.lines[i].sku + " appears twice");
      }
    }
  }
  if (auto bad = check_total(command.lines, nullptr)) return *bad;
  if (state.status != OrderStatus::kNone) return error(DomainErrorCode::kOrderExists, order_label(state) + " exists");
  return std::vector<Event>{OrderCreated{command.order_id, command.customer_id, command.currency, command.lines}};
}

Decision decide_add(const OrderState& state, const AddItem& command) {
  if (auto bad = check_line(command.line)) return *bad;
  if (!command.currency.empty()) {
    if (auto bad = check_currency(command.currency)) return *bad;
  }
  if (state.status == OrderStatus::kNone) return error(DomainErrorCode::kOrderNotFound, "no such order");
  if (state.status != OrderStatus::kPending) {
    return error(DomainErrorCode::kItemsLocked, "items change only while pending; " + order_label(state) + " is " +
                                                    std::string(status_name(state.status)));
  }
  if (!command.currency.empty() && command.currency != state.currency) {
    return error(DomainErrorCode::kCurrencyMismatch,
                 "item in " + command.currency + " for an order in " + state.currency);
  }
  if (const OrderLine* existing = find_line(state, command.line.sku)) {
    if (existing->unit_price_minor != command.line.unit_price_minor) {
      return error(DomainErrorCode::kInvalidPrice, "sku " + command.line.sku + " is already in the order at " +
                                                       std::to_string(existing->unit_price_minor) + " minor units");
    }
    if (uint64_t{existing->quantity} + command.line.quantity > kQuantityMax) {
      return error(DomainErrorCode::kInvalidQuantity, "quantity of " + command.line.sku + " would exceed " +
                                                          std::to_string(kQuantityMax));
    }
  } else if (state.lines.size() >= kItemLinesMax) {
    return error(DomainErrorCode::kTooManyItems, "an order has at most " + std::to_string(kItemLinesMax) + " items");
  }
  if (auto bad = check_total(state.lines, &command.line)) return *bad;
  return std::vector<Event>{ItemAdded{state.order_id, command.line, state.currency}};
}

Decision decide_remove(const OrderState& state, const RemoveItem& command) {
  if (auto bad = check_text("sku", command.sku, kIdBytesMax)) return *bad;
  if (state.status == OrderStatus::kNone) return error(DomainErrorCode::kOrderNotFound, "no such order");
  if (state.status != OrderStatus::kPending) {
    return error(DomainErrorCode::kItemsLocked, "items change only while pending; " + order_label(state) + " is " +
                                                    std::string(status_name(state.status)));
  }
  if (find_line(state, command.sku) == nullptr) {
    return error(DomainErrorCode::kItemNotFound, order_label(state) + " has no sku " + command.sku);
  }
  return std::vector<Event>{ItemRemoved{state.order_id, command.sku}};
}

Decision decide_confirm(const OrderState& state, const ConfirmOrder&) {
  if (auto bad = require_status(state, "confirm", {OrderStatus::kPending})) return *bad;
  if (state.lines.empty()) return error(DomainErrorCode::kEmptyOrder, "an order without items cannot be confirmed");
  return std::vector<Event>{OrderConfirmed{state.order_id, state.total_minor(), state.currency}};
}

Decision decide_cancel(const OrderState& state, const CancelOrder& command) {
  if (auto bad = check_text("reason", command.reason, kTextBytesMax)) return *bad;
  if (auto bad = require_status(state, "cancel", {OrderStatus::kPending, OrderStatus::kConfirmed})) return *bad;
  return std::vector<Event>{OrderCancelled{state.order_id, command.reason, state.total_minor(), state.currency}};
}

Decision decide_ship(const OrderState& state, const ShipOrder& command) {
  if (auto bad = check_text("carrier", command.carrier, kTextBytesMax)) return *bad;
  if (auto bad = check_text("tracking number", command.tracking_number, kTextBytesMax)) return *bad;
  if (auto bad = require_status(state, "ship", {OrderStatus::kConfirmed})) return *bad;
  return std::vector<Event>{OrderShipped{state.order_id, command.carrier, command.tracking_number}};
}

Decision decide_deliver(const OrderState& state, const DeliverOrder&) {
  if (auto bad = require_status(state, "deliver", {OrderStatus::kShipped})) return *bad;
  return std::vector<Event>{OrderDelivered{state.order_id, state.total_minor(), state.currency}};
}

}  // namespace

std::string_view status_name(OrderStatus status) {
  switch (status) {
    case OrderStatus::kNone: return "none";
    case OrderStatus::kPending: return "pending";
    case OrderStatus::kConfirmed: return "confirmed";
    case OrderStatus::kShipped: return "shipped";
    case OrderStatus::kDelivered: return "delivered";
    case OrderStatus::kCancelled: return "cancelled";
  }
  return "unknown";
}

std::string_view domain_error_name(DomainErrorCode code) {
  switch (code) {
    case DomainErrorCode::kInvalidArgument: return "InvalidArgument";
    case DomainErrorCode::kOrderExists: return "OrderExists";
    case DomainErrorCode::kOrderNotFound: return "OrderNotFound";
    case DomainErrorCode::kInvalidTransition: return "InvalidTransition";
    case DomainErrorCode::kItemsLocked: return "ItemsLocked";
    case DomainErrorCode::kInvalidQuantity: return "InvalidQuantity";
    case DomainErrorCode::kInvalidPrice: return "InvalidPrice";
    case DomainErrorCode::kCurrencyMismatch: return "CurrencyMismatch";
    case DomainErrorCode::kEmptyOrder: return "EmptyOrder";
    case DomainErrorCode::kTooManyItems: return "TooManyItems";
    case DomainErrorCode::kItemNotFound: return "ItemNotFound";
    case DomainErrorCode::kTotalTooLarge: return "TotalTooLarge";
  }
  return "Unknown";
}

int64_t OrderState::total_minor() const {
  return std::accumulate(lines.begin(), lines.end(), int64_t{0}, [](int64_t sum, const OrderLine& line) {
    return sum + line.unit_price_minor * static_cast<int64_t>(line.quantity);
  });
}

std::string_view command_name(const Command& command) {
  static constexpr std::string_view kNames[] = {"CreateOrder", "AddItem",   "RemoveItem",  "ConfirmOrder",
                                                "CancelOrder", "ShipOrder", "DeliverOrder"};
  return kNames[command.index()];
}

const std::string& command_order_id(const Command& command) {
  return std::visit([](const auto& c) -> const std::string& { return c.order_id; }, command);
}

std::string_view event_type_name(const Event& event) {
  static constexpr std::string_view kNames[] = {"OrderCreated",   "ItemAdded",    "ItemRemoved",   "OrderConfirmed",
                                                "OrderCancelled", "OrderShipped", "OrderDelivered"};
  return kNames[event.index()];
}

Decision decide(const OrderState& state, const Command& command) {
  if (auto bad = check_text("order id", command_order_id(command), kIdBytesMax)) return *bad;
  return std::visit(Overloaded{
                        [&](const CreateOrder& c) { return decide_create(state, c); },
                        [&](const AddItem& c) { return decide_add(state, c); },
                        [&](const RemoveItem& c) { return decide_remove(state, c); },
                        [&](const ConfirmOrder& c) { return decide_confirm(state, c); },
                        [&](const CancelOrder& c) { return decide_cancel(state, c); },
                        [&](const ShipOrder& c) { return decide_ship(state, c); },
                        [&](const DeliverOrder& c) { return decide_deliver(state, c); },
                    },
                    command);
}

OrderState apply(OrderState state, const Event& event) {
  std::visit(Overloaded{
                 [&](const OrderCreated& e) {
                   state.order_id = e.order_id;
                   state.customer_id = e.customer_id;
                   state.currency = e.currency;
                   state.lines = e.lines;
                   state.status = OrderStatus::kPending;
                 },
                 [&](const ItemAdded& e) {
                   auto it = std::find_if(state.lines.begin(), state.lines.end(),
                                          [&](const OrderLine& l) { return l.sku == e.line.sku; });
                   if (it == state.lines.end()) {
                     state.lines.push_back(e.line);
                   } else {
                     it->quantity += e.line.quantity;
                   }
                 },
                 [&](const ItemRemoved& e) {
                   std::erase_if(state.lines, [&](const OrderLine& l) { return l.sku == e.sku; });
                 },
                 [&](const OrderConfirmed&) { state.status = OrderStatus::kConfirmed; },
                 [&](const OrderCancelled& e) {
                   state.status = OrderStatus::kCancelled;
                   state.cancel_reason = e.reason;
                 },
                 [&](const OrderShipped& e) {
                   state.status = OrderStatus::kShipped;
                   state.carrier = e.carrier;
                   state.tracking_number = e.tracking_number;
                 },
                 [&](const OrderDelivered&) { state.status = OrderStatus::kDelivered; },
             },
             event);
  ++state.version;
  return state;
}

}  // namespace orderlog::order
