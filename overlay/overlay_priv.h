/* overlay_priv.h — internals shared by the overlay_*.c files and their tests.
 *
 * Not a public API: other modules use overlay.h only. Everything here runs on
 * the control loop (pango and cairo objects are not shared across threads).
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

typedef struct {
  int x, y, width, height;
} overlay_rect_t;

typedef enum {
  OVERLAY_PORTRAIT,
  OVERLAY_LANDSCAPE,
} overlay_orientation_t;

/* Where everything goes for one frame size, in pixels of that frame. Derived
 * from a per-orientation table in overlay_layout.c; later boxes (ticker, QR)
 * get their own members here. */
typedef struct {
  overlay_orientation_t orientation;
  int frame_width, frame_height;
  double scale;          /* short side / 720 */
  overlay_layout_t card; /* the public part: card and accent, frame coordinates */
  int radius;            /* of the card's right corners */
  overlay_rect_t text;   /* text column, relative to the card's top-left */
  int line_gap;          /* between title and product line */
  int title_px, product_px;
} overlay_geom_t;

/* overlay_layout.c. Fills `out` for a frame of width x height (any size in
 * [OVERLAY_MIN_DIM, OVERLAY_MAX_DIM]); all card and accent coordinates even. */
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

/* overlay_fit.c. `text` (borrowed) shortened to fit `max_width` as laid out
 * by `measure` (whose text this replaces): unchanged if it fits, else cut
 * with "…" but never inside a number or right after a currency sign; with
 * `keep_price`, the first price stays whole and the text in front of it is
 * shortened first. Returns a new string (g_free), "" if nothing fits. */
char *overlay_text_fit(PangoLayout *measure, const char *text, int max_width, gboolean keep_price);

typedef enum {
  OVERLAY_CARD_TITLE,
  OVERLAY_CARD_PRODUCT,
} overlay_card_line_t;

/* overlay_card.c. The layout the card draws for one of its lines, or NULL
 * when that line is hidden. `text` is borrowed. Caller unrefs. */
PangoLayout *overlay_card_line_layout(PangoContext *ctx, const overlay_geom_t *g,
                                      overlay_card_line_t which, const char *text);

/* overlay_card.c. Draws the card into `cr`, whose origin is the card's
 * top-left and whose target is exactly card-sized and cleared. */
void overlay_card_draw(cairo_t *cr, PangoContext *ctx, const overlay_geom_t *g,
                       const overlay_card_t *card);

/* Converts every rectangle of `comp` once for overlay_blend()'s fast path
 * and keeps the result on the composition. Call before publishing it. */
void overlay_blend_prepare(GstVideoOverlayComposition *comp);

#endif
