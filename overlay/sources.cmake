set(OVERLAY_SOURCES
  ${CMAKE_SOURCE_DIR}/overlay/overlay.c
  ${CMAKE_SOURCE_DIR}/overlay/overlay_blend.c
  ${CMAKE_SOURCE_DIR}/overlay/overlay_card.c
  ${CMAKE_SOURCE_DIR}/overlay/overlay_fit.c
  ${CMAKE_SOURCE_DIR}/overlay/overlay_layout.c
  ${CMAKE_SOURCE_DIR}/overlay/overlay_text.c)
