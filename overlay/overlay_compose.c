/* overlay_compose.c — from a state to a composition, drawing only what changed.
 *
 * Each box (title, question, QR, card, and each ticker row) is rasterized
 * with cairo into a GstBuffer of its own size and wrapped as a rectangle.
 * A box remembers the key of the inputs it was drawn from (its texts,
 * numbers, image file stamp); while the key is unchanged its rectangle is
 * reused as is, so a stock change redraws the card alone and the blend
 * conversion of the other boxes (cached on their pixels) is reused too.
 *
 * The ticker slides: a row is drawn once per order and moved, never redrawn.
 * When new orders arrive, the older rows move down one slot while the new
 * ones come in from the frame's left edge, over ANIM_FRAMES compositions
 * that differ only in rectangle positions (no cairo, no conversion: tens of
 * microseconds each). Runs on the render thread only.
 */
#include <string.h>

#include "overlay/overlay_compose.h"

GST_DEBUG_CATEGORY_EXTERN(overlay_debug);
#define GST_CAT_DEFAULT overlay_debug

typedef struct {
  char *key;                      /* NULL: hidden */
  GstVideoOverlayRectangle *rect; /* NULL when hidden or nothing drawn */
} box_t;

struct overlay_compose {
  overlay_geom_t geom;
  PangoContext *pango;
  overlay_image_cache_t *images;
  box_t title, question, qr, card;
  box_t rows[OVERLAY_TICKER_MAX]; /* newest first */
  int n_rows;
  guint64 max_seq; /* newest order seen: rows above it are new */
  int anim_new;    /* rows sliding in; 0: no animation */
  int anim_frame;  /* 1..ANIM_FRAMES while animating */
  guint64 box_renders;
};

/* Draws a box; FALSE when it turned out to have nothing to show. */
typedef gboolean (*box_draw_fn)(overlay_compose_t *c, cairo_t *cr, const overlay_state_t *st,
                                const void *extra);

overlay_compose_t *overlay_compose_new(int width, int height) {
  overlay_compose_t *c = g_new0(overlay_compose_t, 1);
  overlay_geom_for(width, height, &c->geom);
  c->pango = overlay_text_context_new();
  c->images = overlay_image_cache_new();
  return c;
}

static void box_clear(box_t *b) {
  g_clear_pointer(&b->key, g_free);
  g_clear_pointer(&b->rect, gst_video_overlay_rectangle_unref);
}

void overlay_compose_free(overlay_compose_t *c) {
  if (c == NULL)
    return;
  box_t *boxes[] = {&c->title, &c->question, &c->qr, &c->card};
  for (gsize i = 0; i < G_N_ELEMENTS(boxes); i++)
    box_clear(boxes[i]);
  for (int i = 0; i < OVERLAY_TICKER_MAX; i++)
    box_clear(&c->rows[i]);
  overlay_image_cache_free(c->images);
  g_object_unref(c->pango);
  g_free(c);
}

const overlay_geom_t *overlay_compose_geom(const overlay_compose_t *c) {
  return &c->geom;
}

PangoContext *overlay_compose_pango(overlay_compose_t *c) {
  return c->pango;
}

guint64 overlay_compose_box_renders(const overlay_compose_t *c) {
  return c->box_renders;
}

/* Rasterizes one box into a new BGRA buffer (cairo's premultiplied ARGB32 on
 * little-endian) and wraps it as a rectangle drawn 1:1 at `where`. NULL when
 * the box has nothing to show or cairo failed (logged: a broken box is
 * hidden, the others still go out). */
static GstVideoOverlayRectangle *render_box(overlay_compose_t *c, const overlay_rect_t *where,
                                            box_draw_fn draw, const overlay_state_t *st,
                                            const void *extra) {
  int stride = cairo_format_stride_for_width(CAIRO_FORMAT_ARGB32, where->width);
  /* Rectangles are read with GStreamer's default BGRA stride, width * 4. */
  if (stride != where->width * 4 || where->width <= 0 || where->height <= 0)
    return NULL;
  gsize size = (gsize)stride * (gsize)where->height;
  /* Recycled memory (overlay_mem.c): the box's last pixels of this size. */
  gpointer mem = overlay_mem_take(size);
  GstBuffer *buf =
      gst_buffer_new_wrapped_full(0, mem, size, 0, size, mem, (GDestroyNotify)overlay_mem_give);
  GstMapInfo map;
  if (!gst_buffer_map(buf, &map, GST_MAP_WRITE)) {
    GST_WARNING("cannot map a %dx%d box", where->width, where->height);
    gst_buffer_unref(buf);
    return NULL;
  }
  memset(map.data, 0, size); /* transparent wherever the box does not draw */
  cairo_surface_t *surface = cairo_image_surface_create_for_data(
      map.data, CAIRO_FORMAT_ARGB32, where->width, where->height, stride);
  cairo_t *cr = cairo_create(surface);
  gboolean drawn = draw(c, cr, st, extra);
  cairo_status_t status = cairo_status(cr);
  cairo_destroy(cr);
  cairo_surface_finish(surface); /* every pixel written before the unmap */
  cairo_surface_destroy(surface);
  gst_buffer_unmap(buf, &map);
  c->box_renders++;
  if (!drawn || status != CAIRO_STATUS_SUCCESS) {
    if (status != CAIRO_STATUS_SUCCESS)
      GST_WARNING("cairo: %s", cairo_status_to_string(status));
    gst_buffer_unref(buf);
    return NULL;
  }
  gst_buffer_add_video_meta(buf, GST_VIDEO_FRAME_FLAG_NONE,
                            GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB, (guint)where->width,
                            (guint)where->height);
  GstVideoOverlayRectangle *rect = gst_video_overlay_rectangle_new_raw(
      buf, where->x, where->y, (guint)where->width, (guint)where->height,
      GST_VIDEO_OVERLAY_FORMAT_FLAG_PREMULTIPLIED_ALPHA);
  gst_buffer_unref(buf); /* the rectangle holds its own reference */
  return rect;
}

