# ws/: the HTTP server and its path router.
tourcast_unit_test(test_http_route ${CMAKE_CURRENT_SOURCE_DIR}/ws/test_http_route.c)
tourcast_unit_test(test_http_server ${CMAKE_CURRENT_SOURCE_DIR}/ws/test_http_server.c)
tourcast_unit_test(test_protocol ${CMAKE_CURRENT_SOURCE_DIR}/ws/test_protocol.c)
tourcast_unit_test(test_ws_frame ${CMAKE_CURRENT_SOURCE_DIR}/ws/test_ws_frame.c)
tourcast_unit_test(test_room ${CMAKE_CURRENT_SOURCE_DIR}/ws/test_room.c)
# Pictures: real encodings from gdk-pixbuf and libjpeg (progressive, arithmetic), and bombs.
pkg_check_modules(JPEG REQUIRED IMPORTED_TARGET libjpeg)
add_library(image_samples STATIC ${CMAKE_CURRENT_SOURCE_DIR}/ws/image_samples.c)
target_link_libraries(image_samples PUBLIC tourcast_core PkgConfig::JPEG)
tourcast_unit_test(test_image ${CMAKE_CURRENT_SOURCE_DIR}/ws/test_image.c)
target_link_libraries(test_image PRIVATE image_samples)
tourcast_unit_test(test_image_probe ${CMAKE_CURRENT_SOURCE_DIR}/ws/test_image_probe.c)
target_link_libraries(test_image_probe PRIVATE image_samples)
# ws/store: the SQLite store (schema, catalogue; shows and timeline; orders; crashes).
tourcast_unit_test(test_store ${CMAKE_CURRENT_SOURCE_DIR}/ws/test_store.c)
tourcast_unit_test(test_store_show ${CMAKE_CURRENT_SOURCE_DIR}/ws/test_store_show.c)
tourcast_unit_test(test_store_orders ${CMAKE_CURRENT_SOURCE_DIR}/ws/test_store_orders.c)
tourcast_unit_test(test_store_durability ${CMAKE_CURRENT_SOURCE_DIR}/ws/test_store_durability.c)
# Group commit against one transaction per order (prints figures; not a test).
add_executable(bench_store ${CMAKE_CURRENT_SOURCE_DIR}/ws/bench_store.c)
target_link_libraries(bench_store PRIVATE tourcast_core)
