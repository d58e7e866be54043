#!/usr/bin/env bash
# soak-drops.sh — a phone on a bad network for a few minutes: many drops, no leaks.
#
# Starts tourcast (release build in build/, or $TOURCAST_BUILD), then DROPS
# times (default 20): publishes for 2-5 s with ffmpeg and kills it (SIGKILL,
# as a lost network), then stays away for 1-8 s. RSS is sampled after every
# drop; it moves between two levels from one sample to the next (a publish's
# decoder memory held or already given back), so growth is the highest
# sample of the last five drops against the highest of drops 4-8 (after the
# first publishes' one-time allocations: pools, malloc arenas, ~20 MB).
# Descriptors after the fifth drop are compared with the end, and the live
# playlist must never stop moving. Prints the figures; exits 1 if RSS grew
# 5% or more, descriptors leaked, or segments stopped.
# Not part of ctest (it takes ~3 min): run it by hand or in a nightly job.
#
#   scripts/soak-drops.sh [DROPS]
set -euo pipefail
cd "$(dirname "$0")/.."
drops=${1:-20}
[ "$drops" -ge 13 ] || { echo "at least 13 drops (5 to warm up, 5 to compare)" >&2; exit 2; }
build=${TOURCAST_BUILD:-build}
bin=$build/tourcast
[ -x "$bin" ] || { echo "build tourcast first (cmake -S . -B $build && cmake --build $build)" >&2; exit 2; }
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
work=$(mktemp -d /tmp/tourcast-soak-XXXXXX)
tc_pid="" pub=""
trap '[ -n "$pub" ] && kill -9 $pub 2>/dev/null; [ -n "$tc_pid" ] && { kill $tc_pid; wait $tc_pid; } 2>/dev/null; rm -rf "$work"' EXIT
http=$(free_port) rtmp=$(free_port)
clip=$(scripts/fake-phone.sh -k -d 20 -s 720x1280 -r 30)
"$bin" --data "$work/data" --bind 127.0.0.1 --http-port "$http" --rtmp-port "$rtmp" \
  --stream-key soak >"$work/log" 2>&1 &
tc_pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$http/healthz" >/dev/null && break; sleep 0.1; done

rss() { awk '/VmRSS/ {print $2}' "/proc/$tc_pid/status"; }
fds() { ls "/proc/$tc_pid/fd" | wc -l; }
# /metrics is the leader's: the token tourcast made in its data dir.
segments() { curl -fs -H "Authorization: Bearer $(cat "$work/data/leader_token")" "http://127.0.0.1:$http/metrics" | awk '/^tourcast_hls_segments_total/ {print $2}'; }
rand() { echo $(( $1 + RANDOM % ($2 - $1 + 1) )); }

rss_first=0 fds0=0 stuck=0 start=$(date +%s)
samples=()
for i in $(seq "$drops"); do
  ffmpeg -hide_banner -loglevel quiet -re -stream_loop -1 -i "$clip" -c copy -f flv \
    "rtmp://127.0.0.1:$rtmp/live/soak" </dev/null &
  pub=$!
  sleep "$(rand 2 5)"
  kill -9 $pub; wait $pub 2>/dev/null || true; pub=""
  away=$(rand 1 8)
  before=$(segments)
  sleep "$away"
  after=$(segments)
  # At least one segment a second while the phone is away (minus slack).
  if [ $(( ${after%.*} - ${before%.*} )) -lt $(( away - 2 )) ]; then stuck=$((stuck + 1)); fi
  if [ "$i" = 1 ]; then rss_first=$(rss); fi
  if [ "$i" = 5 ]; then sleep 1; fds0=$(fds); fi
  samples+=("$(rss)")
  printf 'drop %2d: away %s s, rss %s kB, fds %s\n' "$i" "$away" "${samples[-1]}" "$(fds)"
done
sleep 2
fds1=$(fds)
peak() { printf '%s\n' "$@" | sort -n | tail -1; }
early=$(peak "${samples[@]:3:5}")
late=$(peak "${samples[@]: -5}")
growth=$(echo "$early $late" | awk '{printf "%.1f", ($2 - $1) * 100 / $1}')
echo "soak: $drops drops in $(( $(date +%s) - start )) s; RSS after drop 1 ${rss_first} kB;" \
  "peak of drops 4-8 ${early} kB -> peak of the last 5 ${late} kB (${growth}%);" \
  "fds ${fds0} -> ${fds1}; stretches without segments: $stuck"
fail=0
awk -v g="$growth" 'BEGIN {exit !(g >= 5)}' && { echo "FAIL: RSS grew ${growth}%"; fail=1; }
[ "$fds1" -le "$fds0" ] || { echo "FAIL: descriptors leaked"; fail=1; }
[ "$stuck" = 0 ] || { echo "FAIL: segments stopped while the phone was away"; fail=1; }
exit $fail
