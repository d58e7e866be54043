/* output.c — the pacer, the blend hook and the stream clock of the long-lived output.
 *
 * The pacer thread is the only writer into the output's appsrcs. It meets
 * the feed through a small queue under one mutex (frames, audio bytes, the
 * time of the last arrival) and the control loop through bus messages: file
 * closes, feed changes (posted by the pacer) and EOS. The graph itself is
 * built in output_build.c.
 */
#include "stream/output.h"

#include <gst/app/gstappsrc.h>
#include <gst/base/gstadapter.h>
#include <gst/video/video.h>
#include <string.h>

#include "stream/output_build.h"
#include "stream/slate.h"

GST_DEBUG_CATEGORY_STATIC(output_debug);
#define GST_CAT_DEFAULT output_debug

#define QUEUE_MAX 30          /* live frames waiting: a second at 30 fps */
#define START_WAIT_MS 5000    /* a new output waits this long for its first live frame */
#define AUDIO_PREBUFFER_MS 60 /* audio held back after an underrun, against jitter */
#define AUDIO_MAX_MS 400      /* more than this queued: drop the excess (drift) */
#define LIVE_MAP_RING 512     /* output pts -> RTMP timestamp of recent live frames */
#define AUDIO_FRAME_BYTES (OUTPUT_AUDIO_CHANNELS * 2) /* S16LE */

typedef struct {
  guint64 out_pts;
  gint64 in_ts;
} live_map_t;

struct output {
  output_params_t prm;
  output_callbacks_t cb;
  output_elements_t el;
  guint bus_watch;
  GThread *pacer;
  GstBufferPool *pool;
  GstBuffer *slate;
  GstVideoInfo out_info, slate_info;

  GMutex lock; /* guards everything down to `stats` */
  GCond cond;
  gboolean stopping;
  gboolean feed_open;
  GQueue frames; /* of GstSample*, oldest first */
  GstSample *last;
  gint64 last_arrival_us;
  GstAdapter *audio;
  gboolean audio_primed;
  live_map_t live_map[LIVE_MAP_RING];
  guint live_map_len, live_map_head;
  output_stats_t stats;

  /* streaming thread of the video appsrc only */
  GstSegment segment;
  guint64 next_cut_rt;
  guint cuts;
  gboolean have_first;
  _Atomic gint64 last_rt;
  GMutex cut_lock;
  GQueue cut_times;
  /* control loop only */
  guint64 file_start_rt;
  /* pacer thread only: the overlay version of the last frame sent */
  guint64 overlay_version;
  guint fragments;
  gboolean finishing;
};

/* ---- the blend hook ---- */

/* Streaming thread (pacer), every output frame: blends whatever overlay is
 * current into `frame`, mapped writable. The one place the overlay module is
 * called per frame. Returns the version of the overlay state blended (0:
 * none). */
static guint64 blend_overlay(overlay_t *ov, GstVideoFrame *frame) {
  guint64 version = 0;
  GstVideoOverlayComposition *comp = overlay_ref_current_versioned(ov, &version);
  if (comp == NULL)
    return version;
  overlay_blend(comp, frame);
  gst_video_overlay_composition_unref(comp);
  return version;
}

/* ---- the stream clock and the cuts (video appsrc's streaming thread) ---- */

/* Asks the encoder for a keyframe at this frame and tells the muxer and
 * multifilesink (which starts a new file) that a segment begins there. */
