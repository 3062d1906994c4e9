# orderlog_flatbuffers(<target> <schema.fbs>...): generates C++ headers from the
# schemas at build time into the build tree; generated code is never committed.
function(orderlog_flatbuffers target)
  set(out_dir "${CMAKE_CURRENT_BINARY_DIR}/generated/orderlog/fb")
  file(MAKE_DIRECTORY "${out_dir}")
  set(headers)
  # Schemas may include each other: every header depends on every schema.
  list(TRANSFORM ARGN PREPEND "${CMAKE_CURRENT_SOURCE_DIR}/" OUTPUT_VARIABLE all_schemas)
  foreach(schema IN LISTS ARGN)
    get_filename_component(name "${schema}" NAME_WE)
    set(header "${out_dir}/${name}_generated.h")
    add_custom_command(
      OUTPUT "${header}"
      COMMAND ${FLATC} --cpp --scoped-enums --gen-mutable -I "${CMAKE_CURRENT_SOURCE_DIR}" -o "${out_dir}" "${CMAKE_CURRENT_SOURCE_DIR}/${schema}"
      DEPENDS ${all_schemas}
      COMMENT "flatc ${schema}"
      VERBATIM)
    list(APPEND headers "${header}")
  endforeach()
  add_custom_target(${target}_gen DEPENDS ${headers})
  add_library(${target} INTERFACE)
  add_dependencies(${target} ${target}_gen)
  target_include_directories(${target} INTERFACE "${CMAKE_CURRENT_BINARY_DIR}/generated")
  target_link_libraries(${target} INTERFACE flatbuffers::flatbuffers_shared)
endfunction()
