/* pipeline.h — the media pipeline: FLV from the publisher in, overlaid live HLS out.
 *
 *   appsrc ! flvdemux ─video─▶ queue ! h264parse ! avdec_h264 ! videoconvert ! videoscale
 *                     │        ! video/x-raw,I420,WxH  ◀─ overlay blended in place (probe)
 *                     │        ! videorate ! x264enc ! h264parse ─▶ mpegtsmux ─▶ multifilesink
 *                     └audio─▶ queue ! aacparse ──────────────────────▲   (live/sN-NNNNN.ts)
 *                                (AAC passes through)
 *
 * One GStreamer pipeline per publish ("session"); the show's timeline
 * (stream_ms) and the live playlist continue across sessions. The control
 * loop pushes FLV bytes and reads the stream clock; streaming threads do the
 * media work and never wait on the loop.
 */
#ifndef TOURCAST_PIPELINE_H
#define TOURCAST_PIPELINE_H

#include <glib.h>

#include "overlay/overlay.h"

typedef struct pipeline pipeline_t;

typedef struct {
  int width, height, fps;
  int bitrate_kbps;
  int segment_ms;
  const char *live_dir; /* where segments and index.m3u8 go; copied */
  overlay_t *overlay;   /* borrowed; must outlive the pipeline */
  /* H.264 decoder element; NULL: avdec_h264. (openh264dec lets valgrind run
   * the pipeline: libavcodec pulls in libhwy, whose constructor uses an
   * instruction valgrind 3.19 cannot decode.) Copied. */
  const char *h264_decoder;
} pipeline_config_t;

typedef struct {
  gboolean live;           /* a session is running */
  gint64 stream_ms;        /* see pipeline_stream_ms() */
  guint64 sessions;        /* publishes seen */
  guint64 frames_out;      /* frames that went to the encoder */
  guint64 segments;        /* segments published to the playlist */
  guint64 bytes_in;        /* FLV bytes pushed */
  guint64 errors;          /* sessions that ended on a pipeline error */
  gint64 latency_first_ms; /* last segment: first frame's RTMP arrival -> in playlist */
  gint64 latency_last_ms;  /* last segment: last frame's RTMP arrival -> in playlist */
  gint64 latency_first_max_ms;
  gint64 latency_last_max_ms;
  gint64 latency_first_sum_ms; /* over latency_count segments, for a mean */
  gint64 latency_last_sum_ms;
  guint64 latency_count;
} pipeline_stats_t;

/* Checks that every GStreamer element needed exists; `cfg` is copied.
 * Returns NULL with `err` set otherwise. */
pipeline_t *pipeline_new(const pipeline_config_t *cfg, GError **err);
/* Stops any running session at once (no final segment). NULL is a no-op. */
void pipeline_free(pipeline_t *p);

/* A publisher went live: builds and starts a session. A session still
 * draining from the previous publisher finishes on its own. */
gboolean pipeline_begin(pipeline_t *p, GError **err);
/* FLV bytes of the live publisher (header first, then tags, as handed out by
 * rtmp_server). `data` is copied. Ignored when no session runs. */
void pipeline_push_flv(pipeline_t *p, guint8 tag_type, guint32 timestamp_ms, const guint8 *data,
                       gsize len);
/* FALSE while the session's input queue is full: stop reading the socket. */
gboolean pipeline_can_accept(pipeline_t *p);
/* The publisher is gone: sends EOS so the last segment is closed and listed;
 * the session tears itself down off the control loop. */
void pipeline_end(pipeline_t *p);

/* TRUE while a session is live or still draining its last segment. */
gboolean pipeline_busy(pipeline_t *p);

/* The stream clock: milliseconds of output video since the show began, as of
 * the last frame sent to the encoder. Any thread. -1 before the first frame. */
gint64 pipeline_stream_ms(pipeline_t *p);
/* Wall-clock time (unix ms) at which stream_ms 0 went out, or -1. */
gint64 pipeline_epoch_unix_ms(pipeline_t *p);

void pipeline_get_stats(pipeline_t *p, pipeline_stats_t *out);

#endif