static void request_cut(output_t *o, GstPad *pad, GstBuffer *buf, guint64 rt) {
  g_mutex_lock(&o->cut_lock);
  g_queue_push_tail(&o->cut_times, GSIZE_TO_POINTER((gsize)rt));
  g_mutex_unlock(&o->cut_lock);
  guint64 stream_time =
      gst_segment_to_stream_time(&o->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
  gst_pad_push_event(pad, gst_video_event_new_downstream_force_key_unit(
                              GST_BUFFER_PTS(buf), stream_time, rt, TRUE, ++o->cuts));
}

static GstPadProbeReturn clock_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user) {
  output_t *o = user;
  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(ev) == GST_EVENT_SEGMENT)
      gst_event_copy_segment(ev, &o->segment);
    return GST_PAD_PROBE_OK;
  }
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
  guint64 rt = gst_segment_to_running_time(&o->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
  if (rt == GST_CLOCK_TIME_NONE)
    return GST_PAD_PROBE_OK;
  guint64 seg_ns = (guint64)o->prm.segment_ms * GST_MSECOND;
  if (!o->have_first) {
    o->have_first = TRUE;
    o->next_cut_rt = rt + seg_ns;
  } else if (rt + GST_MSECOND >= o->next_cut_rt) {
    /* A millisecond of slack: 30 fps frames land on 33.33 ms steps. */
    request_cut(o, pad, buf, rt);
    while (o->next_cut_rt <= rt + GST_MSECOND)
      o->next_cut_rt += seg_ns;
  }
  atomic_store(&o->last_rt, (gint64)rt);
  gint64 ms = o->prm.base_ms + (gint64)(rt / GST_MSECOND);
  atomic_store(o->prm.clock_ms, ms);
  atomic_fetch_add(o->prm.frames_out, 1);
  return GST_PAD_PROBE_OK;
}

/* Encoder side, every encoded buffer: handed on (with its caps) for the
 * restream, which never blocks. */
static GstPadProbeReturn encoded_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user) {
  output_t *o = user;
  gboolean video = GST_PAD_PARENT(pad) == o->el.vout;
  /* Encoders may shift their timestamps (x264enc adds 1000 hours so that
   * DTS never goes negative) and say so in the segment: hand on running
   * times, which both streams share. */
  GstEvent *ev = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0);
  if (ev == NULL)
    return GST_PAD_PROBE_OK;
  const GstSegment *seg = NULL;
  gst_event_parse_segment(ev, &seg);
  GstBuffer *buf = gst_buffer_copy(GST_PAD_PROBE_INFO_BUFFER(info)); /* memory shared */
  GST_BUFFER_PTS(buf) = gst_segment_to_running_time(seg, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
  if (GST_BUFFER_DTS_IS_VALID(buf))
    GST_BUFFER_DTS(buf) = gst_segment_to_running_time(seg, GST_FORMAT_TIME, GST_BUFFER_DTS(buf));
  gst_event_unref(ev);
  GstCaps *caps = gst_pad_get_current_caps(pad);
  GstSample *s = gst_sample_new(buf, caps, NULL, NULL);
  o->prm.encoded(o->prm.encoded_user, video, s);
  gst_sample_unref(s);
  gst_buffer_unref(buf);
  if (caps)
    gst_caps_unref(caps);
  return GST_PAD_PROBE_OK;
}

/* ---- the feed (its streaming threads) ---- */

void output_feed_open(output_t *o) {
  g_mutex_lock(&o->lock);
  g_queue_clear_full(&o->frames, (GDestroyNotify)gst_sample_unref);
  g_clear_pointer(&o->last, gst_sample_unref);
  gst_adapter_clear(o->audio);
  o->audio_primed = FALSE;
  o->feed_open = TRUE;
  o->last_arrival_us = g_get_monotonic_time();
  g_mutex_unlock(&o->lock);
}

void output_feed_close(output_t *o) {
  g_mutex_lock(&o->lock);
  o->feed_open = FALSE;
  g_mutex_unlock(&o->lock);
}

void output_feed_video(output_t *o, GstSample *sample) {
  g_mutex_lock(&o->lock);
  if (o->feed_open) {
    g_queue_push_tail(&o->frames, gst_sample_ref(sample));
    while (g_queue_get_length(&o->frames) > QUEUE_MAX) {
      gst_sample_unref(g_queue_pop_head(&o->frames));
      o->stats.frames_dropped++;
    }
    o->last_arrival_us = g_get_monotonic_time();
    g_cond_signal(&o->cond); /* the pacer may be waiting for the first frame */
  }
  g_mutex_unlock(&o->lock);
}

