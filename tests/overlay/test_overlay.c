/* test_overlay.c — overlay layout, rendered pixels, the render/ref swap under
 * threads, and blending onto I420 as overlaycomposition does. Also prints
 * render and blend timings (no assertions on time) and, when
 * TOURCAST_OVERLAY_PNG_DIR is set, writes PNG snapshots of the cards.
 */
#include <stdlib.h>
#include <string.h>

#include "overlay/overlay_priv.h"

void test_overlay_text_register(void);

static const overlay_card_t demo_card = {"阳山水蜜桃果园直播", "水蜜桃 ¥12.80/斤 · 剩 100 份"};

/* ---- helpers ---------------------------------------------------------- */

typedef struct {
  GstBuffer *buf;
  GstVideoInfo info;
  GstVideoFrame frame;
} i420_t;

static void i420_init(i420_t *f, int w, int h, guint8 y, guint8 u, guint8 v) {
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

static void i420_clear(i420_t *f) {
  gst_video_frame_unmap(&f->frame);
  gst_buffer_unref(f->buf);
}

/* Sample of plane `p` (0 Y, 1 U, 2 V) covering frame pixel x, y. */
static guint8 i420_at(i420_t *f, guint p, int x, int y) {
  const guint8 *data = GST_VIDEO_FRAME_PLANE_DATA(&f->frame, p);
  int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&f->frame, p);
  return p == 0 ? data[y * stride + x] : data[(y / 2) * stride + x / 2];
}

typedef struct {
  GstBuffer *buf; /* borrowed from the rectangle */
  GstMapInfo map;
  int width, height, stride;
} argb_t;

static void argb_map(GstVideoOverlayRectangle *rect, argb_t *a) {
  a->buf = gst_video_overlay_rectangle_get_pixels_unscaled_raw(
      rect, GST_VIDEO_OVERLAY_FORMAT_FLAG_PREMULTIPLIED_ALPHA);
  g_assert_nonnull(a->buf);
  GstVideoMeta *meta = gst_buffer_get_video_meta(a->buf);
  g_assert_nonnull(meta);
  g_assert_cmpint(meta->format, ==, GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB);
  a->width = (int)meta->width;
  a->height = (int)meta->height;
  a->stride = meta->stride[0];
  g_assert_true(gst_buffer_map(a->buf, &a->map, GST_MAP_READ));
}

static void argb_unmap(argb_t *a) {
  gst_buffer_unmap(a->buf, &a->map);
}

/* 0xAARRGGBB, premultiplied; memory order is B, G, R, A. */
static guint32 argb_at(const argb_t *a, int x, int y) {
  return GST_READ_UINT32_LE(a->map.data + (gsize)y * (gsize)a->stride + (gsize)x * 4);
}

/* ---- layout ----------------------------------------------------------- */

