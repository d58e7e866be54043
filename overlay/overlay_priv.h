/* overlay_priv.h — internals shared by the overlay_*.c files and their tests.
 *
 * Not a public API: other modules use overlay.h only. Drawing functions run
 * on the overlay's render thread only (pango and cairo objects are not
 * shared across threads); tests call them from their own single thread.
 */
#ifndef TOURCAST_OVERLAY_PRIV_H
#define TOURCAST_OVERLAY_PRIV_H

#include <cairo.h>
#include <pango/pangocairo.h>

#include "overlay/overlay.h"

/* Frames outside this range are refused by overlay_new(): below it nothing
 * legible fits, above it a card would be a needless multi-megabyte render. */
#define OVERLAY_MIN_DIM 32
#define OVERLAY_MAX_DIM 8192

/* Longest text, in characters, handed to pango. A line shows ~20 CJK
 * characters; the cap keeps shaping cost bounded whatever a caller passes. */
#define OVERLAY_TEXT_MAX_CHARS 256

#define OVERLAY_FONT_FAMILY "Noto Sans CJK SC"

typedef enum {
  OVERLAY_PORTRAIT,
  OVERLAY_LANDSCAPE,
} overlay_orientation_t;

/* Where everything goes for one frame size, in pixels of that frame. Derived
 * from a per-orientation table in overlay_layout.c. Rectangles inside a box
 * are relative to that box's top-left. */
typedef struct {
  overlay_orientation_t orientation;
  int frame_width, frame_height;
  double scale;         /* short side / 720 */
  overlay_layout_t box; /* the public part: every box, frame coordinates */
  int radius;           /* of the boxes' rounded corners */
  int pad;              /* inner padding of every box */
  /* product card */
  overlay_rect_t text;  /* text column without a thumbnail */
  overlay_rect_t thumb; /* square thumbnail, when the product has an image */
  int line_gap;
  int name_px, price_px, stock_px;
  /* title box */
  overlay_rect_t title_text;
  int title_px, promise_px;
  /* ticker: rows of row_h, row_gap apart, newest at the top */
  int row_h, row_gap, ticker_px;
  /* question box */
  int ask_px, question_px, answer_px;
  /* QR box: a white square of qr_side at the top, a caption under it */
  int qr_side, caption_px;
} overlay_geom_t;

/* overlay_layout.c. Fills `out` for a frame of width x height (any size in
 * [OVERLAY_MIN_DIM, OVERLAY_MAX_DIM]); every box inside the frame, all box
 * and accent coordinates even. */
void overlay_geom_for(int width, int height, overlay_geom_t *out);

/* overlay_text.c. Returns a new string (g_free) safe to lay out on one line:
 * invalid UTF-8 repaired, control and bidi-override characters replaced,
 * trimmed, at most OVERLAY_TEXT_MAX_CHARS characters. NULL when nothing is
 * left to show (NULL, "" or only blanks in). */
char *overlay_text_sanitize(const char *text);

/* overlay_text.c. Finds the first price ("¥12.80", "￥9.9/箱") in `text`, as
 * byte offsets [*start, *end). FALSE when there is none. */
gboolean overlay_text_find_price(const char *text, int *start, int *end);

/* overlay_text.c. A pango context with its own cairo font map and font
 * options fit for video (grayscale antialiasing, no hinting). Caller unrefs. */
PangoContext *overlay_text_context_new(void);

typedef enum {
  OVERLAY_TEXT_BOLD = 1 << 0,
  OVERLAY_TEXT_KEEP_PRICE = 1 << 1, /* shorten the text before the price first */
} overlay_text_flags_t;

/* overlay_text.c. A single-line layout of `text` (already sanitized;
 * borrowed), `px` pixels high, no wider than `max_width`: shortened with an
 * ellipsis by overlay_text_fit(), and pango's end-ellipsis as a last guard.
 * Plain text: markup characters are shown as typed. Characters no installed
 * font can draw are left out; NULL when nothing is left. Caller unrefs. */
PangoLayout *overlay_text_line_new(PangoContext *ctx, const char *text, int px,
                                   overlay_text_flags_t flags, int max_width);

/* overlay_text.c. Like overlay_text_line_new() but wrapped to `max_width`
 * on at most `max_lines` lines, the last one ending in pango's ellipsis when
 * the text is longer. NULL when nothing is left. Caller unrefs. */
PangoLayout *overlay_text_block_new(PangoContext *ctx, const char *text, int px,
                                    overlay_text_flags_t flags, int max_width, int max_lines);

