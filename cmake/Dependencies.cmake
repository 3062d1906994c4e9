# Every dependency comes from a Debian package (scripts/bootstrap.sh installs them).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(FlatBuffers REQUIRED CONFIG)
find_package(fmt REQUIRED CONFIG)

pkg_check_modules(URING REQUIRED IMPORTED_TARGET liburing)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
# Header-only open-addressing hash maps for the per-append lookups (common/string_map.h).
find_package(tsl-robin-map REQUIRED CONFIG)

# jemalloc for the programs that run the engine or many connections (orderlogd, the
# demo, orderlog-bench, the benchmarks): commands, projections and replies allocate
# small objects on several threads at once, where glibc's malloc took ~15% of
# orderlogd's CPU under order lifecycles (docs/performance.md). Sanitizer builds keep
# the sanitizer's allocator, and the libraries leave the choice to the application.
if(NOT ORDERLOG_SANITIZE)
  pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)
endif()
function(orderlog_use_jemalloc target)
  if(TARGET PkgConfig::JEMALLOC)
    target_link_libraries(${target} PRIVATE PkgConfig::JEMALLOC)
  endif()
endfunction()

find_program(FLATC flatc REQUIRED)

if(ORDERLOG_BUILD_TESTS)
  find_package(GTest REQUIRED CONFIG)
endif()
if(ORDERLOG_BUILD_BENCH)
  find_package(benchmark REQUIRED CONFIG)
endif()

# Standalone Asio (header-only; Debian ships no CMake package for it).
find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)
add_library(asio::asio INTERFACE IMPORTED)
target_include_directories(asio::asio INTERFACE "${ASIO_INCLUDE_DIR}")
# ASIO_DISABLE_STD_ALIGNED_ALLOC: otherwise Asio picks aligned_alloc or operator new by a
# libstdc++ macro, so the include order of a file could pair the wrong deallocation.
target_compile_definitions(asio::asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED ASIO_DISABLE_STD_ALIGNED_ALLOC)
target_link_libraries(asio::asio INTERFACE Threads::Threads)
# Asio's handler recycling uses std::atomic_thread_fence, which GCC warns ThreadSanitizer
# does not model (-Wtsan): a warning about Asio's headers, not our code (TSan runs clean).
if(ORDERLOG_SANITIZE MATCHES "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(asio::asio INTERFACE -Wno-tsan)
endif()

find_package(CLI11 REQUIRED CONFIG)
find_package(tomlplusplus REQUIRED CONFIG)
