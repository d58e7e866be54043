/* pipeline_build.c — the element graph of one publish session (an input).
 *
 * Video is decoded, letterboxed to the output size (videoscale keeps the
 * aspect ratio and adds borders) and made constant-rate in I420; AAC audio
 * is decoded and resampled to the output's one format. Both end in appsinks
 * whose samples go to the long-lived output (output.c), which encodes.
 */
#include "stream/pipeline_build.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

static const char *const needed_factories[] = {
    "appsrc",       "flvdemux",      "queue",      "h264parse", "videoconvert",
    "videoscale",   "videorate",     "capsfilter", "appsink",   "aacparse",
    "audioconvert", "audioresample", "fakesink",
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

gboolean pipeline_build_check_elements(const char *h264_decoder, const char *aac_decoder,
                                       GError **err) {
  for (gsize i = 0; i < G_N_ELEMENTS(needed_factories); i++)
    if (!have_factory(needed_factories[i], err))
      return FALSE;
  return have_factory(h264_decoder, err) && have_factory(aac_decoder, err);
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

/* A capsfilter holding `caps` (taken). */
static GstElement *make_capsfilter(GstCaps *caps) {
  GstElement *f = gst_element_factory_make("capsfilter", NULL);
  if (f)
    g_object_set(f, "caps", caps, NULL);
  gst_caps_unref(caps);
  return f;
}

static GstElement *make_appsink(const session_build_params_t *bp, GstAppSinkCallbacks *cb) {
  GstElement *sink = gst_element_factory_make("appsink", NULL);
  if (sink == NULL)
    return NULL;
  /* No clock: the output's pacer does the timing. */
  g_object_set(sink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, NULL);
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), cb, bp->cb_user, NULL);
  return sink;
}

/* Audio arrives when the demuxer sees the first audio tag: the branch is
 * built then. AAC is decoded and resampled to the output's one format;
 * anything else is dropped. */
static void link_audio(GstElement *pipe, GstPad *pad, const session_build_params_t *bp) {
  GstCaps *caps = gst_pad_get_current_caps(pad);
  const GstStructure *st = caps ? gst_caps_get_structure(caps, 0) : NULL;
  int mpegversion = 0;
  gboolean aac = st != NULL && gst_structure_has_name(st, "audio/mpeg") &&
                 gst_structure_get_int(st, "mpegversion", &mpegversion) && mpegversion == 4;
  if (caps)
    gst_caps_unref(caps);
  if (!aac)
    g_message("publisher sends audio that is not AAC: dropping the audio");

  GstCaps *out = gst_caps_new_simple(
      "audio/x-raw", "format", G_TYPE_STRING, "S16LE", "layout", G_TYPE_STRING, "interleaved",
      "rate", G_TYPE_INT, bp->audio_rate, "channels", G_TYPE_INT, bp->audio_channels, NULL);
  GstElement *aac_chain[] = {
      make_queue(NULL),
      gst_element_factory_make("aacparse", NULL),
      gst_element_factory_make(bp->aac_decoder, NULL),
      gst_element_factory_make("audioconvert", NULL),
      gst_element_factory_make("audioresample", NULL),
      make_capsfilter(out),
      make_appsink(bp, bp->audio_cb),
  };
  GstElement *drop_chain[] = {make_queue(NULL), gst_element_factory_make("fakesink", NULL)};
  GstElement **chain = aac ? aac_chain : drop_chain;
  gsize n = aac ? G_N_ELEMENTS(aac_chain) : G_N_ELEMENTS(drop_chain);
  drop_orphans(aac ? drop_chain : aac_chain,
               aac ? G_N_ELEMENTS(drop_chain) : G_N_ELEMENTS(aac_chain));
  GError *err = NULL;
  if (!add_chain(GST_BIN(pipe), chain, n, &err)) {
    g_warning("audio branch: %s", err->message);
    g_clear_error(&err);
    drop_orphans(chain, n);
    return;
  }
  GstPad *sink = gst_element_get_static_pad(chain[0], "sink");
  if (gst_pad_link(pad, sink) != GST_PAD_LINK_OK)
    g_warning("cannot link demuxer audio");
  gst_object_unref(sink);
  for (gsize i = n; i-- > 0;)
    gst_element_sync_state_with_parent(chain[i]);
}

static void on_pad_added(GstElement *demux, GstPad *pad, gpointer user) {
  const session_build_params_t *bp = user;
  GstElement *pipe = GST_ELEMENT(gst_element_get_parent(demux));
  const char *name = GST_PAD_NAME(pad);
  if (g_str_equal(name, "video")) {
    GstElement *vq = gst_bin_get_by_name(GST_BIN(pipe), "vq");
    GstPad *sink = gst_element_get_static_pad(vq, "sink");
    if (!gst_pad_is_linked(sink) && gst_pad_link(pad, sink) != GST_PAD_LINK_OK)
      g_warning("cannot link demuxer video");
    gst_object_unref(sink);
    gst_object_unref(vq);
  } else if (g_str_equal(name, "audio")) {
    link_audio(pipe, pad, bp);
  }
  gst_object_unref(pipe);
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
  /* One thread: a phone's 720p-1080p stream decodes on one core with room
   * to spare, and frame threads add a frame of latency each. The output
   * copies every frame into its own pool, so direct rendering is fine. */
  GstElement *dec = gst_element_factory_make(bp->h264_decoder, NULL);
  if (dec && g_object_class_find_property(G_OBJECT_GET_CLASS(dec), "direct-rendering"))
    g_object_set(dec, "direct-rendering", FALSE, "max-threads", 1, NULL);
  /* videorate turns the phone's rate (25, 30, 60, variable) into ours by
   * its timestamps; the output pacer then only rides out network jitter. */
  GstElement *video[] = {
      make_queue("vq"),
      gst_element_factory_make("h264parse", NULL),
      dec,
      gst_element_factory_make("videoconvert", NULL),
      gst_element_factory_make("videoscale", NULL),
      make_capsfilter(size),
      gst_element_factory_make("videorate", NULL),
      make_capsfilter(rate),
      make_appsink(bp, bp->video_cb),
  };

  if (!add_chain(GST_BIN(pipe), head, G_N_ELEMENTS(head), err) ||
      !add_chain(GST_BIN(pipe), video, G_N_ELEMENTS(video), err))
    goto fail;
  /* The params outlive the pipeline: pipeline.c keeps them in the session. */
  g_signal_connect(demux, "pad-added", G_CALLBACK(on_pad_added), (gpointer)bp);

  out->pipe = pipe;
  out->appsrc = src;
  return TRUE;

fail:
  drop_orphans(head, G_N_ELEMENTS(head));
  drop_orphans(video, G_N_ELEMENTS(video));
  gst_object_unref(pipe);
  return FALSE;
}
