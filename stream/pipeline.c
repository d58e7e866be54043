/* pipeline.c — publish sessions feeding the show's long-lived output, and the stream clock.
 *
 * A session is one GstPipeline per publish that decodes into appsinks; a run
 * is one output (output.c: pacer, encoders, segments) with the show's archive.
 * This file owns both lives on the control loop, the handoff between them
 * (a generation number under feed_lock, so frames of an old publisher never
 * reach the output after a new one began), the playlists and the health
 * figures. Teardown (set_state NULL waits for streaming threads) runs in a
 * worker thread so the loop never waits on media.
 */
#include "stream/pipeline.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <stdatomic.h>

#include "stream/archive.h"
#include "stream/hls.h"
#include "stream/output.h"
#include "stream/output_build.h"
#include "stream/pipeline_build.h"
#include "stream/restream.h"

GST_DEBUG_CATEGORY_STATIC(pipeline_debug);
#define GST_CAT_DEFAULT pipeline_debug

#define APPSRC_MAX_BYTES (4u * 1024 * 1024)
#define PLAYLIST_WINDOW 6
#define ARRIVAL_RING 2048 /* RTMP video frame arrivals kept for latency figures */
#define DRAIN_MS 800      /* a gone publisher's decoded frames may play out this long */

typedef struct {
  guint32 ts_ms;
  gint64 mono_us;
} arrival_t;

typedef struct session {
  pipeline_t *owner;
  guint id;
  guint gen; /* feeds the output while it equals owner->feed_gen */
  session_elements_t el;
  session_build_params_t bp;
  GstAppSinkCallbacks vcb, acb;
  guint bus_watch;
  guint drain_timer;
  gboolean eos_sent;
} session_t;

typedef struct {
  pipeline_t *owner;
  output_t *out;
  archive_t *archive;
  gint64 show_id;
  guint id;
  guint fragments;
  gboolean show_over; /* end the archive when the output is done */
  gboolean started;   /* its first frame went out (epoch reported) */
  char *segment_name;
  _Atomic gint64 clock_ms, epoch_unix_ms;
  _Atomic guint64 frames_out;
} run_t;

struct pipeline {
  pipeline_config_t cfg;
  hls_playlist_t *playlist;
  run_t *run;            /* the show's output; NULL with no show on */
  GList *draining_runs;  /* finished, waiting for their last segment */
  session_t *current;    /* receives pushes; NULL between publishes */
  GList *draining;       /* sessions after EOS, waiting for it on the bus */
  GThreadPool *teardown; /* sessions: set_state(NULL) off the loop */
  GThreadPool *teardown_runs;
  GMutex feed_lock; /* guards feed_gen and feed_out (appsink threads read them) */
  guint feed_gen;
  output_t *feed_out;
  guint runs;
  gint64 boot_unix_ms; /* segment names of this process: sBOOT-RUN-NNNNN.ts */
  gint64 last_show_id; /* of the newest output */
  gint64 slate_since_us;
  guint rate_timer;
  guint64 rate_bytes, rate_frames; /* counters at the last rate tick */
  guint64 video_frames_in;
  pipeline_stats_t stats; /* control-loop fields only */
  arrival_t arrivals[ARRIVAL_RING];
  guint arrival_head, arrival_len;
};

static void teardown_worker(gpointer data, gpointer user);
static void teardown_run_worker(gpointer data, gpointer user);
static gboolean on_rate_tick(gpointer user);