void output_feed_audio(output_t *o, GstSample *sample) {
  GstBuffer *buf = gst_sample_get_buffer(sample);
  g_mutex_lock(&o->lock);
  if (o->feed_open && buf != NULL) {
    gst_adapter_push(o->audio, gst_buffer_ref(buf));
    gsize max = (gsize)OUTPUT_AUDIO_RATE * AUDIO_MAX_MS / 1000 * AUDIO_FRAME_BYTES;
    gsize keep = (gsize)OUTPUT_AUDIO_RATE * AUDIO_PREBUFFER_MS / 1000 * AUDIO_FRAME_BYTES;
    if (gst_adapter_available(o->audio) > max)
      gst_adapter_flush(o->audio, gst_adapter_available(o->audio) - keep);
  }
  g_mutex_unlock(&o->lock);
}

/* ---- the pacer ---- */

/* Under the lock: the next live frame (a new ref), or NULL for the slate. */
static GstSample *pick_frame(output_t *o, gint64 now_us, gboolean *repeated) {
  *repeated = FALSE;
  GstSample *s = g_queue_pop_head(&o->frames);
  if (s != NULL) {
    if (o->last)
      gst_sample_unref(o->last);
    o->last = gst_sample_ref(s);
    return s;
  }
  if (o->feed_open && o->last != NULL &&
      now_us - o->last_arrival_us < (gint64)o->prm.stall_ms * 1000) {
    *repeated = TRUE;
    return gst_sample_ref(o->last);
  }
  return NULL;
}

/* Under the lock: `bytes` of live audio, topped up with silence. */
static GstBuffer *take_audio(output_t *o, gsize bytes, gboolean live) {
  GstBuffer *out = gst_buffer_new_allocate(NULL, bytes, NULL);
  gsize avail = live ? gst_adapter_available(o->audio) : 0;
  gsize prebuffer = (gsize)OUTPUT_AUDIO_RATE * AUDIO_PREBUFFER_MS / 1000 * AUDIO_FRAME_BYTES;
  if (!o->audio_primed && avail >= prebuffer)
    o->audio_primed = TRUE;
  gsize take = o->audio_primed ? MIN(avail, bytes) : 0;
  GstMapInfo map;
  gst_buffer_map(out, &map, GST_MAP_WRITE);
  if (take > 0) {
    gst_adapter_copy(o->audio, map.data, 0, take);
    gst_adapter_flush(o->audio, take);
  }
  memset(map.data + take, 0, bytes - take); /* silence */
  gst_buffer_unmap(out, &map);
  if (o->audio_primed && take < bytes && live)
    o->audio_primed = FALSE; /* underrun: hold back a little again */
  if (!live)
    gst_adapter_clear(o->audio);
  return out;
}

/* The first frame showing a new overlay state: the control loop stamps the
 * pins and highlights that state carries with this frame's stream_ms. */
static void post_overlay_shown(output_t *o, guint64 version, guint64 pts) {
  gint64 ms = o->prm.base_ms + (gint64)(pts / GST_MSECOND);
  GstStructure *st = gst_structure_new("tourcast-overlay", "version", G_TYPE_UINT64, version,
                                       "stream-ms", G_TYPE_INT64, ms, NULL);
  gst_element_post_message(o->el.pipe, gst_message_new_application(GST_OBJECT(o->el.pipe), st));
}

/* A pool buffer holding `src` (a live frame) or the slate, overlay blended,
 * for the frame at `pts`. */
