#!/usr/bin/env bash
# bench-overlay.sh — what the overlay costs at 720x1280 with every box shown.
#
# Runs tests/overlay/bench_overlay.c (built optimized) and prints:
#  1. per-frame blend time of overlay_blend() and of GStreamer's
#     gst_video_overlay_composition_blend() on the same composition, and the
#     ratio (target: overlay_blend <= 1 ms per frame);
#  2. per-change render time on the render thread's compositor: one box
#     changing (stock) and every box changing (target: <= 10 ms);
#  3. the same changes end to end, overlay_update() until the state is current.
#
#   scripts/bench-overlay.sh            FRAMES=2000 CHANGES=100
set -euo pipefail
cd "$(dirname "$0")/.."
frames=${FRAMES:-2000}
changes=${CHANGES:-100}
build=${TOURCAST_BUILD:-build}
if [ ! -x "$build/tests/bench_overlay" ] ||
   ! grep -q 'CMAKE_BUILD_TYPE:STRING=Rel' "$build/CMakeCache.txt" 2>/dev/null; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -j2 --target bench_overlay >/dev/null
echo "== overlay at 720x1280, every box shown ($(nproc) cores, $(uname -m))"
"$build/tests/bench_overlay" "$frames" "$changes"