static void test_layout(void) {
  static const int sizes[][2] = {
      {720, 1280}, {1280, 720}, {1080, 1920}, {1920, 1080}, {720, 720},   {721, 1281},  {481, 855},
      {360, 640},  {32, 32},    {32, 8192},   {8192, 32},   {2160, 3840}, {8192, 8192}, {33, 35},
  };

  for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
    int fw = sizes[i][0], fh = sizes[i][1];
    overlay_layout_t l;
    overlay_layout_for(fw, fh, &l);
    g_test_message("%dx%d: card %d,%d %dx%d accent %d,%d %dx%d", fw, fh, l.x, l.y, l.width,
                   l.height, l.accent_x, l.accent_y, l.accent_width, l.accent_height);

    g_assert_cmpint(l.x, >=, 0);
    g_assert_cmpint(l.y, >=, 0);
    g_assert_cmpint(l.width, >, 0);
    g_assert_cmpint(l.height, >, 0);
    g_assert_cmpint(l.x + l.width, <=, fw);
    g_assert_cmpint(l.y + l.height, <=, fh);
    /* Even everywhere, so 4:2:0 chroma blocks never straddle an edge. */
    g_assert_cmpint((l.x | l.y | l.width | l.height) & 1, ==, 0);
    g_assert_cmpint((l.accent_x | l.accent_y | l.accent_width | l.accent_height) & 1, ==, 0);
    /* The accent is the card's left edge, full height. */
    g_assert_cmpint(l.accent_x, ==, l.x);
    g_assert_cmpint(l.accent_y, ==, l.y);
    g_assert_cmpint(l.accent_height, ==, l.height);
    g_assert_cmpint(l.accent_width, >=, MIN(16, l.width));
    g_assert_cmpint(l.accent_width, <=, l.width);
    /* Near the bottom in both orientations. */
    g_assert_cmpint(l.y + l.height, >=, fh * 3 / 4);
    if (fh > fw && fw >= 360) /* portrait: full width minus margins */
      g_assert_cmpint(l.width, >=, fw * 9 / 10);
    if (fw >= fh * 4 / 3 && fh >= 360) /* landscape: the left part only */
      g_assert_cmpint(l.x + l.width, <=, fw * 3 / 4);
  }

  overlay_layout_t l;
  overlay_layout_for(720, 1280, &l);
  g_assert_cmpint(l.x, ==, 24);
  g_assert_cmpint(l.width, ==, 672);
  g_assert_cmpint(l.height, ==, 160);
  g_assert_cmpint(l.y, ==, 1280 - 24 - 72 - 160);
  g_assert_cmpint(l.accent_width, ==, 16);
  overlay_layout_for(1280, 720, &l);
  g_assert_cmpint(l.x, ==, 24);
  g_assert_cmpint(l.width, ==, 560);
  g_assert_cmpint(l.y, ==, 720 - 24 - 160);
}

/* ---- rendered pixels -------------------------------------------------- */

static int count_bright(const argb_t *a, const overlay_rect_t *r) {
  int n = 0;
  for (int y = r->y; y < r->y + r->height; y++)
    for (int x = r->x; x < r->x + r->width; x++) {
      guint32 p = argb_at(a, x, y);
      if ((p >> 24) > 200 && ((p >> 16) & 0xFF) > 200 && ((p >> 8) & 0xFF) > 150)
        n++;
    }
  return n;
}

static void check_render(int fw, int fh, const overlay_card_t *card, gboolean expect_text) {
  overlay_geom_t g;
  overlay_geom_for(fw, fh, &g);
  overlay_t *ov = overlay_new(fw, fh);
  GError *err = NULL;
  g_assert_true(overlay_render(ov, card, &err));
  g_assert_no_error(err);

  GstVideoOverlayComposition *comp = overlay_ref_current(ov);
  g_assert_nonnull(comp);
  g_assert_cmpuint(gst_video_overlay_composition_n_rectangles(comp), ==, 1);
  GstVideoOverlayRectangle *rect = gst_video_overlay_composition_get_rectangle(comp, 0);

  /* Placed 1:1 at the card, and only as big as the card. */
  gint rx, ry;
  guint rw, rh;
  g_assert_true(gst_video_overlay_rectangle_get_render_rectangle(rect, &rx, &ry, &rw, &rh));
  g_assert_cmpint(rx, ==, g.card.x);
  g_assert_cmpint(ry, ==, g.card.y);
  g_assert_cmpint(rw, ==, g.card.width);
  g_assert_cmpint(rh, ==, g.card.height);
  g_assert_cmpint(gst_video_overlay_rectangle_get_flags(rect), ==,
                  GST_VIDEO_OVERLAY_FORMAT_FLAG_PREMULTIPLIED_ALPHA);

  argb_t a;
  argb_map(rect, &a);
  g_assert_cmpint(a.width, ==, g.card.width);
  g_assert_cmpint(a.height, ==, g.card.height);

  /* Every accent pixel exactly opaque orange. */
  int ax = g.card.accent_x - g.card.x, ay = g.card.accent_y - g.card.y;
  for (int y = ay; y < ay + g.card.accent_height; y++)
    for (int x = ax; x < ax + g.card.accent_width; x++)
      g_assert_cmphex(argb_at(&a, x, y), ==, 0xFF000000u | OVERLAY_ACCENT_RGB);
  /* The panel right of the accent, above the text: translucent black. */
  guint32 bg = argb_at(&a, g.card.accent_width + 2, 1);
  g_assert_cmpint(bg >> 24, >=, 150);
  g_assert_cmpint(bg >> 24, <=, 156);
  g_assert_cmphex(bg & 0xFFFFFF, ==, 0);
  /* Rounded on the right: the outermost corner pixels are transparent. */
  g_assert_cmphex(argb_at(&a, a.width - 1, 0), ==, 0);
  g_assert_cmphex(argb_at(&a, a.width - 1, a.height - 1), ==, 0);

  int bright = count_bright(&a, &g.text);
  g_test_message("%dx%d: %d bright pixels in the text column", fw, fh, bright);
  if (expect_text)
    g_assert_cmpint(bright, >, 200);
  else
    g_assert_cmpint(bright, ==, 0);

  argb_unmap(&a);
  gst_video_overlay_composition_unref(comp);
  overlay_free(ov);
}

