/* overlay_boxes.c — the text boxes: show title with promise, highlighted
 * question, ticker rows; and the drawing helpers every box shares.
 *
 * Each function draws one box into a box-sized cairo context prepared by
 * overlay_compose.c and knows nothing of GStreamer. Every box clips to its
 * own rectangle: whatever a font does with hostile text, no pixel leaves it.
 */
#include <string.h>

#include "overlay/overlay_priv.h"

#define PANEL_RGB 0x000000u
#define PANEL_ALPHA 0.6
#define WHITE 0xFFFFFFu
#define GOLD 0xFFC24Bu   /* prices and promises: distinct from the accent */
#define ANSWER 0x8CE99Au /* the leader's answer: a calm green */

void overlay_set_source(cairo_t *cr, guint32 rgb, double alpha) {
  cairo_set_source_rgba(cr, ((rgb >> 16) & 0xFF) / 255.0, ((rgb >> 8) & 0xFF) / 255.0,
                        (rgb & 0xFF) / 255.0, alpha);
}

void overlay_panel(cairo_t *cr, double x, double y, double w, double h, double r,
                   gboolean square_left, guint32 rgb, double alpha) {
  r = MIN(r, MIN(w, h) / 2);
  cairo_new_path(cr);
  if (square_left) {
    cairo_move_to(cr, x, y);
  } else {
    cairo_arc(cr, x + r, y + r, r, G_PI, 3 * G_PI / 2);
  }
  cairo_arc(cr, x + w - r, y + r, r, -G_PI / 2, 0);
  cairo_arc(cr, x + w - r, y + h - r, r, 0, G_PI / 2);
  if (square_left)
    cairo_line_to(cr, x, y + h);
  else
    cairo_arc(cr, x + r, y + h - r, r, G_PI / 2, G_PI);
  cairo_close_path(cr);
  overlay_set_source(cr, rgb, alpha);
  cairo_fill(cr);
}

void overlay_accent(cairo_t *cr, int x, int y, int w, int h) {
  cairo_save(cr);
  cairo_set_operator(cr, CAIRO_OPERATOR_SOURCE);
  cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
  cairo_rectangle(cr, x, y, w, h);
  overlay_set_source(cr, OVERLAY_ACCENT_RGB, 1.0);
  cairo_fill(cr);
  cairo_restore(cr);
}

int overlay_show(cairo_t *cr, PangoLayout *layout, double x, double y, double bottom, guint32 rgb,
                 double alpha) {
  PangoRectangle logical;

  if (layout == NULL)
    return 0;
  /* A block that is too tall loses whole lines at its end (pango then
   * ellipsizes the last one kept); a line that does not fit is left out
   * rather than shown cut through its glyphs. */
  if (pango_layout_get_line_count(layout) > 1) {
    pango_layout_get_pixel_extents(layout, NULL, &logical);
    if (y + logical.height > bottom)
      pango_layout_set_height(layout, (int)MAX(bottom - y, 0) * PANGO_SCALE);
  }
  pango_layout_get_pixel_extents(layout, NULL, &logical);
  if (y + logical.height > bottom + 0.5)
    return 0;
  overlay_set_source(cr, rgb, alpha);
  cairo_move_to(cr, x, y);
  pango_cairo_show_layout(cr, layout);
  return logical.height;
}

static PangoLayout *line(PangoContext *ctx, const char *text, int px, overlay_text_flags_t f,
                         int width) {
  char *clean = overlay_text_sanitize(text);
  PangoLayout *l = clean && width > 0 ? overlay_text_line_new(ctx, clean, px, f, width) : NULL;
  g_free(clean);
  return l;
}

static PangoLayout *block(PangoContext *ctx, const char *text, int px, int width, int lines) {
  char *clean = overlay_text_sanitize(text);
  PangoLayout *l =
      clean && width > 0 ? overlay_text_block_new(ctx, clean, px, 0, width, lines) : NULL;
  g_free(clean);
  return l;
}

static int height_of(PangoLayout *l) {
  PangoRectangle logical = {0};
  if (l != NULL)
    pango_layout_get_pixel_extents(l, NULL, &logical);
  return logical.height;
}

