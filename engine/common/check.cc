// The failure path of OL_CHECK: report where the invariant broke and abort, so a
// bug stops the process before it can write a wrong byte to the log.
#include "orderlog/check.h"

#include <cstdio>
#include <cstdlib>

namespace orderlog::detail {

void check_failed(const char* file, int line, const char* expression, const char* message) {
  // stdio rather than iostreams: no allocation or locale work on the way down.
  if (message != nullptr) {
    std::fprintf(stderr, "orderlog: check failed at %s:%d: %s (%s)\n", file, line, expression, message);
  } else {
    std::fprintf(stderr, "orderlog: check failed at %s:%d: %s\n", file, line, expression);
  }
  std::fflush(stderr);
  std::abort();
}

}  // namespace orderlog::detail