static void test_render(void) {
  check_render(720, 1280, &demo_card, TRUE);
  check_render(1280, 720, &demo_card, TRUE);
  check_render(1080, 1920, &demo_card, TRUE);
  check_render(360, 640, &demo_card, TRUE);
  const overlay_card_t title_only = {"阳山水蜜桃果园直播", NULL};
  check_render(720, 1280, &title_only, TRUE);
  const overlay_card_t empty = {NULL, ""};
  check_render(720, 1280, &empty, FALSE);
}

/* ---- swap ------------------------------------------------------------- */

static void blend_once(GstVideoOverlayComposition *comp) {
  i420_t f;
  i420_init(&f, 720, 1280, 128, 128, 128);
  g_assert_true(gst_video_overlay_composition_blend(comp, &f.frame));
  i420_clear(&f);
}

static void test_swap(void) {
  overlay_free(NULL);
  g_assert_cmpstr(g_quark_to_string(OVERLAY_ERROR), ==, "tourcast-overlay-error-quark");
  /* Sizes outside the supported range are programmer errors. */
  g_test_expect_message(NULL, G_LOG_LEVEL_CRITICAL, "*OVERLAY_MAX_DIM*");
  g_assert_null(overlay_new(0, 1280));
  g_test_expect_message(NULL, G_LOG_LEVEL_CRITICAL, "*OVERLAY_MAX_DIM*");
  g_assert_null(overlay_new(720, 100000));
  g_test_assert_expected_messages();

  overlay_t *ov = overlay_new(720, 1280);
  g_assert_null(overlay_ref_current(ov));
  g_assert_cmpuint(overlay_render_count(ov), ==, 0);

  g_assert_true(overlay_render(ov, &demo_card, NULL));
  GstVideoOverlayComposition *first = overlay_ref_current(ov);
  g_assert_nonnull(first);

  overlay_card_t next = {"阳山水蜜桃果园直播", "水蜜桃 ¥12.80/斤 · 剩 99 份"};
  g_assert_true(overlay_render(ov, &next, NULL));
  GstVideoOverlayComposition *second = overlay_ref_current(ov);
  g_assert_nonnull(second);
  g_assert_true(first != second);
  g_assert_cmpuint(gst_video_overlay_composition_get_seqnum(first), !=,
                   gst_video_overlay_composition_get_seqnum(second));
  g_assert_cmpuint(overlay_render_count(ov), ==, 2);

  /* The replaced composition is still whole for whoever holds it. */
  blend_once(first);
  gst_video_overlay_composition_unref(first);

  overlay_clear(ov);
  g_assert_null(overlay_ref_current(ov));
  g_assert_true(overlay_render(ov, &demo_card, NULL));
  GstVideoOverlayComposition *third = overlay_ref_current(ov);

  /* Freeing the overlay while streaming threads hold compositions. */
  overlay_free(ov);
  blend_once(second);
  blend_once(third);
  gst_video_overlay_composition_unref(second);
  gst_video_overlay_composition_unref(third);
}

typedef struct {
  overlay_t *ov;
  gint stop;
  guint64 refs, seen, blends;
} reader_t;

