# ws/: the HTTP server and its path router.
tourcast_unit_test(test_http_route ${CMAKE_CURRENT_SOURCE_DIR}/ws/test_http_route.c)
tourcast_unit_test(test_http_server ${CMAKE_CURRENT_SOURCE_DIR}/ws/test_http_server.c)