pipeline_t *pipeline_new(const pipeline_config_t *cfg, GError **err) {
  GST_DEBUG_CATEGORY_INIT(pipeline_debug, "tourcast-pipeline", 0, "tourcast media pipeline");
  const char *decoder = cfg->h264_decoder ? cfg->h264_decoder : "avdec_h264";
  const char *aac = cfg->aac_decoder ? cfg->aac_decoder : "avdec_aac";
  if (!pipeline_build_check_elements(decoder, aac, err) || !output_build_check_elements(err))
    return NULL;
  pipeline_t *p = g_new0(pipeline_t, 1);
  p->cfg = *cfg;
  p->cfg.live_dir = g_strdup(cfg->live_dir);
  p->cfg.h264_decoder = g_strdup(decoder);
  p->cfg.aac_decoder = g_strdup(aac);
  p->cfg.shows_dir = g_strdup(cfg->shows_dir);
  if (p->cfg.stall_ms == 0)
    p->cfg.stall_ms = 1500;
  p->playlist = hls_playlist_new(cfg->live_dir, PLAYLIST_WINDOW, (guint)cfg->segment_ms);
  p->teardown = g_thread_pool_new(teardown_worker, NULL, 1, FALSE, NULL);
  p->teardown_runs = g_thread_pool_new(teardown_run_worker, NULL, 1, FALSE, NULL);
  g_mutex_init(&p->feed_lock);
  p->boot_unix_ms = g_get_real_time() / 1000;
  p->slate_since_us = -1;
  p->rate_timer = g_timeout_add(1000, on_rate_tick, p);
  return p;
}

/* ---- latency and input health (control loop) ---- */

static void arrival_record(pipeline_t *p, guint32 ts_ms) {
  guint idx = (p->arrival_head + p->arrival_len) % ARRIVAL_RING;
  p->arrivals[idx] = (arrival_t){ts_ms, g_get_monotonic_time()};
  if (p->arrival_len < ARRIVAL_RING)
    p->arrival_len++;
  else
    p->arrival_head = (p->arrival_head + 1) % ARRIVAL_RING;
}

/* Arrival time of the first recorded frame with a timestamp >= ts_ms, or -1. */
static gint64 arrival_lookup(const pipeline_t *p, gint64 ts_ms) {
  for (guint i = 0; i < p->arrival_len; i++) {
    const arrival_t *a = &p->arrivals[(p->arrival_head + i) % ARRIVAL_RING];
    if ((gint64)a->ts_ms >= ts_ms)
      return a->mono_us;
  }
  return -1;
}

/* A segment holding live frames with RTMP timestamps first_ts..last_ts
 * appeared in the playlist: how long ago did they arrive? */
static void note_latency(pipeline_t *p, gint64 first_ts, gint64 last_ts) {
  gint64 first_at = first_ts < 0 ? -1 : arrival_lookup(p, first_ts);
  gint64 last_at = last_ts < 0 ? -1 : arrival_lookup(p, last_ts);
  if (first_at < 0 || last_at < 0)
    return;
  gint64 now = g_get_monotonic_time();
  pipeline_stats_t *st = &p->stats;
  st->latency_first_ms = (now - first_at) / 1000;
  st->latency_last_ms = (now - last_at) / 1000;
  st->latency_first_max_ms = MAX(st->latency_first_max_ms, st->latency_first_ms);
  st->latency_last_max_ms = MAX(st->latency_last_max_ms, st->latency_last_ms);
  st->latency_first_sum_ms += st->latency_first_ms;
  st->latency_last_sum_ms += st->latency_last_ms;
  st->latency_count++;
}

static gboolean on_rate_tick(gpointer user) {
  pipeline_t *p = user;
  p->stats.input_kbps = (double)(p->stats.bytes_in - p->rate_bytes) * 8 / 1000;
  p->stats.input_fps = (double)(p->video_frames_in - p->rate_frames);
  p->rate_bytes = p->stats.bytes_in;
  p->rate_frames = p->video_frames_in;
  return G_SOURCE_CONTINUE;
}

/* ---- runs: the show's output (control loop) ---- */

static void run_on_segment(void *user, const char *path, const char *name, gint64 start_ms,
                           guint64 duration_ns, gint64 first_in, gint64 last_in) {
  run_t *r = user;
  pipeline_t *p = r->owner;
  gint64 epoch = atomic_load(&r->epoch_unix_ms);
  /* A new encoder (the first run of the process, or one after a failure)
   * is a discontinuity; a new publisher is not. */
  gboolean discont = r->fragments == 0;
  GError *err = NULL;
  if (!hls_playlist_append(p->playlist, name, start_ms, duration_ns,
                           (epoch < 0 ? g_get_real_time() / 1000 : epoch) + start_ms, discont,
                           &err)) {
    GST_WARNING("playlist: %s", err->message);
    g_clear_error(&err);
  }
  if (r->archive && !archive_append(r->archive, path, name, duration_ns, discont, &err)) {
    g_message("archive of show %" G_GINT64_FORMAT ": %s", r->show_id, err->message);
    g_clear_error(&err);
  }
  r->fragments++;
  p->stats.segments++;
  note_latency(p, first_in, last_in);
  GST_DEBUG("segment %s at %" G_GINT64_FORMAT " ms", name, start_ms);
}

