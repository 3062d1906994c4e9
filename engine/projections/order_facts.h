// What the read models need to know about order events beyond their fields: which
// stored types are order events, which order an event belongs to, and the status it
// puts the order in. One place, so the read models cannot disagree on it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "orderlog/order/domain.h"
#include "projections/projection_file.h"

namespace orderlog::projections {


const std::string& order_id_of(const order::Event& event);

// The status the order is in after `event`; nullopt when the event does not change it.
std::optional<order::OrderStatus> status_after(const order::Event& event);

// Largest id or currency a decoder accepts (the domain bounds ids at kIdBytesMax).
inline constexpr size_t kDecodedIdBytesMax = 4096;
inline constexpr size_t kDecodedTextBytesMax = 64 * 1024;

// Reads a status byte; fails the decoder on a value that names no status.
order::OrderStatus decode_status(BodyDecoder& in);

}  // namespace orderlog::projections
