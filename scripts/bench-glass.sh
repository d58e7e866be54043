#!/usr/bin/env bash
# Glass-to-glass latency from the fake phone to the viewer page in Debian's
# chromium (hls.js), read back from a frame number burned into the clip.
#   scripts/bench-glass.sh [BUILD_DIR]     (SEGMENT_MS=1000 by default)
# Prints figures; needs scripts/setup.sh (chromium, npm ci) and a build.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
TOURCAST_SOURCE_DIR=$PWD TOURCAST_BUILD_DIR=$(cd "$build" && pwd) \
  TOURCAST_TEST_OUTPUT=$(cd "$build" && pwd)/test-output/browser node tests/browser/glass.js
