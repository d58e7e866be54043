/* pipeline.c — sessions of the media pipeline and the stream clock.
 *
 * A session is one GstPipeline for one publish. This file owns its life on
 * the control loop (build, push, EOS, bus messages, playlist) and the three
 * meeting points with streaming threads: appsrc (bounded), the overlay draw
 * callback (takes a ref, never renders) and the stream clock (one atomic).
 * Teardown (set_state NULL, which waits for streaming threads) runs in a
 * worker thread so the loop never waits on media.
 */
#include "stream/pipeline.h"

#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <stdatomic.h>

#include "stream/hls.h"
#include "stream/pipeline_build.h"

GST_DEBUG_CATEGORY_STATIC(pipeline_debug);
#define GST_CAT_DEFAULT pipeline_debug

#define APPSRC_MAX_BYTES (4u * 1024 * 1024)
#define PLAYLIST_WINDOW 6
#define ARRIVAL_RING 2048 /* RTMP video frame arrivals kept for latency figures */

typedef struct {
  guint32 ts_ms;
  gint64 mono_us;
} arrival_t;

struct session {
  pipeline_t *owner;
  guint id;
  session_elements_t el;
  guint bus_watch;
  gint64 base_ms;              /* stream_ms of this session's first frame */
  _Atomic gint64 origin_rt;    /* running time of the first frame, -1 until seen */
  _Atomic gboolean superseded; /* a newer session owns the stream clock */
  GstSegment segment;          /* streaming thread only (clock probe) */
  GstVideoInfo vinfo;          /* streaming thread only (blend probe) */
  gboolean vinfo_ok;
  guint64 next_cut_rt;    /* streaming thread only: next segment boundary */
  guint cuts;             /* streaming thread only: boundaries asked for */
  _Atomic gint64 last_rt; /* running time of the newest frame, -1 before */
  GMutex cut_lock;        /* guards cut_times */
  GQueue cut_times;       /* running times of requested cuts not yet seen closed */
  gboolean eos_sent;
  gint64 first_video_ts; /* first coded frame's RTMP timestamp, -1 until seen */
  guint64 file_start_rt; /* running time where the segment being written began */
  guint fragments;
};

struct pipeline {
  pipeline_config_t cfg;
  hls_playlist_t *playlist;
  session_t *current;       /* receives pushes; NULL between publishes */
  GList *draining;          /* sessions after EOS, waiting for it on the bus */
  GThreadPool *teardown;    /* set_state(NULL) off the loop */
  _Atomic gint64 stream_ms; /* the stream clock */
  _Atomic gint64 epoch_unix_ms;
  _Atomic guint64 frames_out;
  gint64 next_base_ms;
  pipeline_stats_t stats; /* control-loop fields only */
  arrival_t arrivals[ARRIVAL_RING];
  guint arrival_head, arrival_len;
};

static void session_teardown_worker(gpointer data, gpointer user);

pipeline_t *pipeline_new(const pipeline_config_t *cfg, GError **err) {
  GST_DEBUG_CATEGORY_INIT(pipeline_debug, "tourcast-pipeline", 0, "tourcast media pipeline");
  const char *decoder = cfg->h264_decoder ? cfg->h264_decoder : "avdec_h264";
  if (!pipeline_build_check_elements(decoder, err))
    return NULL;
  pipeline_t *p = g_new0(pipeline_t, 1);
  p->cfg = *cfg;
  p->cfg.live_dir = g_strdup(cfg->live_dir);
  p->cfg.h264_decoder = g_strdup(decoder);
  p->playlist = hls_playlist_new(cfg->live_dir, PLAYLIST_WINDOW, (guint)cfg->segment_ms);
  p->teardown = g_thread_pool_new(session_teardown_worker, NULL, 1, FALSE, NULL);
  atomic_init(&p->stream_ms, -1);
  atomic_init(&p->epoch_unix_ms, -1);
  atomic_init(&p->frames_out, 0);
  return p;
}

/* ---- the stream clock (streaming thread) ---- */

/* Asks the encoder for a keyframe at this frame and tells everything
 * downstream (muxer, then multifilesink, which starts a new file) that a new
 * segment begins there. Streaming thread. */
