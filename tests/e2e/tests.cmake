# End-to-end tests: Python (standard library only) driving the real binary
# with real clients (ffmpeg, gst-launch, HTTP over sockets).
# Debian's python3 first: the room tests use its python3-websockets, which a
# python3 earlier on PATH (pyenv, a venv) would not see.
find_program(TOURCAST_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
find_program(TOURCAST_PYTHON NAMES python3 REQUIRED)
file(GLOB e2e_tests ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_*.py)
foreach(t ${e2e_tests})
  get_filename_component(name ${t} NAME_WE)
  add_test(NAME e2e_${name} COMMAND ${TOURCAST_PYTHON} ${t})
  set(labels e2e)
  if(name STREQUAL "test_valgrind")
    set(labels "e2e;valgrind")
  elseif(name MATCHES "^test_abuse_")
    # Also run in the plain build, where their RSS bounds are asserted.
    set(labels "e2e;abuse")
  endif()
  set_tests_properties(e2e_${name} PROPERTIES TIMEOUT 300 LABELS "${labels}"
    ENVIRONMENT "${TOURCAST_TEST_ENV}" RESOURCE_LOCK media)
endforeach()
