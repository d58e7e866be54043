# tests/tools/: ws_load, the WebSocket load and test client (orders and
# fan-out benchmarks, scripted sessions). A client of tourcast's protocol,
# not a part of it: it links the system libraries only, not tourcast_core.
add_executable(ws_load
  ${CMAKE_CURRENT_SOURCE_DIR}/tools/ws_load.c
  ${CMAKE_CURRENT_SOURCE_DIR}/tools/ws_load_net.c
  ${CMAKE_CURRENT_SOURCE_DIR}/tools/ws_load_json.c
  ${CMAKE_CURRENT_SOURCE_DIR}/tools/ws_load_hist.c
  ${CMAKE_CURRENT_SOURCE_DIR}/tools/ws_load_setup.c
  ${CMAKE_CURRENT_SOURCE_DIR}/tools/ws_load_orders.c
  ${CMAKE_CURRENT_SOURCE_DIR}/tools/ws_load_fanout.c
  ${CMAKE_CURRENT_SOURCE_DIR}/tools/ws_load_script.c
  ${CMAKE_CURRENT_SOURCE_DIR}/tools/ws_load_selftest.c)
target_link_libraries(ws_load PRIVATE PkgConfig::DEPS)

# The scanner's tables (valid, truncated at every length, invalid rows); a
# short timing run rides along.
add_test(NAME ws_load_selftest COMMAND ws_load selftest --bench-iters 5000)
set_tests_properties(ws_load_selftest PROPERTIES TIMEOUT 60 ENVIRONMENT "${TOURCAST_TEST_ENV}")

# The machine's ceiling for bench-orders.sh: closed-loop request/reply over
# loopback TCP with nothing else (no WebSocket, JSON or SQLite).
add_executable(loopback_ceiling ${CMAKE_CURRENT_SOURCE_DIR}/tools/loopback_ceiling.c)
find_package(Threads REQUIRED)
target_link_libraries(loopback_ceiling PRIVATE Threads::Threads)

# The image tests' named pictures on stdout, for the e2e abuse suite and the
# fuzz seeds (tests/ws/image_samples.c: gdk-pixbuf, zlib and libjpeg only).
add_executable(image_sample ${CMAKE_CURRENT_SOURCE_DIR}/tools/image_sample.c)
target_link_libraries(image_sample PRIVATE image_samples)
