/* test_overlay_blend.c — blending compositions onto I420 as overlaycomposition
 * does: GStreamer's blend as the reference, the fast path against it, and
 * rectangles partly outside the frame. */
#include <stdlib.h>

#include "tests/overlay/overlay_fixture.h"

/* gst_video_blend converts RGB overlays with fixed BT.709 limited-range
 * coefficients whatever the frame's colorimetry, so that is what we expect. */
static void orange_yuv(double *y, double *u, double *v) {
  gdouble kr, kb;
  g_assert_true(gst_video_color_matrix_get_Kr_Kb(GST_VIDEO_COLOR_MATRIX_BT709, &kr, &kb));
  double r = ((OVERLAY_ACCENT_RGB >> 16) & 0xFF) / 255.0;
  double g = ((OVERLAY_ACCENT_RGB >> 8) & 0xFF) / 255.0;
  double b = (OVERLAY_ACCENT_RGB & 0xFF) / 255.0;
  double yy = kr * r + (1 - kr - kb) * g + kb * b;
  *y = 16 + 219 * yy;
  *u = 128 + 224 * (b - yy) / (2 * (1 - kb));
  *v = 128 + 224 * (r - yy) / (2 * (1 - kr));
}

static void assert_orange(i420_t *f, int ax, int ay, int aw, int ah) {
  double ey, eu, ev;
  orange_yuv(&ey, &eu, &ev);
  for (int y = ay; y < ay + ah; y++)
    for (int x = ax; x < ax + aw; x++) {
      g_assert_cmpfloat_with_epsilon(i420_at(f, 0, x, y), ey, 3.0);
      g_assert_cmpfloat_with_epsilon(i420_at(f, 1, x, y), eu, 3.0);
      g_assert_cmpfloat_with_epsilon(i420_at(f, 2, x, y), ev, 3.0);
    }
}

static gboolean in_any_box(const overlay_layout_t *l, int x, int y) {
  overlay_rect_t card = {l->x, l->y, l->width, l->height};
  const overlay_rect_t *all[] = {&card, &l->title, &l->ticker, &l->question, &l->qr};
  for (gsize i = 0; i < G_N_ELEMENTS(all); i++)
    if (x >= all[i]->x && x < all[i]->x + all[i]->width && y >= all[i]->y &&
        y < all[i]->y + all[i]->height)
      return TRUE;
  return FALSE;
}

static void test_blend(void) {
  overlay_layout_t l;
  overlay_layout_for(720, 1280, &l);
  overlay_state_t st;
  fixture_full_state(&st);
  GstVideoOverlayComposition *comp = fixture_render(720, 1280, &st);

  i420_t f;
  i420_init(&f, 720, 1280, 128, 128, 128);
  g_assert_true(gst_video_overlay_composition_blend(comp, &f.frame));
  assert_orange(&f, l.accent_x, l.accent_y, l.accent_width, l.accent_height);
  assert_orange(&f, l.title_accent.x, l.title_accent.y, l.title_accent.width,
                l.title_accent.height);
  /* Card panel: 60% black over mid grey, luma only (chroma stays neutral). */
  int py = i420_at(&f, 0, l.accent_x + l.accent_width + 4, l.y + 2);
  g_assert_cmpint(py, >=, 55);
  g_assert_cmpint(py, <=, 67);
  /* Nothing outside the boxes changed. */
  for (int y = 0; y < 1280; y += 2)
    for (int x = 0; x < 720; x += 2)
      if (!in_any_box(&l, x, y))
        for (guint p = 0; p < 3; p++)
          g_assert_cmpint(i420_at(&f, p, x, y), ==, 128);
  i420_clear(&f);
  gst_video_overlay_composition_unref(comp);
}

/* The fast path must give what GStreamer's blend gives (both BT.709 here),
 * over a textured frame so every alpha level meets varied pixels. */
