/* slate.h — the standby card shown while the publisher is away (internal to stream/).
 *
 * One still I420 frame at the output size, rendered once with cairo + pango
 * (a dark card with "信号重连中…"). The overlay is blended over a copy of it
 * on every output frame, so the product card keeps updating under the slate.
 */
#ifndef TOURCAST_SLATE_H
#define TOURCAST_SLATE_H

#include <gst/gst.h>
#include <gst/video/video.h>

/* Renders the slate for width x height I420 frames. Returns a new buffer
 * laid out as `info` (filled here) describes, or NULL with `err` set. Call
 * from any thread, but only once per output: it loads fonts. */
GstBuffer *slate_render(int width, int height, GstVideoInfo *info, GError **err);

/* The text on the slate, for tests. */
#define SLATE_TEXT "信号重连中…"

#endif
