// orderlog-demo: the engine embedded in-process. Appends a few order events to the
// default data directory (./data, or the first argument), reads them back by stream,
// by type and from the global log, and prints what it finds. Run it twice: the log
// keeps growing, nothing is ever rewritten.
#include <fmt/core.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "orderlog/event_store.h"

namespace {

using orderlog::EventId;
using orderlog::ExpectedVersion;
using orderlog::NewEvent;

std::span<const std::byte> bytes_of(const std::string& text) {
  return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

int fail(const orderlog::Status& status) {
  fmt::print(stderr, "orderlog-demo: {}\n", status.to_string());
  return EXIT_FAILURE;
}

void print_slice(const std::string& title, const orderlog::ReadSlice& slice) {
  fmt::print("{}\n", title);
  for (const orderlog::EventView& event : slice.events) {
    fmt::print("  #{:<6} {:<28} v{:<3} {:<16} {}\n", event.position.value, event.stream_id, event.version.value,
               event.type, event.payload_text());
  }
}

}  // namespace

int main(int argc, char** argv) {
  orderlog::StoreOptions options;
  options.data_dir = argc > 1 ? argv[1] : "data";
  options.segment_bytes_max = 16 * 1024 * 1024;  // small segments for a demo directory
  auto opened = orderlog::EventStore::open(options);
  if (!opened.is_ok()) return fail(opened.status());
  std::unique_ptr<orderlog::EventStore> store = std::move(opened).value();

  const std::string order = "order-" + EventId::generate().to_string().substr(28);
  const std::vector<std::string> payloads = {
      R"({"customer":"c-42","currency":"EUR"})",
      R"({"sku":"book-1","quantity":2,"unit_price_minor":1299})",
      R"({"sku":"pen-7","quantity":1,"unit_price_minor":250})",
      R"({"confirmed":true})",
  };
  const std::vector<std::string> types = {"OrderCreated", "ItemAdded", "ItemAdded", "OrderConfirmed"};
  std::vector<NewEvent> events(payloads.size());
  for (size_t i = 0; i < events.size(); ++i) {
    events[i].id = EventId::generate();
    events[i].type = types[i];
    events[i].payload = bytes_of(payloads[i]);
  }
  // The order is created with its first items in one atomic append, then confirmed.
  auto created = store->append(order, ExpectedVersion::no_stream(), std::span(events).first(3));
  if (!created.is_ok()) return fail(created.status());
  auto confirmed = store->append(order, ExpectedVersion::exact(created->stream_versions[0]),
                                 std::span(events).subspan(3));
  if (!confirmed.is_ok()) return fail(confirmed.status());
  // A stale writer loses the optimistic-concurrency race and is told the real version.
  NewEvent late = events[3];
  late.id = EventId::generate();
  auto stale = store->append(order, ExpectedVersion::exact(created->stream_versions[0]), std::span(&late, 1));
  fmt::print("stale append rejected: {}\n\n", stale.status().to_string());

  auto by_stream = store->read_stream(order, orderlog::StreamVersion{1}, orderlog::ReadDirection::kForward, 100);
  if (!by_stream.is_ok()) return fail(by_stream.status());
  print_slice("stream " + order + ":", *by_stream);

  const uint64_t committed = store->committed_position().value;
  const uint64_t tail_from = committed > 10 ? committed - 9 : 1;
  auto all = store->read_all(orderlog::GlobalPosition{tail_from}, 10);
  if (!all.is_ok()) return fail(all.status());
  print_slice("\nlast events of the global log:", *all);

  auto confirmations = store->read_by_type("OrderConfirmed", orderlog::GlobalPosition{1}, 5);
  if (!confirmations.is_ok()) return fail(confirmations.status());
  print_slice("\nfirst OrderConfirmed events:", *confirmations);

  const orderlog::StoreStats stats = store->stats();
  fmt::print("\n{} events in {} streams, {} segment(s), data directory '{}'\n", stats.committed_position.value,
             stats.streams, stats.segments, options.data_dir);
  if (orderlog::Status closed = store->close(); !closed.is_ok()) return fail(closed);
  return EXIT_SUCCESS;
}
