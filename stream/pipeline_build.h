/* pipeline_build.h — assembling one session's GStreamer elements (internal to stream/).
 *
 * Only construction and linking live here; the session's life (bus, clock,
 * teardown) is in pipeline.c.
 */
#ifndef TOURCAST_PIPELINE_BUILD_H
#define TOURCAST_PIPELINE_BUILD_H

#include <gst/app/gstappsink.h>
#include <gst/gst.h>

typedef struct session session_t;

typedef struct {
  int width, height, fps;
  int audio_rate, audio_channels;
  guint session_id;
  guint appsrc_max_bytes;
  const char *h264_decoder; /* element factory name */
  const char *aac_decoder;  /* element factory name */
  /* Set on the video and audio appsinks, with cb_user; borrowed, must
   * outlive the pipeline (so must these params: the demuxer's pad-added
   * handler reads them). */
  GstAppSinkCallbacks *video_cb, *audio_cb;
  gpointer cb_user;
} session_build_params_t;

/* Borrowed pointers into `pipe`, which owns them all. */
typedef struct {
  GstElement *pipe;
  GstElement *appsrc;
} session_elements_t;

/* TRUE when every element factory the pipeline uses is installed. */
gboolean pipeline_build_check_elements(const char *h264_decoder, const char *aac_decoder,
                                       GError **err);

/* Builds a session pipeline in the NULL state. The demuxer's pads are linked
 * as they appear (video to the decode chain and its appsink; AAC audio to
 * its decoder and appsink; any other audio codec is dropped with a warning). Returns FALSE with
 * `err` set if an element cannot be made or linked. */
gboolean pipeline_build_session(const session_build_params_t *bp, session_elements_t *out,
                                GError **err);

#endif
