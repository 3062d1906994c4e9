// Loads orderlogd's TOML configuration. Strict on purpose: an unknown key or a value
// of the wrong type is an error naming file, line, key and the expected type, because
// a typo in a security setting ("raed" for "read") must never be silently ignored.
// validate_config then checks ranges and the rules between fields, so flags given on
// the command line after the file are checked too.
#include "server/config.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "orderlog/fb/protocol_generated.h"

namespace orderlog::server {
namespace {

// ---------------------------------------------------------------- typed readers

// One key being read: where it is (for the message) and its value.
struct Key {
  const std::string& path;
  std::string name;  // dotted: "server.listen", "tenant[1].read"
  const toml::node& node;
};

std::string_view type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "floating-point number";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

std::string location(const std::string& path, const toml::source_region& source) {
  return fmt::format("{}:{}:{}", path, source.begin.line, source.begin.column);
}

// Never prints the value itself: it may be a token.
Status wrong_type(const Key& key, std::string_view expected) {
  return Status::invalid_argument(fmt::format("{}: '{}' must be {} (got {})", location(key.path, key.node.source()),
                                              key.name, expected, type_name(key.node.type())));
}

Status read_string(const Key& key, std::string* out) {
  if (!key.node.is_string()) return wrong_type(key, "a string");
  *out = key.node.as_string()->get();
  return Status::ok();
}

Status read_bool(const Key& key, bool* out) {
  if (!key.node.is_boolean()) return wrong_type(key, "a boolean");
  *out = key.node.as_boolean()->get();
  return Status::ok();
}

// Integers or floats (`rate = 100000` and `rate = 0.5` both read naturally).
Status read_number(const Key& key, double* out) {
  if (key.node.is_integer()) {
    *out = static_cast<double>(key.node.as_integer()->get());
  } else if (key.node.is_floating_point()) {
    *out = key.node.as_floating_point()->get();
  } else {
    return wrong_type(key, "a number");
  }
  return Status::ok();
}

template <typename T>
Status read_unsigned(const Key& key, T* out) {
  const uint64_t max = std::numeric_limits<T>::max();
  const std::string expected = fmt::format("an integer from 0 to {}", max);
  if (!key.node.is_integer()) return wrong_type(key, expected);
  const int64_t value = key.node.as_integer()->get();
  if (value < 0 || static_cast<uint64_t>(value) > max) {
    return Status::invalid_argument(
        fmt::format("{}: '{}' must be {} (got {})", location(key.path, key.node.source()), key.name, expected, value));
  }
  *out = static_cast<T>(value);
  return Status::ok();
}

Status read_strings(const Key& key, std::vector<std::string>* out) {
  const toml::array* array = key.node.as_array();
  if (array == nullptr) return wrong_type(key, "an array of strings");
  std::vector<std::string> strings;
  for (const toml::node& element : *array) {
    if (!element.is_string()) return wrong_type(Key{key.path, key.name + " element", element}, "a string");
    strings.push_back(element.as_string()->get());
  }
  *out = std::move(strings);
  return Status::ok();
}

Status unknown_key(const std::string& path, const toml::key& key, std::string_view table) {
  const std::string dotted = table.empty() ? std::string(key.str()) : fmt::format("{}.{}", table, key.str());
  return Status::invalid_argument(fmt::format("{}: unknown key '{}'", location(path, key.source()), dotted));
}

// ---------------------------------------------------------------- tables

// A key of a table and how to read it into T. Function pointers, not std::function:
// the tables below are compile-time constants.
template <typename T>
struct Field {
  std::string_view name;
  Status (*read)(const Key&, T*);
};

constexpr Field<ServerConfig> kServerFields[] = {
    {"data", [](const Key& k, ServerConfig* c) { return read_string(k, &c->data_dir); }},
    {"listen", [](const Key& k, ServerConfig* c) { return read_string(k, &c->listen); }},
    {"metrics", [](const Key& k, ServerConfig* c) { return read_string(k, &c->metrics_listen); }},
    {"ready_file", [](const Key& k, ServerConfig* c) { return read_string(k, &c->ready_file); }},
    {"io_threads", [](const Key& k, ServerConfig* c) { return read_unsigned(k, &c->io_threads); }},
    {"command_threads", [](const Key& k, ServerConfig* c) { return read_unsigned(k, &c->command_threads); }},
    {"connections_max", [](const Key& k, ServerConfig* c) { return read_unsigned(k, &c->connections_max); }},
    {"inflight_max",
     [](const Key& k, ServerConfig* c) { return read_unsigned(k, &c->inflight_per_connection_max); }},
    {"subscriptions_max",
     [](const Key& k, ServerConfig* c) { return read_unsigned(k, &c->subscriptions_per_connection_max); }},
    {"frame_bytes_max", [](const Key& k, ServerConfig* c) { return read_unsigned(k, &c->frame_bytes_max); }},
    {"read_count_max", [](const Key& k, ServerConfig* c) { return read_unsigned(k, &c->read_count_max); }},
    {"shutdown_grace_ms", [](const Key& k, ServerConfig* c) { return read_unsigned(k, &c->shutdown_grace_ms); }},
    {"handshake_timeout_ms",
     [](const Key& k, ServerConfig* c) { return read_unsigned(k, &c->handshake_timeout_ms); }},
    {"write_timeout_ms", [](const Key& k, ServerConfig* c) { return read_unsigned(k, &c->write_timeout_ms); }},
    {"durability", [](const Key& k, ServerConfig* c) { return read_string(k, &c->durability); }},
    {"direct_io", [](const Key& k, ServerConfig* c) { return read_bool(k, &c->direct_io); }},
    {"page_cache_window_mib",
     [](const Key& k, ServerConfig* c) { return read_unsigned(k, &c->page_cache_window_mib); }},
};

constexpr Field<TenantConfig> kTenantFields[] = {
    {"name", [](const Key& k, TenantConfig* t) { return read_string(k, &t->name); }},
    {"token", [](const Key& k, TenantConfig* t) { return read_string(k, &t->token); }},
    {"read", [](const Key& k, TenantConfig* t) { return read_strings(k, &t->read_prefixes); }},
    {"write", [](const Key& k, TenantConfig* t) { return read_strings(k, &t->write_prefixes); }},
    {"commands", [](const Key& k, TenantConfig* t) { return read_strings(k, &t->commands); }},
    {"query", [](const Key& k, TenantConfig* t) { return read_bool(k, &t->may_query); }},
    {"rate", [](const Key& k, TenantConfig* t) { return read_number(k, &t->rate_per_second); }},
    {"burst", [](const Key& k, TenantConfig* t) { return read_number(k, &t->burst); }},
};

// Reads every key of `table` with `fields`; a key not among them is an error.
template <typename T, size_t N>
Status read_table(const std::string& path, const toml::table& table, std::string_view table_name,
                  const Field<T> (&fields)[N], T* out) {
  for (auto&& [key, node] : table) {
    const Field<T>* field = nullptr;
    for (const Field<T>& candidate : fields) {
      if (candidate.name == key.str()) field = &candidate;
    }
    if (field == nullptr) return unknown_key(path, key, table_name);
    OL_RETURN_IF_ERROR(field->read(Key{path, fmt::format("{}.{}", table_name, key.str()), node}, out));
  }
  return Status::ok();
}

// `[[tenant]]` entries replace the configured tenants as a whole.
Status read_tenants(const std::string& path, const toml::node& node, ServerConfig* config) {
  const toml::array* array = node.as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    return wrong_type(Key{path, "tenant", node}, "an array of tables ([[tenant]] sections)");
  }
  std::vector<TenantConfig> tenants(array->size());
  for (size_t i = 0; i < array->size(); ++i) {
    const std::string name = fmt::format("tenant[{}]", i);
    OL_RETURN_IF_ERROR(read_table(path, *array->at(i).as_table(), name, kTenantFields, &tenants[i]));
  }
  config->tenants = std::move(tenants);
  return Status::ok();
}

Status read_document(const std::string& path, const toml::table& document, ServerConfig* config) {
  for (auto&& [key, node] : document) {
    if (key.str() == "server") {
      if (!node.is_table()) return wrong_type(Key{path, "server", node}, "a table ([server] section)");
      OL_RETURN_IF_ERROR(read_table(path, *node.as_table(), "server", kServerFields, config));
    } else if (key.str() == "tenant") {
      OL_RETURN_IF_ERROR(read_tenants(path, node, config));
    } else {
      return unknown_key(path, key, "");
    }
  }
  return Status::ok();
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    const int error = errno;
    if (error == ENOENT) return Status::not_found(fmt::format("config file {}: no such file", path));
    return Status::from_errno(error, fmt::format("config file {}", path));
  }
  std::ostringstream contents;
  contents << file.rdbuf();
  if (file.bad()) return Status::io_error(fmt::format("config file {}: read failed", path));
  return contents.str();
}