static GstBuffer *compose_frame(output_t *o, GstSample *src, guint64 pts) {
  GstBuffer *out = NULL;
  if (gst_buffer_pool_acquire_buffer(o->pool, &out, NULL) != GST_FLOW_OK)
    return NULL;
  GstVideoInfo in_info;
  GstBuffer *in_buf = o->slate;
  const GstVideoInfo *in_vi = &o->slate_info;
  if (src != NULL && gst_video_info_from_caps(&in_info, gst_sample_get_caps(src)) &&
      GST_VIDEO_INFO_WIDTH(&in_info) == o->prm.width &&
      GST_VIDEO_INFO_HEIGHT(&in_info) == o->prm.height) {
    in_buf = gst_sample_get_buffer(src);
    in_vi = &in_info;
  }
  GstVideoFrame in_f, out_f;
  if (gst_video_frame_map(&in_f, (GstVideoInfo *)in_vi, in_buf, GST_MAP_READ)) {
    if (gst_video_frame_map(&out_f, &o->out_info, out, GST_MAP_WRITE)) {
      gst_video_frame_copy(&out_f, &in_f);
      guint64 version = blend_overlay(o->prm.overlay, &out_f);
      if (version != o->overlay_version) { /* pacer thread only */
        o->overlay_version = version;
        post_overlay_shown(o, version, pts);
      }
      gst_video_frame_unmap(&out_f);
    }
    gst_video_frame_unmap(&in_f);
  }
  return out;
}

static void post_feed_change(output_t *o, gboolean live, guint64 pts) {
  gint64 ms = o->prm.base_ms + (gint64)(pts / GST_MSECOND);
  GstStructure *st = gst_structure_new("tourcast-feed", "live", G_TYPE_BOOLEAN, live, "stream-ms",
                                       G_TYPE_INT64, ms, NULL);
  gst_element_post_message(o->el.pipe, gst_message_new_application(GST_OBJECT(o->el.pipe), st));
}

static void note_live_frame(output_t *o, guint64 pts, GstSample *src) {
  GstBuffer *b = gst_sample_get_buffer(src);
  if (b == NULL || !GST_BUFFER_PTS_IS_VALID(b))
    return;
  guint idx = (o->live_map_head + o->live_map_len) % LIVE_MAP_RING;
  o->live_map[idx] = (live_map_t){pts, (gint64)(GST_BUFFER_PTS(b) / GST_MSECOND)};
  if (o->live_map_len < LIVE_MAP_RING)
    o->live_map_len++;
  else
    o->live_map_head = (o->live_map_head + 1) % LIVE_MAP_RING;
}

/* Sends tick `n`: one frame and its share of audio. Lock held on entry and
 * exit, released while pushing (which may block on a busy encoder). */
static void send_tick(output_t *o, guint64 n, gboolean *was_live) {
  guint fps = (guint)o->prm.fps;
  guint64 pts = gst_util_uint64_scale(n, GST_SECOND, fps);
  guint64 next = gst_util_uint64_scale(n + 1, GST_SECOND, fps);
  guint64 a0 = gst_util_uint64_scale(n, OUTPUT_AUDIO_RATE, fps);
  guint64 a1 = gst_util_uint64_scale(n + 1, OUTPUT_AUDIO_RATE, fps);
  gboolean repeated = FALSE;
  GstSample *src = pick_frame(o, g_get_monotonic_time(), &repeated);
  gboolean live = src != NULL;
  GstBuffer *abuf = take_audio(o, (gsize)(a1 - a0) * AUDIO_FRAME_BYTES, live);
  if (live) {
    o->stats.frames_live++;
    o->stats.frames_repeated += repeated;
    if (!repeated)
      note_live_frame(o, pts, src);
  } else {
    o->stats.frames_slate++;
  }
  o->stats.live = live;
  g_mutex_unlock(&o->lock);

  if (live != *was_live) {
    post_feed_change(o, live, pts);
    *was_live = live;
  }
  GstBuffer *vbuf = compose_frame(o, src, pts);
  if (src)
    gst_sample_unref(src);
  if (vbuf != NULL) {
    GST_BUFFER_PTS(vbuf) = pts;
    GST_BUFFER_DTS(vbuf) = pts;
    GST_BUFFER_DURATION(vbuf) = next - pts;
    gst_app_src_push_buffer(GST_APP_SRC(o->el.vsrc), vbuf);
  }
  GST_BUFFER_PTS(abuf) = gst_util_uint64_scale(a0, GST_SECOND, OUTPUT_AUDIO_RATE);
  GST_BUFFER_DURATION(abuf) =
      gst_util_uint64_scale(a1, GST_SECOND, OUTPUT_AUDIO_RATE) - GST_BUFFER_PTS(abuf);
  gst_app_src_push_buffer(GST_APP_SRC(o->el.asrc), abuf);
  g_mutex_lock(&o->lock);
}

