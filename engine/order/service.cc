// See service.h. Loading: cache, else the latest snapshot, then the stream's events
// after it. Event ids are derived from the command id, so even a retry that raced
// past the command-id check is deduplicated by the store.
#include "orderlog/order/service.h"

#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <cstdio>
#include <cstring>

#include "common/log.h"
#include "orderlog/check.h"
#include "order/aggregate_cache.h"
#include "order/aggregate_record.h"

namespace orderlog::order {

namespace {
constexpr size_t kReadPageEvents = 256;
constexpr size_t kTenantBytesMax = 64;

// A UUIDv8 derived from the command id and the event's index within the command.
EventId derive_event_id(const EventId& command_id, uint64_t index) {
  const XXH128_hash_t hash = XXH3_128bits_withSeed(command_id.bytes.data(), command_id.bytes.size(), index + 1);
  EventId id;
  std::memcpy(id.bytes.data(), &hash.high64, 8);
  std::memcpy(id.bytes.data() + 8, &hash.low64, 8);
  id.bytes[6] = static_cast<uint8_t>((id.bytes[6] & 0x0F) | 0x80);
  id.bytes[8] = static_cast<uint8_t>((id.bytes[8] & 0x3F) | 0x80);
  return id;
}
}  // namespace

std::string order_stream_id(std::string_view order_id) { return "order-" + std::string(order_id); }

struct OrderService::Impl {
  Impl(EventStore& store_in, OrderServiceOptions options_in)
      : store(store_in),
        options(std::move(options_in)),
        upcasters(UpcasterRegistry::standard(options.legacy_currency)),
        cache(options.cache_orders_max) {}

  EventStore& store;
  OrderServiceOptions options;
  UpcasterRegistry upcasters;
  AggregateCache cache;

  std::atomic<uint64_t> commands{0}, duplicates{0}, refused{0}, conflicts{0}, cache_hits{0}, snapshot_loads{0},
      snapshots_saved{0}, snapshots_skipped{0};

  void log(LogLevel level, const std::string& line) const { write_log(options.log, level, line); }

  // Folds the stream's events after the record's version into it.
  Status catch_up(AggregateRecord& record, const std::string& stream) {
    while (true) {
      OL_ASSIGN_OR_RETURN(ReadSlice slice, store.read_stream(stream, StreamVersion{record.state.version + 1},
                                                             ReadDirection::kForward, kReadPageEvents));
      for (const EventView& stored : slice.events) {
        Result<Event> folded = fold_stored_event(record, stored, upcasters, options.recent_commands_max);
        if (!folded.is_ok()) return folded.status().with_context(stream + " version " +
                                                                 std::to_string(stored.version.value));
      }
      if (slice.end || slice.events.empty()) return Status::ok();
    }
  }

  std::optional<AggregateRecord> from_snapshot(const std::string& stream) {
    if (options.snapshots == nullptr) return std::nullopt;
    std::optional<Snapshot> snapshot = options.snapshots->load_latest(stream);
    if (!snapshot) return std::nullopt;
    std::optional<AggregateRecord> record = decode_snapshot(snapshot->schema_version, snapshot->state);
    if (!record || record->state.version != snapshot->version) {
      snapshots_skipped.fetch_add(1, std::memory_order_relaxed);
      log(LogLevel::kWarning, "ignoring an unreadable snapshot of " + stream + " (schema version " +
                                  std::to_string(snapshot->schema_version) + "); replaying its events");
      return std::nullopt;
    }
    // Snapshots are derived data kept apart from the log: after the log was restored
    // from an older backup (or lost acknowledged appends with durability `none`), a
    // snapshot may describe events the log does not hold. Its last event must be in
    // the log, at the position the snapshot recorded.
    if (record->state.version > 0) {
      Result<ReadSlice> last = store.read_stream(stream, StreamVersion{record->state.version}, ReadDirection::kForward, 1);
      if (!last.is_ok() || last->events.empty() || last->events[0].position.value != record->last_position) {
        snapshots_skipped.fetch_add(1, std::memory_order_relaxed);
        log(LogLevel::kWarning, "ignoring a snapshot of " + stream + " at version " +
                                    std::to_string(record->state.version) +
                                    " that the log does not match; replaying its events");
        return std::nullopt;
      }
    }
    snapshot_loads.fetch_add(1, std::memory_order_relaxed);
    return record;
  }