static void test_fast_blend_matches(void) {
  overlay_state_t st;
  fixture_full_state(&st);
  GstVideoOverlayComposition *comp = fixture_render(720, 1280, &st);
  i420_t ref, fast;
  i420_init(&ref, 720, 1280, 0, 0, 0);
  g_assert_cmpint(ref.info.colorimetry.matrix, ==, GST_VIDEO_COLOR_MATRIX_BT709);
  i420_init(&fast, 720, 1280, 0, 0, 0);
  for (guint p = 0; p < 3; p++) {
    guint8 *a = GST_VIDEO_FRAME_PLANE_DATA(&ref.frame, p);
    guint8 *b = GST_VIDEO_FRAME_PLANE_DATA(&fast.frame, p);
    int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&ref.frame, p);
    gsize n = (gsize)stride * (gsize)GST_VIDEO_FRAME_COMP_HEIGHT(&ref.frame, p);
    /* A smooth gradient: GStreamer's blend resamples chroma up and down, which
     * only keeps values where neighbours are alike. */
    for (gsize i = 0; i < n; i++)
      a[i] = b[i] = (guint8)(40 + (i % (gsize)stride) / 8 + (i / (gsize)stride) / 16);
  }
  g_assert_true(gst_video_overlay_composition_blend(comp, &ref.frame));
  g_assert_true(overlay_blend(comp, &fast.frame));
  /* Luma must agree to rounding: GStreamer's blend un-premultiplies the
   * overlay and divides by 256 rather than 255, which costs it up to 3
   * levels at faint antialiased text edges and about one level under the
   * translucent panels. Chroma only on average: GStreamer keeps one
   * of every four overlay chroma samples where we average all four, so they
   * differ along text edges. Outside the boxes nothing may change. */
  overlay_layout_t l;
  overlay_layout_for(720, 1280, &l);
  int worst_luma = 0, chroma_n = 0, luma_n = 0;
  double chroma_diff = 0, luma_diff = 0;
  for (guint p = 0; p < 3; p++) {
    int w = p ? 360 : 720, h = p ? 640 : 1280;
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        int fx = p ? 2 * x : x, fy = p ? 2 * y : y;
        int d = abs(i420_at(&ref, p, fx, fy) - i420_at(&fast, p, fx, fy));
        if (!in_any_box(&l, fx, fy))
          g_assert_cmpint(d, ==, 0);
        else if (p == 0)
          worst_luma = MAX(worst_luma, d), luma_diff += d, luma_n++;
        else
          chroma_diff += d, chroma_n++;
      }
  }
  g_test_message("versus GStreamer's blend: luma differs by at most %d (%.3f on average), chroma "
                 "by %.2f on average",
                 worst_luma, luma_diff / luma_n, chroma_diff / chroma_n);
  g_assert_cmpint(worst_luma, <=, 3);
  g_assert_cmpfloat(luma_diff / luma_n, <, 1.0);
  g_assert_cmpfloat(chroma_diff / chroma_n, <, 1.5);

  /* A BT.601 frame gets BT.601 orange, which GStreamer's blend would not. */
  i420_t sd;
  i420_init(&sd, 720, 1280, 128, 128, 128);
  sd.frame.info.colorimetry.matrix = GST_VIDEO_COLOR_MATRIX_BT601;
  g_assert_true(overlay_blend(comp, &sd.frame));
  double r = 255, g = 80, b = 0, kr = 0.299, kb = 0.114;
  double yy = kr * r + (1 - kr - kb) * g + kb * b;
  g_assert_cmpfloat_with_epsilon(i420_at(&sd, 0, l.accent_x + 6, l.y + 40), 16 + 219 * yy / 255,
                                 2.0);
  g_assert_cmpfloat_with_epsilon(i420_at(&sd, 2, l.accent_x + 6, l.y + 40),
                                 128 + 224 * (r - yy) / 255 / (2 * (1 - kr)), 2.0);
  i420_clear(&sd);
  i420_clear(&ref);
  i420_clear(&fast);
  gst_video_overlay_composition_unref(comp);
}

/* A row half outside the frame (sliding in) blends only its visible part. */
static void test_blend_clipped(void) {
  overlay_state_t st;
  fixture_full_state(&st);
  GstVideoOverlayComposition *comp = fixture_render(720, 1280, &st);
  GstVideoOverlayRectangle *r = gst_video_overlay_composition_get_rectangle(comp, 2);
  GstVideoOverlayRectangle *moved = gst_video_overlay_rectangle_copy(r);
  guint w, h;
  gst_video_overlay_rectangle_get_render_rectangle(r, NULL, NULL, &w, &h);
  gst_video_overlay_rectangle_set_render_rectangle(moved, -(gint)w / 2 & ~1, 0, w, h);
  GstVideoOverlayComposition *c2 = gst_video_overlay_composition_new(moved);
  gst_video_overlay_rectangle_unref(moved);
  overlay_blend_prepare(c2);
  i420_t f;
  i420_init(&f, 720, 1280, 128, 128, 128);
  g_assert_true(overlay_blend(c2, &f.frame));
  g_assert_cmpint(i420_at(&f, 0, 2, 2), !=, 128);      /* the visible half */
  g_assert_cmpint(i420_at(&f, 0, (int)w, 2), ==, 128); /* right of it */
  i420_clear(&f);
  gst_video_overlay_composition_unref(c2);
  gst_video_overlay_composition_unref(comp);
}

void test_overlay_blend_register(void) {
  g_test_add_func("/overlay/blend", test_blend);
  g_test_add_func("/overlay/fast-blend-matches", test_fast_blend_matches);
  g_test_add_func("/overlay/blend-clipped", test_blend_clipped);
}
