// Session's subscriptions (see session.h and subscription.h): Subscribe, Credit and
// Unsubscribe, and the pump that moves each subscription's cursor when credit
// arrives, when the committed head advances and when the write queue drains.
#include "server/session.h"

#include <asio/post.hpp>

#include <cstdint>
#include <string>

#include "orderlog/event.h"
#include "server/dispatcher.h"

namespace orderlog::server {
namespace {

constexpr size_t kEventTypesMax = 64;

}  // namespace

Reply Session::subscribe(const wire::Message& message) {
  const uint64_t id = message.request_id();
  const wire::Subscribe& request = *message.body_as_Subscribe();
  if (request.stream_prefix() != nullptr && request.stream_prefix()->size() > kStreamIdBytesMax) {
    return error_reply(id, wire::ErrorCode::TooLarge, "stream_prefix is longer than a stream id (256 bytes)");
  }
  // Positions start at 1, so the largest one is never reached; the cursor after it
  // would wrap to 0 and deliver the whole log.
  if (!request.from_live_end() && request.after_position() == UINT64_MAX) {
    return error_reply(id, wire::ErrorCode::BadRequest, "after_position must be below 2^64 - 1");
  }
  SubscriptionFilter filter;
  if (request.stream_prefix() != nullptr) filter.stream_prefix = request.stream_prefix()->str();
  if (!tenant_->may_read_prefix(filter.stream_prefix)) {
    return error_reply(id, wire::ErrorCode::Forbidden, "tenant may not read streams '" + filter.stream_prefix + "*'");
  }
  if (!tenant_->admit(1)) return error_reply(id, wire::ErrorCode::Busy, "tenant is over its rate limit");
  if (subscriptions_.contains(id)) {
    return error_reply(id, wire::ErrorCode::BadRequest, "a subscription with this request id is active");
  }
  if (subscriptions_.size() >= services_.config->subscriptions_per_connection_max) {
    return error_reply(id, wire::ErrorCode::Busy, "subscriptions_per_connection_max reached");
  }
  if (request.event_types() != nullptr) {
    if (request.event_types()->size() > kEventTypesMax) {
      return error_reply(id, wire::ErrorCode::TooLarge, "at most 64 event types per subscription");
    }
    for (const flatbuffers::String* type : *request.event_types()) {
      if (type->size() > kEventTypeBytesMax) {
        return error_reply(id, wire::ErrorCode::TooLarge, "an event type is longer than 128 bytes");
      }
      filter.event_types.push_back(type->str());
    }
  }
  const GlobalPosition head = services_.store->committed_position();
  const GlobalPosition start_after = request.from_live_end() ? head : GlobalPosition{request.after_position()};
  subscriptions_.emplace(id, std::make_unique<Subscription>(id, std::move(filter), start_after, request.initial_credit()));
  pump_next_ = id;  // a new subscription has the next turn: the others may have long backlogs
  services_.metrics->add_subscriptions(1);
  if (notifier_handle_ == 0) {
    // The notifier thread only posts: the pump itself runs on this strand, once per
    // burst of commits however many arrive before it runs.
    std::weak_ptr<Session> weak = weak_from_this();
    notifier_handle_ = services_.notifier->add([weak] {
      if (auto self = weak.lock()) self->on_commit();
    });
  }
  flatbuffers::FlatBufferBuilder builder(64);
  const auto ok = wire::CreateSubscribeOk(builder, start_after.value, head.value);
  return finish_reply(builder, id, wire::Body::SubscribeOk, ok.Union());
}

void Session::on_commit() {
  if (commit_wake_pending_.exchange(true)) return;
  asio::post(strand_, [self = shared_from_this()] {
    self->commit_wake_pending_.store(false);
    self->pump_subscriptions();
  });
}

void Session::handle_credit(const wire::Credit& credit) {
  // Credit for a subscription that just ended is not an error: the two crossed.
  const auto found = subscriptions_.find(credit.subscription());
  if (found == subscriptions_.end()) return;
  found->second->add_credit(credit.credit());
  pump_subscriptions();
}

Reply Session::unsubscribe(uint64_t request_id, const wire::Unsubscribe& request) {
  const auto found = subscriptions_.find(request.subscription());
  if (found == subscriptions_.end()) {
    return error_reply(request_id, wire::ErrorCode::NotFound,
                       "no active subscription " + std::to_string(request.subscription()));
  }
  queue_frame(std::move(subscription_ended(found->first, wire::ErrorCode::None, "unsubscribed").frame));
  subscriptions_.erase(found);
  services_.metrics->add_subscriptions(-1);
  flatbuffers::FlatBufferBuilder builder(32);
  return finish_reply(builder, request_id, wire::Body::Ok, wire::CreateOk(builder).Union());
}

void Session::pump_subscriptions() {
  if (state_ != State::kReady) return;
  PumpLimits limits;
  limits.batch_events_max = services_.config->read_count_max;
  limits.event_bytes_max = event_bytes_budget(services_.config->frame_bytes_max);
  bool more = false;
  // Round-robin from where the last turn stopped: a turn that reaches the high-water
  // mark resumes with the next subscription, so one with a large backlog (a frame per
  // page can pass the mark on its own) cannot hold the connection's others back.
  auto it = subscriptions_.lower_bound(pump_next_);
  for (size_t left = subscriptions_.size(); left > 0 && !subscriptions_.empty(); --left) {
    if (it == subscriptions_.end()) it = subscriptions_.begin();
    // A client that does not read its socket stops its own feed; on_write re-pumps.
    if (queued_bytes_ >= kWriteHighWaterBytes) {
      pump_next_ = it->first;
      return;
    }
    std::vector<Reply> out;
    Result<bool> pumped = it->second->pump(*services_.store, limits, &out);
    for (Reply& reply : out) queue_frame(std::move(reply.frame));
    if (!pumped.is_ok()) {
      queue_frame(std::move(subscription_ended(it->first, error_code_for(pumped.status().code()),
                                               pumped.status().message()).frame));
      it = subscriptions_.erase(it);
      services_.metrics->add_subscriptions(-1);
      continue;
    }
    more = more || *pumped;
    ++it;
  }
  pump_next_ = it == subscriptions_.end() ? 0 : it->first;
  // One page per subscription per turn, then yield the io thread to other sessions.
  if (more && !pump_posted_) {
    pump_posted_ = true;
    asio::post(strand_, [self = shared_from_this()] {
      self->pump_posted_ = false;
      self->pump_subscriptions();
    });
  }
}

void Session::end_subscriptions(wire::ErrorCode code, std::string_view message, bool send_ended) {
  for (auto& [id, subscription] : subscriptions_) {
    if (send_ended && state_ != State::kClosed) queue_frame(std::move(subscription_ended(id, code, message).frame));
  }
  services_.metrics->add_subscriptions(-static_cast<int64_t>(subscriptions_.size()));
  subscriptions_.clear();
  if (notifier_handle_ != 0) {
    services_.notifier->remove(notifier_handle_);
    notifier_handle_ = 0;
  }
}

}  // namespace orderlog::server
