// See stream_table.h. Snapshot layout: header {magic u32 "OLST", format u32,
// count u64, checksum u64 = XXH3_64 of the body}, then per stream
// {version u64, last_position u64, id_bytes u32, id bytes}, packed.
#include "index/stream_table.h"

#include <xxhash.h>

#include <cstring>
#include <mutex>
#include <vector>

namespace orderlog::index {

namespace {
constexpr uint32_t kSnapshotMagic = 0x54534C4Fu;  // "OLST"
constexpr uint32_t kSnapshotFormat = 1;
constexpr size_t kSnapshotHeaderBytes = 24;

void put_bytes(std::vector<std::byte>& out, const void* data, size_t bytes) {
  const auto* begin = static_cast<const std::byte*>(data);
  out.insert(out.end(), begin, begin + bytes);
}

template <typename T>
bool take(const std::byte*& at, const std::byte* end, T* value) {
  if (static_cast<size_t>(end - at) < sizeof(T)) return false;
  std::memcpy(value, at, sizeof(T));
  at += sizeof(T);
  return true;
}
}  // namespace

StreamTable::Shard& StreamTable::shard_for(std::string_view stream_id) const {
  return shards_[shard_of_hash(StringHash{}(stream_id), kShards)];
}

StreamState StreamTable::get(std::string_view stream_id) const {
  const Shard& shard = shard_for(stream_id);
  std::shared_lock lock(shard.mutex);
  auto it = shard.streams.find(stream_id);
  return it == shard.streams.end() ? StreamState{} : it->second;
}

void StreamTable::put(std::string_view stream_id, StreamState state) {
  Shard& shard = shard_for(stream_id);
  std::unique_lock lock(shard.mutex);
  auto it = shard.streams.find(stream_id);
  if (it == shard.streams.end()) {
    shard.streams.emplace(std::string(stream_id), state);
  } else {
    it.value() = state;
  }
}

size_t StreamTable::size() const {
  size_t total = 0;
  for (const Shard& shard : shards_) {
    std::shared_lock lock(shard.mutex);
    total += shard.streams.size();
  }
  return total;
}

Status StreamTable::save(Env* env, const std::string& path) const {
  std::vector<std::byte> bytes(kSnapshotHeaderBytes);
  uint64_t count = 0;
  for (const Shard& shard : shards_) {
    std::shared_lock lock(shard.mutex);
    for (const auto& [id, state] : shard.streams) {
      const auto id_bytes = static_cast<uint32_t>(id.size());
      put_bytes(bytes, &state.version, sizeof(state.version));
      put_bytes(bytes, &state.last_position, sizeof(state.last_position));
      put_bytes(bytes, &id_bytes, sizeof(id_bytes));
      put_bytes(bytes, id.data(), id.size());
      ++count;
    }
  }
  const uint64_t checksum = XXH3_64bits(bytes.data() + kSnapshotHeaderBytes, bytes.size() - kSnapshotHeaderBytes);
  std::memcpy(bytes.data(), &kSnapshotMagic, 4);
  std::memcpy(bytes.data() + 4, &kSnapshotFormat, 4);
  std::memcpy(bytes.data() + 8, &count, 8);
  std::memcpy(bytes.data() + 16, &checksum, 8);
  OL_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env->open_file(path, OpenMode::kCreate));
  OL_RETURN_IF_ERROR(file->truncate(0));
  OL_RETURN_IF_ERROR(file->write_at(0, bytes));
  return file->sync_data();
}

Status StreamTable::load(Env* env, const std::string& path) {
  OL_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env->open_file(path, OpenMode::kReadOnly));
  OL_ASSIGN_OR_RETURN(uint64_t size, file->size());
  std::vector<std::byte> bytes(size);
  OL_RETURN_IF_ERROR(file->read_at(0, bytes));
  const auto bad = [&](const char* why) { return Status::corruption("stream snapshot " + path + ": " + why); };
  if (size < kSnapshotHeaderBytes) return bad("too short");
  uint32_t magic = 0;
  uint32_t format = 0;
  uint64_t count = 0;
  uint64_t checksum = 0;
  std::memcpy(&magic, bytes.data(), 4);
  std::memcpy(&format, bytes.data() + 4, 4);
  std::memcpy(&count, bytes.data() + 8, 8);
  std::memcpy(&checksum, bytes.data() + 16, 8);
  if (magic != kSnapshotMagic || format != kSnapshotFormat) return bad("bad magic or format");
  if (XXH3_64bits(bytes.data() + kSnapshotHeaderBytes, size - kSnapshotHeaderBytes) != checksum) {
    return bad("checksum mismatch");
  }
  for (Shard& shard : shards_) {
    std::unique_lock lock(shard.mutex);
    shard.streams.clear();
  }
  const std::byte* at = bytes.data() + kSnapshotHeaderBytes;
  const std::byte* end = bytes.data() + size;
  for (uint64_t i = 0; i < count; ++i) {
    StreamState state;
    uint32_t id_bytes = 0;
    if (!take(at, end, &state.version) || !take(at, end, &state.last_position) || !take(at, end, &id_bytes) ||
        static_cast<size_t>(end - at) < id_bytes) {
      return bad("truncated entry");
    }
    put(std::string_view(reinterpret_cast<const char*>(at), id_bytes), state);
    at += id_bytes;
  }
  return at == end ? Status::ok() : bad("trailing bytes");
}

}  // namespace orderlog::index
