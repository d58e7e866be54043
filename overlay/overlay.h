/* overlay.h — what tourcast burns into the video, rendered off the streaming thread.
 *
 * The control loop hands the overlay a state (title, pinned product, ticker,
 * highlighted question, QR text) with overlay_update(), which copies it and
 * returns at once. A render thread owned by the overlay re-renders only the
 * boxes whose inputs changed (cairo + pango, ARGB), builds a composition of
 * one rectangle per box and swaps it in atomically. Streaming threads only
 * take a reference to whatever is current and blend it. Rendering never
 * happens on the streaming thread or the control loop, and a blend never
 * waits on a render. If updates pile up, only the newest state is rendered.
 */
#ifndef TOURCAST_OVERLAY_H
#define TOURCAST_OVERLAY_H

#include <glib.h>
#include <gst/video/video.h>

typedef struct overlay overlay_t;

/* Orders shown in the ticker, newest last in overlay_state_t.ticker. */
#define OVERLAY_TICKER_MAX 5

typedef struct {
  guint64 seq;         /* grows with every order: a seq not seen before slides in */
  const char *name;    /* buyer's name; masked here to its first character + "**" */
  const char *product; /* product name */
  gint64 qty;
} overlay_ticker_entry_t;

/* Everything the overlay shows. All strings are UTF-8 plain text (never
 * markup; anything else is repaired), borrowed for the duration of
 * overlay_update(), which copies them. NULL or "" hides that line. */
typedef struct {
  const char *title;   /* show title, e.g. "阳山水蜜桃果园直播" */
  const char *promise; /* the leader's after-sales line, e.g. "坏果包赔 · 次日自提" */
  const char *qr_text; /* viewer URL encoded in the QR code; NULL or "" hides the QR box */
  guint64 version;     /* caller's; reported back by overlay_ref_current_versioned() */
  struct {
    gboolean shown; /* FALSE: no product pinned, the card is hidden */
    gint64 id;
    const char *name;
    gint64 price_cents; /* < 0 hides the price */
    const char *unit;   /* "斤" gives "¥12.80/斤"; NULL or "" gives "¥12.80" */
    gint64 stock;       /* 0 shows the sold-out state; < 0 (unlimited) hides the count */
    gint64 sold;
    const char *image_path; /* PNG file or NULL; reloaded when its mtime changes */
  } product;
  overlay_ticker_entry_t ticker[OVERLAY_TICKER_MAX]; /* oldest first */
  int n_ticker;                                      /* 0..OVERLAY_TICKER_MAX */
  struct {
    gboolean shown;
    gint64 id;
    const char *name, *text, *answer; /* asker, question, the leader's answer (or NULL) */
  } question;
} overlay_state_t;

typedef struct {
  int x, y, width, height;
} overlay_rect_t;

/* Where every box goes on an output frame of width x height, in pixels of
 * that frame (all even). The product card's accent bar is a fully opaque
 * strip of OVERLAY_ACCENT_RGB at its left edge that tests look for in decoded
 * video; the title box has one too (title_accent), always visible when the
 * title is set. A box draws nothing outside its rectangle, except ticker
 * rows while they slide in: they come in from the frame's left edge over
 * OVERLAY_ANIM_FRAMES frames (overlay_compose.h). */
typedef struct {
  int x, y, width, height; /* the product card */
  int accent_x, accent_y, accent_width, accent_height;
  overlay_rect_t title, title_accent, ticker, question, qr;
} overlay_layout_t;

#define OVERLAY_ACCENT_RGB 0xFF5000u /* opaque orange, 0xRRGGBB */

/* Creates an overlay for frames of width x height (the layout follows:
 * portrait or landscape) and starts its render thread. Nothing is shown
 * until the first overlay_update(). */
overlay_t *overlay_new(int width, int height);
/* NULL is a no-op. Stops the render thread (waiting for a render in
 * progress). Safe while a streaming thread still holds a composition
 * returned by overlay_ref_current(): those are refcounted. */
void overlay_free(overlay_t *ov);

/* Fills `out` with the layout used for a width x height frame. */
void overlay_layout_for(int width, int height, overlay_layout_t *out);

/* Control loop (any one thread). Copies `st` into the render thread's
 * latest-wins slot, replacing a state not yet rendered, and returns without
 * waiting. The state with every box hidden clears the overlay. */
void overlay_update(overlay_t *ov, const overlay_state_t *st);

/* Blocks until the newest state handed to overlay_update() is rendered and
 * current, and its ticker animation has finished. For tests and benchmarks;
 * never call it on the control loop of a live show. */
void overlay_flush(overlay_t *ov);

/* Ticker animation on (the default) or off. Off: new orders appear at once. */
void overlay_set_animate(overlay_t *ov, gboolean animate);

/* Any thread. Returns a new reference to the current composition, or NULL
 * when nothing is shown. The caller unrefs it. Never blocks on rendering. */
GstVideoOverlayComposition *overlay_ref_current(overlay_t *ov);
/* The same, and sets *version_out (if not NULL) to the `version` of the
 * state the returned composition shows (0 before the first render). The
 * composition and version are read together, under one lock. */
GstVideoOverlayComposition *overlay_ref_current_versioned(overlay_t *ov, guint64 *version_out);

/* Any thread (the streaming thread, per frame). Blends `comp` (a reference
 * from overlay_ref_current(), borrowed) into `frame`, which must be mapped
 * writable. I420 frames in BT.709 or BT.601 take a fast path prepared when
 * the composition was built: only the rectangles are touched, one
 * multiply-add per sample. Other frames use GStreamer's blend.
 * Returns FALSE if blending failed. */
gboolean overlay_blend(GstVideoOverlayComposition *comp, GstVideoFrame *frame);

/* Counters, for tests, benchmarks and metrics. Read with the render lock. */
typedef struct {
  guint64 renders;           /* states rendered (a skipped, superseded state is not) */
  guint64 box_renders;       /* boxes drawn with cairo; cached boxes are not */
  guint64 frames;            /* compositions published, ticker animation steps included */
  gint64 last_render_us;     /* wall time of the last state render, build and prepare */
  gint64 last_render_cpu_us; /* CPU time of the same, on the render thread */
  guint64 last_version;      /* `version` of the last rendered state */
} overlay_stats_t;
void overlay_get_stats(overlay_t *ov, overlay_stats_t *out);

/* Number of states rendered so far (overlay_stats_t.renders). */
guint64 overlay_render_count(overlay_t *ov);

/* "¥12.80/斤" from 1280 cents and "斤" (unit sanitized, at most 8
 * characters); "¥12.80" without a unit; NULL for a negative price.
 * Returns a new string (g_free). */
char *overlay_format_price(gint64 price_cents, const char *unit);

/* "王**" from "王小明": the first character and two stars ("**" when there
 * is no character to show). Returns a new string (g_free). */
char *overlay_mask_name(const char *name);

/* The overlay needs gst_init() to have run before overlay_new():
 * compositions are GStreamer objects. A frame side outside [32, 8192] is a
 * programmer error (overlay_new() returns NULL). */

#endif
