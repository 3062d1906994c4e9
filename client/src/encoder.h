// The FlatBuffers side of encoding (private to the .cc files of the codec): a
// per-thread builder reused across requests, so encoding allocates only the frame.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "codec.h"
#include "orderlog/fb/protocol_generated.h"

namespace orderlog::client::detail {

inline wire::Uuid to_wire(const Uuid& id) {
  wire::Uuid out;
  static_assert(sizeof(out) == sizeof(id.bytes));
  std::memcpy(out.mutable_bytes()->Data(), id.bytes.data(), id.bytes.size());
  return out;
}

class Encoder {
 public:
  Encoder() : builder_(thread_builder()) { builder_.Clear(); }
  ~Encoder() {
    // A huge append must not pin its buffer in this thread forever.
    if (builder_.GetSize() > kRetainedBytesMax) builder_.Reset();
  }
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  flatbuffers::FlatBufferBuilder& builder() { return builder_; }

  flatbuffers::Offset<flatbuffers::Vector<uint8_t>> bytes(const std::string& data) {
    if (data.empty()) return 0;
    return builder_.CreateVector(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  }

  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<wire::Tag>>> tags(const std::vector<Tag>& tags) {
    if (tags.empty()) return 0;
    std::vector<flatbuffers::Offset<wire::Tag>> offsets;
    offsets.reserve(tags.size());
    for (const Tag& tag : tags) offsets.push_back(wire::CreateTagDirect(builder_, tag.key.c_str(), tag.value.c_str()));
    return builder_.CreateVector(offsets);
  }

  // The whole frame: length prefix, then the Message with the placeholder request id.
  Frame finish(wire::Body type, flatbuffers::Offset<void> body) {
    auto message = wire::CreateMessage(builder_, kRequestIdPlaceholder, type, body);
    builder_.FinishSizePrefixed(message, wire::MessageIdentifier());
    const auto* data = reinterpret_cast<const std::byte*>(builder_.GetBufferPointer());
    return Frame(data, data + builder_.GetSize());
  }

 private:
  static constexpr size_t kRetainedBytesMax = 1 << 20;

  static flatbuffers::FlatBufferBuilder& thread_builder() {
    thread_local flatbuffers::FlatBufferBuilder builder(4096);
    return builder;
  }

  flatbuffers::FlatBufferBuilder& builder_;
};

}  // namespace orderlog::client::detail
