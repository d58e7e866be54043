#!/usr/bin/env bash
# bench-relay.sh — tourcast against ffmpeg doing the same relay job, side by side.
#
# One 720x1280 30 fps H.264/AAC clip (default 60 s) is published in real time:
#  1. to tourcast over RTMP (decode, overlay card, x264, 1 s live HLS);
#  2. through ffmpeg: decode, drawbox (filled) + drawtext, libx264 with the same
#     preset, tune, bitrate, VBV and keyframe interval, AAC copied, 1 s HLS.
# The two alternate for ROUNDS rounds (default 2) so that whatever else the
# machine does falls on both; CPU seconds are summed per side. Prints CPU
# seconds, the ratio, cores used, peak RSS, and tourcast's added latency (a
# frame's arrival over RTMP -> its segment listed in the playlist). The
# publisher's own CPU (ffmpeg -c copy, the "phone") is not counted.
#
#   scripts/bench-relay.sh [SECONDS]      (uses the release build in build/,
#   ROUNDS=3 scripts/bench-relay.sh 60     or $TOURCAST_BUILD; builds it if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
rounds=${ROUNDS:-2}
build=${TOURCAST_BUILD:-build}
bin=$build/tourcast
if [ ! -x "$bin" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j"$(nproc)" >/dev/null
fi
for t in ffmpeg curl python3 /usr/bin/time; do
  command -v $t >/dev/null || { echo "missing $t (scripts/setup.sh installs it)" >&2; exit 2; }
done

tc_pid=""
work=$(mktemp -d /tmp/tourcast-bench-XXXXXX)
trap '[ -n "$tc_pid" ] && kill $tc_pid 2>/dev/null; rm -rf "$work"' EXIT
clip=$(scripts/fake-phone.sh -k -d "$secs" -s 720x1280 -r 30 -g 60)
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"; }
add() { echo "$1 $2" | awk '{printf "%.2f", $1 + $2}'; }
max() { echo "$1 $2" | awk '{print ($1 > $2) ? $1 : $2}'; }

# One tourcast run: sets tc_cpu, tc_rss (kB), metrics.
run_tourcast() {
  local http rtmp cpu0 cpu1
  http=$(free_port); rtmp=$(free_port)
  rm -rf "$work/tc"
  $bin --data "$work/tc" --bind 127.0.0.1 --http-port "$http" --rtmp-port "$rtmp" \
    --stream-key bench --bitrate 2500 --fps 30 --segment-ms 1000 >"$work/tc.log" 2>&1 &
  tc_pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$http/healthz" >/dev/null && break; sleep 0.1; done
  cpu0=$(cpu_of $tc_pid)
  scripts/fake-phone.sh -c "$clip" "rtmp://127.0.0.1:$rtmp/live/bench"
  for _ in $(seq 100); do # publisher gone, then the last segment listed
    curl -fs "http://127.0.0.1:$http/healthz" | grep -q '"publisher_live":false' && break
    sleep 0.1
  done
  sleep 1.5
  cpu1=$(cpu_of $tc_pid)
  tc_cpu=$(echo "$cpu1 $cpu0" | awk '{printf "%.2f", $1 - $2}')
  tc_rss=$(awk '/VmHWM/ {print $2}' /proc/$tc_pid/status)
  metrics=$(curl -fs "http://127.0.0.1:$http/metrics")
  kill $tc_pid; wait $tc_pid 2>/dev/null || true
  tc_pid=""
}

# One ffmpeg run of the same job: sets ff_cpu, ff_rss (kB).
font=$(fc-match -f '%{file}' 'Noto Sans CJK SC:bold')
run_ffmpeg() {
  local u s
  rm -rf "$work/ff"; mkdir -p "$work/ff"
  /usr/bin/time -f "%U %S %M" -o "$work/ff.time" \
    ffmpeg -hide_banner -loglevel error -re -i "$clip" \
    -vf "drawbox=x=24:y=1024:w=672:h=160:color=black@0.6:t=fill,drawbox=x=24:y=1024:w=16:h=160:color=0xFF5000:t=fill,drawtext=fontfile=$font:text='今日推荐：阳山水蜜桃 ¥12.80/斤':fontcolor=white:fontsize=36:x=56:y=1110" \
    -c:v libx264 -preset veryfast -tune zerolatency -b:v 2500k -maxrate 2500k -bufsize 1500k \
    -g 30 -keyint_min 30 -c:a copy \
    -f hls -hls_time 1 -hls_list_size 6 -hls_flags delete_segments "$work/ff/index.m3u8"
  read -r u s ff_rss <"$work/ff.time"
  ff_cpu=$(add "$u" "$s")
}

tc_total=0 ff_total=0 tc_peak=0 ff_peak=0
lat() { echo "$metrics" | awk -v k="$1" 'index($0, k) == 1 {print $2}'; }
for r in $(seq "$rounds"); do
  run_tourcast
  run_ffmpeg
  printf 'round %s: tourcast %s CPU s, ffmpeg %s CPU s\n' "$r" "$tc_cpu" "$ff_cpu"
  tc_total=$(add "$tc_total" "$tc_cpu"); ff_total=$(add "$ff_total" "$ff_cpu")
  tc_peak=$(max "$tc_peak" "$tc_rss"); ff_peak=$(max "$ff_peak" "$ff_rss")
done
# Latency figures are from the last tourcast round.
lat_first_mean=$(lat 'tourcast_hls_added_latency_ms{frame="first",stat="mean"}')
lat_first_max=$(lat 'tourcast_hls_added_latency_ms{frame="first",stat="max"}')
lat_last_mean=$(lat 'tourcast_hls_added_latency_ms{frame="last",stat="mean"}')
lat_last_max=$(lat 'tourcast_hls_added_latency_ms{frame="last",stat="max"}')
tc_segs=$(echo "$metrics" | awk '/^tourcast_hls_segments_total/ {print $2}')

per_run() { echo "$1 $rounds" | awk '{printf "%.2f", $1 / $2}'; }
printf '\nrelay of a %s s 720x1280 30 fps clip, 2500 kbit/s, veryfast/zerolatency, 1 s segments\n' "$secs"
printf 'machine: %s, %s cores, %s rounds alternating\n' "$(uname -m)" "$(nproc)" "$rounds"
printf '%-10s %14s %10s %12s\n' "" "CPU s per run" "cores" "peak RSS MB"
for side in tourcast ffmpeg; do
  if [ $side = tourcast ]; then tot=$tc_total peak=$tc_peak; else tot=$ff_total peak=$ff_peak; fi
  printf '%-10s %14s %10.2f %12.1f\n' $side "$(per_run "$tot")" \
    "$(echo "$tot $rounds $secs" | awk '{print $1 / $2 / $3}')" "$(echo "$peak" | awk '{print $1/1024}')"
done
printf 'CPU ratio tourcast/ffmpeg: %s\n' "$(echo "$tc_total $ff_total" | awk '{printf "%.2f", $1 / $2}')"
printf 'tourcast segments (last round): %s\n' "$tc_segs"
printf 'added latency, RTMP arrival -> segment in playlist (ms, last round):\n'
printf '  first frame of a segment: mean %s, max %s\n' "$lat_first_mean" "$lat_first_max"
printf '  last frame of a segment:  mean %s, max %s\n' "$lat_last_mean" "$lat_last_max"