static void run_on_overlay_shown(void *user, guint64 version, gint64 stream_ms) {
  run_t *r = user;
  pipeline_t *p = r->owner;
  if (p->run == r && p->cfg.overlay_shown)
    p->cfg.overlay_shown(p->cfg.user, version, stream_ms);
}

static void run_on_feed_changed(void *user, gboolean live, gint64 stream_ms) {
  run_t *r = user;
  pipeline_t *p = r->owner;
  if (p->run != r)
    return;
  if (!r->started) { /* the first frame: the pacer set the epoch before posting */
    r->started = TRUE;
    if (p->cfg.show_started)
      p->cfg.show_started(p->cfg.user, r->show_id, atomic_load(&r->epoch_unix_ms));
  }
  p->slate_since_us = live ? -1 : g_get_monotonic_time();
  GST_INFO("output %u: %s at stream_ms %" G_GINT64_FORMAT, r->id, live ? "live" : "slate",
           stream_ms);
  if (p->cfg.feed_changed)
    p->cfg.feed_changed(p->cfg.user, live, stream_ms);
}

static void teardown_run_worker(gpointer data, gpointer user) {
  run_t *r = data;
  output_free(r->out);
  g_free(r->segment_name);
  g_free(r);
}

static void run_on_done(void *user, output_t *o, gboolean failed) {
  run_t *r = user;
  pipeline_t *p = r->owner;
  if (failed)
    p->stats.errors++;
  if (r->archive && r->show_over)
    archive_end(r->archive, NULL);
  archive_free(r->archive);
  r->archive = NULL;
  if (p->run == r) { /* failed while on air: the next publish starts a new one */
    p->run = NULL;
    g_mutex_lock(&p->feed_lock);
    p->feed_out = NULL;
    g_mutex_unlock(&p->feed_lock);
  }
  p->draining_runs = g_list_remove(p->draining_runs, r);
  g_thread_pool_push(p->teardown_runs, r, NULL);
}

/* Output streaming threads: encoded samples go to the restream targets. */
static void on_encoded(void *user, gboolean video, GstSample *sample) {
  restream_push(user, video, sample);
}

static run_t *run_start(pipeline_t *p, gint64 show_id, gboolean slate_at_once, GError **err) {
  run_t *r = g_new0(run_t, 1);
  r->owner = p;
  r->show_id = show_id;
  r->id = ++p->runs;
  r->segment_name = g_strdup_printf("%" G_GINT64_FORMAT "-%u", p->boot_unix_ms, r->id);
  if (p->cfg.shows_dir) {
    r->archive = archive_open(p->cfg.shows_dir, show_id, (guint)p->cfg.segment_ms, err);
    if (r->archive == NULL) {
      g_free(r->segment_name);
      g_free(r);
      return NULL;
    }
  }
  gint64 base = r->archive ? archive_duration_ms(r->archive) : 0;
  atomic_init(&r->clock_ms, base > 0 ? base : -1);
  atomic_init(&r->epoch_unix_ms, -1);
  atomic_init(&r->frames_out, 0);
  output_params_t prm = {
      .width = p->cfg.width,
      .height = p->cfg.height,
      .fps = p->cfg.fps,
      .bitrate_kbps = p->cfg.bitrate_kbps,
      .segment_ms = p->cfg.segment_ms,
      .run_id = r->id,
      .segment_name = r->segment_name,
      .slate_at_once = slate_at_once,
      .live_dir = p->cfg.live_dir,
      .overlay = p->cfg.overlay,
      .base_ms = base,
      .stall_ms = p->cfg.stall_ms,
      .clock_ms = &r->clock_ms,
      .epoch_unix_ms = &r->epoch_unix_ms,
      .frames_out = &r->frames_out,
      .encoded = p->cfg.restream ? on_encoded : NULL,
      .encoded_user = p->cfg.restream,
  };
  output_callbacks_t cb = {run_on_segment, run_on_feed_changed, run_on_overlay_shown, run_on_done,
                           r};
  r->out = output_new(&prm, &cb, err);
  if (r->out == NULL) {
    archive_free(r->archive);
    g_free(r->segment_name);
    g_free(r);
    return NULL;
  }
  /* A new show's output is not a restart; one for the show of the last
   * output is (it failed, or the show resumed in this process). */
  if (show_id == p->last_show_id)
    p->stats.output_restarts++;
  p->last_show_id = show_id;
  return r;
}

