#!/usr/bin/env bash
# export-show.sh — one MP4 of an archived show, for a replay elsewhere.
#
#   scripts/export-show.sh [-d DATA_DIR] ID [OUT.mp4]
#     -d DATA_DIR  tourcast's data dir (default ./tourcast-data)
#     OUT.mp4      default: show-ID.mp4 in the current directory
# Streams are copied, not re-encoded (H.264 + AAC from the show's segments).
# The MP4 starts at 0 and its timestamps follow the show's timeline, so an
# event's stream_ms is its position in the file. A show still running is
# exported up to its newest segment.
set -euo pipefail
data=./tourcast-data
while getopts "d:" o; do
  case "$o" in
    d) data=$OPTARG ;;
    *) sed -n '2,11p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
id=${1:-}
[[ "$id" =~ ^[1-9][0-9]*$ ]] || { sed -n '2,11p' "$0"; exit 2; }
out=${2:-show-$id.mp4}
playlist=$data/shows/$id/index.m3u8
[ -f "$playlist" ] || { echo "no archive for show $id in $data/shows" >&2; exit 1; }
command -v ffmpeg >/dev/null || { echo "missing ffmpeg (scripts/setup.sh installs it)" >&2; exit 2; }

# -live_start_index 0: a playlist without EXT-X-ENDLIST (a show still on) is
# read from its first segment. The ADTS AAC of MPEG-TS becomes MP4's raw AAC;
# the MPEG-TS start offset (1.4 s) is removed so the file starts at 0.
ffmpeg -hide_banner -loglevel error -y -live_start_index 0 -i "$playlist" \
  -map 0:v -map 0:a? -c copy -bsf:a aac_adtstoasc -avoid_negative_ts make_zero \
  -movflags +faststart "$out"
echo "$out"
