// The revenue read model: per currency and per UTC hour, day and calendar month, the
// confirmed, cancelled and delivered amounts and the order counts, bucketed by commit
// time. MemEnv's fixed clock sets commit times, so bucket boundaries are tested to the
// nanosecond.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "projection_test_util.h"

namespace orderlog::testing {
namespace {

using projections::Period;
using projections::period_of;
using projections::RevenuePage;
using projections::RevenueProjection;
using projections::RevenueQuery;
using projections::RevenueTotals;

constexpr uint64_t kHourNs = 3'600'000'000'000;
constexpr uint64_t kDec31At23 = 1'704'063'600'000'000'000;   // 2023-12-31T23:00:00Z
constexpr uint64_t kJan1 = 1'704'067'200'000'000'000;        // 2024-01-01T00:00:00Z
constexpr uint64_t kFeb1 = 1'706'745'600'000'000'000;        // 2024-02-01T00:00:00Z
constexpr uint64_t kFeb29 = 1'709'164'800'000'000'000;       // 2024-02-29T00:00:00Z (leap day)
constexpr uint64_t kFeb29At10 = 1'709'200'800'000'000'000;   // 2024-02-29T10:00:00Z
constexpr uint64_t kFeb29At11 = 1'709'204'400'000'000'000;   // 2024-02-29T11:00:00Z
constexpr uint64_t kMar1 = 1'709'251'200'000'000'000;        // 2024-03-01T00:00:00Z

TEST(PeriodOf, GivesTheUtcHourDayAndCalendarMonthOfAnInstant) {
  // Given an instant in the middle of a leap day's hour
  const uint64_t instant = kFeb29At10 + 30 * 60'000'000'000ull + 7;

  // When its periods are asked for
  // Then each is the UTC period holding it, end exclusive
  EXPECT_EQ(period_of(Period::kHour, instant).from_ns, kFeb29At10);
  EXPECT_EQ(period_of(Period::kHour, instant).to_ns, kFeb29At11);
  EXPECT_EQ(period_of(Period::kDay, instant).from_ns, kFeb29);
  EXPECT_EQ(period_of(Period::kDay, instant).to_ns, kMar1);
  EXPECT_EQ(period_of(Period::kMonth, instant).from_ns, kFeb1);
  EXPECT_EQ(period_of(Period::kMonth, instant).to_ns, kMar1);
  // And December ends where the next year begins
  EXPECT_EQ(period_of(Period::kMonth, kJan1 - 1).to_ns, kJan1);
  EXPECT_EQ(period_of(Period::kMonth, kJan1).from_ns, kJan1);
  EXPECT_EQ(period_of(Period::kMonth, 0).from_ns, 0u);
}

class RevenueProjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.set_clock_ns(kDec31At23);
    store_ = open_test_store(env_);
    ASSERT_NE(store_, nullptr);
    script_ = std::make_unique<OrderScript>(*store_);
    revenue_ = open_projection<RevenueProjection>(fast_options(*store_, env_));
    ASSERT_NE(revenue_, nullptr);
  }
  void TearDown() override { EXPECT_OK(revenue_->close()); }

  RevenuePage buckets(Period period, const std::string& currency, TimeRange range, size_t limit = 100) {
    RevenueQuery query;
    query.period = period;
    query.currency = currency;
    query.range = range;
    query.limit = limit;
    query.consistency = at(store_->committed_position());
    Result<RevenuePage> page = revenue_->revenue(query);
    EXPECT_TRUE(page.is_ok()) << page.status().to_string();
    return page.is_ok() ? page.value() : RevenuePage{};
  }
  // The totals of the bucket starting at `start` (zeros when it had no activity).
  RevenueTotals totals_at(Period period, const std::string& currency, uint64_t start) {
    const RevenuePage page = buckets(period, currency, TimeRange{start, start + 1});
    EXPECT_LE(page.buckets.size(), 1u);
    return page.buckets.empty() ? RevenueTotals{} : page.buckets[0].totals;
  }
  // An order of one line worth `amount`, created and confirmed at `when`.
  void confirmed_order_at(uint64_t when, const std::string& id, int64_t amount) {
    env_.set_clock_ns(when);
    script_->create(id, "alice", "EUR", {{"sku", 1, amount}});
    script_->confirm(id);
  }

  MemEnv env_;
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<OrderScript> script_;
  std::unique_ptr<RevenueProjection> revenue_;
};

TEST_F(RevenueProjectionTest, SumsAmountsAndCountsPerCurrency) {
  // Given, within one hour, EUR orders confirmed, cancelled (before and after
  // confirmation) and delivered, and one USD order
  env_.set_clock_ns(kFeb29At10);
  script_->create("e1", "alice", "EUR", {{"a", 2, 50}});   // 100
  script_->create("e2", "bob", "EUR", {{"b", 1, 250}});    // 250
  script_->create("e3", "carol", "EUR", {{"c", 4, 10}});   // 40
  script_->create("u1", "dave", "USD", {{"d", 1, 7000}});  // 7000
  script_->confirm("e1");
  script_->confirm("e2");
  script_->cancel("e2", "late");
  script_->cancel("e3", "never mind");
  script_->ship("e1", "DHL", "1");
  script_->deliver("e1");
  script_->confirm("u1");

  // When the hour, day and month are read per currency
  RevenueTotals eur;
  eur.confirmed_minor = 350;
  eur.cancelled_minor = 290;
  eur.delivered_minor = 100;
  eur.orders_created = 3;
  eur.orders_confirmed = 2;
  eur.orders_cancelled = 2;
  eur.orders_delivered = 1;
  RevenueTotals usd;
  usd.confirmed_minor = 7000;
  usd.orders_created = 1;
  usd.orders_confirmed = 1;

  // Then each currency has its own sums, the same in each period holding the hour
  EXPECT_EQ(totals_at(Period::kHour, "EUR", kFeb29At10), eur);
  EXPECT_EQ(totals_at(Period::kDay, "EUR", kFeb29), eur);
  EXPECT_EQ(totals_at(Period::kMonth, "EUR", kFeb1), eur);
  EXPECT_EQ(totals_at(Period::kDay, "USD", kFeb29), usd);
  EXPECT_EQ(totals_at(Period::kDay, "GBP", kFeb29), RevenueTotals{});
  Result<std::vector<std::string>> currencies = revenue_->currencies(at(store_->committed_position()));
  ASSERT_OK(currencies);
  EXPECT_EQ(*currencies, (std::vector<std::string>{"EUR", "USD"}));
}