/* Plays the streaming thread: ref, look, sometimes blend, unref. */
static gpointer reader_main(gpointer data) {
  reader_t *r = data;
  i420_t f;
  i420_init(&f, 720, 1280, 128, 128, 128);
  while (!g_atomic_int_get(&r->stop)) {
    GstVideoOverlayComposition *c = overlay_ref_current(r->ov);
    r->refs++;
    if (c != NULL) {
      r->seen++;
      g_assert_cmpuint(gst_video_overlay_composition_n_rectangles(c), ==, 1);
      if ((r->refs & 63) == 0) {
        g_assert_true(gst_video_overlay_composition_blend(c, &f.frame));
        r->blends++;
      }
      gst_video_overlay_composition_unref(c);
    }
  }
  i420_clear(&f);
  return NULL;
}

static void test_threads(void) {
  reader_t r = {overlay_new(720, 1280), 0, 0, 0, 0};
  GThread *t = g_thread_new("reader", reader_main, &r);

  for (int i = 0; i < 200; i++) {
    char line[64];
    g_snprintf(line, sizeof line, "水蜜桃 ¥12.80/斤 · 剩 %d 份", 200 - i);
    overlay_card_t card = {"阳山水蜜桃果园直播", line};
    g_assert_true(overlay_render(r.ov, &card, NULL));
    if (i % 50 == 25)
      overlay_clear(r.ov);
  }
  g_atomic_int_set(&r.stop, 1);
  g_thread_join(t);
  g_test_message("reader: %" G_GUINT64_FORMAT " refs, %" G_GUINT64_FORMAT
                 " non-NULL, %" G_GUINT64_FORMAT " blends",
                 r.refs, r.seen, r.blends);
  g_assert_cmpuint(r.seen, >, 0);
  g_assert_cmpuint(overlay_render_count(r.ov), ==, 200);
  overlay_free(r.ov);
}

/* ---- blending onto I420 ----------------------------------------------- */

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

static void test_blend(void) {
  overlay_layout_t l;
  overlay_layout_for(720, 1280, &l);
  overlay_t *ov = overlay_new(720, 1280);
  g_assert_true(overlay_render(ov, &demo_card, NULL));
  GstVideoOverlayComposition *comp = overlay_ref_current(ov);

  i420_t f;
  i420_init(&f, 720, 1280, 128, 128, 128);
  g_assert_true(gst_video_overlay_composition_blend(comp, &f.frame));

  double ey, eu, ev;
  orange_yuv(&ey, &eu, &ev);
  g_test_message("orange expected Y=%.1f U=%.1f V=%.1f, got Y=%d U=%d V=%d", ey, eu, ev,
                 i420_at(&f, 0, l.accent_x + 8, l.y + 80), i420_at(&f, 1, l.accent_x + 8, l.y + 80),
                 i420_at(&f, 2, l.accent_x + 8, l.y + 80));
  for (int y = l.accent_y; y < l.accent_y + l.accent_height; y++)
    for (int x = l.accent_x; x < l.accent_x + l.accent_width; x++) {
      g_assert_cmpfloat_with_epsilon(i420_at(&f, 0, x, y), ey, 3.0);
      g_assert_cmpfloat_with_epsilon(i420_at(&f, 1, x, y), eu, 3.0);
      g_assert_cmpfloat_with_epsilon(i420_at(&f, 2, x, y), ev, 3.0);
    }

  /* Panel: 60% black over mid grey, luma only (chroma stays neutral). */
  int py = i420_at(&f, 0, l.accent_x + l.accent_width + 4, l.y + 2);
  g_assert_cmpint(py, >=, 55);
  g_assert_cmpint(py, <=, 67);

  /* Nothing outside the card changed. */
  const int outside[][2] = {{0, 0},
                            {l.x - 2, l.y + 10},
                            {l.x + 10, l.y - 2},
                            {l.x + l.width, l.y + 10},
                            {l.x + 10, l.y + l.height},
                            {719, 1279}};
  for (gsize i = 0; i < G_N_ELEMENTS(outside); i++)
    for (guint p = 0; p < 3; p++)
      g_assert_cmpint(i420_at(&f, p, outside[i][0], outside[i][1]), ==, 128);

  i420_clear(&f);
  gst_video_overlay_composition_unref(comp);
  overlay_free(ov);
}