/* Redraws `b` if `key` (taken; NULL hides the box) differs from its own. */
static void box_update(overlay_compose_t *c, box_t *b, char *key, const overlay_rect_t *where,
                       box_draw_fn draw, const overlay_state_t *st, const void *extra) {
  if (g_strcmp0(key, b->key) == 0) {
    g_free(key);
    return;
  }
  box_clear(b);
  b->key = key;
  if (key != NULL)
    b->rect = render_box(c, where, draw, st, extra);
}

static gboolean draw_title(overlay_compose_t *c, cairo_t *cr, const overlay_state_t *st,
                           const void *extra) {
  overlay_title_draw(cr, c->pango, &c->geom, st);
  return TRUE;
}

static gboolean draw_question(overlay_compose_t *c, cairo_t *cr, const overlay_state_t *st,
                              const void *extra) {
  overlay_question_draw(cr, c->pango, &c->geom, st);
  return TRUE;
}

static gboolean draw_qr(overlay_compose_t *c, cairo_t *cr, const overlay_state_t *st,
                        const void *extra) {
  return overlay_qr_draw(cr, c->pango, &c->geom, st->qr_text);
}

static gboolean draw_card(overlay_compose_t *c, cairo_t *cr, const overlay_state_t *st,
                          const void *extra) {
  overlay_card_draw(cr, c->pango, &c->geom, st, (cairo_surface_t *)extra);
  return TRUE;
}

static gboolean draw_row(overlay_compose_t *c, cairo_t *cr, const overlay_state_t *st,
                         const void *extra) {
  overlay_ticker_row_draw(cr, c->pango, &c->geom, extra);
  return TRUE;
}

static gboolean has_text(const char *s) {
  return s != NULL && s[0] != '\0';
}

/* Keys: every input a box's pixels depend on, separated by \x1F (which
 * sanitizing would turn into a space, so it cannot come from a field). */
static void update_boxes(overlay_compose_t *c, const overlay_state_t *st) {
  const overlay_layout_t *b = &c->geom.box;
  char *key =
      has_text(st->title) || has_text(st->promise)
          ? g_strdup_printf("%s\x1F%s", st->title ? st->title : "", st->promise ? st->promise : "")
          : NULL;
  box_update(c, &c->title, key, &b->title, draw_title, st, NULL);

  key = st->question.shown
            ? g_strdup_printf("%s\x1F%s\x1F%s", st->question.name ? st->question.name : "",
                              st->question.text ? st->question.text : "",
                              st->question.answer ? st->question.answer : "")
            : NULL;
  box_update(c, &c->question, key, &b->question, draw_question, st, NULL);

  key = has_text(st->qr_text) ? g_strdup(st->qr_text) : NULL;
  box_update(c, &c->qr, key, &b->qr, draw_qr, st, NULL);

  char *stamp = NULL;
  cairo_surface_t *thumb = NULL;
  if (st->product.shown)
    thumb = overlay_image_get(c->images, st->product.image_path, c->geom.thumb.width, &stamp);
  key = st->product.shown
            ? g_strdup_printf("%s\x1F%" G_GINT64_FORMAT "\x1F%s\x1F%" G_GINT64_FORMAT
                              "\x1F%" G_GINT64_FORMAT "\x1F%s",
                              st->product.name ? st->product.name : "", st->product.price_cents,
                              st->product.unit ? st->product.unit : "", st->product.stock,
                              st->product.sold, stamp ? stamp : "")
            : NULL;
  overlay_rect_t card = {b->x, b->y, b->width, b->height};
  box_update(c, &c->card, key, &card, draw_card, st, thumb);
  g_free(stamp);
}

/* Rows newest first; each reused from the last state if its order and text
 * are the same. Returns how many rows are new (for the slide). */
