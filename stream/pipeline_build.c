/* pipeline_build.c — the element graph of one publish session.
 *
 * Video is decoded, letterboxed to the output size (videoscale keeps the
 * aspect ratio and adds borders), made constant-rate, overlaid and encoded
 * in I420 throughout; keyframes come from our encoder at every segment
 * boundary, never from the publisher's GOP. AAC passes through untouched.
 */
#include "stream/pipeline_build.h"

#include <gst/app/gstappsrc.h>

static const char *const needed_factories[] = {
    "appsrc",     "flvdemux", "queue",    "h264parse", "videoconvert",  "videoscale", "videorate",
    "capsfilter", "x264enc",  "aacparse", "mpegtsmux", "multifilesink", "fakesink",
};

static gboolean have_factory(const char *name, GError **err) {
  GstElementFactory *f = gst_element_factory_find(name);
  if (f == NULL) {
    g_set_error(err, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
                "GStreamer element '%s' is missing (run scripts/setup.sh)", name);
    return FALSE;
  }
  gst_object_unref(f);
  return TRUE;
}

gboolean pipeline_build_check_elements(const char *h264_decoder, GError **err) {
  for (gsize i = 0; i < G_N_ELEMENTS(needed_factories); i++)
    if (!have_factory(needed_factories[i], err))
      return FALSE;
  return have_factory(h264_decoder, err);
}

/* A bounded queue: enough to ride out encoder latency, small enough that a
 * stalled branch pushes back to appsrc and from there to the phone's TCP. */
static GstElement *make_queue(const char *name) {
  GstElement *q = gst_element_factory_make("queue", name);
  g_object_set(q, "max-size-buffers", 0u, "max-size-bytes", 0u, "max-size-time",
               (guint64)3 * GST_SECOND, NULL);
  return q;
}

/* Releases the elements of `chain` that no bin took (on failure paths). */
static void drop_orphans(GstElement **chain, gsize n) {
  for (gsize i = 0; i < n; i++)
    if (chain[i] != NULL && GST_OBJECT_PARENT(chain[i]) == NULL)
      gst_object_unref(gst_object_ref_sink(chain[i]));
}

static gboolean add_chain(GstBin *bin, GstElement **chain, gsize n, GError **err) {
  for (gsize i = 0; i < n; i++) {
    if (chain[i] == NULL) {
      g_set_error(err, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN, "cannot create element %zu",
                  i);
      return FALSE;
    }
  }
  for (gsize i = 0; i < n; i++)
    gst_bin_add(bin, chain[i]);
  for (gsize i = 0; i + 1 < n; i++) {
    if (!gst_element_link(chain[i], chain[i + 1])) {
      g_set_error(err, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION, "cannot link %s to %s",
                  GST_OBJECT_NAME(chain[i]), GST_OBJECT_NAME(chain[i + 1]));
      return FALSE;
    }
  }
  return TRUE;
}

/* Audio arrives when the demuxer sees the first audio tag: the branch is
 * built then, and joins the muxer as a new pad. */
static void link_audio(GstElement *pipe, GstPad *pad) {
  GstCaps *caps = gst_pad_get_current_caps(pad);
  const GstStructure *st = caps ? gst_caps_get_structure(caps, 0) : NULL;
  int mpegversion = 0;
  gboolean aac = st != NULL && gst_structure_has_name(st, "audio/mpeg") &&
                 gst_structure_get_int(st, "mpegversion", &mpegversion) && mpegversion == 4;
  if (caps)
    gst_caps_unref(caps);

  GstElement *q = make_queue(NULL);
  GstElement *tail =
      aac ? gst_element_factory_make("aacparse", NULL) : gst_element_factory_make("fakesink", NULL);
  if (!aac)
    g_message("publisher sends audio that is not AAC: dropping the audio");
  GstElement *chain[] = {q, tail};
  GError *err = NULL;
  if (!add_chain(GST_BIN(pipe), chain, G_N_ELEMENTS(chain), &err)) {
    g_warning("audio branch: %s", err->message);
    g_clear_error(&err);
    return;
  }
  if (aac) {
    GstElement *mux = gst_bin_get_by_name(GST_BIN(pipe), "mux");
    GstPad *muxpad = gst_element_request_pad_simple(mux, "sink_%d");
    GstPad *src = gst_element_get_static_pad(tail, "src");
    if (muxpad == NULL || gst_pad_link(src, muxpad) != GST_PAD_LINK_OK)
      g_warning("cannot link audio into the muxer");
    gst_object_unref(src);
    if (muxpad)
      gst_object_unref(muxpad);
    gst_object_unref(mux);
  }
  GstPad *sink = gst_element_get_static_pad(q, "sink");
  if (gst_pad_link(pad, sink) != GST_PAD_LINK_OK)
    g_warning("cannot link demuxer audio");
  gst_object_unref(sink);
  gst_element_sync_state_with_parent(tail);
  gst_element_sync_state_with_parent(q);
}

static void on_pad_added(GstElement *demux, GstPad *pad, gpointer user) {
  GstElement *pipe = user;
  const char *name = GST_PAD_NAME(pad);
  if (g_str_equal(name, "video")) {
    GstElement *vq = gst_bin_get_by_name(GST_BIN(pipe), "vq");
    GstPad *sink = gst_element_get_static_pad(vq, "sink");
    if (!gst_pad_is_linked(sink) && gst_pad_link(pad, sink) != GST_PAD_LINK_OK)
      g_warning("cannot link demuxer video");
    gst_object_unref(sink);
    gst_object_unref(vq);
  } else if (g_str_equal(name, "audio")) {
    link_audio(pipe, pad);
  }
}

