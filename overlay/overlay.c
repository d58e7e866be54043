/* overlay.c — the overlay's life, rasterizing boxes, and the swap.
 *
 * The control loop draws each box (for now only the card) with cairo straight
 * into a GstBuffer of its own size, wraps the buffers as rectangles of a new
 * GstVideoOverlayComposition and publishes it. Streaming threads only take a
 * reference to what is published. Published compositions are never modified.
 */
#include <string.h>

#include "overlay/overlay_priv.h"

GST_DEBUG_CATEGORY_STATIC(overlay_debug);
#define GST_CAT_DEFAULT overlay_debug

struct overlay {
  overlay_geom_t geom;
  PangoContext *pango; /* control loop only: pango is not thread-safe */
  guint64 renders;     /* control loop only */

  /* The one thing streaming threads touch. The lock is held for a pointer
   * swap or a refcount increment, never across a render or an unref that
   * could free pixels, so a blend never waits behind a render. */
  GMutex lock;
  GstVideoOverlayComposition *current;
};

/* Draws one box into a cairo context sized and positioned for that box. */
typedef void (*box_draw_fn)(overlay_t *ov, cairo_t *cr, const void *data);

GQuark overlay_error_quark(void) {
  return g_quark_from_static_string("tourcast-overlay-error-quark");
}

static void init_debug(void) {
  static gsize once = 0;

  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(overlay_debug, "tourcast-overlay", 0, "tourcast overlay rendering");
    g_once_init_leave(&once, 1);
  }
}

/* Loading fontconfig's configuration and the CJK font takes tens of
 * milliseconds the first time; pay it when the overlay is made, at startup,
 * rather than in the middle of a show when the first product is pinned. */
static void warm_fonts(overlay_t *ov) {
  overlay_card_t sample = {"直播", "¥0123456789"};
  PangoLayout *lines[2] = {
      overlay_card_line_layout(ov->pango, &ov->geom, OVERLAY_CARD_TITLE, sample.title),
      overlay_card_line_layout(ov->pango, &ov->geom, OVERLAY_CARD_PRODUCT, sample.product_line),
  };
  for (int i = 0; i < 2; i++)
    if (lines[i] != NULL)
      g_object_unref(lines[i]);
}

overlay_t *overlay_new(int width, int height) {
  g_return_val_if_fail(width >= OVERLAY_MIN_DIM && width <= OVERLAY_MAX_DIM, NULL);
  g_return_val_if_fail(height >= OVERLAY_MIN_DIM && height <= OVERLAY_MAX_DIM, NULL);
  init_debug();

  overlay_t *ov = g_new0(overlay_t, 1);
  overlay_geom_for(width, height, &ov->geom);
  ov->pango = overlay_text_context_new();
  g_mutex_init(&ov->lock);
  warm_fonts(ov);
  GST_DEBUG("overlay %dx%d %s, card %dx%d at %d,%d", width, height,
            ov->geom.orientation == OVERLAY_PORTRAIT ? "portrait" : "landscape",
            ov->geom.card.width, ov->geom.card.height, ov->geom.card.x, ov->geom.card.y);
  return ov;
}

void overlay_free(overlay_t *ov) {
  if (ov == NULL)
    return;
  /* Streaming threads keep their own references; only ours goes here. */
  if (ov->current != NULL)
    gst_video_overlay_composition_unref(ov->current);
  g_mutex_clear(&ov->lock);
  g_object_unref(ov->pango);
  g_free(ov);
}

/* Rasterizes one box into a new BGRA buffer (cairo's premultiplied ARGB32 on
 * little-endian) and wraps it as a rectangle drawn 1:1 at `where`. */