void pipeline_show_end(pipeline_t *p, gboolean show_over) {
  run_t *r = p->run;
  if (r == NULL)
    return;
  /* A publisher still connected stays decoded, detached (its frames are
   * dropped), so the next show starts from it at once. */
  g_mutex_lock(&p->feed_lock);
  p->feed_out = NULL;
  p->feed_gen++;
  g_mutex_unlock(&p->feed_lock);
  p->run = NULL;
  p->slate_since_us = -1;
  r->show_over = show_over;
  p->draining_runs = g_list_prepend(p->draining_runs, r);
  output_finish(r->out);
}

void pipeline_finish(pipeline_t *p, gboolean show_over) {
  pipeline_end(p);
  pipeline_show_end(p, show_over);
}

/* ---- sessions: one per publish ---- */

/* Appsink streaming threads: hand the sample to the output while this
 * session is the current feed. */
static void feed(session_t *s, GstAppSink *sink, gboolean video) {
  GstSample *sample = gst_app_sink_pull_sample(sink);
  if (sample == NULL)
    return;
  pipeline_t *p = s->owner;
  g_mutex_lock(&p->feed_lock);
  if (p->feed_gen == s->gen && p->feed_out != NULL) {
    if (video)
      output_feed_video(p->feed_out, sample);
    else
      output_feed_audio(p->feed_out, sample);
  }
  g_mutex_unlock(&p->feed_lock);
  gst_sample_unref(sample);
}

static GstFlowReturn on_video_sample(GstAppSink *sink, gpointer user) {
  feed(user, sink, TRUE);
  return GST_FLOW_OK;
}

static GstFlowReturn on_audio_sample(GstAppSink *sink, gpointer user) {
  feed(user, sink, FALSE);
  return GST_FLOW_OK;
}

/* The session's video is all out: what is queued plays, then the slate. */
static void feed_close(session_t *s) {
  pipeline_t *p = s->owner;
  g_mutex_lock(&p->feed_lock);
  if (p->feed_gen == s->gen && p->feed_out != NULL)
    output_feed_close(p->feed_out);
  g_mutex_unlock(&p->feed_lock);
}

static void on_video_eos(GstAppSink *sink, gpointer user) {
  feed_close(user);
}

static void teardown_worker(gpointer data, gpointer user) {
  session_t *s = data;
  gst_element_set_state(s->el.pipe, GST_STATE_NULL);
  gst_object_unref(s->el.pipe);
  g_free(s);
}

/* Detaches the session from the loop and hands it to the teardown worker. */
static void session_finish(pipeline_t *p, session_t *s) {
  if (p->current == s)
    p->current = NULL;
  p->draining = g_list_remove(p->draining, s);
  if (s->drain_timer)
    g_source_remove(s->drain_timer);
  feed_close(s);
  s->bus_watch = 0; /* the watch removes itself by returning G_SOURCE_REMOVE */
  g_thread_pool_push(p->teardown, s, NULL);
}