  Result<AggregateRecord> load_record(std::string_view order_id) {
    const std::string stream = order_stream_id(order_id);
    AggregateRecord record;
    const AggregateCache::Entry cached = cache.get(order_id);
    if (cached) {
      cache_hits.fetch_add(1, std::memory_order_relaxed);
      record = *cached;
    } else if (std::optional<AggregateRecord> snapshot = from_snapshot(stream)) {
      record = std::move(*snapshot);
    }
    const uint64_t loaded_version = record.state.version;
    OL_RETURN_IF_ERROR(catch_up(record, stream));
    // A cached record that caught up nothing is in the cache already.
    const bool cached_as_is = cached && record.state.version == loaded_version;
    if (record.state.status != OrderStatus::kNone && !cached_as_is) {
      cache.put(std::make_shared<const AggregateRecord>(record));
    }
    return record;
  }

  // Jittered exponential back-off, so writers racing for one order stop colliding.
  static void back_off(int attempt) {
    thread_local std::minstd_rand random(std::random_device{}());
    const uint32_t ceiling_us = 50u << std::min(attempt, 6);
    std::this_thread::sleep_for(std::chrono::microseconds(random() % ceiling_us));
  }

  void maybe_snapshot(uint64_t version_before, const AggregateRecord& after) {
    const uint64_t every = options.snapshot_every_events;
    if (options.snapshots == nullptr || every == 0) return;
    if (after.state.version / every == version_before / every) return;
    options.snapshots->save_async(Snapshot{order_stream_id(after.state.order_id), after.state.version,
                                           kOrderSnapshotSchemaVersion, encode_snapshot(after)});
    snapshots_saved.fetch_add(1, std::memory_order_relaxed);
  }

  CommandResult duplicate_of(const AggregateRecord& record, const ProcessedCommand& original) {
    duplicates.fetch_add(1, std::memory_order_relaxed);
    return CommandResult{record.state, {}, GlobalPosition{original.first_position},
                         GlobalPosition{original.last_position}, true};
  }

  // A command's events as the store takes them. The NewEvents view the other members,
  // so a PreparedAppend is filled in place and never moved.
  struct PreparedAppend {
    std::string command_id;
    std::vector<EncodedEvent> encoded;
    std::vector<NewEvent> batch;
    Tag tags[2];
  };

  static void prepare_append(const std::vector<Event>& events, const CommandContext& context, PreparedAppend& out) {
    out.command_id = context.command_id.to_string();
    out.encoded.reserve(events.size());
    for (const Event& event : events) out.encoded.push_back(encode_event(event));
    out.tags[0] = {kCommandIdTag, out.command_id};
    out.tags[1] = {kTenantTag, context.tenant};
    out.batch.resize(events.size());
    for (size_t i = 0; i < events.size(); ++i) {
      NewEvent& event = out.batch[i];
      event.id = derive_event_id(context.command_id, i);
      event.type = out.encoded[i].type;
      event.schema_version = out.encoded[i].schema_version;
      event.payload = out.encoded[i].payload;
      event.correlation_id = context.correlation_id.is_nil() ? context.command_id : context.correlation_id;
      event.causation_id = context.causation_id.is_nil() ? context.command_id : context.causation_id;
      event.tags = std::span(out.tags, context.tenant.empty() ? 1 : 2);
    }
  }

  Status check_context(const CommandContext& context) const {
    if (context.command_id.is_nil()) return Status::invalid_argument("a command needs a command id");
    if (context.tenant.size() > kTenantBytesMax) {
      return Status::invalid_argument("tenant must be at most " + std::to_string(kTenantBytesMax) + " bytes");
    }
    return Status::ok();
  }

  // What a command yields before its append: the outcome itself when nothing is to
  // be appended (a duplicate, a refusal), or the record and the events to append.
  struct Decided {
    std::optional<CommandOutcome> outcome;
    AggregateRecord record;
    std::vector<Event> events;
  };

