// RecentAppends: a bounded window of recently appended units, keyed by the id of each
// unit's first event. It makes retries idempotent: a request whose first event id is
// here, with the same ids in the same order, is answered with the original result
// instead of being appended again. One lookup per append, not per event.
//
// The writer consults it for every append, so it is laid out for that: the entries sit
// in a ring in append order (the oldest is evicted first), and an open-addressing
// table (linear probing, backward-shift deletion) maps a first event id to its entry.
// A node-based map of the same 65,536 entries cost the writer a cache miss or two and
// an allocation per append.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "orderlog/types.h"

namespace orderlog::index {

struct RecentAppend {
  uint64_t first_position = 0;
  uint32_t event_count = 0;
  uint64_t ids_hash = 0;  // hash_ids over every event id, in order
  uint32_t first_stream_hash = 0;
  std::vector<uint64_t> stream_versions;  // each stream's version after it, in order of appearance
};

class RecentAppends {
 public:
  // Keeps at least the last `window_events` events' units (0 disables the window).
  explicit RecentAppends(size_t window_events);

  const RecentAppend* find(const EventId& first_id) const;
  // Starts loading the table slot find(first_id) looks at first: the table is larger
  // than the caches, so the writer starts a batch's lookups before doing any.
  void prefetch(const EventId& first_id) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[EventIdHash()(first_id) & (slots_.size() - 1)]);
  }
  // A first id already here is moved to the newest place with the new contents.
  void add(const EventId& first_id, RecentAppend append);
  void clear();
  size_t window_events() const { return window_events_; }

  // Folds one more event id into a running ids hash (start from 0).
  static uint64_t hash_ids(uint64_t hash, const EventId& id);

 private:
  struct Entry {
    EventId first_id;
    uint64_t hash;  // EventIdHash of first_id
    RecentAppend append;
    bool live = true;  // false once the same first id was added again
  };
  // A table slot: the entry's sequence number (kEmpty: free) and its id's hash, so
  // probing past other ids compares hashes, not the entries themselves.
  struct Slot {
    uint64_t sequence = kEmpty;
    uint64_t hash = 0;
  };
  static constexpr uint64_t kEmpty = 0;

  // The table slot holding `first_id`, or the empty slot where it would go.
  size_t slot_of(const EventId& first_id, uint64_t hash) const;
  void erase_slot(size_t slot);
  void grow();
  const Entry& entry(uint64_t sequence) const { return entries_[sequence - first_sequence_]; }
  Entry& entry(uint64_t sequence) { return entries_[sequence - first_sequence_]; }

  size_t window_events_;
  size_t events_ = 0;             // of the live entries
  std::deque<Entry> entries_;     // oldest first
  uint64_t first_sequence_ = 1;   // the sequence number of entries_.front()
  std::vector<Slot> slots_;
  size_t live_entries_ = 0;       // = occupied slots
};

}  // namespace orderlog::index