static void request_cut(session_t *s, GstPad *pad, GstBuffer *buf, guint64 rt) {
  g_mutex_lock(&s->cut_lock);
  g_queue_push_tail(&s->cut_times, GSIZE_TO_POINTER((gsize)rt));
  g_mutex_unlock(&s->cut_lock);
  guint64 stream_time =
      gst_segment_to_stream_time(&s->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
  gst_pad_push_event(pad, gst_video_event_new_downstream_force_key_unit(
                              GST_BUFFER_PTS(buf), stream_time, rt, TRUE, ++s->cuts));
}

/* Runs on the streaming thread for every frame going into the encoder: turns its running time into
 * stream_ms and publishes it, and cuts a segment when the frame crosses the next boundary. */
static GstPadProbeReturn clock_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user) {
  session_t *s = user;
  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(ev) == GST_EVENT_SEGMENT)
      gst_event_copy_segment(ev, &s->segment);
    return GST_PAD_PROBE_OK;
  }
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
  if (!GST_BUFFER_PTS_IS_VALID(buf) || s->segment.format != GST_FORMAT_TIME)
    return GST_PAD_PROBE_OK;
  guint64 rt = gst_segment_to_running_time(&s->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
  if (rt == GST_CLOCK_TIME_NONE)
    return GST_PAD_PROBE_OK;
  pipeline_t *p = s->owner;
  gint64 origin = atomic_load(&s->origin_rt);
  if (origin < 0) {
    origin = (gint64)rt;
    atomic_store(&s->origin_rt, origin);
    s->next_cut_rt = rt + (guint64)p->cfg.segment_ms * GST_MSECOND;
  }
  atomic_store(&s->last_rt, (gint64)rt);
  if (rt > (guint64)origin && rt + GST_MSECOND >= s->next_cut_rt) {
    /* A millisecond of slack: 30 fps frames land on 33.33 ms steps. */
    request_cut(s, pad, buf, rt);
    while (s->next_cut_rt <= rt + GST_MSECOND)
      s->next_cut_rt += (guint64)p->cfg.segment_ms * GST_MSECOND;
  }
  if (atomic_load(&s->superseded))
    return GST_PAD_PROBE_OK;
  gint64 ms = s->base_ms + ((gint64)rt - origin) / GST_MSECOND;
  atomic_store(&p->stream_ms, ms);
  gint64 none = -1;
  atomic_compare_exchange_strong(&p->epoch_unix_ms, &none, g_get_real_time() / 1000 - ms);
  atomic_fetch_add(&p->frames_out, 1);
  return GST_PAD_PROBE_OK;
}

/* On the streaming thread, for every decoded frame at the output size:
 * blends whatever overlay is current into it, in place. The frame comes from
 * the decoder's pool and nobody else holds it, so making it writable costs
 * nothing; the overlay was converted for I420 when it was rendered. */
static GstPadProbeReturn blend_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user) {
  session_t *s = user;
  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(ev) == GST_EVENT_CAPS) {
      GstCaps *caps = NULL;
      gst_event_parse_caps(ev, &caps);
      s->vinfo_ok = gst_video_info_from_caps(&s->vinfo, caps);
    }
    return GST_PAD_PROBE_OK;
  }
  GstVideoOverlayComposition *comp = overlay_ref_current(s->owner->cfg.overlay);
  if (comp == NULL || !s->vinfo_ok)
    goto out;
  GstBuffer *buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
  GST_PAD_PROBE_INFO_DATA(info) = buf;
  GstVideoFrame frame;
  if (gst_video_frame_map(&frame, &s->vinfo, buf, GST_MAP_READWRITE)) {
    overlay_blend(comp, &frame);
    gst_video_frame_unmap(&frame);
  }
out:
  if (comp != NULL)
    gst_video_overlay_composition_unref(comp);
  return GST_PAD_PROBE_OK;
}

/* ---- latency bookkeeping (control loop) ---- */

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

/* A segment covering [start_rt, end_rt) just appeared in the playlist: how
 * long ago did its first and its last frame arrive over RTMP? */
static void note_latency(pipeline_t *p, session_t *s, guint64 start_rt, guint64 end_rt) {
  gint64 origin = atomic_load(&s->origin_rt);
  if (origin < 0 || s->first_video_ts < 0)
    return;
  gint64 frame_ms = 1000 / p->cfg.fps;
  gint64 first_ts = s->first_video_ts + ((gint64)start_rt - origin) / GST_MSECOND;
  gint64 last_ts = s->first_video_ts + ((gint64)end_rt - origin) / GST_MSECOND - frame_ms;
  gint64 first_at = arrival_lookup(p, first_ts);
  gint64 last_at = arrival_lookup(p, last_ts);
  if (first_at < 0 || last_at < 0)
    return;
  gint64 now = g_get_monotonic_time();
  const arrival_t *newest = &p->arrivals[(p->arrival_head + p->arrival_len - 1) % ARRIVAL_RING];
  GST_INFO("segment [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
           "] ms of input; newest input frame %u "
           "arrived %" G_GINT64_FORMAT " ms ago",
           first_ts, last_ts, newest->ts_ms, (now - newest->mono_us) / 1000);
  pipeline_stats_t *st = &p->stats;
  st->latency_first_ms = (now - first_at) / 1000;
  st->latency_last_ms = (now - last_at) / 1000;
  st->latency_first_max_ms = MAX(st->latency_first_max_ms, st->latency_first_ms);
  st->latency_last_max_ms = MAX(st->latency_last_max_ms, st->latency_last_ms);
  st->latency_first_sum_ms += st->latency_first_ms;
  st->latency_last_sum_ms += st->latency_last_ms;
  st->latency_count++;
}

