// Decoders of replies (codec.h). Every reply may be an Error instead of the expected
// body; anything else is a ProtocolError.
#include "codec.h"
#include "orderlog/fb/protocol_generated.h"

namespace orderlog::client::detail {
namespace {

std::string text(const flatbuffers::String* s) { return s == nullptr ? std::string() : s->str(); }

Uuid from_wire(const wire::Uuid* id) {
  Uuid out;
  if (id != nullptr) std::copy(id->bytes()->begin(), id->bytes()->end(), out.bytes.begin());
  return out;
}

template <typename Body>
Result<const Body*> body_of(const wire::Message& message) {
  if (const auto* error = message.body_as_Error()) return to_error(*error);
  if (const auto* body = message.body_as<Body>()) return body;
  return protocol_error(std::string("unexpected reply ") + wire::EnumNameBody(message.body_type()) +
                        ", wanted " + wire::EnumNameBody(wire::BodyTraits<Body>::enum_value));
}

template <typename Result_>
Result<const Result_*> query_result_of(const wire::Message& message) {
  auto ok = body_of<wire::QueryOk>(message);
  if (!ok) return ok.error();
  if (const auto* result = (*ok)->result_as<Result_>()) return result;
  return protocol_error(std::string("unexpected query result ") + wire::EnumNameQueryResult((*ok)->result_type()));
}

std::vector<OrderLine> to_lines(const flatbuffers::Vector<flatbuffers::Offset<wire::OrderLine>>* lines) {
  std::vector<OrderLine> out;
  if (lines == nullptr) return out;
  out.reserve(lines->size());
  for (const auto* line : *lines) out.push_back({text(line->sku()), line->quantity(), line->unit_price_minor()});
  return out;
}

OrderState to_state(const wire::OrderState* state) {
  OrderState out;
  if (state == nullptr) return out;
  out.order_id = text(state->order_id());
  out.customer_id = text(state->customer_id());
  out.currency = text(state->currency());
  out.status = static_cast<OrderStatus>(state->status());
  out.lines = to_lines(state->lines());
  out.total_minor = state->total_minor();
  out.cancel_reason = text(state->cancel_reason());
  out.carrier = text(state->carrier());
  out.tracking_number = text(state->tracking_number());
  out.version = state->version();
  return out;
}

std::vector<ProjectionProgress> to_progress(
    const flatbuffers::Vector<flatbuffers::Offset<wire::ProjectionProgress>>* list) {
  std::vector<ProjectionProgress> out;
  if (list == nullptr) return out;
  for (const auto* p : *list) out.push_back({text(p->name()), p->checkpoint(), p->head(), p->lag(), text(p->failure())});
  return out;
}

OrderPage to_page(const wire::OrderPageResult& page) {
  OrderPage out;
  if (page.orders() != nullptr) {
    for (const auto* entry : *page.orders()) {
      out.orders.push_back({text(entry->order_id()), static_cast<OrderStatus>(entry->status()), entry->position()});
    }
  }
  out.next_cursor = page.next_cursor();
  out.end = page.end();
  return out;
}

}  // namespace

Error protocol_error(std::string message) { return Error{ErrorCode::ProtocolError, std::move(message), 0, {}}; }

Error error_with_code(wire::ErrorCode wire_code, std::string message) {
  Error out;
  const auto code = static_cast<uint16_t>(wire_code);
  const bool known = code >= 1 && code <= static_cast<uint16_t>(ErrorCode::Unavailable);
  out.code = known ? static_cast<ErrorCode>(code) : ErrorCode::Internal;
  out.message = known ? std::move(message) : "unknown error code " + std::to_string(code) + ": " + message;
  return out;
}

Error to_error(const wire::Error& error) {
  Error out = error_with_code(error.code(), text(error.message()));
  out.actual_version = error.actual_version();
  out.domain_error = static_cast<DomainErrorCode>(error.domain_error());
  return out;
}

Event to_event(const wire::Event& event) {
  Event out;
  out.position = event.position();
  out.stream_id = text(event.stream_id());
  out.version = event.version();
  out.timestamp_ns = event.timestamp_ns();
  out.type = text(event.type());
  out.schema_version = event.schema_version();
  out.id = from_wire(event.id());
  out.correlation_id = from_wire(event.correlation_id());
  out.causation_id = from_wire(event.causation_id());
  if (const auto* payload = event.payload()) out.payload.assign(payload->begin(), payload->end());
  if (const auto* tags = event.tags()) {
    for (const auto* tag : *tags) out.tags.push_back({text(tag->key()), text(tag->value())});
  }
  return out;
}

ServerInfo to_server_info(const wire::HelloOk& hello) {
  return ServerInfo{hello.protocol_version(),      text(hello.server_version()),   text(hello.tenant()),
                    hello.frame_bytes_max(),       hello.inflight_requests_max(), hello.events_per_append_max(),
                    hello.read_count_max()};
}

template <>
Result<AppendResult> decode(const wire::Message& message) {
  auto ok = body_of<wire::AppendOk>(message);
  if (!ok) return ok.error();
  AppendResult out{(*ok)->first_position(), (*ok)->last_position(), {}, (*ok)->deduplicated()};
  if (const auto* versions = (*ok)->stream_versions()) out.stream_versions.assign(versions->begin(), versions->end());
  return out;
}

template <>
Result<ReadPage> decode(const wire::Message& message) {
  auto ok = body_of<wire::ReadOk>(message);
  if (!ok) return ok.error();
  ReadPage page;
  if (const auto* events = (*ok)->events()) {
    page.events.reserve(events->size());
    for (const auto* event : *events) page.events.push_back(to_event(*event));
  }
  page.next = (*ok)->next();
  page.end = (*ok)->end();
  return page;
}

template <>
Result<CommandResult> decode(const wire::Message& message) {
  auto ok = body_of<wire::CommandOk>(message);
  if (!ok) return ok.error();
  CommandResult out;
  out.state = to_state((*ok)->state());
  if (const auto* types = (*ok)->event_types()) {
    for (const auto* type : *types) out.event_types.push_back(type->str());
  }
  out.first_position = (*ok)->first_position();
  out.last_position = (*ok)->last_position();
  out.duplicate = (*ok)->duplicate();
  return out;
}

template <>
Result<OrderSummary> decode(const wire::Message& message) {
  auto result = query_result_of<wire::OrderSummaryResult>(message);
  if (!result) return result.error();
  const wire::OrderSummary& s = *(*result)->summary();
  return OrderSummary{text(s.order_id()),  text(s.customer_id()),     text(s.currency()),
                      static_cast<OrderStatus>(s.status()), to_lines(s.lines()), s.total_minor(),
                      s.created_ns(),      s.confirmed_ns(),          s.shipped_ns(),
                      s.delivered_ns(),    s.cancelled_ns(),          text(s.cancel_reason()),
                      text(s.carrier()),   text(s.tracking_number()), s.version(),
                      s.last_position()};
}

template <>
Result<OrderPage> decode(const wire::Message& message) {
  auto result = query_result_of<wire::OrderPageResult>(message);
  if (!result) return result.error();
  return to_page(**result);
}

template <>
Result<uint64_t> decode(const wire::Message& message) {
  auto result = query_result_of<wire::CountResult>(message);
  if (!result) return result.error();
  return (*result)->count();
}

template <>
Result<RevenuePage> decode(const wire::Message& message) {
  auto result = query_result_of<wire::RevenuePageResult>(message);
  if (!result) return result.error();
  RevenuePage page;
  if (const auto* buckets = (*result)->buckets()) {
    for (const auto* b : *buckets) {
      page.buckets.push_back({b->from_ns(), b->to_ns(), b->confirmed_minor(), b->cancelled_minor(),
                              b->delivered_minor(), b->orders_created(), b->orders_confirmed(),
                              b->orders_cancelled(), b->orders_delivered(), b->saturated()});
    }
  }
  page.next_from_ns = (*result)->next_from_ns();
  page.end = (*result)->end();
  return page;
}

template <>
Result<std::vector<std::string>> decode(const wire::Message& message) {
  auto result = query_result_of<wire::CurrenciesResult>(message);
  if (!result) return result.error();
  std::vector<std::string> out;
  if (const auto* list = (*result)->currencies()) {
    for (const auto* currency : *list) out.push_back(currency->str());
  }
  return out;
}

template <>
Result<std::vector<HistoryEntry>> decode(const wire::Message& message) {
  auto result = query_result_of<wire::HistoryResult>(message);
  if (!result) return result.error();
  std::vector<HistoryEntry> out;
  if (const auto* entries = (*result)->entries()) {
    for (const auto* e : *entries) {
      out.push_back({e->position(), e->version(), e->timestamp_ns(), text(e->event_type()), to_state(e->state_after())});
    }
  }
  return out;
}

template <>
Result<std::vector<ProjectionProgress>> decode(const wire::Message& message) {
  auto result = query_result_of<wire::ProjectionsResult>(message);
  if (!result) return result.error();
  return to_progress((*result)->projections());
}

template <>
Result<OrderState> decode(const wire::Message& message) {
  auto ok = body_of<wire::OrderAtOk>(message);
  if (!ok) return ok.error();
  return to_state((*ok)->state());
}

template <>
Result<Stats> decode(const wire::Message& message) {
  auto ok = body_of<wire::StatsOk>(message);
  if (!ok) return ok.error();
  const wire::StatsOk& s = **ok;
  return Stats{s.committed_position(), s.segments(),      s.streams(),       s.appends(),
               s.events_appended(),    s.batches(),       s.syncs(),         s.bytes_written(),
               s.connections(),        text(s.writer_error()), to_progress(s.projections())};
}

template <>
Result<Pong> decode(const wire::Message& message) {
  auto ok = body_of<wire::Pong>(message);
  if (!ok) return ok.error();
  return Pong{(*ok)->payload(), (*ok)->server_time_ns()};
}

template <>
Result<Done> decode(const wire::Message& message) {
  auto ok = body_of<wire::Ok>(message);
  if (!ok) return ok.error();
  return Done{};
}

}  // namespace orderlog::client::detail
