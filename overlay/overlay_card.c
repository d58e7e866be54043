/* overlay_card.c — the card box: dark rounded panel, orange accent bar, two
 * lines of text (show title, product line with its price in a warm colour).
 *
 * Draws into a card-sized cairo context prepared by overlay.c; knows nothing
 * of GStreamer. Other boxes (product cards, ticker, QR) get files like this.
 */
#include "overlay/overlay_priv.h"

#define CARD_BG_RGB 0x000000u
#define CARD_BG_ALPHA 0.6
#define TITLE_RGB 0xFFFFFFu
#define TITLE_ALPHA 0.86 /* a step behind the product line, which sells */
#define PRODUCT_RGB 0xFFFFFFu
#define PRICE_RGB 0xFFC24Bu /* warm gold: reads as "price", distinct from the accent */

static void set_source_rgb(cairo_t *cr, guint32 rgb, double alpha) {
  cairo_set_source_rgba(cr, ((rgb >> 16) & 0xFF) / 255.0, ((rgb >> 8) & 0xFF) / 255.0,
                        (rgb & 0xFF) / 255.0, alpha);
}

static guint16 rgb16(guint32 rgb, int shift) {
  return (guint16)(((rgb >> shift) & 0xFF) * 257);
}

/* Square on the left, where the accent bar sits flush, rounded on the right. */
static void draw_background(cairo_t *cr, const overlay_geom_t *g) {
  double w = g->card.width, h = g->card.height, r = g->radius;

  cairo_new_path(cr);
  cairo_move_to(cr, 0, 0);
  cairo_arc(cr, w - r, r, r, -G_PI / 2, 0);
  cairo_arc(cr, w - r, h - r, r, 0, G_PI / 2);
  cairo_line_to(cr, 0, h);
  cairo_close_path(cr);
  set_source_rgb(cr, CARD_BG_RGB, CARD_BG_ALPHA);
  cairo_fill(cr);
}

/* Exactly opaque and pixel-aligned: tests find this colour in decoded video. */
static void draw_accent(cairo_t *cr, const overlay_geom_t *g) {
  cairo_save(cr);
  cairo_set_operator(cr, CAIRO_OPERATOR_SOURCE);
  cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
  cairo_rectangle(cr, 0, 0, g->card.accent_width, g->card.accent_height);
  set_source_rgb(cr, OVERLAY_ACCENT_RGB, 1.0);
  cairo_fill(cr);
  cairo_restore(cr);
}

static void highlight_price(PangoLayout *layout) {
  int start, end;

  if (!overlay_text_find_price(pango_layout_get_text(layout), &start, &end))
    return;
  PangoAttrList *attrs = pango_attr_list_new();
  PangoAttribute *a =
      pango_attr_foreground_new(rgb16(PRICE_RGB, 16), rgb16(PRICE_RGB, 8), rgb16(PRICE_RGB, 0));
  a->start_index = (guint)start;
  a->end_index = (guint)end;
  pango_attr_list_insert(attrs, a);
  pango_layout_set_attributes(layout, attrs);
  pango_attr_list_unref(attrs);
}

PangoLayout *overlay_card_line_layout(PangoContext *ctx, const overlay_geom_t *g,
                                      overlay_card_line_t which, const char *text) {
  char *clean = overlay_text_sanitize(text);
  if (clean == NULL || g->text.width <= 0) {
    g_free(clean);
    return NULL;
  }

  gboolean title = which == OVERLAY_CARD_TITLE;
  PangoLayout *layout =
      title ? overlay_text_line_new(ctx, clean, g->title_px, OVERLAY_TEXT_BOLD, g->text.width)
            : overlay_text_line_new(ctx, clean, g->product_px,
                                    OVERLAY_TEXT_BOLD | OVERLAY_TEXT_KEEP_PRICE, g->text.width);
  if (layout != NULL && !title)
    highlight_price(layout);
  g_free(clean);
  return layout;
}

/* Visible lines stacked and centred as a block in the text column, so a card
 * with only one line does not look half empty. */
static void draw_text(cairo_t *cr, PangoContext *ctx, const overlay_geom_t *g,
                      const overlay_card_t *card) {
  PangoLayout *lines[2] = {
      overlay_card_line_layout(ctx, g, OVERLAY_CARD_TITLE, card->title),
      overlay_card_line_layout(ctx, g, OVERLAY_CARD_PRODUCT, card->product_line),
  };
  const guint32 colors[2] = {TITLE_RGB, PRODUCT_RGB};
  const double alphas[2] = {TITLE_ALPHA, 1.0};
  PangoRectangle logical[2] = {{0}};
  int total = 0, shown = 0;

  for (int i = 0; i < 2; i++) {
    if (lines[i] == NULL)
      continue;
    pango_layout_get_pixel_extents(lines[i], NULL, &logical[i]);
    total += logical[i].height + (shown++ ? g->line_gap : 0);
  }
  if (shown == 0)
    return;

  /* The clip is the promise that no text leaves its column, whatever the
   * font does with tall stacked marks; ellipsizing already keeps the width. */
  cairo_save(cr);
  cairo_rectangle(cr, g->text.x, g->text.y, g->text.width, g->text.height);
  cairo_clip(cr);
  double y = g->text.y + MAX((g->text.height - total) / 2, 0);
  for (int i = 0; i < 2; i++) {
    if (lines[i] == NULL)
      continue;
    set_source_rgb(cr, colors[i], alphas[i]);
    cairo_move_to(cr, g->text.x, y);
    pango_cairo_show_layout(cr, lines[i]);
    y += logical[i].height + g->line_gap;
    g_object_unref(lines[i]);
  }
  cairo_restore(cr);
}

void overlay_card_draw(cairo_t *cr, PangoContext *ctx, const overlay_geom_t *g,
                       const overlay_card_t *card) {
  draw_background(cr, g);
  draw_accent(cr, g);
  draw_text(cr, ctx, g, card);
}
