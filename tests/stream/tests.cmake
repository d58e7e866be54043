# Unit tests of stream/: one executable per module, g_test tables inside.
tourcast_unit_test(test_amf0 ${CMAKE_CURRENT_LIST_DIR}/test_amf0.c)
tourcast_unit_test(test_rtmp_chunk ${CMAKE_CURRENT_LIST_DIR}/test_rtmp_chunk.c)
tourcast_unit_test(test_rtmp_conn ${CMAKE_CURRENT_LIST_DIR}/test_rtmp_conn.c)
tourcast_unit_test(test_rtmp_server ${CMAKE_CURRENT_LIST_DIR}/test_rtmp_server.c)
