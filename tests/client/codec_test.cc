// The codec: requests encode to verifiable frames carrying every field; replies
// (including errors and wrong bodies) decode to Results.
#include "codec.h"

#include <gtest/gtest.h>

#include "orderlog/fb/protocol_generated.h"
#include "wire/frame.h"

namespace orderlog::client::detail {
namespace {

const wire::Message* verified(const Frame& frame) {
  std::string_view why;
  const wire::Message* message = wire::verify_frame(frame.data(), frame.size(), &why);
  EXPECT_NE(message, nullptr) << why;
  return message;
}

// A reply frame whose body `build` creates.
template <typename Build>
Frame reply(wire::Body type, Build build) {
  flatbuffers::FlatBufferBuilder b;
  const flatbuffers::Offset<void> body = build(b);
  b.FinishSizePrefixed(wire::CreateMessage(b, 5, type, body), wire::MessageIdentifier());
  const auto* data = reinterpret_cast<const std::byte*>(b.GetBufferPointer());
  return Frame(data, data + b.GetSize());
}

Frame error_reply(wire::ErrorCode code, uint64_t actual_version, wire::DomainError domain) {
  return reply(wire::Body::Error, [&](flatbuffers::FlatBufferBuilder& b) {
    return wire::CreateErrorDirect(b, code, "refused", actual_version, domain).Union();
  });
}

TEST(Codec, AppendFrameCarriesStreamExpectedVersionAndEvents) {
  NewEvent event;
  event.type = "OrderCreated";
  event.schema_version = 2;
  event.payload = "{}";
  event.tags = {{"k", "v"}};
  event.correlation_id = Uuid::generate();
  Frame frame = encode(AppendRequest{"order-1", ExpectedVersion::exact(3), {event, event}});
  const wire::Message* message = verified(frame);
  ASSERT_NE(message, nullptr);
  EXPECT_EQ(message->request_id(), kRequestIdPlaceholder);
  const auto* append = message->body_as_Append();
  ASSERT_NE(append, nullptr);
  const auto* stream = append->streams()->Get(0);
  EXPECT_EQ(stream->stream_id()->str(), "order-1");
  EXPECT_EQ(stream->expected_kind(), wire::ExpectedKind::Exact);
  EXPECT_EQ(stream->expected_version(), 3u);
  ASSERT_EQ(stream->events()->size(), 2u);
  const auto* first = stream->events()->Get(0);
  EXPECT_EQ(first->type()->str(), "OrderCreated");
  EXPECT_EQ(first->schema_version(), 2);
  EXPECT_EQ(first->tags()->Get(0)->value()->str(), "v");
  EXPECT_NE(first->correlation_id(), nullptr);
  EXPECT_EQ(first->causation_id(), nullptr);  // nil ids are left out
}

TEST(Codec, NilEventIdsAreReplacedByDistinctUuidV7s) {
  NewEvent event;
  event.type = "t";
  Frame frame = encode(AppendRequest{"s", ExpectedVersion::any(), {event, event}});
  const auto* events = verified(frame)->body_as_Append()->streams()->Get(0)->events();
  const auto* a = events->Get(0)->id()->bytes();
  const auto* b = events->Get(1)->id()->bytes();
  EXPECT_EQ(a->Get(6) >> 4, 7);
  EXPECT_FALSE(std::equal(a->begin(), a->end(), b->begin()));
}

TEST(Codec, GivenCommandIdIsSentUnchanged) {
  const Uuid id = Uuid::generate();
  CommandOptions options;
  options.command_id = id;
  Frame frame = encode(CommandRequest{ConfirmOrder{"o-1"}, options});
  const auto* execute = verified(frame)->body_as_ExecuteCommand();
  ASSERT_NE(execute, nullptr);
  EXPECT_TRUE(std::equal(id.bytes.begin(), id.bytes.end(), execute->command_id()->bytes()->begin()));
  EXPECT_EQ(execute->command_as_ConfirmOrder()->order_id()->str(), "o-1");
}

TEST(Codec, CreateOrderCarriesItsLines) {
  CreateOrder create{"o-1", "c-1", "EUR", {{"sku-1", 2, 1999}, {"sku-2", 1, 500}}};
  Frame frame = encode(CommandRequest{create, {}});
  const auto* body = verified(frame)->body_as_ExecuteCommand()->command_as_CreateOrder();
  ASSERT_NE(body, nullptr);
  EXPECT_EQ(body->currency()->str(), "EUR");
  ASSERT_EQ(body->lines()->size(), 2u);
  EXPECT_EQ(body->lines()->Get(0)->unit_price_minor(), 1999);
}

TEST(Codec, QueryCarriesMinPositionAndWait) {
  Frame frame = encode(StatusCountQuery{OrderStatus::Shipped, {42, 250}});
  const auto* query = verified(frame)->body_as_Query();
  ASSERT_NE(query, nullptr);
  EXPECT_EQ(query->min_position(), 42u);
  EXPECT_EQ(query->timeout_ms(), 250u);
  EXPECT_EQ(query->query_as_StatusCountQuery()->status(), wire::OrderStatus::Shipped);
}

TEST(Codec, SetRequestIdRewritesTheFrameInPlace) {
  Frame frame = encode(PingRequest{9});
  const size_t size = frame.size();
  set_request_id(frame, 12345);
  EXPECT_EQ(frame.size(), size);
  EXPECT_EQ(verified(frame)->request_id(), 12345u);
  EXPECT_EQ(verified(frame)->body_as_Ping()->payload(), 9u);
}

TEST(Codec, WrongExpectedVersionDecodesWithActualVersion) {
  Frame frame = error_reply(wire::ErrorCode::WrongExpectedVersion, 7, wire::DomainError::InvalidArgument);
  Result<AppendResult> result = decode<AppendResult>(*verified(frame));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::WrongExpectedVersion);
  EXPECT_EQ(result.error().actual_version, 7u);
  EXPECT_EQ(result.error().message, "refused");
}

// A code from a newer server (also in SubscriptionEnded) is Internal, never an
// ErrorCode value this client has no name for.
TEST(Codec, AnUnknownErrorCodeIsInternalAndNamed) {
  const Error unknown = error_with_code(static_cast<wire::ErrorCode>(999), "new trouble");
  EXPECT_EQ(unknown.code, ErrorCode::Internal);
  EXPECT_EQ(unknown.message, "unknown error code 999: new trouble");
  const Error known = error_with_code(wire::ErrorCode::Unavailable, "restarting");
  EXPECT_EQ(known.code, ErrorCode::Unavailable);
  EXPECT_EQ(known.message, "restarting");
}

TEST(Codec, DomainRuleDecodesWithItsRule) {
  Frame frame = error_reply(wire::ErrorCode::DomainRule, 0, wire::DomainError::InvalidTransition);
  Result<CommandResult> result = decode<CommandResult>(*verified(frame));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::DomainRule);
  EXPECT_EQ(result.error().domain_error, DomainErrorCode::InvalidTransition);
  EXPECT_NE(result.error().to_string().find("InvalidTransition"), std::string::npos);
}

