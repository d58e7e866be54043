set(STREAM_SOURCES
  ${CMAKE_SOURCE_DIR}/stream/amf0.c
  ${CMAKE_SOURCE_DIR}/stream/flv.c
  ${CMAKE_SOURCE_DIR}/stream/rtmp_chunk.c
  ${CMAKE_SOURCE_DIR}/stream/rtmp_conn.c
  ${CMAKE_SOURCE_DIR}/stream/rtmp_server.c
)
