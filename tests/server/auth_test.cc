// Tenants (server/auth.cc): the token bucket driven by an explicit clock, prefix
// ACLs, command permissions, constant-time token comparison and the authenticator's
// token-to-tenant lookup.
#include "server/auth.h"

#include <gtest/gtest.h>

namespace orderlog::server {
namespace {

constexpr uint64_t kSecondNs = 1'000'000'000;
constexpr uint64_t kStartNs = 1000 * kSecondNs;  // a steady clock is far from 0

// ---------------------------------------------------------------- TokenBucket

TEST(TokenBucket, ZeroRateIsUnlimited) {
  TokenBucket bucket(0, 0);
  for (int i = 0; i < 10'000; ++i) ASSERT_TRUE(bucket.try_take(1e6, kStartNs));
}

TEST(TokenBucket, StartsFullAndAllowsTheWholeBurstAtOnce) {
  TokenBucket bucket(10, 5);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(bucket.try_take(1, kStartNs)) << i;
  EXPECT_FALSE(bucket.try_take(1, kStartNs));
}

TEST(TokenBucket, RefillsContinuouslyAtTheRate) {
  TokenBucket bucket(10, 10);  // one token per 100 ms
  ASSERT_TRUE(bucket.try_take(10, kStartNs));
  EXPECT_FALSE(bucket.try_take(1, kStartNs + 50'000'000));   // half a token
  EXPECT_TRUE(bucket.try_take(1, kStartNs + 100'000'000));   // the rest of it
  EXPECT_FALSE(bucket.try_take(1, kStartNs + 100'000'000));
  EXPECT_TRUE(bucket.try_take(3, kStartNs + 400'000'000));   // 3 more after 300 ms
  EXPECT_FALSE(bucket.try_take(0.5, kStartNs + 400'000'000));
}

TEST(TokenBucket, NeverBanksMoreThanTheBurst) {
  TokenBucket bucket(100, 20);
  ASSERT_TRUE(bucket.try_take(20, kStartNs));
  const uint64_t hour_later_ns = kStartNs + 3600 * kSecondNs;
  EXPECT_TRUE(bucket.try_take(20, hour_later_ns));
  EXPECT_FALSE(bucket.try_take(1, hour_later_ns));
}

TEST(TokenBucket, ZeroBurstMeansOneSecondOfRateAndAtLeastOne) {
  TokenBucket per_second(50, 0);
  EXPECT_TRUE(per_second.try_take(50, kStartNs));
  EXPECT_FALSE(per_second.try_take(1, kStartNs));
  TokenBucket slow(0.1, 0);
  EXPECT_TRUE(slow.try_take(1, kStartNs));
  EXPECT_FALSE(slow.try_take(1, kStartNs));
  EXPECT_TRUE(slow.try_take(1, kStartNs + 10 * kSecondNs));
}

TEST(TokenBucket, CostOverTheBurstPassesWhenFullAndLeavesDebt) {
  TokenBucket bucket(10, 10);
  EXPECT_TRUE(bucket.try_take(30, kStartNs));  // an append of 30 events
  // 20 tokens of debt: 2 s to pay back, a further 0.1 s for the next token.
  EXPECT_FALSE(bucket.try_take(1, kStartNs + 2 * kSecondNs));
  EXPECT_TRUE(bucket.try_take(1, kStartNs + 2 * kSecondNs + 100'000'000));
  EXPECT_FALSE(bucket.try_take(30, kStartNs + 2 * kSecondNs + 500'000'000));  // not full yet
}

TEST(TokenBucket, AnOlderClockReadingDoesNotRefillOrRewind) {
  TokenBucket bucket(10, 10);
  ASSERT_TRUE(bucket.try_take(10, kStartNs + kSecondNs));
  EXPECT_FALSE(bucket.try_take(1, kStartNs));  // another thread's earlier reading
  EXPECT_FALSE(bucket.try_take(1, kStartNs + kSecondNs + 50'000'000));
  EXPECT_TRUE(bucket.try_take(1, kStartNs + kSecondNs + 100'000'000));
}

TEST(TokenBucket, ZeroCostAlwaysPasses) {
  TokenBucket bucket(1, 1);
  ASSERT_TRUE(bucket.try_take(1, kStartNs));
  EXPECT_TRUE(bucket.try_take(0, kStartNs));
}

// ---------------------------------------------------------------- Tenant

TenantConfig tenant_config() {
  return TenantConfig{.name = "shop",
                      .token = "shop-token-0123456789",
                      .read_prefixes = {"order-", "shop-"},
                      .write_prefixes = {"order-"},
                      .commands = {"CreateOrder", "ShipOrder"},
                      .may_query = false};
}

TEST(Tenant, ReadsStreamsUnderItsReadPrefixesOnly) {
  const Tenant tenant(tenant_config());
  EXPECT_TRUE(tenant.may_read("order-1"));
  EXPECT_TRUE(tenant.may_read("order-"));
  EXPECT_TRUE(tenant.may_read("shop-config"));
  EXPECT_FALSE(tenant.may_read("orders"));
  EXPECT_FALSE(tenant.may_read("customer-1"));
  EXPECT_FALSE(tenant.may_read(""));
}

TEST(Tenant, WritesStreamsUnderItsWritePrefixesOnly) {
  const Tenant tenant(tenant_config());
  EXPECT_TRUE(tenant.may_write("order-7"));
  EXPECT_FALSE(tenant.may_write("shop-config"));  // readable, not writable
}

TEST(Tenant, ReadPrefixMustBeCoveredByAReadPrefix) {
  const Tenant tenant(tenant_config());
  EXPECT_TRUE(tenant.may_read_prefix("order-"));
  EXPECT_TRUE(tenant.may_read_prefix("order-12"));
  EXPECT_FALSE(tenant.may_read_prefix("order"));  // would include "orders-..."
  EXPECT_FALSE(tenant.may_read_prefix(""));       // the whole log
  TenantConfig narrow = tenant_config();
  narrow.read_prefixes = {"order-1"};
  EXPECT_FALSE(Tenant(narrow).may_read_prefix("order-"));
}

TEST(Tenant, EmptyPrefixGrantsTheWholeLog) {
  TenantConfig config = tenant_config();
  config.read_prefixes = {""};
  const Tenant tenant(config);
  EXPECT_TRUE(tenant.may_read_prefix(""));
  EXPECT_TRUE(tenant.may_read(""));
  EXPECT_TRUE(tenant.may_read("anything-at-all"));
  EXPECT_FALSE(tenant.may_write("anything-at-all"));
}

TEST(Tenant, NoPrefixesGrantNothing) {
  TenantConfig config = tenant_config();
  config.read_prefixes.clear();
  config.write_prefixes.clear();
  config.commands.clear();
  const Tenant tenant(config);
  EXPECT_FALSE(tenant.may_read("order-1"));
  EXPECT_FALSE(tenant.may_read_prefix(""));
  EXPECT_FALSE(tenant.may_write("order-1"));
  EXPECT_FALSE(tenant.may_execute("CreateOrder"));
}

TEST(Tenant, ExecutesOnlyTheNamedCommands) {
  const Tenant tenant(tenant_config());
  EXPECT_TRUE(tenant.may_execute("CreateOrder"));
  EXPECT_TRUE(tenant.may_execute("ShipOrder"));
  EXPECT_FALSE(tenant.may_execute("CancelOrder"));
  EXPECT_FALSE(tenant.may_execute("createorder"));
  EXPECT_FALSE(tenant.may_execute("*"));
}

TEST(Tenant, StarAllowsEveryCommand) {
  TenantConfig config = tenant_config();
  config.commands = {"*"};
  const Tenant tenant(config);
  for (const char* name :
       {"CreateOrder", "AddItem", "RemoveItem", "ConfirmOrder", "CancelOrder", "ShipOrder", "DeliverOrder"}) {
    EXPECT_TRUE(tenant.may_execute(name)) << name;
  }
}

TEST(Tenant, NameAndQueryComeFromTheConfig) {
  TenantConfig config = tenant_config();
  EXPECT_FALSE(Tenant(config).may_query());
  config.may_query = true;
  const Tenant tenant(config);
  EXPECT_TRUE(tenant.may_query());
  EXPECT_EQ(tenant.name(), "shop");
}

TEST(Tenant, AdmitChargesTheTenantsBucket) {
  TenantConfig config = tenant_config();
  config.rate_per_second = 0.001;  // no measurable refill during the test
  config.burst = 3;
  Tenant tenant(config);
  EXPECT_TRUE(tenant.admit(2));
  EXPECT_TRUE(tenant.admit(1));
  EXPECT_FALSE(tenant.admit(1));
}

TEST(Tenant, UnlimitedTenantIsAlwaysAdmitted) {
  Tenant tenant(tenant_config());  // rate 0
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(tenant.admit(1000));
}

// ---------------------------------------------------------------- constant_time_equal

TEST(ConstantTimeEqual, EqualStringsAreEqual) {
  EXPECT_TRUE(constant_time_equal("demo-token-0123456789", "demo-token-0123456789"));
  EXPECT_TRUE(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
}

TEST(ConstantTimeEqual, ADifferenceAnywhereIsUnequal) {
  const std::string token = "demo-token-0123456789";
  for (size_t i = 0; i < token.size(); ++i) {
    std::string other = token;
    other[i] = static_cast<char>(other[i] ^ 0x01);
    EXPECT_FALSE(constant_time_equal(token, other)) << i;
  }
}

TEST(ConstantTimeEqual, DifferentLengthsAreUnequal) {
  EXPECT_FALSE(constant_time_equal("token", "token-longer"));
  EXPECT_FALSE(constant_time_equal("token-longer", "token"));
  // Padding the shorter one with zero bytes must not make them equal.
  EXPECT_FALSE(constant_time_equal("abc", std::string_view("abc\0", 4)));
  EXPECT_FALSE(constant_time_equal(std::string_view("abc\0", 4), "abc"));
}

TEST(ConstantTimeEqual, EmptyEqualsOnlyEmpty) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_FALSE(constant_time_equal("", "x"));
  EXPECT_FALSE(constant_time_equal("x", ""));
  EXPECT_FALSE(constant_time_equal("", std::string_view("\0", 1)));
}

// ---------------------------------------------------------------- Authenticator

std::vector<TenantConfig> three_tenants() {
  std::vector<TenantConfig> tenants;
  for (const char* name : {"alpha", "beta", "gamma"}) {
    TenantConfig config = tenant_config();
    config.name = name;
    config.token = std::string(name) + "-token-0123456789";
    tenants.push_back(config);
  }
  return tenants;
}

TEST(Authenticator, FindsTheTenantWhoseTokenMatches) {
  const Authenticator authenticator(three_tenants());
  EXPECT_EQ(authenticator.tenant_count(), 3u);
  for (const char* name : {"alpha", "beta", "gamma"}) {
    Tenant* tenant = authenticator.authenticate(std::string(name) + "-token-0123456789");
    ASSERT_NE(tenant, nullptr) << name;
    EXPECT_EQ(tenant->name(), name);
  }
}

TEST(Authenticator, RejectsUnknownTruncatedAndExtendedTokens) {
  const Authenticator authenticator(three_tenants());
  EXPECT_EQ(authenticator.authenticate("delta-token-0123456789"), nullptr);
  EXPECT_EQ(authenticator.authenticate("beta-token-012345678"), nullptr);
  EXPECT_EQ(authenticator.authenticate("beta-token-01234567890"), nullptr);
  EXPECT_EQ(authenticator.authenticate("BETA-token-0123456789"), nullptr);
  EXPECT_EQ(authenticator.authenticate(""), nullptr);
}

TEST(Authenticator, EmptyTokenNeverAuthenticates) {
  TenantConfig misconfigured = tenant_config();
  misconfigured.token.clear();
  const Authenticator authenticator({misconfigured});
  EXPECT_EQ(authenticator.authenticate(""), nullptr);
}

TEST(Authenticator, NoTenantsRejectsEveryone) {
  const Authenticator authenticator({});
  EXPECT_EQ(authenticator.tenant_count(), 0u);
  EXPECT_EQ(authenticator.authenticate("alpha-token-0123456789"), nullptr);
}

TEST(Authenticator, ReturnsTheSameTenantEveryTimeSoItsBucketIsShared) {
  std::vector<TenantConfig> tenants = three_tenants();
  tenants[1].rate_per_second = 0.001;
  tenants[1].burst = 1;
  const Authenticator authenticator(tenants);
  Tenant* first = authenticator.authenticate("beta-token-0123456789");
  Tenant* second = authenticator.authenticate("beta-token-0123456789");
  ASSERT_EQ(first, second);
  EXPECT_TRUE(first->admit(1));
  EXPECT_FALSE(second->admit(1));
}

}  // namespace
}  // namespace orderlog::server
