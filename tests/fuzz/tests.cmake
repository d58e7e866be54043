# libFuzzer targets: every tests/fuzz/fuzz_NAME.c is one target, built when
# TOURCAST_FUZZ is on (clang). Each gets a short smoke run under ctest, seeded
# from tests/fuzz/corpus/NAME/ when that folder exists; new inputs go to a
# corpus in the build tree, never into the source tree.
if(TOURCAST_FUZZ)
  set(TOURCAST_FUZZ_SECONDS 20 CACHE STRING "Seconds each fuzz smoke run lasts under ctest")
  file(GLOB fuzz_sources ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_*.c)
  foreach(src ${fuzz_sources})
    get_filename_component(name ${src} NAME_WE)
    string(REPLACE "fuzz_" "" short ${name})
    add_executable(${name} ${src})
    target_link_libraries(${name} PRIVATE tourcast_core)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    set(work ${CMAKE_CURRENT_BINARY_DIR}/fuzz-corpus/${short})
    file(MAKE_DIRECTORY ${work})
    set(seeds)
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${short})
      set(seeds ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${short})
    endif()
    add_test(NAME ${name}
      COMMAND ${name} -max_total_time=${TOURCAST_FUZZ_SECONDS} -rss_limit_mb=2048
              -print_final_stats=1 ${work} ${seeds})
    set_tests_properties(${name} PROPERTIES TIMEOUT 300 LABELS fuzz)
  endforeach()
endif()