/* ---- bus messages (control loop) ---- */

/* multifilesink closed a segment file: either at a cut we asked for (its
 * running time is that cut's) or at EOS (then the segment ends one frame
 * after the newest frame). Lists it in the playlist. */
static void on_file_closed(pipeline_t *p, session_t *s, const GstStructure *st) {
  guint64 rt = 0;
  const char *filename = gst_structure_get_string(st, "filename");
  if (filename == NULL || !gst_structure_get_uint64(st, "running-time", &rt))
    return;
  gint64 origin = atomic_load(&s->origin_rt);
  if (origin < 0)
    return;
  if (s->fragments == 0)
    s->file_start_rt = (guint64)origin;
  g_mutex_lock(&s->cut_lock);
  gboolean at_cut = !g_queue_is_empty(&s->cut_times) &&
                    (guint64)GPOINTER_TO_SIZE(g_queue_peek_head(&s->cut_times)) == rt;
  if (at_cut)
    g_queue_pop_head(&s->cut_times);
  g_mutex_unlock(&s->cut_lock);
  guint64 end_rt =
      at_cut ? rt : (guint64)atomic_load(&s->last_rt) + GST_SECOND / (guint64)p->cfg.fps;
  guint64 start_rt = s->file_start_rt;
  s->file_start_rt = end_rt;
  if (end_rt <= start_rt)
    return;

  gint64 start_ms = s->base_ms + ((gint64)start_rt - origin) / GST_MSECOND;
  gint64 epoch = atomic_load(&p->epoch_unix_ms);
  char *name = g_path_get_basename(filename);
  GError *err = NULL;
  gboolean discont = s->fragments == 0 && s->id > 1;
  if (!hls_playlist_append(p->playlist, name, start_ms, end_rt - start_rt,
                           (epoch < 0 ? g_get_real_time() / 1000 : epoch) + start_ms, discont,
                           &err)) {
    GST_WARNING("playlist: %s", err->message);
    g_clear_error(&err);
  }
  s->fragments++;
  p->stats.segments++;
  note_latency(p, s, start_rt, end_rt);
  GST_DEBUG("segment %s at %" G_GINT64_FORMAT " ms", name, start_ms);
  g_free(name);
}

static void session_finish(pipeline_t *p, session_t *s);