// ---------------------------------------------------------------- validation

Status out_of_range(std::string_view key, uint64_t value, uint64_t min, uint64_t max) {
  return Status::invalid_argument(fmt::format("server.{} = {}: must be from {} to {}", key, value, min, max));
}

Status check_address(std::string_view key, const std::string& address) {
  Result<HostPort> parsed = parse_host_port(address);
  if (!parsed.is_ok()) return parsed.status().with_context(fmt::format("server.{}", key));
  return Status::ok();
}

// Limits on everything: each bound keeps one bad value from exhausting memory,
// threads or file descriptors at start-up.
Status validate_server(const ServerConfig& c) {
  struct Range {
    std::string_view key;
    uint64_t value, min, max;
  };
  const Range ranges[] = {
      {"io_threads", c.io_threads, 1, 64},
      {"command_threads", c.command_threads, 1, 1024},
      {"connections_max", c.connections_max, 1, 1'000'000},
      {"inflight_max", c.inflight_per_connection_max, 1, 65'536},
      {"subscriptions_max", c.subscriptions_per_connection_max, 0, 1024},
      {"frame_bytes_max", c.frame_bytes_max, 1024, 1u << 30},
      {"read_count_max", c.read_count_max, 1, 1'000'000},
      {"shutdown_grace_ms", c.shutdown_grace_ms, 0, 3'600'000},
      {"handshake_timeout_ms", c.handshake_timeout_ms, 1, 3'600'000},
      {"write_timeout_ms", c.write_timeout_ms, 1, 3'600'000},
      {"page_cache_window_mib", c.page_cache_window_mib, 0, 1ull << 30},  // up to 1 PiB
  };
  for (const Range& range : ranges) {
    if (range.value < range.min || range.value > range.max) {
      return out_of_range(range.key, range.value, range.min, range.max);
    }
  }
  if (c.data_dir.empty()) return Status::invalid_argument("server.data: must name a directory");
  if (c.durability != "always" && c.durability != "none") {
    return Status::invalid_argument(fmt::format("server.durability = \"{}\": must be \"always\" or \"none\"", c.durability));
  }
  OL_RETURN_IF_ERROR(check_address("listen", c.listen));
  if (!c.metrics_listen.empty()) OL_RETURN_IF_ERROR(check_address("metrics", c.metrics_listen));
  return Status::ok();
}

bool is_valid_tenant_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (const char ch : name) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
                    ch == '.' || ch == '-';
    if (!ok) return false;
  }
  return true;
}

