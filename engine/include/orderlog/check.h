// OL_CHECK: an always-on assertion for invariants. A violated invariant is a bug,
// not an expected error, so it aborts with file and line instead of returning a Status.
#pragma once

namespace orderlog::detail {
[[noreturn]] void check_failed(const char* file, int line, const char* expression, const char* message);
}  // namespace orderlog::detail

#define OL_CHECK(condition)                                                      \
  do {                                                                           \
    if (!(condition)) [[unlikely]]                                               \
      ::orderlog::detail::check_failed(__FILE__, __LINE__, #condition, nullptr); \
  } while (0)

#define OL_CHECK_MSG(condition, message)                                         \
  do {                                                                           \
    if (!(condition)) [[unlikely]]                                               \
      ::orderlog::detail::check_failed(__FILE__, __LINE__, #condition, message); \
  } while (0)
