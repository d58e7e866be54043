# Overlay unit tests. Set TOURCAST_OVERLAY_PNG_DIR when running test_overlay
# by hand to get PNG snapshots of the portrait and landscape cards.
tourcast_unit_test(test_overlay
  ${CMAKE_CURRENT_SOURCE_DIR}/overlay/test_overlay.c
  ${CMAKE_CURRENT_SOURCE_DIR}/overlay/test_overlay_text.c)