TEST_F(RevenueProjectionTest, AnHourEndsAtItsLastNanosecond) {
  // Given orders confirmed at 10:59:59.999999999 and at 11:00:00 exactly
  confirmed_order_at(kFeb29At11 - 1, "late", 100);
  confirmed_order_at(kFeb29At11, "early", 20);

  // When the hours and the day are read
  // Then each hour has one order, and the day has both
  EXPECT_EQ(totals_at(Period::kHour, "EUR", kFeb29At10).confirmed_minor, 100);
  EXPECT_EQ(totals_at(Period::kHour, "EUR", kFeb29At11).confirmed_minor, 20);
  EXPECT_EQ(totals_at(Period::kDay, "EUR", kFeb29).confirmed_minor, 120);
  EXPECT_EQ(totals_at(Period::kDay, "EUR", kFeb29).orders_confirmed, 2u);
}

TEST_F(RevenueProjectionTest, ADayAndAMonthEndAtMidnightUtc) {
  // Given orders confirmed in the last nanosecond of the leap day and at midnight after it
  confirmed_order_at(kMar1 - 1, "leap", 100);
  confirmed_order_at(kMar1, "march", 20);

  // When days and months are read
  // Then the leap day and February hold the first, March 1st and March the second
  EXPECT_EQ(totals_at(Period::kDay, "EUR", kFeb29).confirmed_minor, 100);
  EXPECT_EQ(totals_at(Period::kDay, "EUR", kMar1).confirmed_minor, 20);
  EXPECT_EQ(totals_at(Period::kMonth, "EUR", kFeb1).confirmed_minor, 100);
  EXPECT_EQ(totals_at(Period::kMonth, "EUR", kMar1).confirmed_minor, 20);
}

TEST_F(RevenueProjectionTest, AYearEndsAtTheFirstNanosecondOfJanuary) {
  // Given orders confirmed just before and at the turn of the year
  confirmed_order_at(kJan1 - 1, "december", 100);
  confirmed_order_at(kJan1, "january", 20);

  // When the months are listed over both years
  const RevenuePage months = buckets(Period::kMonth, "EUR", TimeRange{0, kMar1});

  // Then December 2023 and January 2024 each hold one order
  ASSERT_EQ(months.buckets.size(), 2u);
  EXPECT_EQ(months.buckets[0].period.to_ns, kJan1);
  EXPECT_EQ(months.buckets[0].totals.confirmed_minor, 100);
  EXPECT_EQ(months.buckets[1].period.from_ns, kJan1);
  EXPECT_EQ(months.buckets[1].period.to_ns, kFeb1);
  EXPECT_EQ(months.buckets[1].totals.confirmed_minor, 20);
  EXPECT_TRUE(months.end);
}

TEST_F(RevenueProjectionTest, PagesThroughBucketsOldestFirst) {
  // Given one confirmed order in each of 30 consecutive hours
  for (uint64_t hour = 0; hour < 30; ++hour) {
    confirmed_order_at(kFeb29 + hour * kHourNs + 5, "o" + std::to_string(hour), static_cast<int64_t>(hour + 1));
  }

  // When the hours are walked in pages of 7, continuing from next_from_ns
  std::vector<uint64_t> starts;
  int64_t sum = 0;
  TimeRange range{kFeb29, kFeb29 + 30 * kHourNs};
  for (int pages = 0; pages < 10; ++pages) {
    const RevenuePage page = buckets(Period::kHour, "EUR", range, 7);
    EXPECT_LE(page.buckets.size(), 7u);
    for (const projections::RevenueBucket& bucket : page.buckets) {
      starts.push_back(bucket.period.from_ns);
      sum += bucket.totals.confirmed_minor;
    }
    if (page.end) break;
    range.from_ns = page.next_from_ns;
  }

  // Then every hour is seen once, in order, and the sums add up
  ASSERT_EQ(starts.size(), 30u);
  for (uint64_t hour = 0; hour < 30; ++hour) EXPECT_EQ(starts[hour], kFeb29 + hour * kHourNs);
  EXPECT_EQ(sum, 30 * 31 / 2);
}

TEST_F(RevenueProjectionTest, TheRangeSelectsBucketsByTheirStart) {
  // Given orders in three consecutive days
  confirmed_order_at(kFeb29 - 1, "feb28", 1);
  confirmed_order_at(kFeb29, "feb29", 10);
  confirmed_order_at(kMar1, "mar1", 100);

  // When the days starting within [Feb 29, Mar 1) are read
  const RevenuePage days = buckets(Period::kDay, "EUR", TimeRange{kFeb29, kMar1});

  // Then only the leap day is returned
  ASSERT_EQ(days.buckets.size(), 1u);
  EXPECT_EQ(days.buckets[0].totals.confirmed_minor, 10);
  // And an empty range is refused
  RevenueQuery empty;
  empty.currency = "EUR";
  empty.range = TimeRange{kMar1, kMar1};
  EXPECT_EQ(revenue_->revenue(empty).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace orderlog::testing
