/* output_build.h — the element graph of the long-lived output (internal to stream/). */
#ifndef TOURCAST_OUTPUT_BUILD_H
#define TOURCAST_OUTPUT_BUILD_H

#include <gst/gst.h>

typedef struct {
  int width, height, fps, bitrate_kbps;
  guint run_id;
  const char *segment_name; /* sNAME-NNNNN.ts */
  const char *live_dir;
} output_build_params_t;

/* Borrowed pointers into `pipe`, which owns them. */
typedef struct {
  GstElement *pipe;
  GstElement *vsrc; /* I420 frames at the output size and rate */
  GstElement *asrc; /* S16LE interleaved audio */
  GstElement *vout; /* its src pad carries the encoded H.264 */
  GstElement *aout; /* its src pad carries the encoded AAC */
} output_elements_t;

/* TRUE when every element factory of the output exists. */
gboolean output_build_check_elements(GError **err);

/* Builds the output pipeline in the NULL state, or FALSE with `err` set
 * (out->pipe is then NULL). */
gboolean output_build(const output_build_params_t *bp, output_elements_t *out, GError **err);

#endif
