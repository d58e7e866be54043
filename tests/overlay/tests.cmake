# Overlay unit tests, reference-image render tests, and the overlay
# benchmark (run by scripts/bench-overlay.sh, not by ctest).
set(OVERLAY_FIXTURE ${CMAKE_CURRENT_SOURCE_DIR}/overlay/overlay_fixture.c)
tourcast_unit_test(test_overlay
  ${CMAKE_CURRENT_SOURCE_DIR}/overlay/test_overlay.c
  ${CMAKE_CURRENT_SOURCE_DIR}/overlay/test_overlay_text.c
  ${CMAKE_CURRENT_SOURCE_DIR}/overlay/test_overlay_state.c
  ${CMAKE_CURRENT_SOURCE_DIR}/overlay/test_overlay_blend.c
  ${OVERLAY_FIXTURE})
tourcast_unit_test(test_overlay_render
  ${CMAKE_CURRENT_SOURCE_DIR}/overlay/test_overlay_render.c
  ${OVERLAY_FIXTURE})
add_executable(bench_overlay ${CMAKE_CURRENT_SOURCE_DIR}/overlay/bench_overlay.c ${OVERLAY_FIXTURE})
target_link_libraries(bench_overlay PRIVATE tourcast_core)
