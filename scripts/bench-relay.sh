#!/usr/bin/env bash
# bench-relay.sh — tourcast against ffmpeg doing the same relay job, side by side.
#
# One 720x1280 30 fps H.264/AAC clip (default 60 s) is published in real time:
#  1. to tourcast over RTMP (decode, the overlay, x264, AAC re-encoded at 48 kHz,
#     1 s live HLS). OVERLAY=full (default): every box on screen (title and
#     promise, product card with picture, question and answer, a ticker kept
#     sliding by a trickle of orders, QR code), set over WebSocket as the
#     publish starts; OVERLAY=title: the title box only;
#  2. through ffmpeg: decode, drawbox (filled) + drawtext, libx264 with the same
#     preset, tune, bitrate, VBV and keyframe interval, AAC re-encoded at 48 kHz
#     (AUDIO=copy: passed through), 1 s HLS.
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
overlay=${OVERLAY:-full} # full: every overlay box on screen during the run; title: the title only
audio=${AUDIO:-aac}
if [ "$audio" = copy ]; then audio_args=(-c:a copy); else audio_args=(-c:a aac -ar 48000 -ac 2 -b:a 128k); fi
build=${TOURCAST_BUILD:-build}
bin=$build/tourcast
if [ ! -x "$bin" ] || [ ! -x "$build/tests/ws_load" ]; then
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
    --stream-key bench --leader-token bench --bitrate 2500 --fps 30 --segment-ms 1000 \
    >"$work/tc.log" 2>&1 &
  tc_pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$http/healthz" >/dev/null && break; sleep 0.1; done
  cpu0=$(cpu_of $tc_pid)
  scripts/fake-phone.sh -c "$clip" "rtmp://127.0.0.1:$rtmp/live/bench" &
  local phone=$!
  [ "$overlay" = full ] && full_overlay "$http"
  wait $phone
  for _ in $(seq 100); do # publisher gone, then the last segment listed
    curl -fs "http://127.0.0.1:$http/healthz" | grep -q '"publisher_live":false' && break
    sleep 0.1
  done
  sleep 1.5
  cpu1=$(cpu_of $tc_pid)
  tc_cpu=$(echo "$cpu1 $cpu0" | awk '{printf "%.2f", $1 - $2}')
  tc_rss=$(awk '/VmHWM/ {print $2}' /proc/$tc_pid/status)
  metrics=$(curl -fs -H "Authorization: Bearer bench" "http://127.0.0.1:$http/metrics")
  kill $tc_pid; wait $tc_pid 2>/dev/null || true
  tc_pid=""
}

# Every box of the overlay on screen, as in a real show: the title and
# promise, the pinned product card with its picture, the highlighted question
# and its answer, the ticker (orders keep it sliding), the QR code.
full_overlay() {
  local url="ws://127.0.0.1:$1/ws" png="$work/peach.png"
  [ -s "$png" ] || ffmpeg -v error -y -f lavfi -i testsrc=s=400x400 -frames:v 1 "$png"
  sleep 2
  printf '%s\n' '{"type":"hello","role":"leader","token":"bench"}' \
    '{"type":"show.update","title":"阳山水蜜桃果园直播","promise":"坏果包赔 · 次日自提"}' \
    '{"type":"product.put","name":"阳山水蜜桃","price_cents":1280,"unit":"斤","stock":100000,"on_sale":true}' \
    '{"type":"pin","product_id":1}' |
    "$build/tests/ws_load" script --url "$url" --linger 500 >/dev/null
  curl -fs -X POST --data-binary @"$png" "http://127.0.0.1:$1/api/products/1/image" -H "Authorization: Bearer bench" >/dev/null
  printf '%s\n' '{"type":"hello","role":"viewer","name":"刘阿姨","pickup":"3号楼","phone":"13800000000"}' \
    '{"type":"ask","text":"桃子甜不甜？能放几天？"}' |
    "$build/tests/ws_load" script --url "$url" --linger 500 >/dev/null
  printf '%s\n' '{"type":"hello","role":"leader","token":"bench"}' \
    '{"type":"answer","question_id":1,"text":"今天早上现摘的，常温放三天没问题"}' \
    '{"type":"highlight","question_id":1}' |
    "$build/tests/ws_load" script --url "$url" --linger 500 >/dev/null
  # A trickle of orders for the rest of the clip: the ticker slides, stock changes.
  "$build/tests/ws_load" orders --url "$url" --buyers 5 --duration $((secs - 6)) --product 1 \
    --rate-limit 2 >/dev/null 2>&1 || true
}

# One ffmpeg run of the same job: sets ff_cpu, ff_rss (kB). Audio as
# tourcast does it (AUDIO=aac, the default): decoded and encoded again at
# 48 kHz, which tourcast needs so that the standby slate can carry silence;
# AUDIO=copy passes it through, as tourcast did before the slate.
font=$(fc-match -f '%{file}' 'Noto Sans CJK SC:bold')
run_ffmpeg() {
  local u s
  rm -rf "$work/ff"; mkdir -p "$work/ff"
  /usr/bin/time -f "%U %S %M" -o "$work/ff.time" \
    ffmpeg -hide_banner -loglevel error -re -i "$clip" \
    -vf "drawbox=x=24:y=1024:w=672:h=160:color=black@0.6:t=fill,drawbox=x=24:y=1024:w=16:h=160:color=0xFF5000:t=fill,drawtext=fontfile=$font:text='今日推荐：阳山水蜜桃 ¥12.80/斤':fontcolor=white:fontsize=36:x=56:y=1110" \
    -c:v libx264 -preset veryfast -tune zerolatency -b:v 2500k -maxrate 2500k -bufsize 1500k \
    -g 30 -keyint_min 30 "${audio_args[@]}" \
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
printf 'machine: %s, %s cores, %s rounds alternating; tourcast overlay: %s; reference audio: %s\n' \
  "$(uname -m)" "$(nproc)" "$rounds" "$overlay" "$audio"
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