static int update_rows(overlay_compose_t *c, const overlay_state_t *st) {
  box_t rows[OVERLAY_TICKER_MAX] = {{0}};
  int n = CLAMP(st->n_ticker, 0, OVERLAY_TICKER_MAX), fresh = 0;
  guint64 max_seq = c->max_seq;
  const overlay_rect_t *t = &c->geom.box.ticker;
  overlay_rect_t where = {t->x, t->y, t->width, c->geom.row_h};

  for (int i = 0; i < n; i++) {
    const overlay_ticker_entry_t *e = &st->ticker[n - 1 - i];
    char *key = g_strdup_printf("%" G_GUINT64_FORMAT "\x1F%s\x1F%s\x1F%" G_GINT64_FORMAT, e->seq,
                                e->name ? e->name : "", e->product ? e->product : "", e->qty);
    for (int j = 0; j < c->n_rows && rows[i].key == NULL; j++)
      if (g_strcmp0(c->rows[j].key, key) == 0) {
        rows[i] = c->rows[j];
        c->rows[j] = (box_t){0};
      }
    if (rows[i].key == NULL)
      box_update(c, &rows[i], g_strdup(key), &where, draw_row, st, e);
    g_free(key);
    if (e->seq > c->max_seq && i == fresh)
      fresh++; /* only a run of new rows at the top slides in */
    max_seq = MAX(max_seq, e->seq);
  }
  for (int j = 0; j < c->n_rows; j++)
    box_clear(&c->rows[j]);
  memcpy(c->rows, rows, sizeof rows);
  c->n_rows = n;
  c->max_seq = max_seq;
  return fresh;
}

/* `r` drawn at x, y: itself if it is already there, else a copy sharing its
 * pixels (and their cached blend conversion). New reference. */
static GstVideoOverlayRectangle *placed(GstVideoOverlayRectangle *r, int x, int y) {
  gint rx, ry;
  guint rw, rh;
  gst_video_overlay_rectangle_get_render_rectangle(r, &rx, &ry, &rw, &rh);
  if (rx == x && ry == y)
    return gst_video_overlay_rectangle_ref(r);
  GstVideoOverlayRectangle *copy = gst_video_overlay_rectangle_copy(r);
  gst_video_overlay_rectangle_set_render_rectangle(copy, x, y, rw, rh);
  return copy;
}

static void add(GstVideoOverlayComposition **comp, GstVideoOverlayRectangle *r) {
  if (r == NULL)
    return;
  if (*comp == NULL)
    *comp = gst_video_overlay_composition_new(r);
  else
    gst_video_overlay_composition_add_rectangle(*comp, r);
  gst_video_overlay_rectangle_unref(r);
}

/* Position of ticker row `i` at animation progress `e` (0 start, 1 end). */
static void row_position(const overlay_compose_t *c, int i, double e, int *x, int *y) {
  const overlay_geom_t *g = &c->geom;
  int step = g->row_h + g->row_gap;
  *x = g->box.ticker.x;
  *y = g->box.ticker.y + i * step;
  if (i < c->anim_new) /* in from the frame's left edge */
    *x = 2 * (int)((g->box.ticker.x - (1.0 - e) * (g->box.ticker.x + g->box.ticker.width)) / 2);
  else /* down from where it was */
    *y -= 2 * (int)((1.0 - e) * c->anim_new * step / 2);
}

/* Rows that no longer fit the box (a tiny frame) are left out. */
static GstVideoOverlayComposition *build(overlay_compose_t *c, double e) {
  GstVideoOverlayComposition *comp = NULL;
  const overlay_rect_t *t = &c->geom.box.ticker;

  if (c->title.rect)
    add(&comp, gst_video_overlay_rectangle_ref(c->title.rect));
  if (c->question.rect)
    add(&comp, gst_video_overlay_rectangle_ref(c->question.rect));
  for (int i = 0; i < c->n_rows; i++) {
    int x, y;
    row_position(c, i, e, &x, &y);
    if (c->rows[i].rect && i * (c->geom.row_h + c->geom.row_gap) + c->geom.row_h <= t->height)
      add(&comp, placed(c->rows[i].rect, x, y));
  }
  if (c->qr.rect)
    add(&comp, gst_video_overlay_rectangle_ref(c->qr.rect));
  if (c->card.rect)
    add(&comp, gst_video_overlay_rectangle_ref(c->card.rect));
  if (comp != NULL)
    overlay_blend_prepare(comp);
  return comp;
}

static double ease_out(int frame) {
  double p = (double)frame / OVERLAY_ANIM_FRAMES;
  return 1.0 - (1.0 - p) * (1.0 - p);
}

GstVideoOverlayComposition *overlay_compose_state(overlay_compose_t *c, const overlay_state_t *st,
                                                  gboolean animate) {
  update_boxes(c, st);
  int fresh = update_rows(c, st);
  c->anim_new = animate ? fresh : 0;
  c->anim_frame = c->anim_new > 0 ? 1 : 0;
  return build(c, c->anim_frame ? ease_out(c->anim_frame) : 1.0);
}

gboolean overlay_compose_animating(const overlay_compose_t *c) {
  return c->anim_frame > 0;
}

GstVideoOverlayComposition *overlay_compose_step(overlay_compose_t *c) {
  g_return_val_if_fail(c->anim_frame > 0, NULL);
  if (++c->anim_frame >= OVERLAY_ANIM_FRAMES) {
    c->anim_frame = 0;
    c->anim_new = 0;
    return build(c, 1.0);
  }
  return build(c, ease_out(c->anim_frame));
}