static gpointer pacer_main(gpointer data) {
  output_t *o = data;
  gint64 created = g_get_monotonic_time();
  gint64 start_us = -1;
  guint64 n = 0;
  /* The output starts in neither state, so the first frame posts a change. */
  gboolean was_live = 2;
  g_mutex_lock(&o->lock);
  while (!o->stopping) {
    gint64 now = g_get_monotonic_time();
    if (start_us < 0) {
      /* The show starts on the first live frame (a decoder may take a while
       * to warm up), or with the slate after START_WAIT_MS. */
      gint64 give_up = created + (o->prm.slate_at_once ? 0 : (gint64)START_WAIT_MS * 1000);
      if (g_queue_is_empty(&o->frames) && now < give_up) {
        g_cond_wait_until(&o->cond, &o->lock, MIN(give_up, now + 50 * 1000));
        continue;
      }
      start_us = now;
      /* stream_ms base_ms goes out now: the epoch (wall clock of stream_ms
       * 0) is known before the first frame is posted, so the control loop
       * reads it with the first feed change. The live playlist's
       * program date-times and every seen_ms derive from it. */
      atomic_store(o->prm.epoch_unix_ms, g_get_real_time() / 1000 - o->prm.base_ms);
    }
    gint64 due = start_us + (gint64)gst_util_uint64_scale(n, G_USEC_PER_SEC, (guint)o->prm.fps);
    if (now < due) {
      g_cond_wait_until(&o->cond, &o->lock, due);
      continue;
    }
    send_tick(o, n, &was_live);
    n++;
  }
  g_mutex_unlock(&o->lock);
  gst_app_src_end_of_stream(GST_APP_SRC(o->el.vsrc));
  gst_app_src_end_of_stream(GST_APP_SRC(o->el.asrc));
  return NULL;
}

/* ---- bus (control loop) ---- */

/* RTMP timestamps of the first and last live frame with out_pts in [start, end). */
static void live_span(output_t *o, guint64 start, guint64 end, gint64 *first, gint64 *last) {
  *first = *last = -1;
  g_mutex_lock(&o->lock);
  for (guint i = 0; i < o->live_map_len; i++) {
    const live_map_t *m = &o->live_map[(o->live_map_head + i) % LIVE_MAP_RING];
    if (m->out_pts < start || m->out_pts >= end)
      continue;
    if (*first < 0)
      *first = m->in_ts;
    *last = m->in_ts;
  }
  g_mutex_unlock(&o->lock);
}

/* multifilesink closed a file, at a cut we asked for (its running time is
 * that cut's) or at EOS (it ends one frame after the newest frame). */