TEST(Codec, ReplyWithTheWrongBodyIsAProtocolError) {
  Frame frame = reply(wire::Body::Pong, [](auto& b) { return wire::CreatePong(b, 1, 2).Union(); });
  Result<AppendResult> result = decode<AppendResult>(*verified(frame));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::ProtocolError);
}

TEST(Codec, ReadOkDecodesOwnedEvents) {
  Frame frame = reply(wire::Body::ReadOk, [](flatbuffers::FlatBufferBuilder& b) {
    const wire::Uuid id;
    std::vector<uint8_t> payload{'h', 'i'};
    auto event = wire::CreateEventDirect(b, 17, "order-1", 2, 1000, "ItemAdded", 1, &id, nullptr, nullptr, &payload);
    std::vector<flatbuffers::Offset<wire::Event>> events{event};
    return wire::CreateReadOkDirect(b, &events, 3, true).Union();
  });
  Result<ReadPage> page = decode<ReadPage>(*verified(frame));
  ASSERT_TRUE(page.ok()) << page.error().to_string();
  ASSERT_EQ(page->events.size(), 1u);
  EXPECT_EQ(page->events[0].position, 17u);
  EXPECT_EQ(page->events[0].stream_id, "order-1");
  EXPECT_EQ(page->events[0].payload, "hi");
  EXPECT_EQ(page->next, 3u);
  EXPECT_TRUE(page->end);
}

}  // namespace
}  // namespace orderlog::client::detail
