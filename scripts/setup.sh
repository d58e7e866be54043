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
  # product pictures: JPEG/PNG decoding
  libgdk-pixbuf-2.0-dev
  # tests and benchmarks: real publisher and checker, fuzzing
  ffmpeg curl python3 python3-websockets time fontconfig clang-14 libfuzzer-14-dev libclang-rt-14-dev valgrind
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
