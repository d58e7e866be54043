/* pipeline_build.h — assembling one session's GStreamer elements (internal to stream/).
 *
 * Only construction and linking live here; the session's life (bus, clock,
 * teardown) is in pipeline.c.
 */
#ifndef TOURCAST_PIPELINE_BUILD_H
#define TOURCAST_PIPELINE_BUILD_H

#include <gst/gst.h>

typedef struct session session_t;

typedef struct {
  int width, height, fps, bitrate_kbps, segment_ms;
  const char *live_dir;
  guint session_id;
  guint appsrc_max_bytes;
  const char *h264_decoder; /* element factory name */
} session_build_params_t;

/* Borrowed pointers into `pipe`, which owns them all. */
typedef struct {
  GstElement *pipe;
  GstElement *appsrc;
  GstElement *blend_point;  /* its src pad carries decoded frames at the output size */
  GstElement *encoder_feed; /* its src pad feeds the encoder: clock probe and cuts go there */
} session_elements_t;

/* TRUE when every element factory the pipeline uses is installed. */
gboolean pipeline_build_check_elements(const char *h264_decoder, GError **err);

/* Builds a session pipeline in the NULL state. The demuxer's pads are linked
 * as they appear (video to the encoder chain; AAC audio to the muxer; any
 * other audio codec is dropped with a warning). Returns FALSE with `err` set
 * if an element cannot be made or linked. */
gboolean pipeline_build_session(const session_build_params_t *bp, session_elements_t *out,
                                GError **err);

#endif
