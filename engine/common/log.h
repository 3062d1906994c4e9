// Where the engine's operational log lines go: the application's LogSink when it
// gave one, otherwise stderr as "orderlog <level>: <line>".
#pragma once

#include <string_view>

#include "orderlog/event_store.h"

namespace orderlog {

std::string_view log_level_name(LogLevel level);
void write_log(const LogSink& sink, LogLevel level, std::string_view line);

}  // namespace orderlog
