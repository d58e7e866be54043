/* overlay.h — what tourcast burns into the video, rendered off the streaming thread.
 *
 * The control loop renders a composition (cairo + pango, ARGB) whenever the
 * overlay's state changes and swaps it in atomically; the streaming thread
 * only takes a reference to whatever is current and blends it. Rendering
 * never happens on the streaming thread, and blending never waits on a render.
 */
#ifndef TOURCAST_OVERLAY_H
#define TOURCAST_OVERLAY_H

#include <glib.h>
#include <gst/video/video.h>

typedef struct overlay overlay_t;

/* The card shown over the video. All strings are UTF-8 plain text (never
 * markup), borrowed for the duration of overlay_render(). NULL or "" hides
 * that line. */
typedef struct {
  const char *title;        /* show title, e.g. "阳山水蜜桃果园直播" */
  const char *product_line; /* e.g. "水蜜桃 ¥12.80/斤 · 剩 100 份" */
} overlay_card_t;

/* Geometry of the card for an output frame of width x height, in pixels of
 * that frame. The accent bar is a fully opaque strip of OVERLAY_ACCENT_RGB at
 * the card's left edge that tests look for in decoded video. */
typedef struct {
  int x, y, width, height; /* the card rectangle */
  int accent_x, accent_y, accent_width, accent_height;
} overlay_layout_t;

#define OVERLAY_ACCENT_RGB 0xFF5000u /* opaque orange, 0xRRGGBB */

/* Creates an overlay for frames of width x height (the layout follows:
 * portrait or landscape). Nothing is shown until overlay_render(). */
overlay_t *overlay_new(int width, int height);
/* NULL is a no-op. Safe while a streaming thread still holds a composition
 * returned by overlay_ref_current(): those are refcounted. */
void overlay_free(overlay_t *ov);

/* Fills `out` with the layout used for a width x height frame. */
void overlay_layout_for(int width, int height, overlay_layout_t *out);

/* Control loop only. Renders `card` and swaps the result in as current.
 * Returns FALSE with `err` set if rendering failed; the previous composition
 * stays current then. */
gboolean overlay_render(overlay_t *ov, const overlay_card_t *card, GError **err);

/* Control loop only. Hides the overlay (current becomes NULL). */
void overlay_clear(overlay_t *ov);

/* Any thread. Returns a new reference to the current composition, or NULL
 * when nothing is shown. The caller unrefs it. Never blocks on rendering. */
GstVideoOverlayComposition *overlay_ref_current(overlay_t *ov);

/* Any thread (the streaming thread, per frame). Blends `comp` (a reference
 * from overlay_ref_current(), borrowed) into `frame`, which must be mapped
 * writable. I420 frames in BT.709 or BT.601 take a fast path that was
 * prepared when the composition was rendered: only the rectangles are
 * touched, one multiply-add per sample. Other frames use GStreamer's blend.
 * Returns FALSE if blending failed. */
gboolean overlay_blend(GstVideoOverlayComposition *comp, GstVideoFrame *frame);

/* Number of renders done so far (for tests and metrics). */
guint64 overlay_render_count(const overlay_t *ov);

/* Error domain of overlay_render(). The overlay needs gst_init() to have run
 * before overlay_new(): compositions are GStreamer objects. A frame side
 * outside [32, 8192] is a programmer error (overlay_new() returns NULL). */
#define OVERLAY_ERROR (overlay_error_quark())
GQuark overlay_error_quark(void);
typedef enum {
  OVERLAY_ERROR_RENDER, /* out of memory or a cairo failure */
} overlay_error_t;

#endif
