/* overlay_card.c — the pinned product card: dark panel, orange accent bar,
 * optional square thumbnail, then name, price ("¥12.80/斤") and stock
 * ("剩 100 份 · 已售 23"), or a red 已售罄 badge when the stock is gone.
 *
 * Draws into a card-sized cairo context prepared by overlay_compose.c; knows
 * nothing of GStreamer or of how the thumbnail was loaded.
 */
#include "overlay/overlay_priv.h"

#define CARD_BG_RGB 0x000000u
#define CARD_BG_ALPHA 0.6
#define NAME_RGB 0xFFFFFFu
#define PRICE_RGB 0xFFC24Bu /* warm gold: reads as "price", distinct from the accent */
#define STOCK_RGB 0xFFFFFFu
#define SOLD_OUT_RGB 0xE53935u /* red badge */
#define DIM_RGB 0x9E9E9Eu      /* the price of something you cannot buy */

PangoLayout *overlay_card_line_layout(PangoContext *ctx, const overlay_geom_t *g,
                                      overlay_card_line_t which, const char *text) {
  char *clean = overlay_text_sanitize(text);
  if (clean == NULL || g->text.width <= 0) {
    g_free(clean);
    return NULL;
  }
  gboolean name = which == OVERLAY_CARD_TITLE;
  PangoLayout *layout =
      name ? overlay_text_line_new(ctx, clean, g->name_px, OVERLAY_TEXT_BOLD, g->text.width)
           : overlay_text_line_new(ctx, clean, g->price_px,
                                   OVERLAY_TEXT_BOLD | OVERLAY_TEXT_KEEP_PRICE, g->text.width);
  g_free(clean);
  return layout;
}

static void draw_thumb(cairo_t *cr, const overlay_geom_t *g, cairo_surface_t *thumb,
                       gboolean sold_out) {
  const overlay_rect_t *t = &g->thumb;
  cairo_save(cr);
  cairo_new_path(cr);
  double r = g->radius / 2.0;
  cairo_arc(cr, t->x + r, t->y + r, r, G_PI, 3 * G_PI / 2);
  cairo_arc(cr, t->x + t->width - r, t->y + r, r, -G_PI / 2, 0);
  cairo_arc(cr, t->x + t->width - r, t->y + t->height - r, r, 0, G_PI / 2);
  cairo_arc(cr, t->x + r, t->y + t->height - r, r, G_PI / 2, G_PI);
  cairo_close_path(cr);
  cairo_clip(cr);
  cairo_set_source_surface(cr, thumb, t->x, t->y);
  cairo_paint(cr);
  if (sold_out) { /* a grey veil: the picture says "gone" before the text does */
    overlay_set_source(cr, 0x000000, 0.55);
    cairo_paint(cr);
  }
  cairo_restore(cr);
}

/* The stock line: "剩 N 份 · 已售 M", or the badge and "已售 M". */
static void draw_stock(cairo_t *cr, PangoContext *ctx, const overlay_geom_t *g,
                       const overlay_state_t *st, double x, double y, int width) {
  double bottom = g->text.y + g->text.height;
  gboolean sold_out = st->product.stock == 0;
  char *text = sold_out || st->product.stock < 0
                   ? g_strdup_printf("已售 %" G_GINT64_FORMAT, MAX(st->product.sold, 0))
                   : g_strdup_printf("剩 %" G_GINT64_FORMAT " 份 · 已售 %" G_GINT64_FORMAT,
                                     st->product.stock, MAX(st->product.sold, 0));
  if (sold_out && y + g->stock_px + g->line_gap <= bottom) {
    PangoLayout *badge =
        overlay_text_line_new(ctx, "已售罄", g->stock_px, OVERLAY_TEXT_BOLD, width);
    PangoRectangle lr = {0};
    if (badge != NULL) {
      pango_layout_get_pixel_extents(badge, NULL, &lr);
      double bw = lr.width + g->pad, bh = lr.height + g->line_gap;
      overlay_panel(cr, x, y, bw, bh, bh / 4, FALSE, SOLD_OUT_RGB, 1.0);
      overlay_show(cr, badge, x + g->pad / 2.0, y + g->line_gap / 2.0, y + bh, 0xFFFFFF, 1.0);
      g_object_unref(badge);
      x += bw + g->pad / 2.0;
      width -= (int)(bw + g->pad / 2.0);
    }
  }
  PangoLayout *l = width > 0 ? overlay_text_line_new(ctx, text, g->stock_px, 0, width) : NULL;
  overlay_show(cr, l, x, y + (sold_out ? g->line_gap / 2.0 : 0), bottom, STOCK_RGB, 0.85);
  if (l != NULL)
    g_object_unref(l);
  g_free(text);
}

static void draw_text(cairo_t *cr, PangoContext *ctx, const overlay_geom_t *g,
                      const overlay_state_t *st, int x, int width) {
  gboolean sold_out = st->product.stock == 0;
  char *price_text = overlay_format_price(st->product.price_cents, st->product.unit);
  char *name = overlay_text_sanitize(st->product.name);
  PangoLayout *name_l =
      name ? overlay_text_line_new(ctx, name, g->name_px, OVERLAY_TEXT_BOLD, width) : NULL;
  PangoLayout *price_l =
      price_text ? overlay_text_line_new(ctx, price_text, g->price_px,
                                         OVERLAY_TEXT_BOLD | OVERLAY_TEXT_KEEP_PRICE, width)
                 : NULL;

  cairo_save(cr);
  cairo_rectangle(cr, x, g->text.y, width, g->text.height);
  cairo_clip(cr);
  double y = g->text.y, bottom = g->text.y + g->text.height;
  y += overlay_show(cr, name_l, x, y, bottom, NAME_RGB, 1.0);
  y += overlay_show(cr, price_l, x, y, bottom, sold_out ? DIM_RGB : PRICE_RGB, 1.0);
  int stock_h = g->stock_px * 3 / 2 + g->line_gap;
  draw_stock(cr, ctx, g, st, x, MAX(y, g->text.y + g->text.height - stock_h), width);
  cairo_restore(cr);
  if (name_l)
    g_object_unref(name_l);
  if (price_l)
    g_object_unref(price_l);
  g_free(name);
  g_free(price_text);
}

void overlay_card_draw(cairo_t *cr, PangoContext *ctx, const overlay_geom_t *g,
                       const overlay_state_t *st, cairo_surface_t *thumb) {
  const overlay_layout_t *b = &g->box;
  gboolean sold_out = st->product.stock == 0;

  overlay_panel(cr, 0, 0, b->width, b->height, g->radius, TRUE, CARD_BG_RGB, CARD_BG_ALPHA);
  overlay_accent(cr, 0, 0, b->accent_width, b->accent_height);
  int x = g->text.x, width = g->text.width;
  if (thumb != NULL && g->thumb.width > 0) {
    draw_thumb(cr, g, thumb, sold_out);
    x = g->thumb.x + g->thumb.width + g->pad;
    width = MAX(g->text.x + g->text.width - x, 0);
  }
  if (width > 0)
    draw_text(cr, ctx, g, st, x, width);
}