/* overlay_fit.c. `text` (borrowed) shortened to fit `max_width` as laid out
 * by `measure` (whose text this replaces): unchanged if it fits, else cut
 * with "…" but never inside a number or right after a currency sign; with
 * `keep_price`, the first price stays whole and the text in front of it is
 * shortened first. Returns a new string (g_free), "" if nothing fits. */
char *overlay_text_fit(PangoLayout *measure, const char *text, int max_width, gboolean keep_price);

/* overlay_boxes.c. Small drawing helpers shared by the boxes. */
void overlay_set_source(cairo_t *cr, guint32 rgb, double alpha);
/* A rounded panel of w x h at x, y; `square_left` keeps the left corners
 * square where an accent bar sits flush. */
void overlay_panel(cairo_t *cr, double x, double y, double w, double h, double r,
                   gboolean square_left, guint32 rgb, double alpha);
/* Exactly opaque, pixel-aligned OVERLAY_ACCENT_RGB: tests find it in video. */
void overlay_accent(cairo_t *cr, int x, int y, int w, int h);
/* Draws `layout` (may be NULL: nothing) at x, y in `rgb` if it fits above
 * `bottom` (a wrapped block first drops lines to fit); returns the logical
 * height drawn, 0 when nothing was. Never draws a line cut mid-glyph. */
int overlay_show(cairo_t *cr, PangoLayout *layout, double x, double y, double bottom, guint32 rgb,
                 double alpha);

typedef enum {
  OVERLAY_CARD_TITLE,   /* the product name line */
  OVERLAY_CARD_PRODUCT, /* the price line: its price is never cut */
} overlay_card_line_t;

/* overlay_card.c. The layout the card draws for one of its lines, as wide
 * as the text column without a thumbnail, or NULL when that line is hidden.
 * `text` is borrowed. Caller unrefs. */
PangoLayout *overlay_card_line_layout(PangoContext *ctx, const overlay_geom_t *g,
                                      overlay_card_line_t which, const char *text);

/* Each box draws into a cairo context whose origin is the box's top-left and
 * whose target is exactly box-sized and cleared. `st` is borrowed. */
void overlay_card_draw(cairo_t *cr, PangoContext *ctx, const overlay_geom_t *g,
                       const overlay_state_t *st, cairo_surface_t *thumb);
void overlay_title_draw(cairo_t *cr, PangoContext *ctx, const overlay_geom_t *g,
                        const overlay_state_t *st);
void overlay_question_draw(cairo_t *cr, PangoContext *ctx, const overlay_geom_t *g,
                           const overlay_state_t *st);
/* One ticker row, box.ticker.width x row_h. */
void overlay_ticker_row_draw(cairo_t *cr, PangoContext *ctx, const overlay_geom_t *g,
                             const overlay_ticker_entry_t *e);
/* overlay_qr.c. FALSE (nothing drawn) when the text does not fit a legible
 * code in the box. */
gboolean overlay_qr_draw(cairo_t *cr, PangoContext *ctx, const overlay_geom_t *g, const char *text);

/* overlay_image.c. A cache of one product image: the PNG at `path` scaled
 * to a side x side thumbnail, reloaded when the file's mtime or size
 * changes. */
typedef struct overlay_image_cache overlay_image_cache_t;
overlay_image_cache_t *overlay_image_cache_new(void);
void overlay_image_cache_free(overlay_image_cache_t *c);
/* Borrowed surface (valid until the next call), or NULL when the file is
 * missing, too big or not a PNG. Sets *stamp to something that changes with
 * the file (for box cache keys). */
cairo_surface_t *overlay_image_get(overlay_image_cache_t *c, const char *path, int side,
                                   char **stamp);

/* overlay.c, for tests: while held, the render thread takes no new state
 * (overlay_update() still replaces the pending one). Never overlay_flush()
 * while held. */
void overlay_hold(overlay_t *ov, gboolean hold);

/* overlay_state.c. A deep copy of a state (strings included), and its free. */
overlay_state_t *overlay_state_dup(const overlay_state_t *st);
void overlay_state_free(overlay_state_t *st);

/* overlay_mem.c. A block of `size` bytes, 16-byte aligned, recycled from
 * one given back earlier when one of that size is kept. Any thread. */
gpointer overlay_mem_take(gsize size);
/* Gives back a block from overlay_mem_take() (NULL is a no-op). */
void overlay_mem_give(gpointer block);

/* overlay_blend.c. Converts every rectangle of `comp` for overlay_blend()'s
 * fast path and keeps the result on the composition. A rectangle's
 * conversion is cached on its pixel buffer, so boxes reused from the last
 * composition (or moved) cost nothing. Call before publishing `comp`. */
void overlay_blend_prepare(GstVideoOverlayComposition *comp);

#endif
