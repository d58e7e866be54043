/* overlay_layout.c — where the overlay's boxes go on a frame of a given size.
 *
 * One table of reference sizes per orientation (designed on a frame whose
 * short side is 720), scaled to the actual frame. Geometry only: nothing here
 * draws. Card and accent coordinates are even so that I420's 2x2 chroma
 * blocks never straddle the card's edge or the accent bar.
 */
#include <math.h>
#include <string.h>

#include "overlay/overlay_priv.h"

#define REFERENCE_SHORT_SIDE 720.0
#define ACCENT_MIN_WIDTH 16 /* survives x264 and 4:2:0 chroma in decoded-video checks */

typedef struct {
  int margin;      /* frame edge to card */
  int bottom_room; /* kept clear under the card: player controls cover it on phones */
  int card_width;  /* 0: the frame's width minus both margins */
  int card_height;
  int radius;
  int accent_width;
  int text_pad; /* accent to text, and text to the card's right edge */
  int text_pad_y;
  int line_gap;
  int title_px, product_px;
} layout_spec_t;

/* Phones held upright: the card spans the width, above the player's controls. */
static const layout_spec_t portrait_spec = {
    .margin = 24,
    .bottom_room = 72,
    .card_width = 0,
    .card_height = 160,
    .radius = 20,
    .accent_width = 16,
    .text_pad = 24,
    .text_pad_y = 16,
    .line_gap = 4,
    .title_px = 30,
    .product_px = 36,
};

/* Landscape: the picture is wide and the subject usually central, so the
 * card keeps to the bottom-left corner. */
static const layout_spec_t landscape_spec = {
    .margin = 24,
    .bottom_room = 0,
    .card_width = 560,
    .card_height = 160,
    .radius = 20,
    .accent_width = 16,
    .text_pad = 24,
    .text_pad_y = 16,
    .line_gap = 4,
    .title_px = 30,
    .product_px = 36,
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

/* Card rectangle: the spec scaled, then squeezed into the frame so that even
 * a tiny or oddly sized frame still gets a card wholly inside it. */
static void place_card(const layout_spec_t *sp, int width, int height, double s,
                       overlay_layout_t *c) {
  int margin = round_even(sp->margin * s);
  int avail_w = floor_even(width - 2 * margin);
  int w = sp->card_width ? round_even(sp->card_width * s) : avail_w;
  int h = round_even(sp->card_height * s);

  c->width = CLAMP(w, 2, MAX(avail_w, 2));
  c->height = CLAMP(h, 2, floor_even(height));
  c->x = MIN(margin, floor_even(width - c->width));
  c->y = floor_even(height - margin - round_even(sp->bottom_room * s) - c->height);
  c->y = CLAMP(c->y, 0, floor_even(height - c->height));

  /* The accent spans the card's full height at its left edge. */
  c->accent_x = c->x;
  c->accent_y = c->y;
  c->accent_width = MIN(MAX(round_even(sp->accent_width * s), ACCENT_MIN_WIDTH), c->width);
  c->accent_height = c->height;
}

void overlay_geom_for(int width, int height, overlay_geom_t *out) {
  g_return_if_fail(out != NULL);
  memset(out, 0, sizeof *out);
  g_return_if_fail(width >= OVERLAY_MIN_DIM && width <= OVERLAY_MAX_DIM);
  g_return_if_fail(height >= OVERLAY_MIN_DIM && height <= OVERLAY_MAX_DIM);

  gboolean portrait = height > width;
  const layout_spec_t *sp = portrait ? &portrait_spec : &landscape_spec;
  double s = MIN(width, height) / REFERENCE_SHORT_SIDE;

  out->orientation = portrait ? OVERLAY_PORTRAIT : OVERLAY_LANDSCAPE;
  out->frame_width = width;
  out->frame_height = height;
  out->scale = s;
  place_card(sp, width, height, s, &out->card);

  int pad = round_even(sp->text_pad * s);
  int pad_y = round_even(sp->text_pad_y * s);
  out->text.x = out->card.accent_width + pad;
  out->text.y = MIN(pad_y, out->card.height / 2);
  out->text.width = MAX(out->card.width - out->text.x - pad, 0);
  out->text.height = MAX(out->card.height - 2 * out->text.y, 0);
  out->radius = MIN(round_even(sp->radius * s), out->card.height / 2);
  out->line_gap = (int)lround(sp->line_gap * s);
  out->title_px = scaled_px(sp->title_px, s);
  out->product_px = scaled_px(sp->product_px, s);
}

void overlay_layout_for(int width, int height, overlay_layout_t *out) {
  overlay_geom_t g;

  g_return_if_fail(out != NULL);
  overlay_geom_for(width, height, &g);
  *out = g.card;
}
