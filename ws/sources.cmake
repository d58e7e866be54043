set(WS_SOURCES
  ${CMAKE_SOURCE_DIR}/ws/http_route.c
  ${CMAKE_SOURCE_DIR}/ws/http_server.c)