/* The fast path must give what GStreamer's blend gives (both BT.709 here),
 * over a textured frame so every alpha level meets varied pixels. */
static void test_fast_blend_matches(void) {
  overlay_t *ov = overlay_new(720, 1280);
  g_assert_true(overlay_render(ov, &demo_card, NULL));
  GstVideoOverlayComposition *comp = overlay_ref_current(ov);
  i420_t ref, fast;
  i420_init(&ref, 720, 1280, 0, 0, 0);
  g_assert_cmpint(ref.info.colorimetry.matrix, ==, GST_VIDEO_COLOR_MATRIX_BT709);
  i420_init(&fast, 720, 1280, 0, 0, 0);
  for (guint p = 0; p < 3; p++) {
    guint8 *a = GST_VIDEO_FRAME_PLANE_DATA(&ref.frame, p);
    guint8 *b = GST_VIDEO_FRAME_PLANE_DATA(&fast.frame, p);
    gsize n = (gsize)GST_VIDEO_FRAME_PLANE_STRIDE(&ref.frame, p) *
              (gsize)GST_VIDEO_FRAME_COMP_HEIGHT(&ref.frame, p);
    /* A smooth gradient: GStreamer's blend resamples chroma up and down, which
     * only keeps values where neighbours are alike. */
    int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&ref.frame, p);
    for (gsize i = 0; i < n; i++)
      a[i] = b[i] = (guint8)(40 + (i % (gsize)stride) / 8 + (i / (gsize)stride) / 16);
  }
  g_assert_true(gst_video_overlay_composition_blend(comp, &ref.frame));
  g_assert_true(overlay_blend(comp, &fast.frame));
  /* Luma must agree to rounding. Chroma only on average: GStreamer keeps one
   * of every four overlay chroma samples where we average all four, so they
   * differ along text edges. Outside the card nothing may change. */
  overlay_layout_t l;
  overlay_layout_for(720, 1280, &l);
  int worst_luma = 0;
  double chroma_diff = 0;
  int chroma_n = 0;
  for (guint p = 0; p < 3; p++) {
    int w = p ? 360 : 720, h = p ? 640 : 1280;
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        int fx = p ? 2 * x : x, fy = p ? 2 * y : y;
        int d = abs(i420_at(&ref, p, fx, fy) - i420_at(&fast, p, fx, fy));
        gboolean inside = fx >= l.x && fx < l.x + l.width && fy >= l.y && fy < l.y + l.height;
        if (!inside)
          g_assert_cmpint(d, ==, 0);
        else if (p == 0)
          worst_luma = MAX(worst_luma, d);
        else
          chroma_diff += d, chroma_n++;
      }
  }
  g_test_message("versus GStreamer's blend: luma differs by at most %d, chroma by %.2f on average",
                 worst_luma, chroma_diff / chroma_n);
  g_assert_cmpint(worst_luma, <=, 2);
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
  overlay_free(ov);
}

/* ---- timings and snapshots -------------------------------------------- */

static void test_bench(void) {
  int renders = g_test_perf() ? 500 : 30, blends = g_test_perf() ? 3000 : 150;
  gint64 t0 = g_get_monotonic_time();
  overlay_t *ov = overlay_new(720, 1280); /* loads fonts when first in the process */
  gint64 create = g_get_monotonic_time() - t0;

  t0 = g_get_monotonic_time();
  g_assert_true(overlay_render(ov, &demo_card, NULL)); /* cold glyph caches */
  gint64 cold = g_get_monotonic_time() - t0;

  t0 = g_get_monotonic_time();
  for (int i = 0; i < renders; i++) {
    char line[64];
    g_snprintf(line, sizeof line, "水蜜桃 ¥12.80/斤 · 剩 %d 份", i);
    overlay_card_t card = {demo_card.title, line};
    g_assert_true(overlay_render(ov, &card, NULL));
  }
  double render_ms = (g_get_monotonic_time() - t0) / 1000.0 / renders;

  GstVideoOverlayComposition *comp = overlay_ref_current(ov);
  i420_t f;
  i420_init(&f, 720, 1280, 128, 128, 128);
  t0 = g_get_monotonic_time();
  for (int i = 0; i < blends; i++)
    gst_video_overlay_composition_blend(comp, &f.frame);
  double gst_blend_ms = (g_get_monotonic_time() - t0) / 1000.0 / blends;
  t0 = g_get_monotonic_time();
  for (int i = 0; i < blends; i++)
    overlay_blend(comp, &f.frame);
  double blend_ms = (g_get_monotonic_time() - t0) / 1000.0 / blends;
  i420_clear(&f);
  gst_video_overlay_composition_unref(comp);
  overlay_free(ov);

  g_test_message("bench 720x1280: new %.2f ms, first render %.2f ms, render %.3f ms, "
                 "overlay_blend onto I420 %.3f ms (%.1f%% of a core at 30 fps), GStreamer's "
                 "blend %.3f ms",
                 create / 1000.0, cold / 1000.0, render_ms, blend_ms, blend_ms * 30 / 10.0,
                 gst_blend_ms);
}

