# Unit tests of stream/: one executable per module, g_test tables inside.
tourcast_unit_test(test_amf0 ${CMAKE_CURRENT_LIST_DIR}/test_amf0.c)
tourcast_unit_test(test_rtmp_chunk ${CMAKE_CURRENT_LIST_DIR}/test_rtmp_chunk.c)
tourcast_unit_test(test_rtmp_conn ${CMAKE_CURRENT_LIST_DIR}/test_rtmp_conn.c)
tourcast_unit_test(test_rtmp_server ${CMAKE_CURRENT_LIST_DIR}/test_rtmp_server.c)
tourcast_unit_test(test_hls ${CMAKE_CURRENT_LIST_DIR}/test_hls.c)
# The media pipeline with real GStreamer elements, fed FLV tags directly.
tourcast_unit_test(test_pipeline ${CMAKE_CURRENT_LIST_DIR}/test_pipeline.c)
set_tests_properties(test_pipeline PROPERTIES RESOURCE_LOCK media)
