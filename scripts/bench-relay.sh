#!/usr/bin/env bash
# bench-relay.sh — tourcast against ffmpeg doing the same relay job, side by side.
#
# One 720x1280 30 fps H.264/AAC clip (default 60 s) is published in real time:
#  1. to tourcast over RTMP (decode, overlay card, x264, 1 s live HLS);
#  2. through ffmpeg: decode, drawbox (filled) + drawtext, libx264 with the same
#     preset, tune, bitrate and keyframe interval, AAC copied, 1 s HLS.
# Prints CPU seconds of each, the ratio, cores used, peak RSS, and tourcast's
# added latency (a frame's RTMP arrival -> its segment listed in the playlist).
# The publisher's own CPU (ffmpeg -c copy, the "phone") is not counted. Both
# encoders run CBR with the same VBV (x264enc's default: 600 ms of buffer).
#
#   scripts/bench-relay.sh [SECONDS]      (uses the release build in build/,
#                                          or $TOURCAST_BUILD; builds it if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
build=${TOURCAST_BUILD:-build}
bin=$build/tourcast
if [ ! -x "$bin" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j"$(nproc)" >/dev/null
fi
for t in ffmpeg curl python3; do command -v $t >/dev/null || { echo "missing $t" >&2; exit 2; }; done

tc_pid=""
work=$(mktemp -d /tmp/tourcast-bench-XXXXXX)
trap 'kill $tc_pid 2>/dev/null || true; rm -rf "$work"' EXIT
clip=$(scripts/fake-phone.sh -k -d "$secs" -s 720x1280 -r 30 -g 60)
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
http=$(free_port); rtmp=$(free_port)

cpu_of() { # utime+stime of a pid, in seconds
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"
}

# ---- tourcast ----
$bin --data "$work/tc" --bind 127.0.0.1 --http-port "$http" --rtmp-port "$rtmp" \
  --stream-key bench --bitrate 2500 --fps 30 --segment-ms 1000 >"$work/tc.log" 2>&1 &
tc_pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$http/healthz" >/dev/null && break; sleep 0.1; done
cpu0=$(cpu_of $tc_pid)
scripts/fake-phone.sh -c "$clip" "rtmp://127.0.0.1:$rtmp/live/bench"
# Wait for the last segment to be listed (publisher gone, playlist settled).
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$http/healthz" | grep -q '"publisher_live":false' && break; sleep 0.1
done
sleep 1.5
cpu1=$(cpu_of $tc_pid)
tc_rss=$(awk '/VmHWM/ {print $2}' /proc/$tc_pid/status)
metrics=$(curl -fs "http://127.0.0.1:$http/metrics")
kill $tc_pid; wait $tc_pid 2>/dev/null || true
tc_cpu=$(echo "$cpu1 $cpu0" | awk '{printf "%.2f", $1 - $2}')
lat() { echo "$metrics" | awk -v k="$1" 'index($0, k) == 1 {print $2}'; }
lat_first_mean=$(lat 'tourcast_hls_added_latency_ms{frame="first",stat="mean"}')
lat_first_max=$(lat 'tourcast_hls_added_latency_ms{frame="first",stat="max"}')
lat_last_mean=$(lat 'tourcast_hls_added_latency_ms{frame="last",stat="mean"}')
lat_last_max=$(lat 'tourcast_hls_added_latency_ms{frame="last",stat="max"}')
tc_segs=$(echo "$metrics" | awk '/^tourcast_hls_segments_total/ {print $2}')

# ---- ffmpeg, the same job ----
mkdir -p "$work/ff"
font=$(fc-match -f '%{file}' 'Noto Sans CJK SC:bold')
/usr/bin/time -f "%U %S %M" -o "$work/ff.time" \
  ffmpeg -hide_banner -loglevel error -re -i "$clip" \
  -vf "drawbox=x=24:y=1072:w=672:h=160:color=black@0.6:t=fill,drawbox=x=24:y=1072:w=16:h=160:color=0xFF5000:t=fill,drawtext=fontfile=$font:text='今日推荐：阳山水蜜桃 ¥12.80/斤':fontcolor=white:fontsize=36:x=56:y=1150" \
  -c:v libx264 -preset veryfast -tune zerolatency -b:v 2500k -maxrate 2500k -bufsize 1500k \
  -g 30 -keyint_min 30 -c:a copy \
  -f hls -hls_time 1 -hls_list_size 6 -hls_flags delete_segments "$work/ff/index.m3u8"
read -r ff_u ff_s ff_rss <"$work/ff.time"
ff_cpu=$(echo "$ff_u $ff_s" | awk '{printf "%.2f", $1 + $2}')

ratio=$(echo "$tc_cpu $ff_cpu" | awk '{printf "%.2f", $1 / $2}')
printf '\nrelay of a %s s 720x1280 30 fps clip, 2500 kbit/s, veryfast/zerolatency, 1 s segments\n' "$secs"
printf 'machine: %s, %s cores\n' "$(uname -m)" "$(nproc)"
printf '%-10s %10s %10s %12s\n' "" "CPU s" "cores" "peak RSS MB"
printf '%-10s %10s %10.2f %12.1f\n' tourcast "$tc_cpu" "$(echo "$tc_cpu $secs" | awk '{print $1/$2}')" "$(echo "$tc_rss" | awk '{print $1/1024}')"
printf '%-10s %10s %10.2f %12.1f\n' ffmpeg "$ff_cpu" "$(echo "$ff_cpu $secs" | awk '{print $1/$2}')" "$(echo "$ff_rss" | awk '{print $1/1024}')"
printf 'CPU ratio tourcast/ffmpeg: %s\n' "$ratio"
printf 'tourcast segments: %s\n' "$tc_segs"
printf 'added latency, RTMP arrival -> segment in playlist (ms):\n'
printf '  first frame of a segment: mean %s, max %s\n' "$lat_first_mean" "$lat_first_max"
printf '  last frame of a segment:  mean %s, max %s\n' "$lat_last_mean" "$lat_last_max"
