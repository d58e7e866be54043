#!/usr/bin/env bash
# regen-overlay-refs.sh — rewrite the overlay's reference images.
#
# Run when the layout or the look is meant to change, then look at every PNG
# in tests/overlay/expected/ before committing them: the render test
# (test_overlay_render) compares against exactly these files.
#
#   scripts/regen-overlay-refs.sh            TOURCAST_BUILD=build
set -euo pipefail
cd "$(dirname "$0")/.."
build=${TOURCAST_BUILD:-build}
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug >/dev/null
fi
cmake --build "$build" -j2 --target test_overlay_render >/dev/null
TOURCAST_SOURCE_DIR="$PWD" TOURCAST_OVERLAY_REGEN=1 G_DEBUG=fatal-criticals \
  "$build/tests/test_overlay_render" | grep '^# wrote'
git status --short tests/overlay/expected/
