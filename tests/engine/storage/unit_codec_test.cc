// Round trip and corruption detection of the log unit format (unit_encoder.cc,
// unit_reader.cc): every byte of a sealed unit is covered by its checksum.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "storage/record_format.h"
#include "storage/unit_encoder.h"
#include "storage/unit_reader.h"

namespace orderlog::storage {
namespace {

std::span<const std::byte> bytes_of(const std::string& text) {
  return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

struct SampleUnit {
  std::vector<std::byte> bytes;
  std::vector<EventId> ids;
};

// Two streams, three events, tags and ids: sealed at position 41.
SampleUnit make_sealed_unit() {
  static const std::string payload_a = "payload-a";
  static const std::string payload_b = "a somewhat longer payload b";
  static const std::string payload_c;
  static const std::vector<Tag> tags = {{"tenant", "acme"}, {"source", "test"}};
  SampleUnit sample;
  std::vector<NewEvent> first(2);
  std::vector<NewEvent> second(1);
  for (NewEvent* event : {&first[0], &first[1], &second[0]}) {
    event->id = EventId::generate();
    sample.ids.push_back(event->id);
  }
  first[0].type = "OrderCreated";
  first[0].payload = bytes_of(payload_a);
  first[0].correlation_id = EventId::generate();
  first[0].tags = tags;
  first[1].type = "ItemAdded";
  first[1].schema_version = 2;
  first[1].payload = bytes_of(payload_b);
  second[0].type = "OrderCreated";
  second[0].payload = bytes_of(payload_c);
  second[0].causation_id = first[0].id;
  const StreamAppend streams[] = {{"order-1", ExpectedVersion::no_stream(), first},
                                  {"order-2", ExpectedVersion::any(), second}};
  Result<EncodedUnit> unit = encode_unit(streams);
  EXPECT_TRUE(unit.is_ok()) << unit.status().to_string();
  for (size_t i = 0; i < unit->events.size(); ++i) {
    patch_event(unit->bytes.data() + unit->events[i].offset, 41 + i, i + 1, 1'700'000'000'000'000'000ull + i);
  }
  seal_unit(unit->bytes.data(), 41, /*batch_start=*/true);
  sample.bytes = std::move(unit->bytes);
  return sample;
}

TEST(UnitCodec, RoundTripsEveryField) {
  const SampleUnit sample = make_sealed_unit();
  const UnitCheck check = check_unit(sample.bytes.data(), sample.bytes.size(), 0, 41);
  ASSERT_EQ(check.state, UnitState::kValid) << check.problem;
  EXPECT_EQ(check.header.event_count, 3u);
  EXPECT_EQ(check.total_bytes(), sample.bytes.size());
  std::vector<EventView> events;
  for_each_event(sample.bytes.data(), check.header,
                 [&](size_t, const std::byte* record) { events.push_back(decode_event(record)); });
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].stream_id, "order-1");
  EXPECT_EQ(events[0].type, "OrderCreated");
  EXPECT_EQ(events[0].payload_text(), "payload-a");
  EXPECT_EQ(events[0].position.value, 41u);
  EXPECT_EQ(events[0].version.value, 1u);
  EXPECT_EQ(events[0].timestamp_ns, 1'700'000'000'000'000'000ull);
  EXPECT_EQ(events[0].id, sample.ids[0]);
  EXPECT_FALSE(events[0].correlation_id.is_nil());
  EXPECT_TRUE(events[0].causation_id.is_nil());
  ASSERT_EQ(events[0].tags.size(), 2u);
  EXPECT_EQ(events[0].tags[1].key, "source");
  EXPECT_EQ(events[0].tags[1].value, "test");
  EXPECT_EQ(events[1].schema_version, 2u);
  EXPECT_EQ(events[1].payload_text(), "a somewhat longer payload b");
  EXPECT_EQ(events[2].stream_id, "order-2");
  EXPECT_EQ(events[2].position.value, 43u);
  EXPECT_TRUE(events[2].payload.empty());
  EXPECT_EQ(events[2].causation_id, sample.ids[0]);
}

// The writer reads each stream's id, expected version and event range from the
// encoded unit after the caller's request is gone, and after the unit has moved.
TEST(UnitCodec, EncodedStreamsDescribeTheRequestAfterItIsGoneAndTheUnitMoved) {
  std::vector<NewEvent> first(2), second(1);
  for (NewEvent* event : {&first[0], &first[1], &second[0]}) {
    event->id = EventId::generate();
    event->type = "T";
  }
  Result<EncodedUnit> unit = Status::invalid_argument("not encoded");
  {
    std::string id_a = "stream-a-with-an-id-longer-than-any-small-string-buffer";
    std::string id_b = "stream-b";
    const StreamAppend streams[] = {{id_a, ExpectedVersion::exact(StreamVersion{7}), first},
                                    {id_b, ExpectedVersion::no_stream(), second}};
    unit = encode_unit(streams);
    ASSERT_TRUE(unit.is_ok()) << unit.status().to_string();
    id_a.assign(id_a.size(), 'x');  // the request's own bytes change, then go away
    id_b.assign(id_b.size(), 'x');
  }
  const EncodedUnit moved = std::move(unit).value();
  ASSERT_EQ(moved.streams.size(), 2u);
  EXPECT_EQ(moved.streams[0].stream_id, "stream-a-with-an-id-longer-than-any-small-string-buffer");
  EXPECT_EQ(moved.streams[0].expected.to_string(), ExpectedVersion::exact(StreamVersion{7}).to_string());
  EXPECT_EQ(moved.streams[0].event_begin, 0u);
  EXPECT_EQ(moved.streams[0].event_count, 2u);
  EXPECT_EQ(moved.streams[1].stream_id, "stream-b");
  EXPECT_EQ(moved.streams[1].event_begin, 2u);
  EXPECT_EQ(moved.streams[1].event_count, 1u);
  for (const EncodedEvent& event : moved.events) EXPECT_EQ(event.type, "T");
}

TEST(UnitCodec, UnitsAndRecordsAreEightByteAligned) {
  const SampleUnit sample = make_sealed_unit();
  EXPECT_EQ(sample.bytes.size() % kAlignmentBytes, 0u);
  const UnitHeader header = load_unit_header(sample.bytes.data());
  for_each_event(sample.bytes.data(), header,
                 [&](size_t offset, const std::byte*) { EXPECT_EQ(offset % kAlignmentBytes, 0u); });
}

TEST(UnitCodec, EveryFlippedByteIsDetected) {
  const SampleUnit sample = make_sealed_unit();
  for (size_t i = 0; i < sample.bytes.size(); ++i) {
    for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}}) {
      std::vector<std::byte> bytes = sample.bytes;
      bytes[i] ^= std::byte{mask};
      const UnitCheck check = check_unit(bytes.data(), bytes.size(), 0, 41);
      EXPECT_EQ(check.state, UnitState::kInvalid) << "flipping byte " << i << " went unnoticed";
    }
  }
}