static gboolean on_session_bus(GstBus *bus, GstMessage *msg, gpointer user) {
  session_t *s = user;
  pipeline_t *p = s->owner;
  switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_EOS:
      GST_INFO("session %u: end of stream", s->id);
      session_finish(p, s);
      return G_SOURCE_REMOVE;
    case GST_MESSAGE_ERROR: {
      GError *err = NULL;
      char *dbg = NULL;
      gst_message_parse_error(msg, &err, &dbg);
      g_message("pipeline session %u failed in %s: %s (%s)", s->id, GST_OBJECT_NAME(msg->src),
                err->message, dbg ? dbg : "");
      g_clear_error(&err);
      g_free(dbg);
      p->stats.errors++;
      session_finish(p, s);
      return G_SOURCE_REMOVE;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

static session_t *session_new(pipeline_t *p, GError **err) {
  session_t *s = g_new0(session_t, 1);
  s->owner = p;
  s->id = (guint)++p->stats.sessions;
  s->vcb.new_sample = on_video_sample;
  s->vcb.eos = on_video_eos;
  s->acb.new_sample = on_audio_sample;
  s->bp = (session_build_params_t){
      .width = p->cfg.width,
      .height = p->cfg.height,
      .fps = p->cfg.fps,
      .audio_rate = OUTPUT_AUDIO_RATE,
      .audio_channels = OUTPUT_AUDIO_CHANNELS,
      .session_id = s->id,
      .appsrc_max_bytes = APPSRC_MAX_BYTES,
      .h264_decoder = p->cfg.h264_decoder,
      .aac_decoder = p->cfg.aac_decoder,
      .video_cb = &s->vcb,
      .audio_cb = &s->acb,
      .cb_user = s,
  };
  if (!pipeline_build_session(&s->bp, &s->el, err)) {
    g_free(s);
    return NULL;
  }
  GstBus *bus = gst_element_get_bus(s->el.pipe);
  s->bus_watch = gst_bus_add_watch(bus, on_session_bus, s);
  gst_object_unref(bus);
  return s;
}

/* Makes `s` the feed of the running output (or of none: detached). */
static void session_attach(pipeline_t *p, session_t *s) {
  g_mutex_lock(&p->feed_lock);
  s->gen = ++p->feed_gen;
  p->feed_out = p->run ? p->run->out : NULL;
  if (p->run)
    output_feed_open(p->run->out);
  g_mutex_unlock(&p->feed_lock);
}

gboolean pipeline_publish_begin(pipeline_t *p, GError **err) {
  if (p->current != NULL)
    pipeline_end(p); /* a publish without a stop in between */
  session_t *s = session_new(p, err);
  if (s == NULL)
    return FALSE;
  if (p->run != NULL)
    p->stats.reconnects++;
  session_attach(p, s);
  if (gst_element_set_state(s->el.pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_set_error(err, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE, "session %u will not play",
                s->id);
    g_source_remove(s->bus_watch);
    session_finish(p, s);
    return FALSE;
  }
  p->current = s;
  GST_INFO("session %u started (%s)", s->id, p->run ? "on air" : "no show on: detached");
  return TRUE;
}

gboolean pipeline_show_begin(pipeline_t *p, gint64 show_id, GError **err) {
  if (p->run != NULL && p->run->show_id == show_id)
    return TRUE;
  if (p->run != NULL)
    pipeline_show_end(p, TRUE);
  /* With no publisher, nothing will feed it: the slate at once. */
  p->run = run_start(p, show_id, p->current == NULL, err);
  if (p->run == NULL)
    return FALSE;
  p->stats.reconnects = 0;
  if (p->current != NULL)
    session_attach(p, p->current);
  GST_INFO("output %u started for show %" G_GINT64_FORMAT, p->run->id, show_id);
  return TRUE;
}

gboolean pipeline_begin(pipeline_t *p, gint64 show_id, GError **err) {
  return pipeline_publish_begin(p, err) && pipeline_show_begin(p, show_id, err);
}

void pipeline_push_flv(pipeline_t *p, guint8 tag_type, guint32 timestamp_ms, const guint8 *data,
                       gsize len) {
  session_t *s = p->current;
  if (s == NULL || s->eos_sent || len == 0)
    return;
  /* FLV video tag body starts 11 bytes in: frame type/codec, then the AVC
   * packet type, where 1 is coded frames (0 is the sequence header). */
  if (tag_type == 9 && len > 12 && data[12] == 1) {
    arrival_record(p, timestamp_ms);
    p->video_frames_in++;
  }
  GstBuffer *buf = gst_buffer_new_memdup(data, len);
  p->stats.bytes_in += len;
  if (gst_app_src_push_buffer(GST_APP_SRC(s->el.appsrc), buf) != GST_FLOW_OK)
    GST_DEBUG("session %u: appsrc refused a buffer", s->id);
}

gboolean pipeline_can_accept(pipeline_t *p) {
  session_t *s = p->current;
  if (s == NULL)
    return TRUE; /* bytes are dropped anyway */
  return gst_app_src_get_current_level_bytes(GST_APP_SRC(s->el.appsrc)) < APPSRC_MAX_BYTES;
}

/* A gone publisher's input had DRAIN_MS to play out: the slate now. */
static gboolean on_drain_timeout(gpointer user) {
  session_t *s = user;
  s->drain_timer = 0;
  feed_close(s);
  return G_SOURCE_REMOVE;
}

void pipeline_end(pipeline_t *p) {
  session_t *s = p->current;
  if (s == NULL)
    return;
  s->eos_sent = TRUE;
  gst_app_src_end_of_stream(GST_APP_SRC(s->el.appsrc));
  /* The session drains on its own and is finished by its EOS message. */
  s->drain_timer = g_timeout_add(DRAIN_MS, on_drain_timeout, s);
  p->current = NULL;
  p->draining = g_list_prepend(p->draining, s);
}

void pipeline_free(pipeline_t *p) {
  if (p == NULL)
    return;
  if (p->current != NULL)
    p->draining = g_list_prepend(p->draining, p->current);
  p->current = NULL;
  while (p->draining != NULL) {
    session_t *s = p->draining->data;
    if (s->bus_watch)
      g_source_remove(s->bus_watch);
    session_finish(p, s);
  }
  if (p->run != NULL)
    p->draining_runs = g_list_prepend(p->draining_runs, p->run);
  p->run = NULL;
  g_mutex_lock(&p->feed_lock);
  p->feed_out = NULL;
  g_mutex_unlock(&p->feed_lock);
  for (GList *l = p->draining_runs; l != NULL; l = l->next) {
    run_t *r = l->data;
    archive_free(r->archive);
    g_thread_pool_push(p->teardown_runs, r, NULL);
  }
  g_list_free(p->draining_runs);
  /* Waits for every teardown, so no streaming thread outlives `p`: the
   * sessions first, which feed the outputs. */
  g_thread_pool_free(p->teardown, FALSE, TRUE);
  g_thread_pool_free(p->teardown_runs, FALSE, TRUE);
  g_source_remove(p->rate_timer);
  hls_playlist_free(p->playlist);
  g_mutex_clear(&p->feed_lock);
  g_free((char *)p->cfg.live_dir);
  g_free((char *)p->cfg.h264_decoder);
  g_free((char *)p->cfg.aac_decoder);
  g_free((char *)p->cfg.shows_dir);
  g_free(p);
}

gboolean pipeline_on_air(pipeline_t *p) {
  return p != NULL && p->run != NULL;
}

gboolean pipeline_busy(pipeline_t *p) {
  return p->current != NULL || p->draining != NULL || p->run != NULL || p->draining_runs != NULL;
}

gint64 pipeline_stream_ms(pipeline_t *p) {
  return p->run ? atomic_load(&p->run->clock_ms) : -1;
}

gint64 pipeline_epoch_unix_ms(pipeline_t *p) {
  return p->run ? atomic_load(&p->run->epoch_unix_ms) : -1;
}

gint64 pipeline_slate_since_us(pipeline_t *p) {
  return p->run ? p->slate_since_us : -1;
}

void pipeline_get_stats(pipeline_t *p, pipeline_stats_t *out) {
  *out = p->stats;
  out->live = p->current != NULL;
  out->on_air = p->run != NULL;
  out->stream_ms = pipeline_stream_ms(p);
  if (p->run) {
    output_stats_t os;
    output_get_stats(p->run->out, &os);
    out->frames_out = atomic_load(&p->run->frames_out);
    out->frames_live = os.frames_live;
    out->frames_slate = os.frames_slate;
    out->frames_dropped = os.frames_dropped;
    out->frames_late = os.frames_repeated;
    out->feed_live = os.live;
  }
}