static gboolean on_bus_message(GstBus *bus, GstMessage *msg, gpointer user) {
  session_t *s = user;
  pipeline_t *p = s->owner;
  switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_ELEMENT: {
      const GstStructure *st = gst_message_get_structure(msg);
      if (gst_structure_has_name(st, "GstMultiFileSink"))
        on_file_closed(p, s, st);
      break;
    }
    case GST_MESSAGE_EOS:
      GST_INFO("session %u: end of stream after %u segments", s->id, s->fragments);
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
    case GST_MESSAGE_WARNING: {
      GError *err = NULL;
      gst_message_parse_warning(msg, &err, NULL);
      GST_WARNING("session %u: %s", s->id, err->message);
      g_clear_error(&err);
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* ---- session life ---- */

static void session_teardown_worker(gpointer data, gpointer user) {
  session_t *s = data;
  gst_element_set_state(s->el.pipe, GST_STATE_NULL);
  gst_object_unref(s->el.pipe);
  g_queue_clear(&s->cut_times);
  g_mutex_clear(&s->cut_lock);
  g_free(s);
}

/* Where the next session's first frame goes on the timeline: one frame
 * after the newest frame sent out (0 before any), never before a boundary
 * already handed out. */
static gint64 after_last_frame_ms(pipeline_t *p) {
  gint64 now_ms = atomic_load(&p->stream_ms);
  return MAX(p->next_base_ms, now_ms < 0 ? 0 : now_ms + 1000 / p->cfg.fps);
}

/* Detaches the session from the loop and hands it to the teardown worker. */
static void session_finish(pipeline_t *p, session_t *s) {
  if (p->current == s) {
    p->current = NULL;
    p->next_base_ms = after_last_frame_ms(p);
  }
  p->draining = g_list_remove(p->draining, s);
  atomic_store(&s->superseded, TRUE);
  s->bus_watch = 0; /* the watch removes itself by returning G_SOURCE_REMOVE */
  g_thread_pool_push(p->teardown, s, NULL);
}

gboolean pipeline_begin(pipeline_t *p, GError **err) {
  if (p->current != NULL) {
    /* A publish without a stop in between: finish the old one first. */
    pipeline_end(p);
  }
  session_t *s = g_new0(session_t, 1);
  s->owner = p;
  s->id = (guint)++p->stats.sessions;
  s->first_video_ts = -1;
  atomic_init(&s->origin_rt, -1);
  atomic_init(&s->superseded, FALSE);
  atomic_init(&s->last_rt, -1);
  g_mutex_init(&s->cut_lock);
  g_queue_init(&s->cut_times);
  gst_segment_init(&s->segment, GST_FORMAT_UNDEFINED);
  s->base_ms = after_last_frame_ms(p);

  session_build_params_t bp = {
      .width = p->cfg.width,
      .height = p->cfg.height,
      .fps = p->cfg.fps,
      .bitrate_kbps = p->cfg.bitrate_kbps,
      .segment_ms = p->cfg.segment_ms,
      .live_dir = p->cfg.live_dir,
      .session_id = s->id,
      .appsrc_max_bytes = APPSRC_MAX_BYTES,
      .h264_decoder = p->cfg.h264_decoder,
  };
  if (!pipeline_build_session(&bp, &s->el, err)) {
    g_mutex_clear(&s->cut_lock);
    g_free(s);
    return FALSE;
  }
  GstPad *frames = gst_element_get_static_pad(s->el.blend_point, "src");
  gst_pad_add_probe(frames, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                    blend_probe, s, NULL);
  gst_object_unref(frames);
  GstPad *src = gst_element_get_static_pad(s->el.encoder_feed, "src");
  gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                    clock_probe, s, NULL);
  gst_object_unref(src);

  GstBus *bus = gst_element_get_bus(s->el.pipe);
  s->bus_watch = gst_bus_add_watch(bus, on_bus_message, s);
  gst_object_unref(bus);

  if (gst_element_set_state(s->el.pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_set_error(err, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE, "session %u will not play",
                s->id);
    g_source_remove(s->bus_watch);
    session_teardown_worker(s, NULL);
    return FALSE;
  }
  p->current = s;
  GST_INFO("session %u started at stream_ms %" G_GINT64_FORMAT, s->id, s->base_ms);
  return TRUE;
}

void pipeline_push_flv(pipeline_t *p, guint8 tag_type, guint32 timestamp_ms, const guint8 *data,
                       gsize len) {
  session_t *s = p->current;
  if (s == NULL || s->eos_sent || len == 0)
    return;
  /* FLV video tag body starts 11 bytes in: frame type/codec, then the AVC
   * packet type, where 1 is coded frames (0 is the sequence header). */
  if (tag_type == 9 && len > 12 && data[12] == 1) {
    if (s->first_video_ts < 0)
      s->first_video_ts = timestamp_ms;
    arrival_record(p, timestamp_ms);
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

void pipeline_end(pipeline_t *p) {
  session_t *s = p->current;
  if (s == NULL)
    return;
  s->eos_sent = TRUE;
  gst_app_src_end_of_stream(GST_APP_SRC(s->el.appsrc));
  /* The session drains on its own and is finished by its EOS message; from
   * now on the next publisher's session owns the clock. */
  p->current = NULL;
  p->draining = g_list_prepend(p->draining, s);
  p->next_base_ms = after_last_frame_ms(p);
}

void pipeline_free(pipeline_t *p) {
  if (p == NULL)
    return;
  if (p->current != NULL)
    p->draining = g_list_prepend(p->draining, p->current);
  while (p->draining != NULL) {
    session_t *s = p->draining->data;
    g_source_remove(s->bus_watch);
    session_finish(p, s);
  }
  /* Waits for every teardown, so no streaming thread outlives `p`. */
  g_thread_pool_free(p->teardown, FALSE, TRUE);
  hls_playlist_free(p->playlist);
  g_free((char *)p->cfg.live_dir);
  g_free((char *)p->cfg.h264_decoder);
  g_free(p);
}

gboolean pipeline_busy(pipeline_t *p) {
  return p->current != NULL || p->draining != NULL;
}

gint64 pipeline_stream_ms(pipeline_t *p) {
  return atomic_load(&p->stream_ms);
}

gint64 pipeline_epoch_unix_ms(pipeline_t *p) {
  return atomic_load(&p->epoch_unix_ms);
}

void pipeline_get_stats(pipeline_t *p, pipeline_stats_t *out) {
  *out = p->stats;
  out->live = p->current != NULL;
  out->stream_ms = atomic_load(&p->stream_ms);
  out->frames_out = atomic_load(&p->frames_out);
}
