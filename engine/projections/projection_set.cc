// ProjectionSet: the four read models opened and closed as one, for the server,
// which serves them all over one log.
#include "orderlog/projections.h"

#include <array>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace orderlog::projections {

Result<ProjectionSet> ProjectionSet::open(const ProjectionOptions& options) {
  ProjectionSet set;
  OL_ASSIGN_OR_RETURN(set.summaries, OrderSummaryProjection::open(options));
  OL_ASSIGN_OR_RETURN(set.customer_orders, CustomerOrdersProjection::open(options));
  OL_ASSIGN_OR_RETURN(set.orders_by_status, OrdersByStatusProjection::open(options));
  OL_ASSIGN_OR_RETURN(set.revenue, RevenueProjection::open(options));
  return set;
}

// Each close waits out its runner's current wait on the log and then saves the whole
// state, so closing the four one after another made a shutdown pay every wait and
// every save in turn; together it pays the slowest.
Status ProjectionSet::close() {
  const std::array<Projection*, 4> all = {summaries.get(), customer_orders.get(), orders_by_status.get(),
                                          revenue.get()};
  std::array<Status, 4> closed;
  std::vector<std::thread> closers;
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i] == nullptr) continue;
    try {
      closers.emplace_back([&closed, &all, i] { closed[i] = all[i]->close(); });
    } catch (const std::system_error&) {
      closed[i] = all[i]->close();  // no thread to spare: close it here
    }
  }
  for (std::thread& closer : closers) closer.join();
  for (const Status& status : closed) {
    if (!status.is_ok()) return status;
  }
  return Status::ok();
}

}  // namespace orderlog::projections