// The names of the wire Command union (ExecuteCommand), so a command added to the
// protocol is configurable without touching this file.
bool is_known_command(std::string_view name) {
  if (name == "*") return true;
  const auto last = static_cast<size_t>(wire::Command::MAX);
  for (size_t i = 1; i <= last; ++i) {
    if (name == wire::EnumNamesCommand()[i]) return true;
  }
  return false;
}

constexpr size_t kTokenBytesMin = 16;
constexpr size_t kTokenBytesMax = 1024;

// `label` names the tenant in messages; the token is never printed.
Status validate_tenant(const TenantConfig& tenant, const std::string& label) {
  if (!is_valid_tenant_name(tenant.name)) {
    return Status::invalid_argument(fmt::format("{}: name must be 1 to 64 characters of A-Z a-z 0-9 _ . -", label));
  }
  if (tenant.token.size() < kTokenBytesMin || tenant.token.size() > kTokenBytesMax) {
    return Status::invalid_argument(fmt::format("{}: token must be {} to {} bytes long (it has {}); use a random secret",
                                                label, kTokenBytesMin, kTokenBytesMax, tenant.token.size()));
  }
  for (const std::string& command : tenant.commands) {
    if (!is_known_command(command)) {
      return Status::invalid_argument(fmt::format(
          "{}: unknown command \"{}\" in commands; use \"*\" or CreateOrder, AddItem, RemoveItem, ConfirmOrder, "
          "CancelOrder, ShipOrder, DeliverOrder",
          label, command));
    }
  }
  // `!(x >= 0)` also catches NaN.
  if (!(tenant.rate_per_second >= 0) || !std::isfinite(tenant.rate_per_second)) {
    return Status::invalid_argument(fmt::format("{}: rate must be a finite number >= 0 (0: unlimited)", label));
  }
  if (!(tenant.burst >= 0) || !std::isfinite(tenant.burst)) {
    return Status::invalid_argument(fmt::format("{}: burst must be a finite number >= 0", label));
  }
  return Status::ok();
}

