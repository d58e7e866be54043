#!/usr/bin/env bash
# Installs what is missing, builds tourcast and starts it on its defaults.
# Extra arguments go to tourcast (see `build/tourcast --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
exec build/tourcast "$@"
