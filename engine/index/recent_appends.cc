// See recent_appends.h.
#include "index/recent_appends.h"

#include <xxhash.h>

#include <utility>

#include "orderlog/check.h"

namespace orderlog::index {
namespace {

constexpr size_t kInitialSlots = 1024;

}  // namespace

RecentAppends::RecentAppends(size_t window_events) : window_events_(window_events) {
  if (window_events_ > 0) slots_.assign(kInitialSlots, Slot{});
}

size_t RecentAppends::slot_of(const EventId& first_id, uint64_t hash) const {
  const size_t mask = slots_.size() - 1;
  size_t slot = hash & mask;
  while (slots_[slot].sequence != kEmpty &&
         (slots_[slot].hash != hash || entry(slots_[slot].sequence).first_id != first_id)) {
    slot = (slot + 1) & mask;
  }
  return slot;
}

const RecentAppend* RecentAppends::find(const EventId& first_id) const {
  if (slots_.empty()) return nullptr;
  const uint64_t sequence = slots_[slot_of(first_id, EventIdHash()(first_id))].sequence;
  return sequence == kEmpty ? nullptr : &entry(sequence).append;
}

// Backward-shift deletion: later members of the probe run move up into the hole, so
// lookups never need tombstones.
void RecentAppends::erase_slot(size_t slot) {
  const size_t mask = slots_.size() - 1;
  size_t hole = slot;
  size_t next = (hole + 1) & mask;
  while (slots_[next].sequence != kEmpty) {
    const size_t home = slots_[next].hash & mask;
    // Move it when its home is not in (hole, next], cyclically.
    const bool stays = hole < next ? (home > hole && home <= next) : (home > hole || home <= next);
    if (!stays) {
      slots_[hole] = slots_[next];
      hole = next;
    }
    next = (next + 1) & mask;
  }
  slots_[hole] = Slot{};
  --live_entries_;
}

void RecentAppends::grow() {
  std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(slots_.size() * 2, Slot{}));
  const size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.sequence == kEmpty) continue;
    size_t at = slot.hash & mask;  // every id is distinct here: the first free slot
    while (slots_[at].sequence != kEmpty) at = (at + 1) & mask;
    slots_[at] = slot;
  }
}

void RecentAppends::add(const EventId& first_id, RecentAppend append) {
  if (window_events_ == 0) return;
  const uint64_t sequence = first_sequence_ + entries_.size();
  const uint32_t count = append.event_count;
  const uint64_t hash = EventIdHash()(first_id);
  size_t slot = slot_of(first_id, hash);
  if (slots_[slot].sequence != kEmpty) {
    // The same first id again (a unit re-indexed): its older entry stops counting.
    Entry& older = entry(slots_[slot].sequence);
    older.live = false;
    events_ -= older.append.event_count;
  } else {
    // At most half full, so probe runs stay short.
    if (2 * (live_entries_ + 1) > slots_.size()) {
      grow();
      slot = slot_of(first_id, hash);
    }
    ++live_entries_;
  }
  slots_[slot] = Slot{sequence, hash};
  entries_.push_back(Entry{first_id, hash, std::move(append), true});
  events_ += count;
  // Evict the oldest while over budget, always keeping the newest.
  while (events_ > window_events_ && entries_.size() > 1) {
    Entry& oldest = entries_.front();
    if (oldest.live) {
      const size_t oldest_slot = slot_of(oldest.first_id, oldest.hash);
      OL_CHECK(slots_[oldest_slot].sequence == first_sequence_);
      erase_slot(oldest_slot);
      events_ -= oldest.append.event_count;
    }
    entries_.pop_front();
    ++first_sequence_;
  }
  // The next add will likely evict the oldest entry, whose slot is as cold as any.
  __builtin_prefetch(&slots_[entries_.front().hash & (slots_.size() - 1)]);
}

void RecentAppends::clear() {
  entries_.clear();
  first_sequence_ = 1;
  events_ = 0;
  live_entries_ = 0;
  if (!slots_.empty()) slots_.assign(kInitialSlots, Slot{});
}

uint64_t RecentAppends::hash_ids(uint64_t hash, const EventId& id) {
  return XXH3_64bits_withSeed(id.bytes.data(), id.bytes.size(), hash);
}

}  // namespace orderlog::index
