// Storing order events (engine/order/codec.cc): every event round-trips through its
// FlatBuffers payload, old versions are upcast on read, bad payloads are refused.
#include "orderlog/order/codec.h"

#include <flatbuffers/flatbuffers.h>
#include <gtest/gtest.h>

#include "orderlog/fb/order_events_generated.h"

namespace orderlog::order {
namespace {

EventView view_of(const EncodedEvent& encoded) {
  EventView view;
  view.type = encoded.type;
  view.schema_version = encoded.schema_version;
  view.payload = encoded.payload;
  return view;
}

std::vector<std::byte> item_added_v1(std::string_view product, uint32_t quantity, std::string_view price) {
  flatbuffers::FlatBufferBuilder b;
  b.Finish(fb::order::CreateItemAddedV1(b, b.CreateString("o-9"), b.CreateString(product), quantity,
                                        b.CreateString(price)));
  const auto* data = reinterpret_cast<const std::byte*>(b.GetBufferPointer());
  return {data, data + b.GetSize()};
}

TEST(OrderCodec, EveryEventRoundTrips) {
  const UpcasterRegistry upcasters = UpcasterRegistry::standard("EUR");
  const std::vector<Event> events = {
      OrderCreated{"o-1", "c-1", "EUR", {{"book", 2, 1299}, {"pen", 1, 0}}},
      ItemAdded{"o-1", {"mug", 3, 850}, "EUR"},
      ItemRemoved{"o-1", "pen"},
      OrderConfirmed{"o-1", 5148, "EUR"},
      OrderCancelled{"o-1", "duplicate", 5148, "EUR"},
      OrderShipped{"o-1", "DHL", "JD0001"},
      OrderDelivered{"o-1", 5148, "EUR"},
  };
  for (const Event& event : events) {
    const EncodedEvent encoded = encode_event(event);
    EXPECT_EQ(encoded.type, event_type_name(event));
    EXPECT_EQ(encoded.schema_version, current_schema_version(encoded.type));
    Result<Event> decoded = decode_event(upcasters, view_of(encoded));
    ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
    EXPECT_EQ(*decoded, event) << encoded.type;
  }
}

TEST(OrderCodec, KnowsWhichTypesAreOrderEvents) {
  EXPECT_TRUE(is_order_event_type("OrderCreated"));
  EXPECT_TRUE(is_order_event_type("OrderDelivered"));
  EXPECT_FALSE(is_order_event_type("CustomerRenamed"));
  EXPECT_FALSE(is_order_event_type(""));
}

TEST(OrderCodec, ItemAddedIsVersionTwo) { EXPECT_EQ(current_schema_version("ItemAdded"), 2); }

TEST(OrderCodec, ItemAddedV1IsUpcastToMinorUnitsSkuAndLegacyCurrency) {
  const UpcasterRegistry upcasters = UpcasterRegistry::standard("EUR");
  const struct {
    const char* price;
    int64_t minor;
  } cases[] = {{"12.99", 1299}, {"12.9", 1290}, {"12", 1200}, {"0.05", 5}, {"0", 0}};
  for (const auto& c : cases) {
    const std::vector<std::byte> payload = item_added_v1("Blue mug", 3, c.price);
    EncodedEvent stored{"ItemAdded", 1, payload};
    Result<Event> decoded = decode_event(upcasters, view_of(stored));
    ASSERT_TRUE(decoded.is_ok()) << c.price << ": " << decoded.status().to_string();
    EXPECT_EQ(*decoded, Event(ItemAdded{"o-9", {"Blue mug", 3, c.minor}, "EUR"})) << c.price;
  }
}

TEST(OrderCodec, MalformedV1PriceIsCorruption) {
  const UpcasterRegistry upcasters = UpcasterRegistry::standard("EUR");
  for (const char* price : {"", "12.999", "1,50", "-3", "abc", "1.2.3"}) {
    EncodedEvent stored{"ItemAdded", 1, item_added_v1("mug", 1, price)};
    EXPECT_EQ(decode_event(upcasters, view_of(stored)).status().code(), StatusCode::kCorruption) << price;
  }
}

// Legacy values the domain would never have taken (prices past its bound, which also
// overflowed int64 while parsing; quantities over kQuantityMax; SKUs over kIdBytesMax)
// are corruption, not lines whose totals overflow later.
TEST(OrderCodec, V1ValuesOutsideTheDomainsBoundsAreCorruption) {
  const UpcasterRegistry upcasters = UpcasterRegistry::standard("EUR");
  const struct {
    std::string product;
    uint32_t quantity;
    const char* price;
  } cases[] = {
      {"mug", 1, "99999999999999999999"},  // 20 digits: overflowed while parsing
      {"mug", 1, "99999999999999999"},     // 17 digits: overflowed scaling to minor units
      {"mug", 1, "10000000000.01"},        // one minor unit over kUnitPriceMinorMax
      {"mug", kQuantityMax + 1, "1.00"},
      {"mug", 0, "1.00"},
      {std::string(kIdBytesMax + 1, 'p'), 1, "1.00"},
  };
  for (const auto& c : cases) {
    EncodedEvent stored{"ItemAdded", 1, item_added_v1(c.product, c.quantity, c.price)};
    EXPECT_EQ(decode_event(upcasters, view_of(stored)).status().code(), StatusCode::kCorruption)
        << c.price << " x " << c.quantity;
  }
  EncodedEvent largest{"ItemAdded", 1, item_added_v1("mug", kQuantityMax, "10000000000.00")};
  Result<Event> decoded = decode_event(upcasters, view_of(largest));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(std::get<ItemAdded>(*decoded).line.unit_price_minor, kUnitPriceMinorMax);
}

TEST(OrderCodec, CurrentLinesOutsideTheDomainsBoundsAreCorruption) {
  const UpcasterRegistry upcasters = UpcasterRegistry::standard("EUR");
  const std::vector<Event> events = {
      ItemAdded{"o", {"mug", 1, kUnitPriceMinorMax + 1}, "EUR"},
      ItemAdded{"o", {"mug", 1, -1}, "EUR"},
      ItemAdded{"o", {"", 1, 100}, "EUR"},
      OrderCreated{"o", "c", "EUR", {{"a", 1, 1}, {"b", kQuantityMax + 1, 1}}},
      OrderCreated{"o", "c", "EUR", std::vector<OrderLine>(kItemLinesMax + 1, OrderLine{"a", 1, 1})},
  };
  for (const Event& event : events) {
    EXPECT_EQ(decode_event(upcasters, view_of(encode_event(event))).status().code(), StatusCode::kCorruption)
        << event_type_name(event);
  }
}

TEST(OrderCodec, EveryTruncationOfAPayloadIsRefused) {
  const UpcasterRegistry upcasters = UpcasterRegistry::standard("EUR");
  const EncodedEvent encoded = encode_event(OrderShipped{"o-1", "DHL", "JD0001"});
  // Trailing zero padding carries nothing: cut before the last meaningful byte.
  size_t meaningful = encoded.payload.size();
  while (meaningful > 0 && encoded.payload[meaningful - 1] == std::byte{0}) --meaningful;
  for (size_t kept = 0; kept < meaningful; ++kept) {
    EncodedEvent cut = encoded;
    cut.payload.resize(kept);
    EXPECT_FALSE(decode_event(upcasters, view_of(cut)).is_ok()) << "kept " << kept;
  }
}

TEST(OrderCodec, UnknownTypeAndFutureVersionsAreRefused) {
  const UpcasterRegistry upcasters = UpcasterRegistry::standard("EUR");
  EncodedEvent other = encode_event(ItemRemoved{"o", "x"});
  other.type = "CustomerRenamed";
  EXPECT_EQ(decode_event(upcasters, view_of(other)).status().code(), StatusCode::kInvalidArgument);
  EncodedEvent future = encode_event(ItemRemoved{"o", "x"});
  future.schema_version = 7;
  EXPECT_EQ(decode_event(upcasters, view_of(future)).status().code(), StatusCode::kCorruption);
}

TEST(OrderCodec, MissingUpcasterIsCorruption) {
  const UpcasterRegistry empty;
  EncodedEvent stored{"ItemAdded", 1, item_added_v1("mug", 1, "1.00")};
  EXPECT_EQ(decode_event(empty, view_of(stored)).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace orderlog::order