/* A capsfilter holding `caps` (taken). */
static GstElement *make_capsfilter(GstCaps *caps) {
  GstElement *f = gst_element_factory_make("capsfilter", NULL);
  if (f)
    g_object_set(f, "caps", caps, NULL);
  gst_caps_unref(caps);
  return f;
}

static GstElement *make_encoder(const session_build_params_t *bp) {
  GstElement *enc = gst_element_factory_make("x264enc", NULL);
  if (enc == NULL)
    return NULL;
  guint gop = (guint)MAX(1, bp->fps * bp->segment_ms / 1000);
  /* zerolatency: no lookahead, no B-frames. Segment boundaries are forced
   * keyframes (pipeline.c asks for one at each); key-int-max is only a
   * backstop in case a request is ever missed. */
  gst_util_set_object_arg(G_OBJECT(enc), "tune", "zerolatency");
  gst_util_set_object_arg(G_OBJECT(enc), "speed-preset", "veryfast");
  g_object_set(enc, "bitrate", (guint)bp->bitrate_kbps, "key-int-max", 2 * gop, NULL);
  return enc;
}

gboolean pipeline_build_session(const session_build_params_t *bp, session_elements_t *out,
                                GError **err) {
  char *pname = g_strdup_printf("session%u", bp->session_id);
  GstElement *pipe = gst_pipeline_new(pname);
  g_free(pname);

  GstElement *src = gst_element_factory_make("appsrc", "src");
  GstCaps *flv = gst_caps_new_empty_simple("video/x-flv");
  g_object_set(src, "caps", flv, "is-live", TRUE, "format", GST_FORMAT_BYTES, "max-bytes",
               (guint64)bp->appsrc_max_bytes, "block", FALSE, NULL);
  gst_caps_unref(flv);
  GstElement *demux = gst_element_factory_make("flvdemux", "demux");
  GstElement *head[] = {src, demux};

  GstCaps *size = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", "width",
                                      G_TYPE_INT, bp->width, "height", G_TYPE_INT, bp->height,
                                      "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
  GstCaps *rate =
      gst_caps_new_simple("video/x-raw", "framerate", GST_TYPE_FRACTION, bp->fps, 1, NULL);
  GstElement *size_caps = make_capsfilter(size);
  GstElement *rate_caps = make_capsfilter(rate);
  GstElement *outparse = gst_element_factory_make("h264parse", NULL);
  if (outparse)
    g_object_set(outparse, "config-interval", -1, NULL); /* SPS/PPS in every segment */
  /* The decoder copies each frame out of libav into a buffer of its own
   * pool, so the overlay can blend in place: with direct rendering, libav
   * keeps its reference frames and every blend would copy the whole frame
   * into freshly allocated memory first. One thread: a phone's 720p-1080p
   * stream decodes on one core with room to spare, and frame threads add a
   * frame of latency each. */
  GstElement *dec = gst_element_factory_make(bp->h264_decoder, NULL);
  if (dec && g_object_class_find_property(G_OBJECT_GET_CLASS(dec), "direct-rendering"))
    g_object_set(dec, "direct-rendering", FALSE, "max-threads", 1, NULL);
  /* The overlay is blended in place by a probe on size_caps' src pad (see
   * pipeline.c); videorate comes after it because it keeps a reference to
   * the last frame, which would make every frame it passes on read-only. */
  GstElement *video[] = {
      make_queue("vq"),
      gst_element_factory_make("h264parse", NULL),
      dec,
      gst_element_factory_make("videoconvert", NULL),
      gst_element_factory_make("videoscale", NULL),
      size_caps,
      gst_element_factory_make("videorate", NULL),
      rate_caps,
      make_encoder(bp),
      outparse,
  };

  /* The muxer's output is cut into files by multifilesink at each forced
   * key unit: the cut happens as the first keyframe of the next segment
   * leaves the muxer, so a segment is listed one frame after it ends
   * (splitmuxsink would hold a whole extra GOP to decide where to cut). */
  GstElement *mux = gst_element_factory_make("mpegtsmux", "mux");
  GstElement *sink = gst_element_factory_make("multifilesink", "sink");
  GstElement *tail[] = {mux, sink};
  if (mux == NULL || sink == NULL) {
    g_set_error(err, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN, "no mpegtsmux/multifilesink");
    goto fail;
  }
  char *location = g_strdup_printf("%s/s%u-%%05d.ts", bp->live_dir, bp->session_id);
  gst_util_set_object_arg(G_OBJECT(sink), "next-file", "key-unit-event");
  g_object_set(sink, "location", location, "post-messages", TRUE, "async", FALSE, NULL);
  g_free(location);

  if (!add_chain(GST_BIN(pipe), head, G_N_ELEMENTS(head), err) ||
      !add_chain(GST_BIN(pipe), video, G_N_ELEMENTS(video), err) ||
      !add_chain(GST_BIN(pipe), tail, G_N_ELEMENTS(tail), err))
    goto fail;
  if (!gst_element_link(outparse, mux)) {
    g_set_error(err, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION, "cannot link encoder to muxer");
    goto fail;
  }
  g_signal_connect(demux, "pad-added", G_CALLBACK(on_pad_added), pipe);

  out->pipe = pipe;
  out->appsrc = src;
  out->blend_point = size_caps;
  out->encoder_feed = rate_caps;
  return TRUE;

fail:
  drop_orphans(head, G_N_ELEMENTS(head));
  drop_orphans(video, G_N_ELEMENTS(video));
  drop_orphans(tail, G_N_ELEMENTS(tail));
  gst_object_unref(pipe);
  return FALSE;
}
