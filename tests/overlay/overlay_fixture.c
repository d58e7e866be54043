/* overlay_fixture.c — see overlay_fixture.h. */
#include <string.h>

#include "tests/overlay/overlay_fixture.h"

void fixture_full_state(overlay_state_t *st) {
  static const overlay_ticker_entry_t orders[] = {
      {101, "王小明", "阳山水蜜桃", 2}, {102, "李华", "阳山水蜜桃", 1},
      {103, "张伟", "无花果礼盒装", 3}, {104, "Alice", "阳山水蜜桃", 5},
      {105, "陈静", "阳山水蜜桃", 1},
  };
  memset(st, 0, sizeof *st);
  st->title = "阳山水蜜桃果园直播";
  st->promise = "坏果包赔 · 次日自提";
  st->qr_text = "http://192.168.1.20:8080/";
  st->version = 7;
  st->product.shown = TRUE;
  st->product.id = 1;
  st->product.name = "阳山水蜜桃";
  st->product.price_cents = 1280;
  st->product.unit = "斤";
  st->product.stock = 100;
  st->product.sold = 23;
  memcpy(st->ticker, orders, sizeof orders);
  st->n_ticker = G_N_ELEMENTS(orders);
  st->question.shown = TRUE;
  st->question.id = 9;
  st->question.name = "刘阿姨";
  st->question.text = "桃子甜不甜？能放几天？";
  st->question.answer = "今天早上现摘的，常温放三天没问题";
}

GstVideoOverlayComposition *fixture_render(int width, int height, const overlay_state_t *st) {
  overlay_t *ov = overlay_new(width, height);
  overlay_set_animate(ov, FALSE);
  overlay_update(ov, st);
  overlay_flush(ov);
  guint64 version = 0;
  GstVideoOverlayComposition *comp = overlay_ref_current_versioned(ov, &version);
  g_assert_cmpuint(version, ==, st->version);
  overlay_free(ov);
  return comp;
}

cairo_surface_t *fixture_flatten(GstVideoOverlayComposition *comp, int width, int height) {
  cairo_surface_t *frame = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
  cairo_t *cr = cairo_create(frame);
  guint n = comp ? gst_video_overlay_composition_n_rectangles(comp) : 0;

  for (guint i = 0; i < n; i++) {
    GstVideoOverlayRectangle *r = gst_video_overlay_composition_get_rectangle(comp, i);
    gint x, y;
    g_assert_true(gst_video_overlay_rectangle_get_render_rectangle(r, &x, &y, NULL, NULL));
    GstBuffer *pix = gst_video_overlay_rectangle_get_pixels_unscaled_argb(
        r, GST_VIDEO_OVERLAY_FORMAT_FLAG_PREMULTIPLIED_ALPHA);
    GstVideoMeta *meta = gst_buffer_get_video_meta(pix);
    GstMapInfo map;
    g_assert_true(gst_buffer_map(pix, &map, GST_MAP_READ));
    cairo_surface_t *box = cairo_image_surface_create_for_data(
        map.data, CAIRO_FORMAT_ARGB32, (int)meta->width, (int)meta->height, meta->stride[0]);
    cairo_set_source_surface(cr, box, x, y);
    cairo_paint(cr);
    cairo_surface_destroy(box);
    gst_buffer_unmap(pix, &map);
  }
  cairo_destroy(cr);
  cairo_surface_flush(frame);
  return frame;
}

void fixture_write_picture(const char *path) {
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 400, 300);
  cairo_t *cr = cairo_create(s);
  cairo_set_source_rgb(cr, 0.55, 0.8, 0.95);
  cairo_paint(cr);
  cairo_set_source_rgb(cr, 0.3, 0.6, 0.25);
  cairo_rectangle(cr, 0, 200, 400, 100);
  cairo_fill(cr);
  cairo_set_source_rgb(cr, 1.0, 0.6, 0.55);
  cairo_arc(cr, 200, 170, 90, 0, 2 * G_PI);
  cairo_fill(cr);
  cairo_destroy(cr);
  g_assert_cmpint(cairo_surface_write_to_png(s, path), ==, CAIRO_STATUS_SUCCESS);
  cairo_surface_destroy(s);
}

void i420_init(i420_t *f, int w, int h, guint8 y, guint8 u, guint8 v) {
  const guint8 fill[3] = {y, u, v};

  gst_video_info_set_format(&f->info, GST_VIDEO_FORMAT_I420, (guint)w, (guint)h);
  f->buf = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(&f->info), NULL);
  g_assert_true(gst_video_frame_map(&f->frame, &f->info, f->buf, GST_MAP_READWRITE));
  for (guint p = 0; p < 3; p++) {
    guint8 *data = GST_VIDEO_FRAME_PLANE_DATA(&f->frame, p);
    int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&f->frame, p);
    int rows = GST_VIDEO_FRAME_COMP_HEIGHT(&f->frame, p);
    memset(data, fill[p], (gsize)stride * (gsize)rows);
  }
}

void i420_clear(i420_t *f) {
  gst_video_frame_unmap(&f->frame);
  gst_buffer_unref(f->buf);
}

guint8 i420_at(i420_t *f, guint p, int x, int y) {
  const guint8 *data = GST_VIDEO_FRAME_PLANE_DATA(&f->frame, p);
  int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&f->frame, p);
  return p == 0 ? data[y * stride + x] : data[(y / 2) * stride + x / 2];
}

guint32 surface_at(cairo_surface_t *s, int x, int y) {
  const guint8 *d = cairo_image_surface_get_data(s);
  return *(const guint32 *)(d + (gsize)y * cairo_image_surface_get_stride(s) + (gsize)x * 4);
}
