// See session.h. Reading, frame handling and the handshake; the output side is in
// session_output.cc, subscriptions in session_subscriptions.cc.
#include "server/session.h"

#include <asio/post.hpp>

#include <chrono>
#include <string>

#include "server/dispatcher.h"
#include "server/log.h"
#include "wire/frame.h"

namespace orderlog::server {
namespace {

constexpr size_t kReadBytes = 64 * 1024;
// Malformed frames have known boundaries, so one is answered and survived; a peer
// that keeps sending them is broken or hostile.
constexpr size_t kBadFramesMax = 8;
constexpr size_t kClientNameLogBytesMax = 64;

std::string peer_of(const asio::ip::tcp::socket& socket) {
  asio::error_code error;
  const auto endpoint = socket.remote_endpoint(error);
  if (error) return "unknown";
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

uint64_t steady_now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

void SessionRegistry::add(const std::shared_ptr<Session>& session) {
  std::lock_guard lock(mutex_);
  sessions_.emplace(session.get(), session);
}

void SessionRegistry::remove(const Session* session) {
  std::lock_guard lock(mutex_);
  sessions_.erase(session);
}

std::vector<std::shared_ptr<Session>> SessionRegistry::all() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<Session>> out;
  for (const auto& [key, weak] : sessions_) {
    if (auto session = weak.lock()) out.push_back(std::move(session));
  }
  return out;
}

size_t SessionRegistry::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

Session::Session(asio::ip::tcp::socket socket, Strand strand, const Services& services, SessionRegistry& registry)
    : socket_(std::move(socket)),
      strand_(std::move(strand)),
      timer_(strand_),
      write_timer_(strand_),
      services_(services),
      registry_(registry),
      peer_(peer_of(socket_)),
      decoder_(std::min(services.config->frame_bytes_max, wire::kHelloFrameBytesMax), kReadBytes) {}

// Only members are released here: everything shared was let go by close_now().
Session::~Session() = default;

void Session::start() {
  registry_.add(shared_from_this());
  services_.metrics->on_connection_opened();
  asio::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  log_info("connection opened", {{"peer", peer_}});
  asio::post(strand_, [self = shared_from_this()] {
    self->timer_.expires_after(std::chrono::milliseconds(self->services_.config->handshake_timeout_ms));
    self->timer_.async_wait([self](const asio::error_code& error) {
      if (error || self->state_ != State::kHandshake) return;
      self->close_now("handshake timeout");
    });
    self->read_more();
  });
}

void Session::shut_down() {
  asio::post(strand_, [self = shared_from_this()] {
    if (self->state_ == State::kClosed) return;
    self->end_subscriptions(wire::ErrorCode::Unavailable, "the server is shutting down", /*send_ended=*/true);
    self->enter_closing("server shutdown");
  });
}

void Session::force_close() {
  asio::post(strand_, [self = shared_from_this()] { self->close_now("shutdown grace period over"); });
}

void Session::read_more() {
  // While closing, reads continue but their bytes are dropped (see session.h).
  if (reading_ || state_ == State::kClosed || peer_eof_) return;
  reading_ = true;
  const std::span<std::byte> space = decoder_.prepare();
  socket_.async_read_some(asio::buffer(space.data(), space.size()),
                          [self = shared_from_this()](const asio::error_code& error, size_t bytes) {
                            self->on_read(error, bytes);
                          });
}

void Session::on_read(const asio::error_code& error, size_t bytes) {
  reading_ = false;
  if (state_ == State::kClosed) return;
  if (error == asio::error::eof) {
    // The peer sent all it will: answer what is in flight, then close.
    peer_eof_ = true;
    end_subscriptions(wire::ErrorCode::None, "", /*send_ended=*/false);
    enter_closing("peer closed");
    maybe_finish_closing();
    return;
  }
  if (error) {
    if (error != asio::error::operation_aborted) close_now(error.message());
    return;
  }
  if (state_ == State::kClosing) {
    read_more();  // drop the bytes: no more requests are taken
    return;
  }
  decoder_.commit(bytes);
  process_frames();
}

bool Session::can_process() {
  if (state_ != State::kHandshake && state_ != State::kReady) return false;
  if (inflight_ >= services_.config->inflight_per_connection_max) return false;
  if (queued_bytes_ >= kWriteHighWaterBytes || waiting_for_gate_) return false;
  if (services_.append_gate->saturated()) {
    // The wake-up owns the session: while it waits on the gate, a session may have no
    // read, write or reply under way that would keep it alive, and one destroyed that
    // way would never give back its connection slot.
    waiting_for_gate_ = services_.append_gate->wait([self = shared_from_this()] {
      asio::post(self->strand_, [self] {
        self->waiting_for_gate_ = false;
        self->resume();
      });
    });
    if (waiting_for_gate_) return false;
  }
  return true;
}

void Session::resume() {
  if (!processing_) process_frames();
}

void Session::process_frames() {
  processing_ = true;
  bool need_more = false;
  while (can_process()) {
    const wire::FrameDecoder::Next next = decoder_.next();
    if (next.outcome == wire::FrameDecoder::Outcome::kNeedMore) {
      need_more = true;
      break;
    }
    if (next.outcome == wire::FrameDecoder::Outcome::kBadLength) {
      // The stream cannot be resynchronised after a bad length.
      fail(next.length < wire::kFrameBytesMin ? wire::ErrorCode::BadRequest : wire::ErrorCode::TooLarge,
           "frame length " + std::to_string(next.length) + " is outside [" + std::to_string(wire::kFrameBytesMin) +
               ", " + std::to_string(decoder_.frame_bytes_max()) + "]" +
               (state_ == State::kHandshake ? " before the handshake" : ""));
      break;
    }
    handle_frame(next.frame);
  }
  processing_ = false;
  if (need_more) read_more();
}

void Session::handle_bad_frame(std::string_view why) {
  ++bad_frames_;
  if (bad_frames_ >= kBadFramesMax) {
    fail(wire::ErrorCode::BadRequest, "too many malformed frames: " + std::string(why));
    return;
  }
  deliver(error_reply(0, wire::ErrorCode::BadRequest, why), wire::Body::NONE, 0, 0);
}

void Session::handle_frame(std::span<const std::byte> frame) {
  std::string_view why;
  const wire::Message* message = wire::verify_frame(frame.data(), frame.size(), &why);
  if (message == nullptr) {
    handle_bad_frame(why);
    return;
  }
  if (state_ == State::kHandshake) {
    handle_hello(*message);
    return;
  }
  handle_request(*message);
}

void Session::handle_hello(const wire::Message& message) {
  const wire::Hello* hello = message.body_as_Hello();
  if (hello == nullptr) return fail(wire::ErrorCode::Unauthorized, "the first message must be Hello");
  if (hello->protocol_version() != wire::kProtocolVersion) {
    return fail(wire::ErrorCode::BadRequest, "unsupported protocol version " +
                                                 std::to_string(hello->protocol_version()) + "; this server speaks " +
                                                 std::to_string(wire::kProtocolVersion));
  }
  const std::string_view token = hello->token() == nullptr ? std::string_view() : hello->token()->string_view();
  tenant_ = services_.auth->authenticate(token);
  if (tenant_ == nullptr) {
    log_warning("authentication failed", {{"peer", peer_}});
    return fail(wire::ErrorCode::Unauthorized, "unknown token");
  }
  state_ = State::kReady;
  timer_.cancel();
  decoder_.set_frame_bytes_max(services_.config->frame_bytes_max);
  const std::string client = hello->client_name() == nullptr
                                 ? std::string()
                                 : hello->client_name()->str().substr(0, kClientNameLogBytesMax);
  log_info("session authenticated", {{"peer", peer_}, {"tenant", tenant_->name()}, {"client", client}});
  const ServerConfig& config = *services_.config;
  flatbuffers::FlatBufferBuilder builder(256);
  const auto ok = wire::CreateHelloOk(
      builder, wire::kProtocolVersion, builder.CreateString(ORDERLOGD_VERSION), builder.CreateString(tenant_->name()),
      config.frame_bytes_max, static_cast<uint32_t>(std::min<size_t>(config.inflight_per_connection_max, UINT32_MAX)),
      static_cast<uint32_t>(kEventsPerAppendMax), config.read_count_max);
  begin_request();
  deliver(finish_reply(builder, message.request_id(), wire::Body::HelloOk, ok.Union()), wire::Body::Hello,
          message.request_id(), steady_now_ns());
}

void Session::handle_request(const wire::Message& message) {
  const uint64_t id = message.request_id();
  const wire::Body type = message.body_type();
  const uint64_t start_ns = steady_now_ns();
  if (type == wire::Body::Credit) return handle_credit(*message.body_as_Credit());
  if (type == wire::Body::NONE) {
    // `body` is required but its type is not, so this passed the Verifier. Not a
    // request: nothing is counted in flight for it (deliver() counts NONE as no reply).
    return deliver(error_reply(id, wire::ErrorCode::BadRequest, "the message's body has no type"), type, id, start_ns);
  }
  begin_request();
  if (type == wire::Body::Hello) {
    return deliver(error_reply(id, wire::ErrorCode::BadRequest, "the handshake is done already"), type, id, start_ns);
  }
  if (type == wire::Body::Subscribe) {
    deliver(subscribe(message), type, id, start_ns);
    return pump_subscriptions();
  }
  if (type == wire::Body::Unsubscribe) return deliver(unsubscribe(id, *message.body_as_Unsubscribe()), type, id, start_ns);
  const auto make_sink = [this, type, id, start_ns]() -> ReplySink {
    return [self = shared_from_this(), type, id, start_ns](Reply reply) {
      asio::post(self->strand_, [self, type, id, start_ns, reply = std::move(reply)]() mutable {
        self->deliver(std::move(reply), type, id, start_ns);
        self->resume();
      });
    };
  };
  std::optional<Reply> reply = dispatch(services_, Request{id, &message, tenant_}, make_sink);
  if (reply.has_value()) deliver(std::move(*reply), type, id, start_ns);
}

}  // namespace orderlog::server
