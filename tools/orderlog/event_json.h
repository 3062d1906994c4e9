// One stored event as a line of JSON, for `orderlog browse` and `orderlog replay`.
// Order events (the seven types of engine/order) are decoded, upcast to the current
// schema, into a "data" object; other payloads are printed as "payload" text when they
// are printable UTF-8 and as "payload_base64" otherwise.
#pragma once

#include <string>

#include "orderlog/event.h"
#include "orderlog/order/codec.h"

namespace orderlog::tool {

std::string event_json(const EventView& event, const order::UpcasterRegistry& upcasters);

}  // namespace orderlog::tool