static void write_png(const char *dir, const char *name, int fw, int fh, const overlay_card_t *card,
                      guint32 backdrop) {
  overlay_t *ov = overlay_new(fw, fh);
  g_assert_true(overlay_render(ov, card, NULL));
  GstVideoOverlayComposition *comp = overlay_ref_current(ov);
  GstVideoOverlayRectangle *rect = gst_video_overlay_composition_get_rectangle(comp, 0);
  gint rx, ry;
  g_assert_true(gst_video_overlay_rectangle_get_render_rectangle(rect, &rx, &ry, NULL, NULL));
  argb_t a;
  argb_map(rect, &a);

  cairo_surface_t *frame = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, fw, fh);
  cairo_t *cr = cairo_create(frame);
  cairo_set_source_rgb(cr, ((backdrop >> 16) & 0xFF) / 255.0, ((backdrop >> 8) & 0xFF) / 255.0,
                       (backdrop & 0xFF) / 255.0);
  cairo_paint(cr);
  cairo_surface_t *box = cairo_image_surface_create_for_data(a.map.data, CAIRO_FORMAT_ARGB32,
                                                             a.width, a.height, a.stride);
  cairo_set_source_surface(cr, box, rx, ry);
  cairo_paint(cr);
  cairo_surface_destroy(box);
  cairo_destroy(cr);

  char *path = g_build_filename(dir, name, NULL);
  g_assert_cmpint(cairo_surface_write_to_png(frame, path), ==, CAIRO_STATUS_SUCCESS);
  g_test_message("wrote %s", path);
  g_free(path);
  cairo_surface_destroy(frame);
  argb_unmap(&a);
  gst_video_overlay_composition_unref(comp);
  overlay_free(ov);
}

static void test_png(void) {
  const char *dir = g_getenv("TOURCAST_OVERLAY_PNG_DIR");
  if (dir == NULL) {
    g_test_skip("set TOURCAST_OVERLAY_PNG_DIR to write snapshots");
    return;
  }
  const overlay_card_t hostile = {
      "<b>阳山水蜜桃果园直播</b>·第三季·无锡阳山镇桃园村现场直发·每天清晨现摘现发",
      "🍑 阳山水蜜桃礼盒装特大果 ¥128.00/箱 · 剩 100 份 · 满两箱包邮"};
  write_png(dir, "overlay-portrait.png", 720, 1280, &demo_card, 0x303030);
  write_png(dir, "overlay-landscape.png", 1280, 720, &demo_card, 0x303030);
  write_png(dir, "overlay-portrait-long.png", 720, 1280, &hostile, 0xB8C8A0);
}

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, NULL);

  g_test_add_func("/overlay/layout", test_layout);
  g_test_add_func("/overlay/render", test_render);
  test_overlay_text_register();
  g_test_add_func("/overlay/swap", test_swap);
  g_test_add_func("/overlay/threads", test_threads);
  g_test_add_func("/overlay/fast-blend-matches", test_fast_blend_matches);
  g_test_add_func("/overlay/blend", test_blend);
  g_test_add_func("/overlay/bench", test_bench);
  g_test_add_func("/overlay/png", test_png);
  return g_test_run();
}
