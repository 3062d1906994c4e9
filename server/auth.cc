// Tenants: token lookup in constant time, prefix ACLs and a token-bucket rate limit.
// The token comparison is the one place where timing matters: a response that comes
// back sooner when more leading bytes match would let a client guess a token byte by
// byte, so every comparison touches every byte of every tenant's token.
#include "server/auth.h"

#include <algorithm>
#include <chrono>
#include <cstddef>

#include "orderlog/check.h"

namespace orderlog::server {
namespace {

bool some_prefix_of(const std::vector<std::string>& prefixes, std::string_view text) {
  return std::any_of(prefixes.begin(), prefixes.end(),
                     [&](const std::string& prefix) { return text.starts_with(prefix); });
}

uint64_t steady_now_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

}  // namespace

// ---------------------------------------------------------------- TokenBucket

// The bucket starts full so a client may use its burst at once after connecting.
TokenBucket::TokenBucket(double rate_per_second, double burst)
    : rate_(rate_per_second), burst_(burst > 0 ? burst : std::max(1.0, rate_per_second)), available_(burst_) {
  OL_CHECK(rate_per_second >= 0 && burst >= 0);
}

// A request costing more than the whole bucket (an append of more events than
// `burst`) would otherwise never pass: it is admitted when the bucket is full and
// leaves it in debt, which the refill pays back before anything else passes. The
// long-run rate still holds.
bool TokenBucket::try_take(double tokens, uint64_t now_ns) {
  OL_CHECK(tokens >= 0);
  if (rate_ == 0) return true;
  std::lock_guard lock(mutex_);
  // A clock read on another thread may be a little older than last_ns_: no refill.
  if (now_ns > last_ns_) {
    const double elapsed_seconds = static_cast<double>(now_ns - last_ns_) / 1e9;
    available_ = std::min(burst_, available_ + elapsed_seconds * rate_);
    last_ns_ = now_ns;
  }
  if (available_ < std::min(tokens, burst_)) return false;
  available_ -= tokens;
  return true;
}

// ---------------------------------------------------------------- Tenant

Tenant::Tenant(TenantConfig config)
    : config_(std::move(config)), bucket_(config_.rate_per_second, config_.burst) {}

bool Tenant::may_read(std::string_view stream_id) const { return some_prefix_of(config_.read_prefixes, stream_id); }

// Every stream starting with `prefix` also starts with any read prefix that is itself
// a prefix of `prefix`; a narrower read prefix ("order-1" for "order-") is not enough.
bool Tenant::may_read_prefix(std::string_view prefix) const {
  return some_prefix_of(config_.read_prefixes, prefix);
}

bool Tenant::may_write(std::string_view stream_id) const { return some_prefix_of(config_.write_prefixes, stream_id); }

bool Tenant::may_execute(std::string_view command_name) const {
  return std::any_of(config_.commands.begin(), config_.commands.end(),
                     [&](const std::string& allowed) { return allowed == "*" || allowed == command_name; });
}

bool Tenant::admit(double cost) { return bucket_.try_take(cost, steady_now_ns()); }

// ---------------------------------------------------------------- Authenticator

Authenticator::Authenticator(const std::vector<TenantConfig>& tenants) {
  tenants_.reserve(tenants.size());
  tokens_.reserve(tenants.size());
  for (const TenantConfig& tenant : tenants) {
    tenants_.push_back(std::make_unique<Tenant>(tenant));
    tokens_.push_back(tenant.token);
  }
}

// Compares with every tenant and selects the match without a data-dependent branch,
// so the time taken says nothing about which tenant (if any) matched.
Tenant* Authenticator::authenticate(std::string_view token) const {
  size_t match = tenants_.size();  // none
  for (size_t i = 0; i < tenants_.size(); ++i) {
    const size_t equal = constant_time_equal(token, tokens_[i]) ? 1 : 0;
    const size_t mask = ~(equal - 1);  // all ones when equal, else zero
    match = (i & mask) | (match & ~mask);
  }
  // An empty token never authenticates, even against a misconfigured empty one.
  if (token.empty() || match == tenants_.size()) return nullptr;
  return tenants_[match].get();
}

// The length difference goes into the accumulated difference instead of returning
// early, and the loop runs over the longer string with the shorter one padded.
bool constant_time_equal(std::string_view a, std::string_view b) {
  const size_t length = std::max(a.size(), b.size());
  uint64_t difference = static_cast<uint64_t>(a.size() ^ b.size());
  for (size_t i = 0; i < length; ++i) {
    const auto byte_a = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
    const auto byte_b = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
    difference |= static_cast<uint64_t>(byte_a ^ byte_b);
  }
  return difference == 0;
}

}  // namespace orderlog::server