  Result<Decided> load_and_decide(const Command& command, const CommandContext& context) {
    Decided decided;
    OL_ASSIGN_OR_RETURN(decided.record, load_record(command_order_id(command)));
    if (const ProcessedCommand* original = decided.record.find_command(context.command_id)) {
      decided.outcome = CommandOutcome(duplicate_of(decided.record, *original));
      return decided;
    }
    Decision decision = decide(decided.record.state, command);
    if (auto* error = std::get_if<DomainError>(&decision)) {
      refused.fetch_add(1, std::memory_order_relaxed);
      decided.outcome = CommandOutcome(std::move(*error));
      return decided;
    }
    decided.events = std::move(std::get<std::vector<Event>>(decision));
    return decided;
  }

  // The appended events folded into the record, which goes to the cache.
  CommandOutcome commit(AggregateRecord record, std::vector<Event> events, const AppendResult& appended,
                        const CommandContext& context) {
    const uint64_t version_before = record.state.version;
    for (const Event& event : events) record.state = order::apply(std::move(record.state), event);
    record.last_position = appended.last_position.value;
    record.recent_commands.push_back({context.command_id, version_before + 1, record.state.version,
                                      appended.first_position.value, appended.last_position.value});
    drop_oldest_commands(record, options.recent_commands_max);
    maybe_snapshot(version_before, record);
    CommandResult result{record.state, std::move(events), appended.first_position, appended.last_position, false};
    cache.put(std::make_shared<const AggregateRecord>(std::move(record)));
    return CommandOutcome(std::move(result));
  }

  // A concurrent retry of this command got its append in first.
  Result<CommandOutcome> raced_duplicate(const std::string& order_id, const AppendResult& appended) {
    cache.erase(order_id);
    OL_ASSIGN_OR_RETURN(AggregateRecord now, load_record(order_id));
    return CommandOutcome(CommandResult{now.state, {}, appended.first_position, appended.last_position, true});
  }

  // Busy, not WrongExpectedVersion: the caller did nothing wrong and has no version to
  // correct; it may simply send the command again later.
  Status too_much_contention(const std::string& order_id) const {
    const int attempts = options.conflict_retries_max + 1;
    return Status::busy(order_id + ": gave up after " + std::to_string(attempts) + " conflicting write" +
                        (attempts == 1 ? "" : "s") + " to the order; retry later");
  }

  Result<CommandOutcome> execute(const Command& command, const CommandContext& context) {
    OL_RETURN_IF_ERROR(check_context(context));
    commands.fetch_add(1, std::memory_order_relaxed);
    const std::string& order_id = command_order_id(command);
    const std::string stream = order_stream_id(order_id);
    for (int attempt = 0; attempt <= options.conflict_retries_max; ++attempt) {
      OL_ASSIGN_OR_RETURN(Decided decided, load_and_decide(command, context));
      if (decided.outcome) return std::move(*decided.outcome);
      PreparedAppend prepared;
      prepare_append(decided.events, context, prepared);
      Result<AppendResult> appended =
          store.append(stream, ExpectedVersion::exact(StreamVersion{decided.record.state.version}), prepared.batch);
      if (!appended.is_ok()) {
        if (appended.status().code() != StatusCode::kWrongExpectedVersion) return appended.status();
        conflicts.fetch_add(1, std::memory_order_relaxed);
        cache.erase(order_id);
        back_off(attempt);
        continue;
      }
      if (appended->deduplicated) return raced_duplicate(order_id, *appended);
      return commit(std::move(decided.record), std::move(decided.events), *appended, context);
    }
    return too_much_contention(order_id);
  }

  // One command of execute_async, shared by its attempts.
  struct AsyncCommand {
    Command command;
    CommandContext context;
    Executor executor;
    CommandCallback done;
    int attempt = 0;
  };

  void execute_async(const std::shared_ptr<AsyncCommand>& op) {
    Result<Decided> decided = load_and_decide(op->command, op->context);
    if (!decided.is_ok()) return op->done(decided.status());
    if (decided->outcome) return op->done(std::move(*decided->outcome));
    auto pending = std::make_shared<Decided>(std::move(decided).value());
    const std::string stream = order_stream_id(command_order_id(op->command));
    PreparedAppend prepared;
    prepare_append(pending->events, op->context, prepared);
    const StreamAppend append{stream, ExpectedVersion::exact(StreamVersion{pending->record.state.version}),
                              prepared.batch};
    store.append_async(std::span(&append, 1), [this, op, pending](Result<AppendResult> appended) {
      on_appended(op, *pending, std::move(appended));
    });
  }