Status validate_tenants(const std::vector<TenantConfig>& tenants) {
  std::set<std::string_view> names;
  std::map<std::string_view, std::string_view> token_owners;  // token -> tenant name
  for (size_t i = 0; i < tenants.size(); ++i) {
    const TenantConfig& tenant = tenants[i];
    const std::string label = is_valid_tenant_name(tenant.name) ? fmt::format("tenant '{}'", tenant.name)
                                                                : fmt::format("tenant[{}]", i);
    OL_RETURN_IF_ERROR(validate_tenant(tenant, label));
    if (!names.insert(tenant.name).second) {
      return Status::invalid_argument(fmt::format("{}: the name is used by two tenants; names must be unique", label));
    }
    const auto [owner, inserted] = token_owners.emplace(tenant.token, tenant.name);
    if (!inserted) {
      return Status::invalid_argument(fmt::format(
          "{}: has the same token as tenant '{}'; give every tenant its own token", label, owner->second));
    }
  }
  return Status::ok();
}

}  // namespace

Result<HostPort> parse_host_port(std::string_view address) {
  const auto invalid = [&](std::string_view why) {
    return Status::invalid_argument(fmt::format("\"{}\" is not host:port (e.g. 127.0.0.1:7070): {}", address, why));
  };
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return invalid("no ':port'");
  std::string_view host = address.substr(0, colon);
  const std::string_view port = address.substr(colon + 1);
  if (host.starts_with('[')) {
    if (host.size() < 3 || !host.ends_with(']')) return invalid("unbalanced '[' around an IPv6 address");
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return invalid("an IPv6 address needs brackets, as in [::1]:7070");
  }
  if (host.empty()) return invalid("no host");
  for (const char ch : host) {
    if (ch <= ' ' || ch == '/' || ch == '[' || ch == ']' || ch == 0x7f) return invalid("bad character in host");
  }
  unsigned value = 0;
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || port.size() > 5 || error != std::errc() || end != port.data() + port.size() || value > 65535) {
    return invalid("port must be a number from 0 to 65535");
  }
  return HostPort{std::string(host), static_cast<uint16_t>(value)};
}

Status validate_config(const ServerConfig& config) {
  OL_RETURN_IF_ERROR(validate_server(config));
  return validate_tenants(config.tenants);
}

Status load_config_file(const std::string& path, ServerConfig* config) {
  OL_ASSIGN_OR_RETURN(const std::string text, read_file(path));
  toml::table document;
  try {
    document = toml::parse(text, path);
  } catch (const toml::parse_error& error) {
    return Status::invalid_argument(
        fmt::format("{}: TOML syntax error: {}", location(path, error.source()), error.description()));
  }
  // Read into a copy so a failed load leaves `config` as it was.
  ServerConfig loaded = *config;
  OL_RETURN_IF_ERROR(read_document(path, document, &loaded));
  *config = std::move(loaded);
  return Status::ok();
}

}  // namespace orderlog::server
