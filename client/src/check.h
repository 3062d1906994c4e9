// Always-on invariant checks for the client: a broken invariant is a bug, not an
// Error, so it aborts with file and line (the client does not link the engine, whose
// OL_CHECK this mirrors).
#pragma once

#include <cstdio>
#include <cstdlib>

#define OLC_CHECK(condition)                                                               \
  do {                                                                                     \
    if (!(condition)) {                                                                    \
      std::fprintf(stderr, "%s:%d: orderlog client check failed: %s\n", __FILE__, __LINE__, \
                   #condition);                                                            \
      std::abort();                                                                        \
    }                                                                                      \
  } while (false)
