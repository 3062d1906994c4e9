// ReadModel: what a read model gives the projection runner. The runner owns the
// threading, the checkpoint and the file; a read model only folds order events into
// its state, encodes that state and decodes it back. Keeping the two apart lets each
// read model stay a plain single-threaded data structure.
#pragma once

#include <cstdint>

#include "orderlog/event.h"
#include "orderlog/order/domain.h"
#include "orderlog/status.h"
#include "projections/projection_file.h"

namespace orderlog::projections {

// Stable ids of the read models in their files' headers.
enum class ModelId : uint8_t { kOrderSummary = 1, kCustomerOrders = 2, kOrdersByStatus = 3, kRevenue = 4 };

// Thread-safety: none of its own. The runner calls apply(), clear() and decode()
// with its state lock held exclusively, encode() and the queries with it shared.
class ReadModel {
 public:
  virtual ~ReadModel() = default;

  virtual ModelId model_id() const = 0;
  // The version of encode()'s body layout; a file of another version is rebuilt.
  virtual uint8_t model_version() const = 0;
  // Folds in the order event stored as `stored`. REQUIRES: each log position at most
  // once, in ascending order (the runner guarantees it).
  virtual void apply(const EventView& stored, const order::Event& event) = 0;
  // Back to the empty state of checkpoint 0.
  virtual void clear() = 0;
  virtual void encode(BodyEncoder& out) const = 0;
  // REQUIRES: cleared. kCorruption when the body does not decode; the state is then
  // unspecified and the caller clears it.
  virtual Status decode(BodyDecoder& in) = 0;
};

}  // namespace orderlog::projections
