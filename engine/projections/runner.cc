// See runner.h. Ordering rules that keep state and checkpoint in step:
// - the model and the checkpoint change together under the exclusive state lock, so a
//   save (shared lock) always sees a checkpoint that matches the state it encodes;
// - waiters are woken after the change, through progress_mutex_, so none misses it;
// - the thread is stopped before rebuild() or close() touch the model, so the
//   runner's reads and a reset never interleave.
#include "projections/runner.h"

#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

#include "orderlog/check.h"
#include "common/log.h"
#include "orderlog/thread_name.h"
#include "projections/order_facts.h"

namespace {
// order::order_stream_id(id) is this followed by the id.
constexpr std::string_view kOrderStreamPrefix = "order-";
}  // namespace

namespace orderlog::projections {
namespace {

using std::chrono::milliseconds;


void log_to_stderr(LogLevel level, std::string_view line) { write_log(nullptr, level, line); }

}  // namespace

Result<ProjectionOptions> checked_options(const ProjectionOptions& options) {
  if (options.store == nullptr) return Status::invalid_argument("projection options: no store");
  if (options.data_dir.empty()) return Status::invalid_argument("projection options: no data directory");
  if (options.batch_events_max == 0 || options.batch_events_max > 65'536) {
    return Status::invalid_argument("projection options: batch_events_max must be 1..65536");
  }
  if (options.save_every_events == 0) return Status::invalid_argument("projection options: save_every_events is 0");
  if (options.idle_wait <= milliseconds(0) || options.save_interval <= milliseconds(0)) {
    return Status::invalid_argument("projection options: idle_wait and save_interval must be positive");
  }
  if (options.doze_interval < milliseconds(0)) {
    return Status::invalid_argument("projection options: doze_interval must not be negative");
  }
  ProjectionOptions checked = options;
  if (checked.env == nullptr) checked.env = default_env();
  if (!checked.log) checked.log = log_to_stderr;
  return checked;
}

ProjectionRunner::ProjectionRunner(std::string name, ReadModel* model, const ProjectionOptions& options)
    : name_(std::move(name)),
      model_(model),
      options_(options),
      dir_(options.data_dir + "/projections"),
      upcasters_(order::UpcasterRegistry::standard(options.legacy_currency)) {
  OL_CHECK(model_ != nullptr && options_.store != nullptr && options_.env != nullptr);
}

ProjectionRunner::~ProjectionRunner() { (void)close(); }

Status ProjectionRunner::load() {
  Env* env = options_.env;
  OL_RETURN_IF_ERROR(env->create_dir(dir_));
  const std::string temp = dir_ + "/" + name_ + kTempSuffix;
  // A save cut short by a crash; the file it was meant to replace is still intact.
  if (env->file_exists(temp)) (void)env->remove_file(temp);
  Result<LoadedFile> file = read_projection_file(env, dir_ + "/" + name_ + kFileSuffix);
  Status usable = file.status();
  if (usable.is_ok()) usable = check_loaded(*file);
  if (usable.is_ok()) usable = decode_loaded(*file);
  if (usable.is_ok()) return Status::ok();
  if (usable.code() == StatusCode::kNotFound) {
    log(LogLevel::kInfo, "no saved state; building from the start of the log");
  } else {
    log(LogLevel::kWarning, usable.to_string() + "; rebuilding from the start of the log");
  }
  std::unique_lock lock(state_mutex_);
  model_->clear();
  checkpoint_event_id_ = EventId{};
  checkpoint_.store(0);
  saved_checkpoint_.store(0);
  rebuilt_at_open_.store(true);
  return Status::ok();
}

Status ProjectionRunner::check_loaded(const LoadedFile& file) const {
  const FileHeader& header = file.header;
  if (header.model_id != static_cast<uint8_t>(model_->model_id())) {
    return Status::corruption("file is of read model " + std::to_string(header.model_id));
  }
  if (header.model_version != model_->model_version()) {
    return Status::corruption("unknown state version " + std::to_string(header.model_version));
  }
  if (header.checkpoint.value == 0) return Status::ok();
  const GlobalPosition head = options_.store->committed_position();
  if (header.checkpoint > head) {
    return Status::corruption("checkpoint " + std::to_string(header.checkpoint.value) + " is past the log's end " +
                              std::to_string(head.value));
  }
  OL_ASSIGN_OR_RETURN(ReadSlice slice, options_.store->read_all(header.checkpoint, 1));
  if (slice.events.empty() || slice.events[0].id != header.checkpoint_event_id) {
    return Status::corruption("the event at checkpoint " + std::to_string(header.checkpoint.value) +
                              " is not the one the state was built from (a file of another log?)");
  }
  return Status::ok();
}

Status ProjectionRunner::decode_loaded(const LoadedFile& file) {
  std::unique_lock lock(state_mutex_);
  BodyDecoder in(file.body);
  Status decoded = model_->decode(in);
  if (decoded.is_ok() && !(in.ok() && in.at_end())) decoded = Status::corruption("state does not decode");
  if (!decoded.is_ok()) return decoded;
  checkpoint_event_id_ = file.header.checkpoint_event_id;
  checkpoint_.store(file.header.checkpoint.value);
  saved_checkpoint_.store(file.header.checkpoint.value);
  return Status::ok();
}

void ProjectionRunner::start() {
  std::lock_guard control(control_mutex_);
  OL_CHECK(!thread_.joinable());
  stopping_.store(false);
  thread_ = std::thread([this] { run(); });
}

void ProjectionRunner::run() {
  name_this_thread("p/" + name_);
  last_save_attempt_ = std::chrono::steady_clock::now();
  while (!stopping_.load() && step()) {
  }
}

bool ProjectionRunner::step() {
  const auto started = std::chrono::steady_clock::now();
  const GlobalPosition from{checkpoint_.load() + 1};
  Result<ReadSlice> slice =
      options_.store->read_all_of_types(from, options_.batch_events_max, order::order_event_types());
  if (!slice.is_ok()) {
    fail(slice.status().with_context("reading the log at position " + std::to_string(from.value)));
    return false;
  }
  Status applied = apply_scanned(slice->events, slice->next - 1);
  if (!applied.is_ok()) {
    fail(applied);
    return false;
  }
  spacing_credit_ += std::chrono::steady_clock::now() - started;
  save_if_due();
  if (slice->end) wait_for_more(!slice->events.empty(), checkpoint_.load() >= from.value);
  return true;
}

void ProjectionRunner::wait_for_more(bool found_order_events, bool advanced) {
  if (found_order_events) {
    empty_steps_ = 0;
  } else if (advanced) {
    ++empty_steps_;
  }
  // Dozing only pays while commits keep coming; a quiet log is waited on as usual.
  const bool doze = options_.doze_interval > milliseconds(0) && advanced && empty_steps_ >= kEmptyStepsBeforeDozing;
  const auto started = std::chrono::steady_clock::now();
  if (!doze) {
    // A wait that a commit ended is the log keeping the runner busy, not idleness.
    if (options_.store->wait_for_position(GlobalPosition{checkpoint_.load() + 1}, options_.idle_wait)) return;
  } else {
    std::unique_lock lock(progress_mutex_);
    nudge_.wait_for(lock, options_.doze_interval, [this] { return nudged_; });
    nudged_ = false;
  }
  spacing_credit_ += std::chrono::steady_clock::now() - started;
}

Status ProjectionRunner::apply_batch(std::span<const EventView> events) {
  std::vector<EventView> order_events;
  uint64_t next = checkpoint_.load() + 1;
  for (const EventView& stored : events) {
    if (stored.position.value < next) continue;  // folded in already: a repeated delivery
    OL_CHECK_MSG(stored.position.value == next, "the log is gapless, so a batch must follow the checkpoint");
    if (order::is_order_event_type(stored.type)) order_events.push_back(stored);
    ++next;
  }
  return apply_scanned(order_events, next - 1);
}

Status ProjectionRunner::apply_scanned(std::span<const EventView> order_events, uint64_t scanned_to) {
  const uint64_t checkpoint = checkpoint_.load();
  std::vector<Decoded> decoded;
  decoded.reserve(order_events.size());
  uint64_t applied_to = scanned_to;
  Status status = Status::ok();
  for (const EventView& stored : order_events) {
    if (stored.position.value <= checkpoint) continue;  // folded in already: a repeated delivery
    OL_CHECK(stored.position.value <= scanned_to);
    // The domain writes an order's events to "order-<id>" only. An event of the same
    // type name elsewhere is another application's (or written around the domain by a
    // tenant who may write there): neither folded in nor able to stop the runner.
    if (!stored.stream_id.starts_with(kOrderStreamPrefix)) continue;
    Result<order::Event> event = order::decode_event(upcasters_, stored);
    if (!event.is_ok()) {
      // What precedes it is applied, so the checkpoint stops right before the event
      // that needs attention.
      status = event.status().with_context(std::string(stored.type) + " at position " +
                                           std::to_string(stored.position.value));
      applied_to = stored.position.value - 1;
      break;
    }
    if (stored.stream_id.substr(kOrderStreamPrefix.size()) != order_id_of(*event)) continue;  // names another order
    decoded.push_back({&stored, std::move(event).value()});
  }
  if (applied_to <= checkpoint) return status;
  // The saved state names the event at its checkpoint (load() checks it against the
  // log); when that is not an order event it was skipped unread, so read it now.
  EventId checkpoint_id;
  if (!decoded.empty() && decoded.back().stored->position.value == applied_to) {
    checkpoint_id = decoded.back().stored->id;
  } else {
    OL_ASSIGN_OR_RETURN(ReadSlice at, options_.store->read_all(GlobalPosition{applied_to}, 1));
    OL_CHECK_MSG(!at.events.empty() && at.events[0].position.value == applied_to, "a scanned position is committed");
    checkpoint_id = at.events[0].id;
  }
  {
    std::unique_lock lock(state_mutex_);
    for (const Decoded& item : decoded) model_->apply(*item.stored, item.event);
    checkpoint_event_id_ = checkpoint_id;
    checkpoint_.store(applied_to);
    order_events_applied_.fetch_add(decoded.size());  // with the state: save() reads both together
  }
  other_events_ignored_.fetch_add(applied_to - checkpoint - decoded.size());
  { std::lock_guard lock(progress_mutex_); }  // a waiter is either waiting or sees the new checkpoint
  progress_changed_.notify_all();
  return status;
}

void ProjectionRunner::save_if_due() {
  const uint64_t checkpoint = checkpoint_.load();
  const uint64_t saved = saved_checkpoint_.load();
  if (checkpoint <= saved) return;
  const auto now = std::chrono::steady_clock::now();
  // Counted in order events, which are what a restart would replay: positions of other
  // events are skipped unread, so however many pass they make no save due (the
  // interval still moves the saved checkpoint past them). After a failure only the
  // interval counts, so a full disk is not retried per batch.
  const uint64_t unsaved_events = order_events_applied_.load() - applied_at_save_.load();
  const bool count_due = unsaved_events >= options_.save_every_events && !last_save_failed_;
  if (!count_due && now - last_save_attempt_ < options_.save_interval) return;
  // A save encodes the whole model, so it costs more as the state grows while the
  // events between saves stay as many: at 70k commands/s and 100k orders, the order
  // summary spent more time saving than applying. Saves are therefore spaced by
  // save_spacing times the last one's duration, counted in the runner's own time
  // (reading and applying, and waits that found the log quiet), not the clock's: a
  // runner that spends a tenth of its time applying would otherwise spend up to half
  // its work on saves (three projections saving that way took 7-8% of orderlogd's CPU
  // under order lifecycles). A restart then replays at most save_spacing times the
  // last save's duration of work.
  if (spacing_credit_ < last_save_duration_ * options_.save_spacing) return;
  last_save_attempt_ = now;
  spacing_credit_ = {};
  // A failure is logged and counted in save(); the file on disk keeps the previous
  // consistent state meanwhile.
  last_save_failed_ = !save().is_ok();
  last_save_duration_ = std::chrono::steady_clock::now() - now;
}

Status ProjectionRunner::save() {
  std::lock_guard save_lock(save_mutex_);
  std::shared_lock state_lock(state_mutex_);
  FileHeader header;
  header.model_id = static_cast<uint8_t>(model_->model_id());
  header.model_version = model_->model_version();
  header.checkpoint = GlobalPosition{checkpoint_.load()};
  header.checkpoint_event_id = checkpoint_event_id_;
  const uint64_t applied = order_events_applied_.load();
  Status status = write_projection_file(options_.env, dir_, name_, header,
                                        [this](BodyEncoder& out) { model_->encode(out); });
  state_lock.unlock();
  if (!status.is_ok()) {
    saves_failed_.fetch_add(1);
    log(LogLevel::kWarning, "save at position " + std::to_string(header.checkpoint.value) + " failed: " +
                                status.to_string());
    return status;
  }
  saved_checkpoint_.store(header.checkpoint.value);
  applied_at_save_.store(applied);
  saves_.fetch_add(1);
  return Status::ok();
}

void ProjectionRunner::fail(const Status& status) {
  log(LogLevel::kError, "stopped at position " + std::to_string(checkpoint_.load()) + ": " + status.to_string());
  {
    std::lock_guard lock(progress_mutex_);
    failure_ = status;
  }
  progress_changed_.notify_all();
}

Status ProjectionRunner::rebuild() {
  std::lock_guard control(control_mutex_);
  {
    std::lock_guard lock(progress_mutex_);
    if (closed_) return Status::closed("projection " + name_ + " is closed");
  }
  stop_thread();
  {
    std::unique_lock lock(state_mutex_);
    model_->clear();
    checkpoint_event_id_ = EventId{};
    checkpoint_.store(0);
  }
  {
    std::lock_guard lock(progress_mutex_);
    failure_ = Status::ok();
  }
  order_events_applied_.store(0);
  applied_at_save_.store(0);
  other_events_ignored_.store(0);
  log(LogLevel::kInfo, "rebuilding from the start of the log");
  // Checkpoint 0 goes to disk first, so a crash during the replay resumes the rebuild
  // instead of returning to the state it replaces.
  Status saved = save();
  stopping_.store(false);
  thread_ = std::thread([this] { run(); });
  return saved;
}

Status ProjectionRunner::close() {
  std::lock_guard control(control_mutex_);
  {
    std::lock_guard lock(progress_mutex_);
    if (closed_) return Status::ok();
  }
  stop_thread();
  Status status = Status::ok();
  if (checkpoint_.load() != saved_checkpoint_.load()) status = save();
  {
    std::lock_guard lock(progress_mutex_);
    closed_ = true;
  }
  progress_changed_.notify_all();
  return status;
}

void ProjectionRunner::stop_thread() {
  if (!thread_.joinable()) return;
  stopping_.store(true);
  {
    std::lock_guard lock(progress_mutex_);
    nudged_ = true;  // out of a doze at once
  }
  nudge_.notify_one();
  thread_.join();
}

ProjectionProgress ProjectionRunner::progress() const {
  ProjectionProgress progress;
  progress.checkpoint = GlobalPosition{checkpoint_.load()};
  progress.head = std::max(options_.store->committed_position(), progress.checkpoint);
  progress.lag = progress.head.value - progress.checkpoint.value;
  progress.saved_checkpoint = GlobalPosition{saved_checkpoint_.load()};
  progress.order_events_applied = order_events_applied_.load();
  progress.other_events_ignored = other_events_ignored_.load();
  progress.saves = saves_.load();
  progress.saves_failed = saves_failed_.load();
  progress.rebuilt_at_open = rebuilt_at_open_.load();
  std::lock_guard lock(progress_mutex_);
  progress.failure = failure_;
  return progress;
}

Status ProjectionRunner::wait_for(GlobalPosition position, std::chrono::milliseconds timeout) const {
  const milliseconds bounded = std::clamp(timeout, milliseconds(0), options_.query_wait_max);
  std::unique_lock lock(progress_mutex_);
  if (checkpoint_.load() < position.value) {
    nudged_ = true;  // a dozing runner looks at the log now
    nudge_.notify_one();
  }
  progress_changed_.wait_for(lock, bounded, [&] {
    return checkpoint_.load() >= position.value || !failure_.is_ok() || closed_;
  });
  const uint64_t checkpoint = checkpoint_.load();
  if (checkpoint >= position.value) return Status::ok();
  const std::string where = "projection " + name_ + " is at position " + std::to_string(checkpoint);
  if (!failure_.is_ok()) return failure_.with_context(where + " and stopped");
  if (closed_) return Status::closed(where + " and closed");
  return Status::timed_out(where + " (log head " + std::to_string(options_.store->committed_position().value) +
                           "), not at " + std::to_string(position.value) + ", after waiting " +
                           std::to_string(bounded.count()) + " ms");
}

void ProjectionRunner::log(LogLevel level, const std::string& line) const {
  options_.log(level, "projection " + name_ + ": " + line);
}

}  // namespace orderlog::projections