/* Title over promise, centred as a block in the text column. */
void overlay_title_draw(cairo_t *cr, PangoContext *ctx, const overlay_geom_t *g,
                        const overlay_state_t *st) {
  const overlay_rect_t *b = &g->box.title, *t = &g->title_text;
  PangoLayout *title = line(ctx, st->title, g->title_px, OVERLAY_TEXT_BOLD, t->width);
  PangoLayout *promise = line(ctx, st->promise, g->promise_px, 0, t->width);

  overlay_panel(cr, 0, 0, b->width, b->height, g->radius, TRUE, PANEL_RGB, PANEL_ALPHA);
  overlay_accent(cr, 0, 0, g->box.title_accent.width, b->height);
  int total = height_of(title) + height_of(promise) + (title && promise ? g->line_gap : 0);
  cairo_save(cr);
  cairo_rectangle(cr, t->x, t->y, t->width, t->height);
  cairo_clip(cr);
  double y = t->y + MAX((t->height - total) / 2, 0);
  double bottom = t->y + t->height;
  y += overlay_show(cr, title, t->x, y, bottom, WHITE, 1.0) + g->line_gap;
  overlay_show(cr, promise, t->x, y, bottom, GOLD, 1.0);
  cairo_restore(cr);
  if (title)
    g_object_unref(title);
  if (promise)
    g_object_unref(promise);
}

/* "王** 问：" over the question (up to 2 lines, 3 without an answer), then
 * "答：" and the answer (up to 2 lines). */
void overlay_question_draw(cairo_t *cr, PangoContext *ctx, const overlay_geom_t *g,
                           const overlay_state_t *st) {
  const overlay_rect_t *b = &g->box.question;
  int pad = g->pad, w = b->width - 2 * pad;
  char *clean_name = overlay_text_sanitize(st->question.name);
  char *asker = g_strdup_printf("%s 问：", clean_name ? clean_name : "观众");
  char *answer_text = overlay_text_sanitize(st->question.answer);
  char *answer = answer_text ? g_strconcat("答：", answer_text, NULL) : NULL;
  PangoLayout *ask = line(ctx, asker, g->ask_px, OVERLAY_TEXT_BOLD, w);
  PangoLayout *q = block(ctx, st->question.text, g->question_px, w, answer ? 2 : 3);
  PangoLayout *a = block(ctx, answer, g->answer_px, w, 2);

  overlay_panel(cr, 0, 0, b->width, b->height, g->radius, FALSE, PANEL_RGB, PANEL_ALPHA);
  cairo_save(cr);
  cairo_rectangle(cr, pad, pad / 2, w, b->height - pad);
  cairo_clip(cr);
  double y = pad / 2, bottom = b->height - pad / 2;
  y += overlay_show(cr, ask, pad, y, bottom, GOLD, 1.0) + g->line_gap;
  y += overlay_show(cr, q, pad, y, bottom, WHITE, 1.0) + g->line_gap;
  overlay_show(cr, a, pad, y, bottom, ANSWER, 1.0);
  cairo_restore(cr);

  PangoLayout *all[3] = {ask, q, a};
  for (int i = 0; i < 3; i++)
    if (all[i] != NULL)
      g_object_unref(all[i]);
  g_free(clean_name);
  g_free(asker);
  g_free(answer_text);
  g_free(answer);
}

/* "王** 买了 2 份 水蜜桃": the product name comes last, so the ellipsis of
 * a long name never eats the quantity. */
void overlay_ticker_row_draw(cairo_t *cr, PangoContext *ctx, const overlay_geom_t *g,
                             const overlay_ticker_entry_t *e) {
  int w = g->box.ticker.width, h = g->row_h, pad = g->pad;
  char *who = overlay_mask_name(e->name);
  char *product = overlay_text_sanitize(e->product);
  char *text = g_strdup_printf("%s 买了 %" G_GINT64_FORMAT " 份 %s", who, MAX(e->qty, 0),
                               product ? product : "");
  PangoLayout *l = line(ctx, text, g->ticker_px, 0, w - 2 * pad);

  overlay_panel(cr, 0, 0, w, h, h / 2, FALSE, PANEL_RGB, 0.5);
  if (l != NULL) {
    /* The masked name in gold: the eye finds "someone bought" first. */
    PangoAttrList *attrs = pango_attr_list_new();
    PangoAttribute *a = pango_attr_foreground_new(0xFFFF, 0xC2C2, 0x4B4B);
    /* Found in the laid-out text: a character no font can draw (an emoji
     * name) may have been dropped from the front. */
    const char *shown = pango_layout_get_text(l), *stars = strstr(shown, "**");
    a->start_index = 0;
    a->end_index = stars ? (guint)(stars + 2 - shown) : 0;
    pango_attr_list_insert(attrs, a);
    pango_layout_set_attributes(l, attrs);
    pango_attr_list_unref(attrs);
    cairo_save(cr);
    cairo_rectangle(cr, pad, 0, w - 2 * pad, h);
    cairo_clip(cr);
    overlay_show(cr, l, pad, MAX((h - height_of(l)) / 2.0, 0), h, WHITE, 1.0);
    cairo_restore(cr);
    g_object_unref(l);
  }
  g_free(who);
  g_free(product);
  g_free(text);
}
