#!/usr/bin/env bash
# Installs what is missing, builds with AddressSanitizer + UndefinedBehaviorSanitizer
# (clang, so the libFuzzer targets build too) and runs every test through ctest;
# then runs the valgrind end-to-end test against the plain build.
# Extra arguments go to ctest (e.g. -R relay).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export CC=clang-14
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOURCAST_SANITIZE=ON \
  -DTOURCAST_FUZZ=ON >/dev/null
cmake --build build-asan -j"$(nproc)"
ctest --test-dir build-asan --output-on-failure -j"$(nproc)" -LE valgrind "$@"

# valgrind cannot run an ASan binary: memcheck gets the plain build (gcc,
# the same one scripts/run.sh uses), which also proves gcc builds it clean.
unset CC
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
# The abuse suites again in the plain build: under ASan their RSS is only
# printed, here it is held to the bounds.
ctest --test-dir build --output-on-failure -L "valgrind|abuse" "$@"
