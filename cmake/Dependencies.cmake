# Every dependency comes from a Debian package (scripts/bootstrap.sh installs them).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(FlatBuffers REQUIRED CONFIG)
find_package(fmt REQUIRED CONFIG)

pkg_check_modules(URING REQUIRED IMPORTED_TARGET liburing)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)

find_program(FLATC flatc REQUIRED)

if(ORDERLOG_BUILD_TESTS)
  find_package(GTest REQUIRED CONFIG)
endif()
if(ORDERLOG_BUILD_BENCH)
  find_package(benchmark REQUIRED CONFIG)
endif()
