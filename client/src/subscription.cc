// Subscription (subscription.h): one stream request on its own Channel. Events are
// handed to the handler on the channel's io thread; credit is granted back as they
// are handled; a lost connection is followed by a resubscribe after the last
// delivered position, spaced by a jittered backoff.
#include "orderlog/client/subscription.h"

#include <atomic>
#include <future>
#include <mutex>
#include <optional>

#include "backoff.h"
#include "channel.h"
#include "check.h"
#include "client_impl.h"
#include "orderlog/fb/protocol_generated.h"

namespace orderlog::client {
namespace {

constexpr uint32_t kCreditWindowDefault = 1024;

bool worth_resubscribing(const Error& error) {
  return error.retryable();  // transport trouble, Busy, Unavailable (server restarting)
}

Error stopped() { return Error{ErrorCode::Closed, "the subscription was stopped", 0, {}}; }

}  // namespace

class Subscription::Impl {
 public:
  Impl(const ClientOptions& client_options, const SubscribeOptions& options, EventHandler on_event,
       StateHandler on_state)
      : client_options_(client_options),
        options_(options),
        on_event_(std::move(on_event)),
        on_state_(std::move(on_state)),
        last_position_(options.from_live_end ? 0 : options.after_position),
        backoff_(client_options.reconnect_backoff_min, client_options.reconnect_backoff_max) {
    if (options_.credit_window == 0) options_.credit_window = kCreditWindowDefault;
  }

  // Connects and subscribes; returns once the server accepted or refused.
  Result<Done> start() {
    auto channel = detail::Channel::open(client_options_);
    if (!channel) return channel.error();
    channel_ = std::move(channel).value();
    std::future<std::optional<Error>> started = started_.get_future();
    // On the io thread, so request_id_ is set before any reply can be handled.
    channel_->post_after(std::chrono::milliseconds(0), [this] { subscribe(); });
    if (std::optional<Error> error = started.get()) {
      channel_->shutdown();
      return *error;
    }
    return Done{};
  }

  void stop() {
    stopping_ = true;
    // From a callback on the io thread (a handler of this subscription, or any
    // callback of a shared EventLoop), before the lock: another thread's stop() may
    // hold it while it waits for this very thread (the channel is set before any
    // handler can run, and never reset).
    if (channel_ && channel_->on_io_thread()) {
      stop_on_io_thread();
      return;
    }
    std::lock_guard lock(stop_mutex_);
    if (!channel_ || channel_closed_) return;
    end_if_waiting_on_io_thread();
    channel_->shutdown();  // fails an outstanding request with Closed, then joins the io thread
    channel_closed_ = true;
  }

  // Stops, and on the io thread (a callback of a shared EventLoop) closes the channel
  // right there: nothing of this subscription may run once its destructor returns.
  void close() {
    if (!channel_->on_io_thread()) {
      stop();
      return;
    }
    // Its handler is on the stack: closing would free what runs it (subscription.h).
    OLC_CHECK(!in_handler_ && "a Subscription destroyed from its own handler");
    stopping_ = true;
    if (!outstanding_) end(stopped());
    channel_->shutdown();  // on a shared loop's thread: closes now, reporting Ended if a request was out
  }

  uint64_t last_position() const { return last_position_.load(std::memory_order_acquire); }
  bool active() const { return !ended_.load(std::memory_order_acquire); }

 private:
  // io thread only from here on.

  // A request can only end through fail(), which reports Ended when stopping; with none
  // outstanding (waiting to resubscribe) the stop has to report it itself.
  void stop_on_io_thread() {
    if (outstanding_) {
      channel_->disconnect();  // the request fails, and fail() reports Ended
      return;
    }
    // In this subscription's own Disconnected handler, fail() ends it when the
    // handler returns (a handler is never re-entered).
    if (!in_handler_) end(stopped());
  }

  // From another thread, before the channel closes. Waits for the io thread; if the
  // channel dropped the task instead, so did it the promise, which ends the wait too.
  void end_if_waiting_on_io_thread() {
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> finished = done->get_future();
    channel_->post_after(std::chrono::milliseconds(0), [this, done = std::move(done)] {
      if (!outstanding_) end(stopped());
      done->set_value();
    });
    finished.wait();
  }

  void subscribe() {
    if (stopping_) return;  // stop() has reported Ended (or will: see stop_on_io_thread())
    const bool live_end = options_.from_live_end && !subscribed_once_;
    detail::Frame frame = detail::encode_subscribe(options_, last_position(), live_end);
    unacknowledged_ = 0;
    outstanding_ = true;  // before submit(): on a closed channel it fails the request at once
    request_id_ = channel_->submit(
        std::move(frame), [this](const wire::Message* message, const Error* error) { return on_reply(message, error); },
        detail::SubmitOptions{.stream = true, .retry = false});
  }

