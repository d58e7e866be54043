#!/usr/bin/env bash
# Installs what tourcast needs to build, run and test on Debian 12.
# Idempotent: packages already present are not touched, and `apt-get update`
# runs at most once, only when something is missing.
set -euo pipefail

PKGS=(
  # build
  build-essential cmake pkg-config clang-format
  # media
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools
  # web, data
  libwebsockets-dev libwebsockets-evlib-glib libwebsockets-evlib-uv libuv1-dev libjansson-dev
  libsqlite3-dev
  # overlay
  libcairo2-dev libpango1.0-dev fonts-noto-cjk libqrencode-dev
  # product pictures: JPEG/PNG decoding, zlib's CRC for the PNG probe, and
  # libjpeg for the tests' progressive JPEGs (gdk-pixbuf writes only baseline)
  libgdk-pixbuf-2.0-dev zlib1g-dev libjpeg-dev
  # tests and benchmarks: real publisher and checker, fuzzing
  ffmpeg curl python3 python3-websockets time fontconfig clang-14 libfuzzer-14-dev libclang-rt-14-dev valgrind
  # pages: node for npm and the browser tests, which drive Debian's chromium
  # (never a downloaded one)
  nodejs chromium
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages from the lock file: hls.js (served to browsers without native
# HLS) and playwright-core (the browser tests, which never download browsers).
# `npm ci` only when the installed tree does not match package.json (exact
# versions there, so that is the lock file's top level): a second run does
# nothing. Debian's npm only when no npm came with the installed node.
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm
fi
if ! npm ls --depth=0 >/dev/null 2>&1 || [ ! -f node_modules/hls.js/dist/hls.light.min.js ]; then
  echo "setup: npm ci"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
fi
