// Channel: requests, timeouts and lifetime (channel.h). The socket side is in
// channel_io.cc.
#include <algorithm>
#include <future>
#include <list>
#include <optional>

#include "channel_impl.h"
#include "check.h"

namespace orderlog::client::detail {
namespace {

std::chrono::milliseconds sweep_interval(std::chrono::milliseconds request_timeout) {
  return std::clamp(request_timeout / 8, std::chrono::milliseconds(5), std::chrono::milliseconds(250));
}

}  // namespace

Channel::Impl::Impl(const ClientOptions& options, EventLoop::Impl& loop)
    : options_(options),
      loop_(loop),
      io_(loop.io),
      sweep_timer_(io_),
      reconnect_timer_(io_),
      inflight_limit_(std::max<size_t>(options.inflight_max, 1)),
      backoff_(options.reconnect_backoff_min, options.reconnect_backoff_max) {}

void Channel::Impl::start_sweeping() {
  sweep_timer_.expires_after(sweep_interval(options_.request_timeout));
  sweep_timer_.async_wait([this, self = shared_from_this()](std::error_code error) {
    // close() cancels the timer, but a wait that had already expired still runs its
    // handler without an error: re-arming then would keep run() from ever returning.
    if (error || closed_) return;
    sweep_timeouts();
    start_sweeping();
  });
}

uint64_t Channel::Impl::submit(Frame frame, ReplyHandler handler, SubmitOptions submit_options) {
  const Clock::time_point deadline = Clock::now() + options_.request_timeout;
  std::unique_lock lock(mutex_);
  // Bound memory: a caller beyond the in-flight limit waits (the io thread cannot:
  // it is the one that frees slots).
  if (!on_io_thread()) {
    ++slot_waiters_;
    const bool admitted = slot_freed_.wait_until(lock, deadline, [this] {
      return state_ == LinkState::Closed || queued_.size() + sent_.size() < inflight_limit_;
    });
    --slot_waiters_;
    if (!admitted) {
      lock.unlock();
      const Error error{ErrorCode::Timeout, "no request slot became free within request_timeout", 0, {}};
      handler(nullptr, &error);
      return 0;
    }
  }
  if (state_ == LinkState::Closed) {
    lock.unlock();
    const Error error{ErrorCode::Closed, "the client is closed", 0, {}};
    handler(nullptr, &error);
    return 0;
  }
  Op op;
  op.request_id = next_request_id_++;
  set_request_id(frame, op.request_id);
  op.frame = std::move(frame);
  op.handler = std::move(handler);
  op.deadline = deadline;
  op.stream = submit_options.stream;
  op.attempts_left = submit_options.retry && !submit_options.stream ? options_.retries_max : 0;
  const uint64_t request_id = op.request_id;
  queued_.push_back(std::move(op));
  const bool flush_now = state_ == LinkState::Ready && !writing_;
  const bool connect_now = state_ == LinkState::Idle;
  if (flush_now) writing_ = true;
  if (connect_now) state_ = LinkState::Connecting;
  lock.unlock();
  if (flush_now) asio::post(io_, [this, self = shared_from_this()] { flush(); });
  if (connect_now) asio::post(io_, [this, self = shared_from_this()] { request_connect(); });
  return request_id;
}

void Channel::Impl::send_oneway(Frame frame) {
  std::unique_lock lock(mutex_);
  if (state_ != LinkState::Ready) return;  // only meaningful on the current connection
  set_request_id(frame, next_request_id_++);
  oneway_.push_back(std::move(frame));
  if (writing_) return;
  writing_ = true;
  lock.unlock();
  asio::post(io_, [this, self = shared_from_this()] { flush(); });
}

void Channel::Impl::complete(uint64_t request_id, const wire::Message& message) {
  std::unique_lock lock(mutex_);
  auto it = sent_.find(request_id);
  if (it == sent_.end()) return;  // timed out (or never ours): a late reply is dropped
  if (!it->second.stream) {
    Op op = std::move(it->second);
    sent_.erase(it);
    if (slot_waiters_ > 0) slot_freed_.notify_all();
    lock.unlock();
    op.handler(&message, nullptr);
    return;
  }
  it->second.answered = true;
  // Only the io thread (this one) erases from sent_, and node references survive
  // rehashing, so the handler may run without the lock.
  ReplyHandler& handler = it->second.handler;
  lock.unlock();
  if (handler(&message, nullptr)) return;
  lock.lock();
  sent_.erase(request_id);
  if (slot_waiters_ > 0) slot_freed_.notify_all();
}

void Channel::Impl::sweep_timeouts() {
  std::vector<Op> expired;
  {
    std::lock_guard lock(mutex_);
    const Clock::time_point now = Clock::now();
    auto is_expired = [now](const Op& op) { return !op.answered && op.deadline <= now; };
    for (auto it = queued_.begin(); it != queued_.end();) {
      if (!is_expired(*it)) {
        ++it;
        continue;
      }
      expired.push_back(std::move(*it));
      it = queued_.erase(it);
    }
    for (auto it = sent_.begin(); it != sent_.end();) {
      if (!is_expired(it->second)) {
        ++it;
        continue;
      }
      expired.push_back(std::move(it->second));
      it = sent_.erase(it);
    }
    if (!expired.empty() && slot_waiters_ > 0) slot_freed_.notify_all();
  }
  const Error error{ErrorCode::Timeout,
                    "no response within " + std::to_string(options_.request_timeout.count()) + " ms", 0, {}};
  fail_all(std::move(expired), error);
}

void Channel::Impl::fail_all(std::vector<Op> ops, const Error& error) {
  for (Op& op : ops) op.handler(nullptr, &error);
}

void Channel::Impl::post_after(std::chrono::milliseconds delay, std::function<void()> task) {
  asio::post(io_, [this, self = shared_from_this(), delay, task = std::move(task)]() mutable {
    if (closed_) return;
    auto timer = std::make_shared<asio::steady_timer>(io_, delay);
    delayed_.push_back(timer);
    timer->async_wait([this, self, timer, task = std::move(task)](std::error_code error) {
      delayed_.remove(timer);
      if (!error && !closed_) task();  // see start_sweeping() for why closed_ matters
    });
  });
}

// Runs on the io thread: fail everything, drop the connection, cancel the timers, so
// nothing of this channel keeps the loop busy.
void Channel::Impl::close() {
  std::vector<Op> ops;
  {
    std::lock_guard lock(mutex_);
    state_ = LinkState::Closed;
    for (Op& op : queued_) ops.push_back(std::move(op));
    for (auto& [id, op] : sent_) ops.push_back(std::move(op));
    queued_.clear();
    sent_.clear();
    oneway_.clear();
    slot_freed_.notify_all();
  }
  closed_ = true;
  drop_connection();
  sweep_timer_.cancel();
  reconnect_timer_.cancel();
  for (auto& timer : delayed_) timer->cancel();
  const Error error{ErrorCode::Closed, "the client is closed", 0, {}};
  for (auto& waiter : std::exchange(link_waiters_, {})) waiter(&error);
  fail_all(std::move(ops), error);
}

// ---------------------------------------------------------------- Channel

Channel::Channel(std::unique_ptr<EventLoop> own_loop, std::shared_ptr<Impl> impl)
    : own_loop_(std::move(own_loop)), impl_(std::move(impl)) {
  impl_->loop_.open_channels.fetch_add(1);
}

Result<std::unique_ptr<Channel>> Channel::open(const ClientOptions& options) {
  std::unique_ptr<EventLoop> own_loop;
  if (options.event_loop == nullptr) own_loop = std::make_unique<EventLoop>();
  EventLoop::Impl& loop = options.event_loop != nullptr ? options.event_loop->impl() : own_loop->impl();
  // Opening waits for the loop's thread: from a callback on that thread it would wait
  // for itself (Client::connect or subscribe called from another client's callback on
  // a shared EventLoop).
  if (loop.on_thread()) {
    return Error{ErrorCode::InvalidArgument,
                 "connecting from a callback on the same event loop would deadlock; connect from another thread", 0,
                 {}};
  }
  // Only the channel holds the Impl here: on the error path below, the channel must be
  // the last owner, as it closes the Impl's timers and sockets before its own loop ends.
  std::unique_ptr<Channel> channel(new Channel(std::move(own_loop), std::make_shared<Impl>(options, loop)));
  std::promise<std::optional<Error>> linked;
  asio::post(channel->impl_->io_, [impl = channel->impl_, &linked] {
    impl->start_sweeping();
    impl->link_waiters_.push_back(
        [&linked](const Error* error) { linked.set_value(error ? std::optional<Error>(*error) : std::nullopt); });
    std::unique_lock lock(impl->mutex_);
    OLC_CHECK(impl->state_ == LinkState::Idle);
    impl->state_ = LinkState::Connecting;
    lock.unlock();
    impl->start_connect();
  });
  std::optional<Error> error = linked.get_future().get();
  if (error) return *error;
  return channel;
}

void Channel::shutdown() {
  if (shut_down_) return;
  if (impl_->on_io_thread()) {
    // A callback on a shared loop closing another channel of it: close() is io-thread
    // code, so it runs right here and there is nothing to wait for. A channel's own
    // thread cannot join itself.
    OLC_CHECK(own_loop_ == nullptr);
    shut_down_ = true;
    impl_->close();
    impl_->loop_.open_channels.fetch_sub(1);
    return;
  }
  shut_down_ = true;
  std::promise<void> closed;
  asio::post(impl_->io_, [impl = impl_, &closed] {
    impl->close();
    closed.set_value();
  });
  closed.get_future().wait();
  impl_->loop_.open_channels.fetch_sub(1);
  // Its own loop has nothing left to do once the cancelled operations have finished.
  if (own_loop_) own_loop_->impl().stop_and_join();
}

Channel::~Channel() { shutdown(); }

uint64_t Channel::submit(Frame frame, ReplyHandler handler, SubmitOptions options) {
  return impl_->submit(std::move(frame), std::move(handler), options);
}

void Channel::send_oneway(Frame frame) { impl_->send_oneway(std::move(frame)); }

void Channel::post_after(std::chrono::milliseconds delay, std::function<void()> task) {
  impl_->post_after(delay, std::move(task));
}

void Channel::disconnect() {
  asio::post(impl_->io_, [impl = impl_] {
    if (impl->connection_) impl->lose(impl->connection_, {ErrorCode::Disconnected, "disconnected by the client", 0, {}});
  });
}

ServerInfo Channel::server_info() const {
  std::lock_guard lock(impl_->mutex_);
  return impl_->server_info_;
}

bool Channel::on_io_thread() const { return impl_->on_io_thread(); }

}  // namespace orderlog::client::detail
