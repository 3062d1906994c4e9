// Writes tests/data/v1-orders: a data directory as the first release of orderlog
// wrote it, before ItemAdded carried SKUs and currencies (ItemAdded schema v1: a
// product name and a decimal price string). The directory is committed; the test
// upcast_fixture_test.cc opens it with today's code. Rerun only to re-create it:
//   build/dev/tests/orderlog-write-v1-fixture tests/data/v1-orders
#include <flatbuffers/flatbuffers.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "orderlog/event_store.h"
#include "orderlog/fb/order_events_generated.h"

namespace {

namespace fbo = orderlog::fb::order;
using orderlog::EventId;
using orderlog::NewEvent;

struct Stored {
  std::string type;
  uint16_t schema_version;
  std::vector<std::byte> payload;
};

std::vector<std::byte> bytes_of(flatbuffers::FlatBufferBuilder& b) {
  const auto* data = reinterpret_cast<const std::byte*>(b.GetBufferPointer());
  return {data, data + b.GetSize()};
}

Stored created(const std::string& order, const std::string& customer) {
  flatbuffers::FlatBufferBuilder b;
  std::vector<flatbuffers::Offset<fbo::OrderLine>> no_lines;
  b.Finish(fbo::CreateOrderCreated(b, b.CreateString(order), b.CreateString(customer), b.CreateString("EUR"),
                                   b.CreateVector(no_lines)));
  return {"OrderCreated", 1, bytes_of(b)};
}

Stored item_added_v1(const std::string& order, const std::string& product, uint32_t quantity,
                     const std::string& price) {
  flatbuffers::FlatBufferBuilder b;
  b.Finish(fbo::CreateItemAddedV1(b, b.CreateString(order), b.CreateString(product), quantity, b.CreateString(price)));
  return {"ItemAdded", 1, bytes_of(b)};
}

Stored confirmed(const std::string& order, int64_t total) {
  flatbuffers::FlatBufferBuilder b;
  b.Finish(fbo::CreateOrderConfirmed(b, b.CreateString(order), total, b.CreateString("EUR")));
  return {"OrderConfirmed", 1, bytes_of(b)};
}

Stored cancelled(const std::string& order, const std::string& reason, int64_t total) {
  flatbuffers::FlatBufferBuilder b;
  b.Finish(fbo::CreateOrderCancelled(b, b.CreateString(order), b.CreateString(reason), total, b.CreateString("EUR")));
  return {"OrderCancelled", 1, bytes_of(b)};
}

orderlog::Status append(orderlog::EventStore& store, const std::string& order, const std::vector<Stored>& events) {
  std::vector<NewEvent> batch(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    batch[i].id = EventId::generate();
    batch[i].type = events[i].type;
    batch[i].schema_version = events[i].schema_version;
    batch[i].payload = events[i].payload;
  }
  return store.append("order-" + order, orderlog::ExpectedVersion::any(), batch).status();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || std::filesystem::exists(argv[1])) {
    std::fprintf(stderr, "usage: %s NEW_DIRECTORY\n", argv[0]);
    return 2;
  }
  orderlog::StoreOptions options;
  options.data_dir = argv[1];
  options.segment_bytes_max = 64 * 1024;
  options.segment_prefill = false;
  auto store = orderlog::EventStore::open(options);
  if (!store.is_ok()) {
    std::fprintf(stderr, "%s\n", store.status().to_string().c_str());
    return 1;
  }
  const std::vector<std::pair<std::string, std::vector<Stored>>> orders = {
      {"legacy-1",
       {created("legacy-1", "c-1"), item_added_v1("legacy-1", "Blue mug", 2, "12.99"),
        item_added_v1("legacy-1", "Tea", 1, "4.5"), confirmed("legacy-1", 3048)}},
      {"legacy-2", {created("legacy-2", "c-2"), item_added_v1("legacy-2", "Kettle", 1, "39")}},
      {"legacy-3",
       {created("legacy-3", "c-1"), item_added_v1("legacy-3", "Spoon", 12, "0.75"),
        cancelled("legacy-3", "found it cheaper", 900)}},
  };
  for (const auto& [order, events] : orders) {
    if (orderlog::Status status = append(**store, order, events); !status.is_ok()) {
      std::fprintf(stderr, "%s\n", status.to_string().c_str());
      return 1;
    }
  }
  return (*store)->close().is_ok() ? 0 : 1;
}
