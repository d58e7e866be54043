/* output_build.c — appsrc ! x264enc ! h264parse ─▶ mpegtsmux ! multifilesink, and AAC beside it.
 *
 * Keyframes come from our encoder at every segment boundary (output.c asks
 * for one at each), never from the publisher's GOP. Audio is always encoded
 * (silence under the slate, the phone's audio resampled to one rate), so the
 * muxer always has both streams and the encoder never restarts on a reconnect.
 */
#include "stream/output_build.h"

#include "stream/output.h"

static const char *const needed[] = {"appsrc",   "x264enc",   "h264parse",    "voaacenc",
                                     "aacparse", "mpegtsmux", "multifilesink"};

gboolean output_build_check_elements(GError **err) {
  for (gsize i = 0; i < G_N_ELEMENTS(needed); i++) {
    GstElementFactory *f = gst_element_factory_find(needed[i]);
    if (f == NULL) {
      g_set_error(err, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
                  "GStreamer element '%s' is missing (run scripts/setup.sh)", needed[i]);
      return FALSE;
    }
    gst_object_unref(f);
  }
  return TRUE;
}

static GstElement *make_encoder(const output_build_params_t *bp) {
  GstElement *enc = gst_element_factory_make("x264enc", NULL);
  if (enc == NULL)
    return NULL;
  /* zerolatency: no lookahead, no B-frames. Segment boundaries are forced
   * keyframes; key-int-max is only a backstop. */
  gst_util_set_object_arg(G_OBJECT(enc), "tune", "zerolatency");
  gst_util_set_object_arg(G_OBJECT(enc), "speed-preset", "veryfast");
  g_object_set(enc, "bitrate", (guint)bp->bitrate_kbps, "key-int-max", (guint)(2 * bp->fps), NULL);
  return enc;
}

static GstElement *make_src(const char *name, GstCaps *caps, guint64 max_bytes) {
  GstElement *src = gst_element_factory_make("appsrc", name);
  /* Not live: the pacer paces. Blocking: a slow encoder holds the pacer
   * back instead of growing a queue. */
  g_object_set(src, "caps", caps, "format", GST_FORMAT_TIME, "is-live", FALSE, "block", TRUE,
               "max-bytes", max_bytes, NULL);
  gst_caps_unref(caps);
  return src;
}

static gboolean link_all(GstElement **chain, gsize n, GError **err) {
  for (gsize i = 0; i + 1 < n; i++) {
    if (!gst_element_link(chain[i], chain[i + 1])) {
      g_set_error(err, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION, "cannot link %s to %s",
                  GST_OBJECT_NAME(chain[i]), GST_OBJECT_NAME(chain[i + 1]));
      return FALSE;
    }
  }
  return TRUE;
}

gboolean output_build(const output_build_params_t *bp, output_elements_t *out, GError **err) {
  char *name = g_strdup_printf("output%u", bp->run_id);
  GstElement *pipe = gst_pipeline_new(name);
  g_free(name);
  GstCaps *vcaps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", "width",
                                       G_TYPE_INT, bp->width, "height", G_TYPE_INT, bp->height,
                                       "framerate", GST_TYPE_FRACTION, bp->fps, 1,
                                       "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
  GstCaps *acaps = gst_caps_new_simple(
      "audio/x-raw", "format", G_TYPE_STRING, "S16LE", "layout", G_TYPE_STRING, "interleaved",
      "rate", G_TYPE_INT, OUTPUT_AUDIO_RATE, "channels", G_TYPE_INT, OUTPUT_AUDIO_CHANNELS,
      "channel-mask", GST_TYPE_BITMASK, (guint64)0x3, NULL);
  guint64 frame_bytes = (guint64)bp->width * (guint64)bp->height * 3 / 2;
  GstElement *parse = gst_element_factory_make("h264parse", NULL);
  if (parse)
    g_object_set(parse, "config-interval", -1, NULL); /* SPS/PPS in every segment */
  /* voaacenc: half of avenc_aac's CPU (measured: 60 s of stereo 48 kHz in
   * 0.44 against 0.91 CPU s), enough for a phone's voice and a field. */
  GstElement *aenc = gst_element_factory_make("voaacenc", NULL);
  if (aenc)
    g_object_set(aenc, "bitrate", 128000, NULL);
  GstElement *mux = gst_element_factory_make("mpegtsmux", "mux");
  GstElement *sink = gst_element_factory_make("multifilesink", "sink");
  GstElement *video[] = {make_src("vsrc", vcaps, 8 * frame_bytes), make_encoder(bp), parse, mux,
                         sink};
  GstElement *audio[] = {make_src("asrc", acaps, OUTPUT_AUDIO_RATE * 8), aenc,
                         gst_element_factory_make("aacparse", NULL), mux};
  for (gsize i = 0; i < G_N_ELEMENTS(video); i++)
    if (video[i] == NULL)
      goto missing;
  for (gsize i = 0; i < G_N_ELEMENTS(audio); i++)
    if (audio[i] == NULL)
      goto missing;
  for (gsize i = 0; i < G_N_ELEMENTS(video); i++)
    gst_bin_add(GST_BIN(pipe), video[i]);
  for (gsize i = 0; i + 1 < G_N_ELEMENTS(audio); i++)
    gst_bin_add(GST_BIN(pipe), audio[i]);
  char *location = g_strdup_printf("%s/s%s-%%05d.ts", bp->live_dir, bp->segment_name);
  gst_util_set_object_arg(G_OBJECT(sink), "next-file", "key-unit-event");
  g_object_set(sink, "location", location, "post-messages", TRUE, "async", FALSE, "sync", FALSE,
               NULL);
  g_free(location);
  if (!link_all(video, G_N_ELEMENTS(video), err) || !link_all(audio, G_N_ELEMENTS(audio), err)) {
    gst_object_unref(pipe);
    out->pipe = NULL;
    return FALSE;
  }
  out->pipe = pipe;
  out->vsrc = video[0];
  out->asrc = audio[0];
  out->vout = parse;
  out->aout = audio[2];
  return TRUE;

missing:
  for (gsize i = 0; i < G_N_ELEMENTS(video); i++)
    if (video[i])
      gst_object_unref(gst_object_ref_sink(video[i]));
  for (gsize i = 0; i + 1 < G_N_ELEMENTS(audio); i++)
    if (audio[i])
      gst_object_unref(gst_object_ref_sink(audio[i]));
  gst_object_unref(pipe);
  out->pipe = NULL;
  g_set_error(err, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN, "cannot create output elements");
  return FALSE;
}