static GstVideoOverlayRectangle *render_box(overlay_t *ov, const overlay_rect_t *where,
                                            box_draw_fn draw, const void *data, GError **err) {
  int stride = cairo_format_stride_for_width(CAIRO_FORMAT_ARGB32, where->width);
  /* Rectangles are read with GStreamer's default BGRA stride, width * 4;
   * cairo's ARGB32 stride is the same, but never blend a skewed image. */
  if (stride != where->width * 4) {
    g_set_error(err, OVERLAY_ERROR, OVERLAY_ERROR_RENDER, "unexpected cairo stride %d for width %d",
                stride, where->width);
    return NULL;
  }

  gsize size = (gsize)stride * (gsize)where->height;
  GstAllocationParams params;
  gst_allocation_params_init(&params);
  params.align = 15; /* pixman likes 16-byte rows; cairo needs at least 4 */
  GstBuffer *buf = gst_buffer_new_allocate(NULL, size, &params);
  GstMapInfo map;
  if (buf == NULL || !gst_buffer_map(buf, &map, GST_MAP_WRITE)) {
    g_set_error(err, OVERLAY_ERROR, OVERLAY_ERROR_RENDER, "cannot allocate a %dx%d box",
                where->width, where->height);
    if (buf != NULL)
      gst_buffer_unref(buf);
    return NULL;
  }

  memset(map.data, 0, size); /* transparent wherever the box does not draw */
  cairo_surface_t *surface = cairo_image_surface_create_for_data(
      map.data, CAIRO_FORMAT_ARGB32, where->width, where->height, stride);
  cairo_t *cr = cairo_create(surface);
  draw(ov, cr, data);
  cairo_status_t status = cairo_status(cr);
  cairo_destroy(cr);
  cairo_surface_finish(surface); /* every pixel written before the unmap */
  cairo_surface_destroy(surface);
  gst_buffer_unmap(buf, &map);

  if (status != CAIRO_STATUS_SUCCESS) {
    g_set_error(err, OVERLAY_ERROR, OVERLAY_ERROR_RENDER, "cairo: %s",
                cairo_status_to_string(status));
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
  if (rect == NULL)
    g_set_error(err, OVERLAY_ERROR, OVERLAY_ERROR_RENDER, "cannot wrap a %dx%d box", where->width,
                where->height);
  return rect;
}

static void draw_card(overlay_t *ov, cairo_t *cr, const void *data) {
  overlay_card_draw(cr, ov->pango, &ov->geom, data);
}

/* Makes `comp` (ownership taken; NULL hides) what streaming threads get. */
static void publish(overlay_t *ov, GstVideoOverlayComposition *comp) {
  g_mutex_lock(&ov->lock);
  GstVideoOverlayComposition *old = ov->current;
  ov->current = comp;
  g_mutex_unlock(&ov->lock);

  /* Outside the lock: if no blend still holds it, this frees its pixels. */
  if (old != NULL)
    gst_video_overlay_composition_unref(old);
}

gboolean overlay_render(overlay_t *ov, const overlay_card_t *card, GError **err) {
  g_return_val_if_fail(ov != NULL, FALSE);
  g_return_val_if_fail(card != NULL, FALSE);
  g_return_val_if_fail(err == NULL || *err == NULL, FALSE);

  gint64 t0 = g_get_monotonic_time();
  const overlay_layout_t *c = &ov->geom.card;
  overlay_rect_t where = {c->x, c->y, c->width, c->height};
  GstVideoOverlayRectangle *rect = render_box(ov, &where, draw_card, card, err);
  if (rect == NULL) {
    GST_WARNING("render failed: %s", err && *err ? (*err)->message : "?");
    return FALSE;
  }

  GstVideoOverlayComposition *comp = gst_video_overlay_composition_new(rect);
  gst_video_overlay_rectangle_unref(rect);
  overlay_blend_prepare(comp);
  publish(ov, comp);
  ov->renders++;
  GST_LOG("render %" G_GUINT64_FORMAT " took %" G_GINT64_FORMAT " us", ov->renders,
          g_get_monotonic_time() - t0);
  return TRUE;
}

void overlay_clear(overlay_t *ov) {
  g_return_if_fail(ov != NULL);
  publish(ov, NULL);
}

GstVideoOverlayComposition *overlay_ref_current(overlay_t *ov) {
  GstVideoOverlayComposition *comp = NULL;

  g_return_val_if_fail(ov != NULL, NULL);
  g_mutex_lock(&ov->lock);
  /* The ref must happen under the lock: a publish in between could drop
   * the last reference to the pointer we just read. */
  if (ov->current != NULL)
    comp = gst_video_overlay_composition_ref(ov->current);
  g_mutex_unlock(&ov->lock);
  return comp;
}

guint64 overlay_render_count(const overlay_t *ov) {
  g_return_val_if_fail(ov != NULL, 0);
  return ov->renders;
}