static void on_file_closed(output_t *o, const GstStructure *st) {
  guint64 rt = 0;
  const char *filename = gst_structure_get_string(st, "filename");
  if (filename == NULL || !gst_structure_get_uint64(st, "running-time", &rt))
    return;
  g_mutex_lock(&o->cut_lock);
  gboolean at_cut = !g_queue_is_empty(&o->cut_times) &&
                    (guint64)GPOINTER_TO_SIZE(g_queue_peek_head(&o->cut_times)) == rt;
  if (at_cut)
    g_queue_pop_head(&o->cut_times);
  g_mutex_unlock(&o->cut_lock);
  gint64 last_rt = atomic_load(&o->last_rt);
  if (last_rt < 0)
    return;
  guint64 end_rt = at_cut ? rt : (guint64)last_rt + GST_SECOND / (guint64)o->prm.fps;
  guint64 start_rt = o->file_start_rt;
  o->file_start_rt = end_rt;
  o->fragments++;
  if (end_rt <= start_rt)
    return;
  gint64 first_in = -1, last_in = -1;
  live_span(o, start_rt, end_rt, &first_in, &last_in);
  char *name = g_path_get_basename(filename);
  if (o->cb.segment)
    o->cb.segment(o->cb.user, filename, name, o->prm.base_ms + (gint64)(start_rt / GST_MSECOND),
                  end_rt - start_rt, first_in, last_in);
  g_free(name);
}

