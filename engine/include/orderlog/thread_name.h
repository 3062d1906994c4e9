// name_this_thread: the name `top -H`, `ps -L`, perf and gdb show for the calling
// thread, so an operator can tell the writer from a projection at a glance. Used by
// the engine's threads and orderlogd's (the client library, which does not link the
// engine, names its one thread itself).
#pragma once

#include <string_view>

namespace orderlog {

// Linux keeps at most 15 bytes of a thread's name; a longer one is cut there.
void name_this_thread(std::string_view name);

}  // namespace orderlog
