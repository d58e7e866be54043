#!/usr/bin/env bash
# A phone that publishes: makes an H.264/AAC test clip once with ffmpeg (cached),
# then publishes it over RTMP in real time, as a phone streaming app would.
#
#   scripts/fake-phone.sh [options] rtmp://HOST:1935/live/STREAM_KEY
#     -d SECONDS   clip length (default 10)
#     -s WxH       picture size (default 720x1280, a phone held upright)
#     -r FPS       frame rate (default 30)
#     -b KBPS      video bitrate (default 2500)
#     -g FRAMES    keyframe interval (default 2 s worth, like most phone apps)
#     -n           no audio
#     -c FILE      publish this file instead of a generated clip (copied, not re-encoded)
#     -k           make the clip and print its path, do not publish
# The clip shows testsrc2 with a running clock (stream time, ms) burned in, and a
# 440 Hz tone. Clips are cached in ${TOURCAST_CLIP_CACHE:-${TMPDIR:-/tmp}/tourcast-clips}.
set -euo pipefail

dur=10 size=720x1280 fps=30 kbps=2500 gop="" audio=1 clip="" make_only=0
while getopts "d:s:r:b:g:nc:k" o; do
  case "$o" in
    d) dur=$OPTARG ;; s) size=$OPTARG ;; r) fps=$OPTARG ;; b) kbps=$OPTARG ;;
    g) gop=$OPTARG ;; n) audio=0 ;; c) clip=$OPTARG ;; k) make_only=1 ;;
    *) sed -n '2,15p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
url=${1:-}
[ -n "$url" ] || [ "$make_only" = 1 ] || { sed -n '2,15p' "$0"; exit 2; }
[ -n "$gop" ] || gop=$((fps * 2))

if [ -z "$clip" ]; then
  cache=${TOURCAST_CLIP_CACHE:-${TMPDIR:-/tmp}/tourcast-clips}
  mkdir -p "$cache"
  clip="$cache/clip-${size}-${fps}-${dur}-${kbps}-${gop}-a${audio}.flv"
  if [ ! -s "$clip" ]; then
    font=/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf
    [ -f "$font" ] || font=$(fc-match -f '%{file}' monospace)
    h=${size#*x}
    fsize=$((h / 16))
    aud=(); amap=(-an)
    if [ "$audio" = 1 ]; then
      aud=(-f lavfi -i "sine=frequency=440:sample_rate=44100:duration=$dur")
      amap=(-c:a aac -b:a 96k -ar 44100 -ac 2)
    fi
    tmp="$clip.tmp.flv"
    ffmpeg -hide_banner -loglevel error -y \
      -f lavfi -i "testsrc2=size=$size:rate=$fps:duration=$dur" "${aud[@]}" \
      -vf "drawtext=fontfile=$font:fontsize=$fsize:fontcolor=white:box=1:boxcolor=black@0.7:x=(w-tw)/2:y=h/8:text='%{pts\:hms}'" \
      -c:v libx264 -preset veryfast -profile:v high -pix_fmt yuv420p -b:v "${kbps}k" \
      -maxrate "${kbps}k" -bufsize "$((kbps * 2))k" -g "$gop" -keyint_min "$gop" \
      "${amap[@]}" -f flv "$tmp"
    mv "$tmp" "$clip"
  fi
fi

if [ "$make_only" = 1 ]; then
  echo "$clip"
  exit 0
fi
exec ffmpeg -hide_banner -loglevel "${FAKE_PHONE_LOGLEVEL:-error}" -re -i "$clip" -c copy -f flv "$url"
