// ProjectionSet: the four read models opened and closed as one, for the server,
// which serves them all over one log.
#include "orderlog/projections.h"

#include <utility>

namespace orderlog::projections {

Result<ProjectionSet> ProjectionSet::open(const ProjectionOptions& options) {
  ProjectionSet set;
  OL_ASSIGN_OR_RETURN(set.summaries, OrderSummaryProjection::open(options));
  OL_ASSIGN_OR_RETURN(set.customer_orders, CustomerOrdersProjection::open(options));
  OL_ASSIGN_OR_RETURN(set.orders_by_status, OrdersByStatusProjection::open(options));
  OL_ASSIGN_OR_RETURN(set.revenue, RevenueProjection::open(options));
  return set;
}

Status ProjectionSet::close() {
  Status first = Status::ok();
  for (Projection* projection : {static_cast<Projection*>(summaries.get()), static_cast<Projection*>(customer_orders.get()),
                                 static_cast<Projection*>(orders_by_status.get()), static_cast<Projection*>(revenue.get())}) {
    if (projection == nullptr) continue;
    Status closed = projection->close();
    if (first.is_ok()) first = closed;
  }
  return first;
}

}  // namespace orderlog::projections
