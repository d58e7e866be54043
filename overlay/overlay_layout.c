/* overlay_layout.c — where the overlay's boxes go on a frame of a given size.
 *
 * One table of boxes per orientation, designed on a frame whose short side
 * is 720 (720x1280 and 1280x720), each box anchored to a frame edge and
 * scaled to the actual frame, then squeezed inside it. Geometry only:
 * nothing here draws. Box and accent coordinates are even so that I420's 2x2
 * chroma blocks never straddle a box's edge or an accent bar.
 */
#include <math.h>
#include <string.h>

#include "overlay/overlay_priv.h"

#define REFERENCE_SHORT_SIDE 720.0
#define ACCENT_MIN_WIDTH 16 /* survives x264 and 4:2:0 chroma in decoded-video checks */

/* A box at (dx, dy) from the top-left, or from the right / bottom edge when
 * the anchor says so; width 0 spans the frame minus `dx` on both sides. */
typedef struct {
  gboolean right, bottom;
  int dx, dy, width, height;
} box_spec_t;

typedef struct {
  box_spec_t title, card, ticker, question, qr;
} layout_spec_t;

/* Phones held upright: title across the top with the question under it;
 * the card across the bottom, above the player's controls (72 px kept
 * clear); ticker and QR side by side above the card. */
static const layout_spec_t portrait_spec = {
    .title = {FALSE, FALSE, 24, 24, 0, 124},
    .question = {FALSE, FALSE, 24, 164, 0, 232},
    .ticker = {FALSE, TRUE, 24, 24 + 72 + 192 + 16, 480, 216},
    .qr = {TRUE, TRUE, 24, 24 + 72 + 192 + 16, 168, 216},
    .card = {FALSE, TRUE, 24, 24 + 72, 0, 192},
};

/* Landscape: the subject is usually central, so the boxes keep to the
 * corners: title top-left, QR top-right, question right, ticker and card
 * bottom-left. */
static const layout_spec_t landscape_spec = {
    .title = {FALSE, FALSE, 24, 24, 600, 124},
    .qr = {TRUE, FALSE, 24, 24, 168, 216},
    .question = {TRUE, FALSE, 24, 264, 440, 232},
    .ticker = {FALSE, TRUE, 24, 24 + 192 + 16, 440, 216},
    .card = {FALSE, TRUE, 24, 24, 600, 192},
};

static int round_even(double v) {
  return 2 * (int)lround(v / 2.0);
}

static int floor_even(int v) {
  return v > 0 ? v & ~1 : 0;
}

static int scaled_px(int ref, double scale) {
  int v = (int)lround(ref * scale);
  return v > 0 ? v : 1;
}

/* The spec scaled, then squeezed into the frame so that even a tiny or
 * oddly sized frame still gets every box wholly inside it. */
static void place(const box_spec_t *b, int fw, int fh, double s, overlay_rect_t *r) {
  int dx = round_even(b->dx * s), dy = round_even(b->dy * s);
  int avail_w = floor_even(fw - 2 * dx);
  int w = b->width ? round_even(b->width * s) : avail_w;
  int h = round_even(b->height * s);

  r->width = CLAMP(w, 2, MAX(avail_w, 2));
  r->height = CLAMP(h, 2, MAX(floor_even(fh), 2));
  r->x = b->right ? floor_even(fw - dx - r->width) : dx;
  r->y = b->bottom ? floor_even(fh - dy - r->height) : dy;
  r->x = CLAMP(r->x, 0, floor_even(fw - r->width));
  r->y = CLAMP(r->y, 0, floor_even(fh - r->height));
}

