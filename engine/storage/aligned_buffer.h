// AlignedBuffer: a growable byte buffer whose memory starts on a kDirectIoAlignment
// boundary, as direct (O_DIRECT) writes require. The writer's batches and the
// segment zero-fill use it; it is reused, so its pages stay warm.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <new>
#include <span>
#include <utility>

#include "orderlog/env.h"

namespace orderlog::storage {

constexpr size_t align_up_to(size_t value, size_t alignment) { return (value + alignment - 1) / alignment * alignment; }
constexpr size_t align_down_to(size_t value, size_t alignment) { return value / alignment * alignment; }

class AlignedBuffer {
 public:
  static constexpr std::align_val_t kAlignment{kDirectIoAlignment};

  AlignedBuffer() = default;
  ~AlignedBuffer() { release(); }
  AlignedBuffer(AlignedBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  AlignedBuffer& operator=(AlignedBuffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      capacity_ = std::exchange(other.capacity_, 0);
    }
    return *this;
  }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  std::byte* data() { return data_; }
  const std::byte* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<const std::byte> bytes() const { return {data_, size_}; }

  void clear() { size_ = 0; }
  void append(std::span<const std::byte> bytes) {
    reserve(size_ + bytes.size());
    if (!bytes.empty()) std::memcpy(data_ + size_, bytes.data(), bytes.size());
    size_ += bytes.size();
  }
  // Shrinks, or grows with zero bytes.
  void resize_zeroed(size_t size) {
    reserve(size);
    if (size > size_) std::memset(data_ + size_, 0, size - size_);
    size_ = size;
  }
  void reserve(size_t capacity) {
    if (capacity <= capacity_) return;
    const size_t grown = align_up_to(std::max(capacity, capacity_ * 2), kDirectIoAlignment);
    auto* bigger = static_cast<std::byte*>(::operator new(grown, kAlignment));
    if (size_ > 0) std::memcpy(bigger, data_, size_);
    release();
    data_ = bigger;
    capacity_ = grown;
  }

 private:
  void release() {
    if (data_ != nullptr) ::operator delete(data_, kAlignment);
    data_ = nullptr;
    capacity_ = 0;
  }

  std::byte* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace orderlog::storage