TEST(UnitCodec, CutOffUnitIsInvalidAtEveryLength) {
  const SampleUnit sample = make_sealed_unit();
  // Cutting inside the trailing zero padding changes nothing, so stop before it.
  size_t meaningful_end = sample.bytes.size();
  while (sample.bytes[meaningful_end - 1] == std::byte{0}) --meaningful_end;
  for (size_t kept = kUnitHeaderBytes; kept < meaningful_end; ++kept) {
    std::vector<std::byte> bytes(sample.bytes.size() + 64);  // zeros after the cut
    std::copy_n(sample.bytes.begin(), kept, bytes.begin());
    EXPECT_EQ(check_unit(bytes.data(), bytes.size(), 0, 41).state, UnitState::kInvalid) << "kept " << kept;
    // A limit that ends inside the unit is invalid too.
    EXPECT_EQ(check_unit(sample.bytes.data(), kept, 0, 41).state, UnitState::kInvalid) << "limit " << kept;
  }
}

TEST(UnitCodec, ZeroHeaderMarksTheEnd) {
  const std::vector<std::byte> zeros(128);
  EXPECT_EQ(check_unit(zeros.data(), zeros.size(), 0, 1).state, UnitState::kEnd);
  EXPECT_EQ(check_unit(zeros.data(), zeros.size(), 64, 1).state, UnitState::kEnd);
}

TEST(UnitCodec, UnitAtAnUnexpectedPositionIsInvalid) {
  const SampleUnit sample = make_sealed_unit();
  const UnitCheck check = check_unit(sample.bytes.data(), sample.bytes.size(), 0, 42);
  EXPECT_EQ(check.state, UnitState::kInvalid);
  EXPECT_NE(check.problem.find("expected 42"), std::string::npos) << check.problem;
}

TEST(UnitCodec, VerifiedEventPositionFindsRecordsAndRejectsGarbage) {
  const SampleUnit sample = make_sealed_unit();
  const UnitHeader header = load_unit_header(sample.bytes.data());
  uint64_t expected = 41;
  for_each_event(sample.bytes.data(), header, [&](size_t offset, const std::byte*) {
    EXPECT_EQ(verified_event_position(sample.bytes.data(), sample.bytes.size(), offset), expected++);
  });
  const std::vector<std::byte> zeros(256);
  EXPECT_EQ(verified_event_position(zeros.data(), zeros.size(), 40), std::nullopt);
  EXPECT_EQ(verified_event_position(sample.bytes.data(), sample.bytes.size(), 3), std::nullopt);
}

TEST(UnitCodec, RejectsAnAppendLargerThanTheUnitLimit) {
  const std::string big(kUnitBytesMax, 'x');
  NewEvent event;
  event.id = EventId::generate();
  event.type = "Big";
  event.payload = bytes_of(big);
  const StreamAppend stream{"s", ExpectedVersion::any(), std::span(&event, 1)};
  Result<EncodedUnit> unit = encode_unit(std::span(&stream, 1));
  ASSERT_FALSE(unit.is_ok());
  EXPECT_EQ(unit.status().code(), StatusCode::kTooLarge);
}

}  // namespace
}  // namespace orderlog::storage
