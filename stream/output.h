/* output.h — the show's one long-lived encoder: frames in, segments out (internal to stream/).
 *
 *   pacer thread ─I420─▶ appsrc ! x264enc ! h264parse ──▶ mpegtsmux ! multifilesink
 *     (one frame per tick,                                ▲   (live/sRUN-NNNNN.ts)
 *      overlay blended)  ─S16─▶ appsrc ! voaacenc ! aacparse
 *
 * The pacer ticks at the output frame rate on the monotonic clock and sends
 * one frame (and the audio of that frame's duration) per tick: the newest
 * frame of the live feed when there is one, the last frame again for short
 * gaps, the standby slate (and silence) when the feed is gone or has sent
 * nothing for `stall_ms`. Output timestamps are the tick count, so they never
 * go back whatever the publisher does, and segments keep their cadence.
 * A feed is whatever pushes decoded samples (pipeline.c's input sessions).
 */
#ifndef TOURCAST_OUTPUT_H
#define TOURCAST_OUTPUT_H

#include <gst/gst.h>
#include <stdatomic.h>

#include "overlay/overlay.h"

#define OUTPUT_AUDIO_RATE 48000
#define OUTPUT_AUDIO_CHANNELS 2

typedef struct output output_t;

typedef struct {
  /* Control loop. A segment file closed: `path` is its file, `name` the base
   * name, start_ms its place on the show's timeline. first_in_ts/last_in_ts:
   * RTMP timestamps (ms) of the first and last live frame in it, -1 if none. */
  void (*segment)(void *user, const char *path, const char *name, gint64 start_ms,
                  guint64 duration_ns, gint64 first_in_ts, gint64 last_in_ts);
  /* Control loop. The output switched between live frames (TRUE) and the
   * slate (FALSE) at the frame of `stream_ms`. */
  void (*feed_changed)(void *user, gboolean live, gint64 stream_ms);
  /* Control loop. The first frame blended with overlay state `version` (as
   * given to overlay_update()) went out at `stream_ms`. May be NULL. */
  void (*overlay_shown)(void *user, guint64 version, gint64 stream_ms);
  /* Control loop. The output ended (after output_finish(), or on an error:
   * `failed`). Hand it to output_free() off the loop. */
  void (*done)(void *user, output_t *o, gboolean failed);
  void *user;
} output_callbacks_t;

typedef struct {
  int width, height, fps, bitrate_kbps, segment_ms;
  guint run_id; /* for logs */
  /* Segment names: sNAME-NNNNN.ts, unique across the process's lives (an
   * archive resumed after a restart must never meet an old name). Copied. */
  const char *segment_name;
  const char *live_dir; /* copied */
  overlay_t *overlay;   /* borrowed; outlives the output */
  gint64 base_ms;       /* stream_ms of the first output frame */
  guint stall_ms;       /* a live feed silent this long gives way to the slate */
  /* TRUE: no feed is coming (a show resumed after a restart): the slate goes
   * out at once instead of waiting for a first live frame. */
  gboolean slate_at_once;
  /* Where the stream clock goes (the running time of the frame sent to the
   * encoder, as stream_ms), its wall-clock epoch and a frame counter; written
   * from the streaming thread. */
  _Atomic gint64 *clock_ms;
  _Atomic gint64 *epoch_unix_ms;
  _Atomic guint64 *frames_out;
  /* Streaming threads: every encoded sample (video: H.264 access units;
   * audio: AAC frames) with its caps, borrowed; for the restream. May be
   * NULL. Must not block. */
  void (*encoded)(void *user, gboolean video, GstSample *sample);
  void *encoded_user;
} output_params_t;

typedef struct {
  guint64 frames_live, frames_slate;
  guint64 frames_dropped;  /* live frames dropped: the feed ran ahead of the output */
  guint64 frames_repeated; /* ticks with no new live frame while live (late input) */
  gboolean live;           /* the last frame out was a live one */
} output_stats_t;

/* Builds and starts the output (PLAYING). The first frame goes out when the
 * first live frame arrives, or after 5 s with the slate. */
output_t *output_new(const output_params_t *prm, const output_callbacks_t *cb, GError **err);
/* Any thread; blocks until the pipeline is down. NULL is a no-op. */
void output_free(output_t *o);
/* Control loop: stops the pacer and drains, closing and reporting the last
 * segment; `done` follows. */
void output_finish(output_t *o);

/* Control loop: a new feed begins (what was queued from an older one is
 * dropped). */
void output_feed_open(output_t *o);
/* Streaming threads of the feed: a decoded frame (I420, output size) or audio
 * (S16LE interleaved, OUTPUT_AUDIO_RATE, OUTPUT_AUDIO_CHANNELS). The sample
 * is borrowed. */
void output_feed_video(output_t *o, GstSample *sample);
void output_feed_audio(output_t *o, GstSample *sample);
/* Any thread: the feed ended; what is queued plays out, then the slate. */
void output_feed_close(output_t *o);

void output_get_stats(output_t *o, output_stats_t *out);

#endif
