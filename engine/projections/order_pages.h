// Paging over the order lists (a customer's orders, orders by status). Both keep
// ordered maps keyed by log position, so a page is a bounded walk from the cursor,
// whatever the size of the list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "orderlog/projections.h"
#include "orderlog/status.h"

namespace orderlog::projections {

inline Status check_page_limit(size_t limit) {
  if (limit >= 1 && limit <= kPageEntriesMax) return Status::ok();
  return Status::invalid_argument("page limit " + std::to_string(limit) + " is not in 1.." +
                                  std::to_string(kPageEntriesMax));
}

// Walks [it, end) while `in_list(it)` holds, taking at most `limit` entries made by
// `entry_of(it)`. The page ends the list when the walk ran out of entries.
template <typename Iterator, typename InList, typename EntryOf>
OrderPage make_page(Iterator it, Iterator end, uint64_t cursor, size_t limit, InList in_list, EntryOf entry_of) {
  OrderPage page;
  page.next_cursor = cursor;
  for (; it != end && in_list(it) && page.orders.size() < limit; ++it) {
    page.orders.push_back(entry_of(it));
    page.next_cursor = page.orders.back().position.value;
  }
  page.end = it == end || !in_list(it);
  return page;
}

}  // namespace orderlog::projections
