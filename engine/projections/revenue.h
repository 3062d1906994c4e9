// The revenue read model: per UTC hour, day and calendar month, and per currency,
// the amounts confirmed, cancelled and delivered and the number of orders created,
// confirmed, cancelled and delivered, by the commit time of each event. It needs no
// per-order state: the events that move money carry the order's total.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "orderlog/projections.h"
#include "projections/read_model.h"

namespace orderlog::projections {

class RevenueModel final : public ReadModel {
 public:
  ModelId model_id() const override { return ModelId::kRevenue; }
  uint8_t model_version() const override { return 1; }
  void apply(const EventView& stored, const order::Event& event) override;
  void clear() override;
  void encode(BodyEncoder& out) const override;
  Status decode(BodyDecoder& in) override;

  // Buckets of `currency` whose start is in `range`. REQUIRES: 1 <= limit <= kPageEntriesMax.
  RevenuePage revenue(Period period, std::string_view currency, TimeRange range, size_t limit) const;
  // At most `limit` currencies, sorted.
  std::vector<std::string> currencies(size_t limit) const;

 private:
  struct BucketKey {
    uint8_t period = 0;
    std::string currency;
    uint64_t start_ns = 0;
    friend auto operator<=>(const BucketKey&, const BucketKey&) = default;
  };
  // Runs `change` on the totals of the hour, the day and the month of `timestamp_ns`.
  template <typename Change>
  void add_to_buckets(const std::string& currency, uint64_t timestamp_ns, Change change);

  std::map<BucketKey, RevenueTotals> buckets_;
  std::set<std::string, std::less<>> currencies_;
};

}  // namespace orderlog::projections
