# End-to-end tests: Python (standard library only) driving the real binary
# with real clients (ffmpeg, gst-launch, HTTP over sockets).
find_program(PYTHON3 NAMES python3 REQUIRED)
file(GLOB e2e_tests ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_*.py)
foreach(t ${e2e_tests})
  get_filename_component(name ${t} NAME_WE)
  add_test(NAME e2e_${name} COMMAND ${PYTHON3} ${t})
  set(labels e2e)
  if(name STREQUAL "test_valgrind")
    set(labels "e2e;valgrind")
  endif()
  set_tests_properties(e2e_${name} PROPERTIES TIMEOUT 300 LABELS "${labels}"
    ENVIRONMENT "${TOURCAST_TEST_ENV}" RESOURCE_LOCK media)
endforeach()
