/* pipeline.h — the media pipeline: FLV from the publisher in, overlaid live HLS out.
 *
 *  input session (one per publish)                       output (one per show, outlives publishers)
 *  appsrc ! flvdemux ─▶ h264 decode ! scale/letterbox     pacer ─▶ x264enc ─▶ mpegtsmux ─▶
 * multifilesink ! videorate ! appsink ─frames──▶  (live frame, or the slate;     ▲
 * live/sRUN-NNNNN.ts └──▶ AAC decode ! resample ! appsink ─audio─▶ overlay blended) ─▶ AAC ┘   +
 * shows/ID/ (archive)
 *
 * The output's encoders live as long as the show: a publisher that drops,
 * stalls or comes back at another resolution, rate or profile only changes
 * which frames the pacer sends (live or the standby slate), never the
 * encoder, so the timeline (stream_ms), the segment cadence and the archive
 * go on without a break. The control loop pushes FLV bytes and reads the
 * clock; streaming threads do the media work and never wait on the loop.
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
  /* AAC decoder element; NULL: avdec_aac (faad for valgrind, same reason). */
  const char *aac_decoder;
  /* Archive root: each show's segments and VOD playlist go to
   * shows_dir/ID/. NULL: no archive. Copied. */
  const char *shows_dir;
  /* A live publisher that sends no frame for this long is shown as gone
   * (the slate). 0: 1500 ms. */
  guint stall_ms;
  /* Control loop: the output went from the slate to live frames (TRUE) or
   * back (FALSE), at the frame of `stream_ms`. May be NULL. */
  void (*feed_changed)(void *user, gboolean live, gint64 stream_ms);
  /* Control loop: the first output frame showing overlay state `version`
   * went out at `stream_ms` (see overlay_update()). May be NULL. */
  void (*overlay_shown)(void *user, guint64 version, gint64 stream_ms);
  /* Control loop: the first frame of show `show_id`'s output (new, or
   * resumed after a restart) went out; `epoch_unix_ms` is the wall clock of
   * its stream_ms 0 (what the live playlist's program date-times count
   * from). May be NULL. */
  void (*show_started)(void *user, gint64 show_id, gint64 epoch_unix_ms);
  void *user;
  /* Where the overlaid output is also pushed (see restream.h); borrowed,
   * must outlive the pipeline. NULL: nowhere. */
  struct restream *restream;
} pipeline_config_t;

typedef struct {
  gboolean live;           /* a publish session is running */
  gboolean on_air;         /* an output runs (a show is on) */
  gboolean feed_live;      /* the last frame out came from the publisher, not the slate */
  gint64 stream_ms;        /* see pipeline_stream_ms() */
  guint64 sessions;        /* publishes seen */
  guint64 reconnects;      /* publishes after the first in the current show */
  guint64 frames_out;      /* frames that went to the encoder */
  guint64 frames_live;     /* of which live frames (repeats included) */
  guint64 frames_slate;    /* of which slate frames */
  guint64 frames_dropped;  /* live frames dropped: the publisher ran ahead */
  guint64 frames_late;     /* ticks without a new live frame while live */
  guint64 segments;        /* segments published to the playlist */
  guint64 bytes_in;        /* FLV bytes pushed */
  guint64 errors;          /* sessions or outputs that ended on an error */
  guint64 output_restarts; /* outputs started again for the same show (encoder restarts) */
  double input_kbps;       /* publisher's bitrate over the last second */
  double input_fps;        /* publisher's video frames over the last second */
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
/* Stops everything at once (no final segment). NULL is a no-op. */
void pipeline_free(pipeline_t *p);

/* Shows and publishers have lives of their own: a phone may stay connected
 * between two shows, and a show may run (on the slate) with no phone.
 *
 * A publisher connected: a new input session, decoding at once. It feeds the
 * show's output when one runs, and is kept decoded but detached otherwise.
 * An input still draining finishes on its own. */
gboolean pipeline_publish_begin(pipeline_t *p, GError **err);
/* Starts the output of show `show_id` (> 0), continuing its archive if there
 * is one (a restart mid-show). Fed by the connected publisher if any (its
 * first frame starts the timeline); with none, the slate goes out at once.
 * A running output of another show is ended first. No-op for the show
 * already on. */
gboolean pipeline_show_begin(pipeline_t *p, gint64 show_id, GError **err);
/* Ends the show's output like pipeline_finish(), but a connected publisher
 * stays connected and decoded, ready for the next pipeline_show_begin(). */
void pipeline_show_end(pipeline_t *p, gboolean show_over);
/* pipeline_publish_begin() then pipeline_show_begin(show_id). */
gboolean pipeline_begin(pipeline_t *p, gint64 show_id, GError **err);
/* FLV bytes of the live publisher (header first, then tags, as handed out by
 * rtmp_server). `data` is copied. Ignored when no session runs. */
void pipeline_push_flv(pipeline_t *p, guint8 tag_type, guint32 timestamp_ms, const guint8 *data,
                       gsize len);
/* FALSE while the session's input queue is full: stop reading the socket. */
gboolean pipeline_can_accept(pipeline_t *p);
/* The publisher is gone: its input drains (what is decoded still plays out)
 * and the output switches to the slate; the output keeps running. */
void pipeline_end(pipeline_t *p);
/* Ends the publisher's session and the output: the last segment is closed
 * and listed. `show_over`: the show ended, its archive playlist gets
 * EXT-X-ENDLIST; otherwise (shutdown mid-show) the archive stays open for a
 * restart to continue. */
void pipeline_finish(pipeline_t *p, gboolean show_over);

/* TRUE while the show's output is sending frames (live or the slate): every
 * overlay state will then be reported through cfg.overlay_shown. */
gboolean pipeline_on_air(pipeline_t *p);

/* TRUE while an input or output is running or draining. */
gboolean pipeline_busy(pipeline_t *p);

/* The stream clock: milliseconds of output video since the show began, as of
 * the last frame sent to the encoder. Control loop. -1 before the first
 * frame and with no output running (between shows). */
gint64 pipeline_stream_ms(pipeline_t *p);
/* Wall-clock time (unix ms) at which stream_ms 0 of the running output went
 * out, or -1 (no output, or its first frame is not out yet). After a resume
 * it is the resumed output's: stream_ms continues from the archive. */
gint64 pipeline_epoch_unix_ms(pipeline_t *p);
/* Monotonic time (µs) since which the output has shown the slate with a
 * show on, or -1 while live or with no show on. */
gint64 pipeline_slate_since_us(pipeline_t *p);

void pipeline_get_stats(pipeline_t *p, pipeline_stats_t *out);

#endif