static gboolean on_bus_message(GstBus *bus, GstMessage *msg, gpointer user) {
  output_t *o = user;
  switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_ELEMENT: {
      const GstStructure *st = gst_message_get_structure(msg);
      if (gst_structure_has_name(st, "GstMultiFileSink"))
        on_file_closed(o, st);
      break;
    }
    case GST_MESSAGE_APPLICATION: {
      const GstStructure *st = gst_message_get_structure(msg);
      gboolean live = FALSE;
      gint64 ms = 0;
      guint64 version = 0;
      if (gst_structure_has_name(st, "tourcast-overlay") &&
          gst_structure_get_uint64(st, "version", &version) &&
          gst_structure_get_int64(st, "stream-ms", &ms) && o->cb.overlay_shown)
        o->cb.overlay_shown(o->cb.user, version, ms);
      if (gst_structure_has_name(st, "tourcast-feed") &&
          gst_structure_get_boolean(st, "live", &live) &&
          gst_structure_get_int64(st, "stream-ms", &ms) && o->cb.feed_changed)
        o->cb.feed_changed(o->cb.user, live, ms);
      break;
    }
    case GST_MESSAGE_EOS:
      GST_INFO("output %u: end of stream after %u segments", o->prm.run_id, o->fragments);
      o->bus_watch = 0;
      o->cb.done(o->cb.user, o, FALSE);
      return G_SOURCE_REMOVE;
    case GST_MESSAGE_ERROR: {
      GError *err = NULL;
      char *dbg = NULL;
      gst_message_parse_error(msg, &err, &dbg);
      g_message("output %u failed in %s: %s (%s)", o->prm.run_id, GST_OBJECT_NAME(msg->src),
                err->message, dbg ? dbg : "");
      g_clear_error(&err);
      g_free(dbg);
      o->bus_watch = 0;
      o->cb.done(o->cb.user, o, TRUE);
      return G_SOURCE_REMOVE;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* ---- life ---- */

static GstBufferPool *make_pool(const GstVideoInfo *info) {
  GstBufferPool *pool = gst_video_buffer_pool_new();
  GstStructure *cfg = gst_buffer_pool_get_config(pool);
  GstCaps *caps = gst_video_info_to_caps(info);
  gst_buffer_pool_config_set_params(cfg, caps, (guint)GST_VIDEO_INFO_SIZE(info), 4, 0);
  gst_caps_unref(caps);
  if (!gst_buffer_pool_set_config(pool, cfg) || !gst_buffer_pool_set_active(pool, TRUE)) {
    gst_object_unref(pool);
    return NULL;
  }
  return pool;
}

output_t *output_new(const output_params_t *prm, const output_callbacks_t *cb, GError **err) {
  GST_DEBUG_CATEGORY_INIT(output_debug, "tourcast-output", 0, "tourcast output and slate");
  output_t *o = g_new0(output_t, 1);
  o->prm = *prm;
  o->prm.live_dir = g_strdup(prm->live_dir);
  o->prm.segment_name = g_strdup(prm->segment_name ? prm->segment_name : "0");
  o->cb = *cb;
  g_mutex_init(&o->lock);
  g_cond_init(&o->cond);
  g_mutex_init(&o->cut_lock);
  g_queue_init(&o->frames);
  g_queue_init(&o->cut_times);
  o->audio = gst_adapter_new();
  atomic_init(&o->last_rt, -1);
  gst_segment_init(&o->segment, GST_FORMAT_TIME);
  gst_video_info_set_format(&o->out_info, GST_VIDEO_FORMAT_I420, (guint)prm->width,
                            (guint)prm->height);
  o->slate = slate_render(prm->width, prm->height, &o->slate_info, err);
  o->pool = make_pool(&o->out_info);
  output_build_params_t bp = {prm->width,  prm->height,         prm->fps,       prm->bitrate_kbps,
                              prm->run_id, o->prm.segment_name, o->prm.live_dir};
  if (o->slate == NULL || o->pool == NULL || !output_build(&bp, &o->el, err)) {
    if (o->pool == NULL && err && *err == NULL)
      g_set_error(err, GST_CORE_ERROR, GST_CORE_ERROR_FAILED, "no buffer pool");
    output_free(o);
    return NULL;
  }
  GstPad *pad = gst_element_get_static_pad(o->el.vsrc, "src");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                    clock_probe, o, NULL);
  gst_object_unref(pad);
  for (int i = 0; i < 2 && prm->encoded != NULL; i++) {
    pad = gst_element_get_static_pad(i == 0 ? o->el.vout : o->el.aout, "src");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, encoded_probe, o, NULL);
    gst_object_unref(pad);
  }
  GstBus *bus = gst_element_get_bus(o->el.pipe);
  o->bus_watch = gst_bus_add_watch(bus, on_bus_message, o);
  gst_object_unref(bus);
  if (gst_element_set_state(o->el.pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_set_error(err, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE, "output will not play");
    output_free(o);
    return NULL;
  }
  o->pacer = g_thread_new("tc-pacer", pacer_main, o);
  GST_INFO("output %u started at stream_ms %" G_GINT64_FORMAT, prm->run_id, prm->base_ms);
  return o;
}

void output_finish(output_t *o) {
  g_mutex_lock(&o->lock);
  o->stopping = TRUE;
  o->feed_open = FALSE;
  g_cond_signal(&o->cond);
  g_mutex_unlock(&o->lock);
  o->finishing = TRUE;
}

void output_free(output_t *o) {
  if (o == NULL)
    return;
  g_mutex_lock(&o->lock);
  o->stopping = TRUE;
  g_cond_signal(&o->cond);
  g_mutex_unlock(&o->lock);
  if (o->bus_watch)
    g_source_remove(o->bus_watch);
  /* NULL first: a pacer blocked on a full appsrc is released by the flush. */
  if (o->el.pipe)
    gst_element_set_state(o->el.pipe, GST_STATE_NULL);
  if (o->pacer)
    g_thread_join(o->pacer);
  if (o->el.pipe)
    gst_object_unref(o->el.pipe);
  if (o->pool) {
    gst_buffer_pool_set_active(o->pool, FALSE);
    gst_object_unref(o->pool);
  }
  if (o->slate)
    gst_buffer_unref(o->slate);
  g_queue_clear_full(&o->frames, (GDestroyNotify)gst_sample_unref);
  if (o->last)
    gst_sample_unref(o->last);
  g_object_unref(o->audio);
  g_queue_clear(&o->cut_times);
  g_mutex_clear(&o->cut_lock);
  g_mutex_clear(&o->lock);
  g_cond_clear(&o->cond);
  g_free((char *)o->prm.live_dir);
  g_free((char *)o->prm.segment_name);
  g_free(o);
}

void output_get_stats(output_t *o, output_stats_t *out) {
  g_mutex_lock(&o->lock);
  *out = o->stats;
  g_mutex_unlock(&o->lock);
}
