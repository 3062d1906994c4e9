// First-start chores of orderlogd: the data directory, the default admin tenant
// when none is configured (its token kept in DATA_DIR/admin.token, mode 0600), and
// the ready file that tells a supervisor (or a test) where the server listens.
#pragma once

#include <string>

#include "orderlog/status.h"
#include "server/config.h"

namespace orderlog::server {

inline constexpr char kAdminTokenFile[] = "admin.token";

// mkdir -p. kIoError saying which directory.
Status create_data_dir(const std::string& dir);

// The "admin" tenant (every right, no rate limit) with the token in
// DATA_DIR/admin.token, created with 32 random bytes in hex if missing. `*created`
// says whether the file is new. kIoError when the file cannot be read or written,
// kInvalidArgument when it does not hold a token.
Result<TenantConfig> admin_tenant(const std::string& data_dir, bool* created);

// Writes `content` to `path` atomically (temp file + rename).
Status write_file_atomically(const std::string& path, const std::string& content);

}  // namespace orderlog::server
