// Authentication, authorisation and rate limiting of tenants (docs/operations.md).
// A connection presents a token in its handshake; the Authenticator maps it to a
// Tenant, whose ACL and token bucket then judge every request.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "server/config.h"

namespace orderlog::server {

// A token bucket: `rate` tokens per second, at most `burst` banked. Thread-safe.
class TokenBucket {
 public:
  TokenBucket(double rate_per_second, double burst);  // rate 0: unlimited
  // Takes `tokens` if available at `now_ns` (steady clock); false otherwise.
  bool try_take(double tokens, uint64_t now_ns);

 private:
  std::mutex mutex_;
  double rate_;
  double burst_;
  double available_;
  uint64_t last_ns_ = 0;
};

class Tenant {
 public:
  explicit Tenant(TenantConfig config);

  const std::string& name() const { return config_.name; }
  bool may_read(std::string_view stream_id) const;
  // Every stream whose id starts with `prefix` is readable ("" = the whole log:
  // ReadAll, ReadByType, ReadByTime and unfiltered subscriptions need this).
  bool may_read_prefix(std::string_view prefix) const;
  bool may_write(std::string_view stream_id) const;
  bool may_execute(std::string_view command_name) const;
  bool may_query() const { return config_.may_query; }
  // Charges `cost` to the tenant's bucket; false: over its rate limit (answer Busy).
  bool admit(double cost);

 private:
  TenantConfig config_;
  TokenBucket bucket_;
};

class Authenticator {
 public:
  explicit Authenticator(const std::vector<TenantConfig>& tenants);
  // The tenant whose token equals `token`, or nullptr. Compares against every
  // tenant's token in time independent of where (or whether) they differ.
  Tenant* authenticate(std::string_view token) const;
  size_t tenant_count() const { return tenants_.size(); }

 private:
  std::vector<std::unique_ptr<Tenant>> tenants_;
  std::vector<std::string> tokens_;  // tokens_[i] is tenants_[i]'s; kept here so Tenant need not expose it
};

// Equal-length-independent constant-time comparison.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace orderlog::server