  bool on_reply(const wire::Message* message, const Error* error) {
    if (error != nullptr) return fail(*error);
    if (stopping_) {
      // Stopped while the request waited for a connection: the server must stop too.
      channel_->disconnect();
      return fail(stopped());
    }
    switch (message->body_type()) {
      case wire::Body::SubscribeOk: return on_subscribed(*message->body_as_SubscribeOk());
      case wire::Body::SubscriptionEvents: return on_events(*message->body_as_SubscriptionEvents());
      case wire::Body::SubscriptionCaughtUp:
        // Not a reason to reset the backoff: orderlogd sends it right after SubscribeOk
        // when the subscription starts at the head, before anything was delivered.
        notify({SubscriptionState::CaughtUp, message->body_as_SubscriptionCaughtUp()->position(), {}});
        return true;
      case wire::Body::SubscriptionEnded: {
        const auto* ended = message->body_as_SubscriptionEnded();
        std::string why = ended->message() ? ended->message()->str() : "the server ended the subscription";
        Error reason = ended->code() == wire::ErrorCode::None ? Error{ErrorCode::Closed, std::move(why), 0, {}}
                                                              : detail::error_with_code(ended->code(), std::move(why));
        return fail(reason);
      }
      case wire::Body::Error: return fail(detail::to_error(*message->body_as_Error()));
      default:
        channel_->disconnect();
        return fail(detail::protocol_error(std::string("unexpected frame in a subscription: ") +
                                           wire::EnumNameBody(message->body_type())));
    }
  }

  bool on_subscribed(const wire::SubscribeOk& ok) {
    if (!subscribed_once_ && options_.from_live_end) last_position_.store(ok.start_after(), std::memory_order_release);
    if (!subscribed_once_) {
      subscribed_once_ = true;
      started_.set_value(std::nullopt);
    } else {
      notify({SubscriptionState::Reconnected, last_position(), {}});
    }
    connected_ = true;
    return true;
  }

  bool on_events(const wire::SubscriptionEvents& batch) {
    for (const wire::Event* event : *batch.events()) {
      // Ends the stream, so fail() is where Ended is reported (once).
      if (stopping_) return fail(stopped());
      // At-least-once is the contract; skipping what was delivered before a resume
      // makes it exactly-once in practice.
      if (event->position() > last_position()) {
        // The stream delivers: the next loss starts from the shortest delay again.
        backoff_.reset();
        in_handler_ = true;
        on_event_(detail::to_event(*event));
        in_handler_ = false;
        last_position_.store(event->position(), std::memory_order_release);
      }
      ++unacknowledged_;
    }
    if (unacknowledged_ >= std::max<uint32_t>(1, options_.credit_window / 2)) {
      channel_->send_oneway(detail::encode_credit(request_id_, unacknowledged_));
      unacknowledged_ = 0;
    }
    return true;
  }

  // The request is over: resubscribe later, or end for good. Always returns false.
  bool fail(const Error& error) {
    outstanding_ = false;
    if (!subscribed_once_) {
      ended_.store(true, std::memory_order_release);
      started_.set_value(error);
      return false;
    }
    if (stopping_ || !worth_resubscribing(error)) {
      end(stopping_ ? stopped() : error);
      return false;
    }
    if (error.code == ErrorCode::Timeout) channel_->disconnect();  // a late SubscribeOk must not linger
    if (connected_) notify({SubscriptionState::Disconnected, last_position(), error});
    connected_ = false;
    // The Disconnected handler may have stopped it: then no request is left to fail.
    if (stopping_) {
      end(stopped());
      return false;
    }
    channel_->post_after(backoff_.next(), [this] { subscribe(); });
    return false;
  }

  // Reports Ended, once whichever path gets here first.
  void end(Error reason) {
    if (ended_.exchange(true, std::memory_order_acq_rel)) return;
    notify({SubscriptionState::Ended, last_position(), std::move(reason)});
  }

  void notify(const SubscriptionStatus& status) {
    if (!on_state_) return;
    in_handler_ = true;
    on_state_(status);
    in_handler_ = false;
  }

  const ClientOptions client_options_;
  SubscribeOptions options_;
  EventHandler on_event_;
  StateHandler on_state_;
  std::unique_ptr<detail::Channel> channel_;  // shut down under stop_mutex_ (or by close())
  std::mutex stop_mutex_;
  bool channel_closed_ = false;  // under stop_mutex_
  std::atomic<uint64_t> last_position_;
  std::atomic<bool> ended_{false};
  std::atomic<bool> stopping_{false};
  std::promise<std::optional<Error>> started_;

  // io thread only.
  detail::Backoff backoff_;
  uint64_t request_id_ = 0;
  uint32_t unacknowledged_ = 0;  // events received since the last Credit
  bool subscribed_once_ = false;
  bool connected_ = false;
  bool outstanding_ = false;  // a Subscribe is in the channel: fail() will be called for it
  bool in_handler_ = false;   // a handler of this subscription is running
};

Subscription::Subscription(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Subscription::~Subscription() { impl_->close(); }
void Subscription::stop() { impl_->stop(); }
uint64_t Subscription::last_position() const { return impl_->last_position(); }
bool Subscription::active() const { return impl_->active(); }

Result<std::unique_ptr<Subscription>> Client::subscribe(const SubscribeOptions& options, EventHandler on_event,
                                                        StateHandler on_state) {
  if (!on_event) return Error{ErrorCode::InvalidArgument, "subscribe needs an event handler", 0, {}};
  auto impl = std::make_unique<Subscription::Impl>(impl_->options, options, std::move(on_event), std::move(on_state));
  Result<Done> started = impl->start();
  if (!started) return started.error();
  return std::make_unique<Subscription>(std::move(impl));
}

}  // namespace orderlog::client
