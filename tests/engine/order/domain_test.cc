// The Order aggregate's rules (engine/order/domain.cc), given-when-then: given the
// events so far, when a command arrives, then these events or this domain error.
#include "orderlog/order/domain.h"

#include <gtest/gtest.h>

#include <random>

namespace orderlog::order {
namespace {

const OrderLine kBook{"book-1", 2, 1299};
const OrderLine kPen{"pen-7", 1, 250};

std::vector<Event> just(Event event) { return {std::move(event)}; }

OrderState given(const std::vector<Event>& history) {
  OrderState state;
  for (const Event& event : history) state = order::apply(std::move(state), event);
  return state;
}

std::vector<Event> created() { return {OrderCreated{"o-1", "c-1", "EUR", {kBook}}}; }
std::vector<Event> confirmed() {
  auto h = created();
  h.push_back(OrderConfirmed{"o-1", 2598, "EUR"});
  return h;
}
std::vector<Event> shipped() {
  auto h = confirmed();
  h.push_back(OrderShipped{"o-1", "DHL", "T-1"});
  return h;
}
std::vector<Event> delivered() {
  auto h = shipped();
  h.push_back(OrderDelivered{"o-1", 2598, "EUR"});
  return h;
}
std::vector<Event> cancelled() {
  auto h = created();
  h.push_back(OrderCancelled{"o-1", "changed my mind", 2598, "EUR"});
  return h;
}

std::vector<Event> then_events(const OrderState& state, const Command& command) {
  Decision decision = decide(state, command);
  if (auto* error = std::get_if<DomainError>(&decision)) {
    ADD_FAILURE() << "refused: " << domain_error_name(error->code) << ": " << error->message;
    return {};
  }
  return std::get<std::vector<Event>>(decision);
}

DomainErrorCode then_error(const OrderState& state, const Command& command) {
  Decision decision = decide(state, command);
  if (std::holds_alternative<std::vector<Event>>(decision)) {
    ADD_FAILURE() << command_name(command) << " was accepted";
    return DomainErrorCode::kInvalidArgument;
  }
  return std::get<DomainError>(decision).code;
}

TEST(OrderCreate, NewOrderIsCreatedPending) {
  const auto events = then_events(given({}), CreateOrder{"o-1", "c-1", "EUR", {kBook}});
  ASSERT_EQ(events, just(OrderCreated{"o-1", "c-1", "EUR", {kBook}}));
  const OrderState state = given(events);
  EXPECT_EQ(state.status, OrderStatus::kPending);
  EXPECT_EQ(state.total_minor(), 2598);
  EXPECT_EQ(state.version, 1u);
}

TEST(OrderCreate, ExistingOrderIsRefused) {
  EXPECT_EQ(then_error(given(created()), CreateOrder{"o-1", "c-1", "EUR", {}}), DomainErrorCode::kOrderExists);
}

TEST(OrderCreate, BadFieldsAreRefused) {
  const OrderState none = given({});
  EXPECT_EQ(then_error(none, CreateOrder{"", "c", "EUR", {}}), DomainErrorCode::kInvalidArgument);
  EXPECT_EQ(then_error(none, CreateOrder{std::string(65, 'o'), "c", "EUR", {}}), DomainErrorCode::kInvalidArgument);
  EXPECT_EQ(then_error(none, CreateOrder{"o", "", "EUR", {}}), DomainErrorCode::kInvalidArgument);
  EXPECT_EQ(then_error(none, CreateOrder{"o", "c", "eur", {}}), DomainErrorCode::kInvalidArgument);
  EXPECT_EQ(then_error(none, CreateOrder{"o", "c", "EURO", {}}), DomainErrorCode::kInvalidArgument);
  EXPECT_EQ(then_error(none, CreateOrder{"o", "c", "EUR", {{"x", 0, 1}}}), DomainErrorCode::kInvalidQuantity);
  EXPECT_EQ(then_error(none, CreateOrder{"o", "c", "EUR", {{"x", 1, -1}}}), DomainErrorCode::kInvalidPrice);
  EXPECT_EQ(then_error(none, CreateOrder{"o", "c", "EUR", {kBook, kBook}}), DomainErrorCode::kInvalidArgument);
  std::vector<OrderLine> many;
  for (size_t i = 0; i <= kItemLinesMax; ++i) many.push_back({"sku-" + std::to_string(i), 1, 1});
  EXPECT_EQ(then_error(none, CreateOrder{"o", "c", "EUR", many}), DomainErrorCode::kTooManyItems);
}

TEST(OrderCreate, ZeroPriceIsAllowed) {
  EXPECT_EQ(then_events(given({}), CreateOrder{"o", "c", "EUR", {{"gift", 1, 0}}}).size(), 1u);
}

TEST(OrderItems, AddingANewSkuAppendsALine) {
  const auto events = then_events(given(created()), AddItem{"o-1", kPen, ""});
  ASSERT_EQ(events, just(ItemAdded{"o-1", kPen, "EUR"}));
  auto history = created();
  history.insert(history.end(), events.begin(), events.end());
  EXPECT_EQ(given(history).lines, (std::vector<OrderLine>{kBook, kPen}));
  EXPECT_EQ(given(history).total_minor(), 2598 + 250);
}

TEST(OrderItems, AddingAKnownSkuAddsQuantity) {
  auto history = created();
  for (const Event& e : then_events(given(history), AddItem{"o-1", {"book-1", 3, 1299}, "EUR"})) history.push_back(e);
  EXPECT_EQ(given(history).lines, (std::vector<OrderLine>{{"book-1", 5, 1299}}));
}

TEST(OrderItems, KnownSkuAtAnotherPriceIsRefused) {
  EXPECT_EQ(then_error(given(created()), AddItem{"o-1", {"book-1", 1, 999}, ""}), DomainErrorCode::kInvalidPrice);
}

TEST(OrderItems, ItemInAnotherCurrencyIsRefused) {
  EXPECT_EQ(then_error(given(created()), AddItem{"o-1", kPen, "USD"}), DomainErrorCode::kCurrencyMismatch);
}

TEST(OrderItems, QuantityMustBePositiveAndBounded) {
  EXPECT_EQ(then_error(given(created()), AddItem{"o-1", {"pen", 0, 1}, ""}), DomainErrorCode::kInvalidQuantity);
  EXPECT_EQ(then_error(given(created()), AddItem{"o-1", {"book-1", kQuantityMax, 1299}, ""}),
            DomainErrorCode::kInvalidQuantity);
}

TEST(OrderItems, RemovingASkuDropsItsLine) {
  auto history = created();
  for (const Event& e : then_events(given(history), RemoveItem{"o-1", "book-1"})) history.push_back(e);
  EXPECT_TRUE(given(history).lines.empty());
  EXPECT_EQ(then_error(given(history), RemoveItem{"o-1", "book-1"}), DomainErrorCode::kItemNotFound);
}

TEST(OrderItems, ItemsChangeOnlyWhilePending) {
  for (const auto& history : {confirmed(), shipped(), delivered(), cancelled()}) {
    EXPECT_EQ(then_error(given(history), AddItem{"o-1", kPen, ""}), DomainErrorCode::kItemsLocked);
    EXPECT_EQ(then_error(given(history), RemoveItem{"o-1", "book-1"}), DomainErrorCode::kItemsLocked);
  }
}

TEST(OrderItems, TotalIsBoundedSoItNeverOverflows) {
  std::vector<OrderLine> lines;
  for (int i = 0; i < 3; ++i) lines.push_back({"gold-" + std::to_string(i), kQuantityMax, kUnitPriceMinorMax / 10});
  EXPECT_EQ(then_error(given({}), CreateOrder{"o", "c", "EUR", lines}), DomainErrorCode::kTotalTooLarge);
  const OrderState big = given({OrderCreated{"o-1", "c-1", "EUR", {{"gold", 900, kUnitPriceMinorMax}}}});
  EXPECT_EQ(then_error(big, AddItem{"o-1", {"silver", 200, kUnitPriceMinorMax}, ""}), DomainErrorCode::kTotalTooLarge);
  EXPECT_EQ(then_events(big, AddItem{"o-1", {"silver", 100, kUnitPriceMinorMax}, ""}).size(), 1u);
}

TEST(OrderItems, TooManyLinesIsRefused) {
  std::vector<OrderLine> lines;
  for (size_t i = 0; i < kItemLinesMax; ++i) lines.push_back({"sku-" + std::to_string(i), 1, 1});
  const OrderState full = given({OrderCreated{"o-1", "c-1", "EUR", lines}});
  EXPECT_EQ(then_error(full, AddItem{"o-1", kPen, ""}), DomainErrorCode::kTooManyItems);
  EXPECT_EQ(then_events(full, AddItem{"o-1", {"sku-0", 1, 1}, ""}).size(), 1u);  // a known SKU still works
}

TEST(OrderLifecycle, ConfirmShipDeliverInOrder) {
  auto history = created();
  for (const Command& command : std::vector<Command>{ConfirmOrder{"o-1"}, ShipOrder{"o-1", "DHL", "T-1"},
                                                     DeliverOrder{"o-1"}}) {
    for (const Event& e : then_events(given(history), command)) history.push_back(e);
  }
  EXPECT_EQ(history, delivered());
  EXPECT_EQ(given(history).status, OrderStatus::kDelivered);
  EXPECT_EQ(given(history).carrier, "DHL");
  EXPECT_EQ(given(history).version, 4u);
}

TEST(OrderLifecycle, ConfirmationCarriesTheTotal) {
  EXPECT_EQ(then_events(given(created()), ConfirmOrder{"o-1"}),
            just(OrderConfirmed{"o-1", 2598, "EUR"}));
}

TEST(OrderLifecycle, EmptyOrderCannotBeConfirmed) {
  EXPECT_EQ(then_error(given({OrderCreated{"o-1", "c-1", "EUR", {}}}), ConfirmOrder{"o-1"}),
            DomainErrorCode::kEmptyOrder);
}

TEST(OrderLifecycle, PendingAndConfirmedOrdersCanBeCancelled) {
  for (const auto& history : {created(), confirmed()}) {
    const auto events = then_events(given(history), CancelOrder{"o-1", "out of stock"});
    ASSERT_EQ(events, just(OrderCancelled{"o-1", "out of stock", 2598, "EUR"}));
    auto after = history;
    after.push_back(events[0]);
    EXPECT_EQ(given(after).status, OrderStatus::kCancelled);
    EXPECT_EQ(given(after).cancel_reason, "out of stock");
  }
  EXPECT_EQ(then_error(given(created()), CancelOrder{"o-1", ""}), DomainErrorCode::kInvalidArgument);
}

// Every (state, command) pair the state machine forbids.
TEST(OrderLifecycle, EveryForbiddenTransitionIsRefused) {
  struct Case {
    std::vector<Event> history;
    Command command;
  };
  const std::vector<Case> cases = {
      {created(), ShipOrder{"o-1", "DHL", "T"}},     {created(), DeliverOrder{"o-1"}},
      {confirmed(), ConfirmOrder{"o-1"}},            {confirmed(), DeliverOrder{"o-1"}},
      {shipped(), ConfirmOrder{"o-1"}},              {shipped(), CancelOrder{"o-1", "r"}},
      {shipped(), ShipOrder{"o-1", "DHL", "T"}},     {delivered(), ConfirmOrder{"o-1"}},
      {delivered(), CancelOrder{"o-1", "r"}},        {delivered(), ShipOrder{"o-1", "DHL", "T"}},
      {delivered(), DeliverOrder{"o-1"}},            {cancelled(), ConfirmOrder{"o-1"}},
      {cancelled(), CancelOrder{"o-1", "r"}},        {cancelled(), ShipOrder{"o-1", "DHL", "T"}},
      {cancelled(), DeliverOrder{"o-1"}},
  };
  for (const Case& c : cases) {
    const OrderState state = given(c.history);
    EXPECT_EQ(then_error(state, c.command), DomainErrorCode::kInvalidTransition)
        << command_name(c.command) << " on a " << status_name(state.status) << " order";
  }
}

TEST(OrderLifecycle, CommandsOnAMissingOrderAreNotFound) {
  const OrderState none = given({});
  for (const Command& command :
       std::vector<Command>{AddItem{"o-1", kPen, ""}, RemoveItem{"o-1", "pen"}, ConfirmOrder{"o-1"},
                            CancelOrder{"o-1", "r"}, ShipOrder{"o-1", "DHL", "T"}, DeliverOrder{"o-1"}}) {
    EXPECT_EQ(then_error(none, command), DomainErrorCode::kOrderNotFound) << command_name(command);
  }
}

TEST(OrderLifecycle, ShippingNeedsCarrierAndTracking) {
  EXPECT_EQ(then_error(given(confirmed()), ShipOrder{"o-1", "", "T"}), DomainErrorCode::kInvalidArgument);
  EXPECT_EQ(then_error(given(confirmed()), ShipOrder{"o-1", "DHL", std::string(300, 't')}),
            DomainErrorCode::kInvalidArgument);
}

// decide and apply are pure: the same random command sequence twice gives the same
// events and states, and a refused command changes nothing.
TEST(OrderDeterminism, RandomCommandSequencesReplayIdentically) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::vector<OrderState> runs;
    std::vector<std::vector<Event>> logs;
    for (int run = 0; run < 2; ++run) {
      std::mt19937 random(seed);
      OrderState state;
      std::vector<Event> log;
      for (int step = 0; step < 60; ++step) {
        const std::string sku = "sku-" + std::to_string(random() % 5);
        const std::vector<Command> commands = {
            CreateOrder{"o", "c", "EUR", {}}, AddItem{"o", {sku, static_cast<uint32_t>(1 + random() % 3), 100}, ""},
            RemoveItem{"o", sku},             ConfirmOrder{"o"},
            CancelOrder{"o", "r"},            ShipOrder{"o", "UPS", "Z"},
            DeliverOrder{"o"}};
        const Command& command = commands[random() % commands.size()];
        Decision decision = decide(state, command);
        if (auto* events = std::get_if<std::vector<Event>>(&decision)) {
          for (const Event& e : *events) {
            state = order::apply(std::move(state), e);
            log.push_back(e);
          }
        }
      }
      runs.push_back(state);
      logs.push_back(log);
    }
    EXPECT_EQ(runs[0], runs[1]) << "seed " << seed;
    EXPECT_EQ(logs[0], logs[1]) << "seed " << seed;
    EXPECT_EQ(given(logs[0]), runs[0]) << "seed " << seed;
  }
}

}  // namespace
}  // namespace orderlog::order
