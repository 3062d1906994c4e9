# ctest script (cmake -P): install orderlog::client into a scratch prefix, then build
# client/examples against it as an outside project would, with find_package(orderlog).
# Inputs: BUILD_DIR, SOURCE_DIR, WORK_DIR, GENERATOR, CXX_COMPILER, CXX_FLAGS, SANITIZE.
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "failed (${code}): ${ARGN}\n${out}")
  endif()
endfunction()

run("${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}" --component orderlog_client)

set(flags "${CXX_FLAGS}")
if(SANITIZE)
  # The installed library was compiled with sanitizers; the consumer must link them.
  string(APPEND flags " -fsanitize=${SANITIZE}")
endif()
run("${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${WORK_DIR}/build" -G "${GENERATOR}"
  "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
  "-DCMAKE_CXX_FLAGS=${flags}" -DCMAKE_BUILD_TYPE=Debug)
run("${CMAKE_COMMAND}" --build "${WORK_DIR}/build")
if(NOT EXISTS "${WORK_DIR}/build/orderlog-order-demo")
  message(FATAL_ERROR "the example was not built")
endif()
message(STATUS "orderlog::client installed to ${prefix} and consumed with find_package")