  // On the store's writer thread (or the caller's, for an input error): must not block.
  void on_appended(const std::shared_ptr<AsyncCommand>& op, Decided& pending, Result<AppendResult> appended) {
    const std::string& order_id = command_order_id(op->command);
    if (!appended.is_ok()) {
      if (appended.status().code() != StatusCode::kWrongExpectedVersion) return op->done(appended.status());
      if (op->attempt >= options.conflict_retries_max) return op->done(too_much_contention(order_id));
      conflicts.fetch_add(1, std::memory_order_relaxed);
      cache.erase(order_id);
      const int attempt = op->attempt++;
      op->executor([this, op, attempt] {
        back_off(attempt);
        execute_async(op);
      });
      return;
    }
    if (appended->deduplicated) {
      op->executor([this, op, result = *appended] { op->done(raced_duplicate(command_order_id(op->command), result)); });
      return;
    }
    op->done(commit(std::move(pending.record), std::move(pending.events), *appended, op->context));
  }

  // Replays the order's events while `keep(stored)` holds, optionally tracing.
  template <typename Keep>
  Result<OrderState> replay(std::string_view order_id, Keep keep, std::vector<HistoryEntry>* trace) {
    const std::string stream = order_stream_id(order_id);
    AggregateRecord record;
    while (true) {
      OL_ASSIGN_OR_RETURN(ReadSlice slice, store.read_stream(stream, StreamVersion{record.state.version + 1},
                                                             ReadDirection::kForward, kReadPageEvents));
      for (const EventView& stored : slice.events) {
        if (!keep(stored)) return record.state;
        OL_ASSIGN_OR_RETURN(Event event, fold_stored_event(record, stored, upcasters, 0));
        if (trace != nullptr) {
          trace->push_back({stored.position, stored.version, stored.timestamp_ns, std::move(event), record.state});
        }
      }
      if (slice.end || slice.events.empty()) return record.state;
    }
  }
};

OrderService::OrderService(EventStore& store, OrderServiceOptions options)
    : impl_(std::make_unique<Impl>(store, std::move(options))) {}

OrderService::~OrderService() = default;

Result<CommandOutcome> OrderService::execute(const Command& command, const CommandContext& context) {
  return impl_->execute(command, context);
}

void OrderService::execute_async(Command command, CommandContext context, Executor executor, CommandCallback done) {
  OL_CHECK(executor && done);
  if (Status valid = impl_->check_context(context); !valid.is_ok()) return done(valid);
  impl_->commands.fetch_add(1, std::memory_order_relaxed);
  impl_->execute_async(std::make_shared<Impl::AsyncCommand>(
      Impl::AsyncCommand{std::move(command), std::move(context), std::move(executor), std::move(done), 0}));
}

Result<OrderState> OrderService::load(std::string_view order_id) {
  OL_ASSIGN_OR_RETURN(AggregateRecord record, impl_->load_record(order_id));
  return std::move(record.state);
}

Result<OrderState> OrderService::state_at_version(std::string_view order_id, uint64_t version) {
  return impl_->replay(order_id, [&](const EventView& e) { return e.version.value <= version; }, nullptr);
}

Result<OrderState> OrderService::state_at_time(std::string_view order_id, uint64_t timestamp_ns) {
  return impl_->replay(order_id, [&](const EventView& e) { return e.timestamp_ns <= timestamp_ns; }, nullptr);
}

Result<std::vector<HistoryEntry>> OrderService::history(std::string_view order_id, uint64_t events_max) {
  const uint64_t events = impl_->store.stream_version(order_stream_id(order_id)).value;
  if (events > events_max) {
    return Status::too_large("order '" + std::string(order_id) + "' has " + std::to_string(events) +
                             " events; a history holds at most " + std::to_string(events_max));
  }
  std::vector<HistoryEntry> trace;
  OL_RETURN_IF_ERROR(impl_->replay(order_id, [](const EventView&) { return true; }, &trace).status());
  return trace;
}

OrderServiceStats OrderService::stats() const {
  const auto get = [](const std::atomic<uint64_t>& value) { return value.load(std::memory_order_relaxed); };
  return {get(impl_->commands),       get(impl_->duplicates),      get(impl_->refused),
          get(impl_->conflicts),      get(impl_->cache_hits),      get(impl_->snapshot_loads),
          get(impl_->snapshots_saved), get(impl_->snapshots_skipped)};
}

}  // namespace orderlog::order