static void place_boxes(const layout_spec_t *sp, int fw, int fh, double s, overlay_layout_t *l) {
  overlay_rect_t card;

  place(&sp->title, fw, fh, s, &l->title);
  place(&sp->card, fw, fh, s, &card);
  place(&sp->ticker, fw, fh, s, &l->ticker);
  place(&sp->question, fw, fh, s, &l->question);
  place(&sp->qr, fw, fh, s, &l->qr);
  /* In landscape the title gives way to the QR box on narrow frames. */
  if (sp->title.width != 0 && l->qr.x > l->title.x)
    l->title.width = MAX(MIN(l->title.width, floor_even(l->qr.x - l->title.x - 16)), 2);

  l->x = card.x;
  l->y = card.y;
  l->width = card.width;
  l->height = card.height;
  /* Accents span their box's full height at its left edge. */
  int aw = MAX(round_even(16 * s), ACCENT_MIN_WIDTH);
  l->accent_x = card.x;
  l->accent_y = card.y;
  l->accent_width = MIN(aw, card.width);
  l->accent_height = card.height;
  l->title_accent =
      (overlay_rect_t){l->title.x, l->title.y, MIN(aw, l->title.width), l->title.height};
}

/* Type sizes and inner geometry, at the reference scale. */
static void place_insides(overlay_geom_t *g, double s) {
  const overlay_layout_t *b = &g->box;
  int pad = round_even(16 * s);

  g->pad = pad;
  g->radius = MIN(round_even(16 * s), b->height / 2);
  g->line_gap = (int)lround(4 * s);

  /* Card: accent | pad | [thumbnail | pad] | text | pad */
  int side = MAX(floor_even(b->height - 2 * pad), 0);
  g->thumb = (overlay_rect_t){b->accent_width + pad, pad, side, side};
  g->text.x = b->accent_width + round_even(24 * s);
  g->text.y = MIN(pad, b->height / 2);
  g->text.width = MAX(b->width - g->text.x - round_even(24 * s), 0);
  g->text.height = MAX(b->height - 2 * g->text.y, 0);
  g->name_px = scaled_px(32, s);
  g->price_px = scaled_px(40, s);
  g->stock_px = scaled_px(26, s);

  const overlay_rect_t *t = &b->title;
  g->title_text.x = b->title_accent.width + round_even(24 * s);
  g->title_text.y = MIN(round_even(12 * s), t->height / 2);
  g->title_text.width = MAX(t->width - g->title_text.x - round_even(24 * s), 0);
  g->title_text.height = MAX(t->height - 2 * g->title_text.y, 0);
  g->title_px = scaled_px(34, s);
  g->promise_px = scaled_px(26, s);

  g->row_h = MAX(round_even(38 * s), 2);
  g->row_gap = round_even(6 * s);
  g->ticker_px = scaled_px(24, s);

  g->ask_px = scaled_px(24, s);
  g->question_px = scaled_px(28, s);
  g->answer_px = scaled_px(26, s);

  g->qr_side = MIN(b->qr.width, b->qr.height);
  g->caption_px = scaled_px(26, s);
  if (b->qr.height - g->qr_side < 2 * g->caption_px)
    g->qr_side = MAX(floor_even(b->qr.height - 2 * g->caption_px), 0);
}

void overlay_geom_for(int width, int height, overlay_geom_t *out) {
  g_return_if_fail(out != NULL);
  memset(out, 0, sizeof *out);
  g_return_if_fail(width >= OVERLAY_MIN_DIM && width <= OVERLAY_MAX_DIM);
  g_return_if_fail(height >= OVERLAY_MIN_DIM && height <= OVERLAY_MAX_DIM);

  gboolean portrait = height > width;
  double s = MIN(width, height) / REFERENCE_SHORT_SIDE;

  out->orientation = portrait ? OVERLAY_PORTRAIT : OVERLAY_LANDSCAPE;
  out->frame_width = width;
  out->frame_height = height;
  out->scale = s;
  place_boxes(portrait ? &portrait_spec : &landscape_spec, width, height, s, &out->box);
  place_insides(out, s);
}

void overlay_layout_for(int width, int height, overlay_layout_t *out) {
  overlay_geom_t g;

  g_return_if_fail(out != NULL);
  overlay_geom_for(width, height, &g);
  *out = g.box;
}
