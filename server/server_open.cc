// Server start-up and engine teardown (see server.h): the data directory, the admin
// tenant, the engine pieces, the listeners; and closing the engine in dependency
// order at the end of run().
#include "server/server_impl.h"

#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>

#include <string>

#include "server/bootstrap.h"
#include "server/log.h"

namespace orderlog::server {
namespace {

// Appends queued in the store before sessions stop reading; below the store's own
// queue bound so append_async never has to answer Busy for a full queue.
constexpr size_t kStoreQueueAppendsMax = 8192;
constexpr size_t kPendingAppendsMax = kStoreQueueAppendsMax / 2;
static_assert(kPendingAppendsMax < kStoreQueueAppendsMax);

Result<asio::ip::tcp::endpoint> resolve(const std::string& address) {
  OL_ASSIGN_OR_RETURN(HostPort host_port, parse_host_port(address));
  asio::error_code error;
  asio::ip::address ip = asio::ip::make_address(host_port.host == "localhost" ? "127.0.0.1" : host_port.host, error);
  if (error) return Status::invalid_argument("'" + address + "': the host must be an IP address or localhost");
  return asio::ip::tcp::endpoint(ip, host_port.port);
}

std::string endpoint_text(const asio::ip::tcp::endpoint& endpoint) {
  const std::string host = endpoint.address().to_string();
  return (endpoint.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(endpoint.port());
}

std::vector<ProjectionLag> projection_lags(const projections::ProjectionSet& views) {
  const projections::Projection* all[] = {views.summaries.get(), views.customer_orders.get(),
                                          views.orders_by_status.get(), views.revenue.get()};
  std::vector<ProjectionLag> lags;
  for (const projections::Projection* view : all) {
    const projections::ProjectionProgress progress = view->progress();
    lags.push_back({std::string(view->name()), progress.checkpoint.value, progress.lag, !progress.failure.is_ok()});
  }
  return lags;
}

}  // namespace

Server::Impl::Impl(ServerConfig config_in)
    : config(std::move(config_in)),
      strand(asio::make_strand(io)),
      acceptor(strand),
      signals(strand),
      drain_timer(strand) {}

Status Server::Impl::open_engine() {
  StoreOptions options;
  options.data_dir = config.data_dir;
  options.durability = config.durability == "none" ? Durability::kNone : Durability::kAlways;
  options.direct_io = config.direct_io;
  options.page_cache_window_bytes = config.page_cache_window_mib * 1024 * 1024;
  options.queue_appends_max = kStoreQueueAppendsMax;
  options.log = engine_log_sink("store");
  options.commit_observer = [this](const CommitInfo& info) { metrics.on_commit(info); };
  OL_ASSIGN_OR_RETURN(store, EventStore::open(options));
  log_info("store opened", {{"data", config.data_dir}, {"committed_position", store->committed_position().value}});
  SnapshotStoreOptions snapshot_options;
  snapshot_options.dir = config.data_dir + "/snapshots";
  snapshot_options.log = engine_log_sink("snapshots");
  OL_ASSIGN_OR_RETURN(snapshots, SnapshotStore::open(snapshot_options));
  projections::ProjectionOptions view_options;
  view_options.store = store.get();
  view_options.data_dir = config.data_dir;
  view_options.log = engine_log_sink("projections");
  OL_ASSIGN_OR_RETURN(views, projections::ProjectionSet::open(view_options));
  order::OrderServiceOptions order_options;
  order_options.snapshots = snapshots.get();
  order_options.log = engine_log_sink("orders");
  orders = std::make_unique<order::OrderService>(*store, order_options);
  metrics.set_store_source([store = store.get()] { return store->stats(); });
  metrics.set_projection_source([views = &views] { return projection_lags(*views); });

  auth = std::make_unique<Authenticator>(config.tenants);
  append_gate = std::make_unique<AppendGate>(kPendingAppendsMax);
  pool = std::make_unique<BlockingPool>(config.command_threads);
  notifier = std::make_unique<CommitNotifier>(*store);
  services = Services{&config, store.get(), orders.get(), &views, &metrics, auth.get(),
                      pool.get(), append_gate.get(), notifier.get(), &connections, &waiting_queries};
  return Status::ok();
}

Status Server::Impl::bind_listeners() {
  OL_ASSIGN_OR_RETURN(asio::ip::tcp::endpoint endpoint, resolve(config.listen));
  asio::error_code error;
  acceptor.open(endpoint.protocol(), error);
  if (!error) acceptor.set_option(asio::socket_base::reuse_address(true), error);
  if (!error) acceptor.bind(endpoint, error);
  if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) return Status::io_error("cannot listen on " + config.listen + ": " + error.message());
  listen_address = endpoint_text(acceptor.local_endpoint());
  if (!config.metrics_listen.empty()) {
    OL_ASSIGN_OR_RETURN(metrics_http, MetricsHttpServer::start(io, config.metrics_listen, metrics));
    metrics_address = metrics_http->local_endpoint();
  }
  return Status::ok();
}

Status Server::Impl::close_engine() {
  Status first;
  const auto keep = [&first](Status status, std::string_view what) {
    if (status.is_ok()) {
      log_info(what);
    } else {
      log_error(what, {{"error", status.to_string()}});
      if (first.is_ok()) first = status;
    }
  };
  if (pool != nullptr) pool->join();
  log_info("command pool drained");
  if (notifier != nullptr) notifier->stop();
  if (views.summaries != nullptr) keep(views.close(), "projections saved and closed");
  if (snapshots != nullptr) keep(snapshots->close(), "snapshot store closed");
  if (store != nullptr) {
    const uint64_t position = store->committed_position().value;
    Status closed = store->close();
    if (closed.is_ok()) {
      log_info("store closed", {{"committed_position", position}});
    } else {
      keep(std::move(closed), "store close failed");
    }
  }
  return first;
}

Result<std::unique_ptr<Server>> Server::open(ServerConfig config) {
  OL_RETURN_IF_ERROR(create_data_dir(config.data_dir));
  if (config.tenants.empty()) {
    bool created = false;
    OL_ASSIGN_OR_RETURN(TenantConfig admin, admin_tenant(config.data_dir, &created));
    config.tenants.push_back(std::move(admin));
    log_info(created ? "no tenants configured: created the admin tenant" : "no tenants configured: using the admin tenant",
             {{"token_file", config.data_dir + "/" + kAdminTokenFile}});
  }
  OL_RETURN_IF_ERROR(validate_config(config));
  auto impl = std::make_unique<Impl>(std::move(config));
  OL_RETURN_IF_ERROR(impl->open_engine());
  OL_RETURN_IF_ERROR(impl->bind_listeners());
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() = default;

std::string Server::listen_endpoint() const { return impl_->listen_address; }
std::string Server::metrics_endpoint() const { return impl_->metrics_address; }

}  // namespace orderlog::server
