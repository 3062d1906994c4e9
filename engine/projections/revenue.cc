// See revenue.h. Body layout (version 1): bucket count u64, then per bucket period u8
// (0 hour, 1 day, 2 month), currency (string), start ns u64, confirmed, cancelled and
// delivered amounts i64, created, confirmed, cancelled and delivered counts u64,
// saturated u8. The currency set is derived and rebuilt on decode.
#include "projections/revenue.h"

#include <chrono>
#include <limits>
#include <variant>

#include "orderlog/check.h"
#include "projections/hosted_projection.h"
#include "projections/order_facts.h"
#include "projections/order_pages.h"

namespace orderlog::projections {
namespace {

constexpr uint64_t kHourNs = 3'600'000'000'000;
constexpr uint64_t kDayNs = 24 * kHourNs;
constexpr Period kPeriods[] = {Period::kHour, Period::kDay, Period::kMonth};
constexpr size_t kBucketBytesMin = 1 + 4 + 8 + 3 * 8 + 4 * 8 + 1;

// Nanoseconds at the start of `day`, or the largest value when past what u64 holds.
uint64_t day_start_ns(std::chrono::sys_days day) {
  const auto days = static_cast<uint64_t>(day.time_since_epoch().count());
  if (days > std::numeric_limits<uint64_t>::max() / kDayNs) return std::numeric_limits<uint64_t>::max();
  return days * kDayNs;
}

TimeRange fixed_period(uint64_t timestamp_ns, uint64_t length_ns) {
  const uint64_t start = timestamp_ns - timestamp_ns % length_ns;
  const bool last = start > std::numeric_limits<uint64_t>::max() - length_ns;
  return {start, last ? std::numeric_limits<uint64_t>::max() : start + length_ns};
}

TimeRange month_of(uint64_t timestamp_ns) {
  using namespace std::chrono;
  const sys_days day{days{static_cast<int64_t>(timestamp_ns / kDayNs)}};
  const year_month_day date{day};
  const year_month_day first = date.year() / date.month() / 1;
  return {day_start_ns(sys_days{first}), day_start_ns(sys_days{first + months{1}})};
}

// Money sums stop at the int64 limits instead of wrapping, and say so.
void add_amount(RevenueTotals& totals, int64_t& sum, int64_t amount) {
  if (__builtin_add_overflow(sum, amount, &sum)) {
    sum = amount > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
    totals.saturated = true;
  }
}

}  // namespace

TimeRange period_of(Period period, uint64_t timestamp_ns) {
  switch (period) {
    case Period::kHour: return fixed_period(timestamp_ns, kHourNs);
    case Period::kDay: return fixed_period(timestamp_ns, kDayNs);
    case Period::kMonth: return month_of(timestamp_ns);
  }
  OL_CHECK_MSG(false, "unknown period");
  return {};
}

template <typename Change>
void RevenueModel::add_to_buckets(const std::string& currency, uint64_t timestamp_ns, Change change) {
  currencies_.insert(currency);
  for (Period period : kPeriods) {
    BucketKey key{static_cast<uint8_t>(period), currency, period_of(period, timestamp_ns).from_ns};
    change(buckets_[std::move(key)]);
  }
}

void RevenueModel::apply(const EventView& stored, const order::Event& event) {
  const uint64_t now = stored.timestamp_ns;
  if (const auto* created = std::get_if<order::OrderCreated>(&event)) {
    add_to_buckets(created->currency, now, [](RevenueTotals& totals) { ++totals.orders_created; });
  } else if (const auto* confirmed = std::get_if<order::OrderConfirmed>(&event)) {
    add_to_buckets(confirmed->currency, now, [&](RevenueTotals& totals) {
      ++totals.orders_confirmed;
      add_amount(totals, totals.confirmed_minor, confirmed->total_minor);
    });
  } else if (const auto* cancelled = std::get_if<order::OrderCancelled>(&event)) {
    add_to_buckets(cancelled->currency, now, [&](RevenueTotals& totals) {
      ++totals.orders_cancelled;
      add_amount(totals, totals.cancelled_minor, cancelled->total_minor);
    });
  } else if (const auto* delivered = std::get_if<order::OrderDelivered>(&event)) {
    add_to_buckets(delivered->currency, now, [&](RevenueTotals& totals) {
      ++totals.orders_delivered;
      add_amount(totals, totals.delivered_minor, delivered->total_minor);
    });
  }
}

void RevenueModel::clear() {
  buckets_.clear();
  currencies_.clear();
}

void RevenueModel::encode(BodyEncoder& out) const {
  out.u64(buckets_.size());
  for (const auto& [key, totals] : buckets_) {
    out.u8(key.period);
    out.string(key.currency);
    out.u64(key.start_ns);
    for (int64_t amount : {totals.confirmed_minor, totals.cancelled_minor, totals.delivered_minor}) out.i64(amount);
    for (uint64_t count : {totals.orders_created, totals.orders_confirmed, totals.orders_cancelled,
                           totals.orders_delivered}) {
      out.u64(count);
    }
    out.u8(totals.saturated ? 1 : 0);
  }
}

Status RevenueModel::decode(BodyDecoder& in) {
  const uint64_t count = in.count(kBucketBytesMin);
  for (uint64_t i = 0; i < count && in.ok(); ++i) {
    BucketKey key;
    key.period = in.u8();
    key.currency = in.string(kDecodedIdBytesMax);
    key.start_ns = in.u64();
    RevenueTotals totals;
    for (int64_t* amount : {&totals.confirmed_minor, &totals.cancelled_minor, &totals.delivered_minor}) {
      *amount = in.i64();
    }
    for (uint64_t* number : {&totals.orders_created, &totals.orders_confirmed, &totals.orders_cancelled,
                             &totals.orders_delivered}) {
      *number = in.u64();
    }
    const uint8_t saturated = in.u8();
    totals.saturated = saturated == 1;
    // Every key names the start of a real period; anything else is a bad file.
    if (!in.ok() || key.period > static_cast<uint8_t>(Period::kMonth) || saturated > 1 ||
        period_of(static_cast<Period>(key.period), key.start_ns).from_ns != key.start_ns) {
      in.fail();
      break;
    }
    currencies_.insert(key.currency);
    if (!buckets_.emplace(std::move(key), totals).second) in.fail();
  }
  if (!in.ok()) return Status::corruption("revenue buckets do not decode");
  return Status::ok();
}

RevenuePage RevenueModel::revenue(Period period, std::string_view currency, TimeRange range, size_t limit) const {
  RevenuePage page;
  page.next_from_ns = range.from_ns;
  const auto wanted = static_cast<uint8_t>(period);
  auto it = buckets_.lower_bound(BucketKey{wanted, std::string(currency), range.from_ns});
  auto in_range = [&] {
    return it != buckets_.end() && it->first.period == wanted && it->first.currency == currency &&
           it->first.start_ns < range.to_ns;
  };
  for (; in_range() && page.buckets.size() < limit; ++it) {
    page.buckets.push_back(RevenueBucket{period_of(period, it->first.start_ns), it->second});
    page.next_from_ns = page.buckets.back().period.to_ns;
  }
  page.end = !in_range();
  return page;
}

std::vector<std::string> RevenueModel::currencies(size_t limit) const {
  std::vector<std::string> names;
  for (auto it = currencies_.begin(); it != currencies_.end() && names.size() < limit; ++it) names.push_back(*it);
  return names;
}

namespace {

class RevenueProjectionImpl final : public HostedProjection<RevenueProjection, RevenueModel> {
 public:
  using HostedProjection::HostedProjection;

  Result<RevenuePage> revenue(const RevenueQuery& query) const override {
    OL_RETURN_IF_ERROR(check_page_limit(query.limit));
    if (query.range.from_ns >= query.range.to_ns) return Status::invalid_argument("empty revenue time range");
    return this->query(query.consistency, [&](const RevenueModel& model) -> Result<RevenuePage> {
      return model.revenue(query.period, query.currency, query.range, query.limit);
    });
  }
  Result<std::vector<std::string>> currencies(const ReadConsistency& consistency) const override {
    return query(consistency, [](const RevenueModel& model) -> Result<std::vector<std::string>> {
      return model.currencies(kPageEntriesMax);
    });
  }
};

}  // namespace

Result<std::unique_ptr<RevenueProjection>> RevenueProjection::open(const ProjectionOptions& options) {
  return RevenueProjectionImpl::open_as<RevenueProjectionImpl>("revenue", options);
}

}  // namespace orderlog::projections
