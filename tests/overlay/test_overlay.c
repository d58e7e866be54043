/* test_overlay.c — overlay layout, the render thread (latest wins, box cache,
 * ticker slide), the ref/swap under threads, and blending onto I420 as
 * overlaycomposition does. Rendered pixels against reference images are in
 * test_overlay_render.c.
 */
#include <stdlib.h>
#include <string.h>

#include "overlay/overlay_compose.h"
#include "tests/overlay/overlay_fixture.h"

void test_overlay_text_register(void);
void test_overlay_state_register(void);

/* ---- layout ----------------------------------------------------------- */

static void assert_rect_in(const overlay_rect_t *r, int fw, int fh) {
  g_assert_cmpint(r->x, >=, 0);
  g_assert_cmpint(r->y, >=, 0);
  g_assert_cmpint(r->width, >, 0);
  g_assert_cmpint(r->height, >, 0);
  g_assert_cmpint(r->x + r->width, <=, fw);
  g_assert_cmpint(r->y + r->height, <=, fh);
  /* Even everywhere, so 4:2:0 chroma blocks never straddle an edge. */
  g_assert_cmpint((r->x | r->y | r->width | r->height) & 1, ==, 0);
}

static gboolean overlaps(const overlay_rect_t *a, const overlay_rect_t *b) {
  return a->x < b->x + b->width && b->x < a->x + a->width && a->y < b->y + b->height &&
         b->y < a->y + a->height;
}

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

    overlay_rect_t card = {l.x, l.y, l.width, l.height};
    overlay_rect_t accent = {l.accent_x, l.accent_y, l.accent_width, l.accent_height};
    const overlay_rect_t *all[] = {&card,     &accent,     &l.title, &l.title_accent,
                                   &l.ticker, &l.question, &l.qr};
    for (gsize b = 0; b < G_N_ELEMENTS(all); b++)
      assert_rect_in(all[b], fw, fh);
    /* The accents are their box's left edge, full height. */
    g_assert_cmpint(l.accent_x, ==, l.x);
    g_assert_cmpint(l.accent_y, ==, l.y);
    g_assert_cmpint(l.accent_height, ==, l.height);
    g_assert_cmpint(l.accent_width, >=, MIN(16, l.width));
    g_assert_cmpint(l.accent_width, <=, l.width);
    g_assert_cmpint(l.title_accent.x, ==, l.title.x);
    g_assert_cmpint(l.title_accent.height, ==, l.title.height);
    /* Near the bottom in both orientations. */
    g_assert_cmpint(l.y + l.height, >=, fh * 3 / 4);
    if (fh > fw && fw >= 360) /* portrait: full width minus margins */
      g_assert_cmpint(l.width, >=, fw * 9 / 10);
    if (fw >= fh * 4 / 3 && fh >= 360) /* landscape: the left part only */
      g_assert_cmpint(l.x + l.width, <=, fw * 3 / 4);
    /* At the designed aspect ratios no box covers another. */
    if ((fw * 16 == fh * 9 || fw * 9 == fh * 16) && fw >= 360) {
      const overlay_rect_t *boxes[] = {&card, &l.title, &l.ticker, &l.question, &l.qr};
      for (gsize a = 0; a < G_N_ELEMENTS(boxes); a++)
        for (gsize b = a + 1; b < G_N_ELEMENTS(boxes); b++)
          g_assert_false(overlaps(boxes[a], boxes[b]));
    }
  }

  overlay_layout_t l;
  overlay_layout_for(720, 1280, &l);
  g_assert_cmpint(l.x, ==, 24);
  g_assert_cmpint(l.width, ==, 672);
  g_assert_cmpint(l.height, ==, 192);
  g_assert_cmpint(l.y, ==, 1280 - 24 - 72 - 192);
  g_assert_cmpint(l.accent_width, ==, 16);
  g_assert_cmpint(l.title.y, ==, 24);
  overlay_layout_for(1280, 720, &l);
  g_assert_cmpint(l.x, ==, 24);
  g_assert_cmpint(l.width, ==, 600);
  g_assert_cmpint(l.y, ==, 720 - 24 - 192);
  g_assert_cmpint(l.qr.x + l.qr.width, ==, 1280 - 24);
}

/* ---- the render thread ------------------------------------------------ */

static void blend_once(GstVideoOverlayComposition *comp) {
  i420_t f;
  i420_init(&f, 720, 1280, 128, 128, 128);
  g_assert_true(gst_video_overlay_composition_blend(comp, &f.frame));
  i420_clear(&f);
}

static void test_swap(void) {
  overlay_free(NULL);
  /* Sizes outside the supported range are programmer errors. */
  g_test_expect_message(NULL, G_LOG_LEVEL_CRITICAL, "*OVERLAY_MAX_DIM*");
  g_assert_null(overlay_new(0, 1280));
  g_test_expect_message(NULL, G_LOG_LEVEL_CRITICAL, "*OVERLAY_MAX_DIM*");
  g_assert_null(overlay_new(720, 100000));
  g_test_assert_expected_messages();

  overlay_t *ov = overlay_new(720, 1280);
  guint64 version = 99;
  g_assert_null(overlay_ref_current_versioned(ov, &version));
  g_assert_cmpuint(version, ==, 0);
  overlay_flush(ov); /* nothing submitted: returns at once */
  g_assert_cmpuint(overlay_render_count(ov), ==, 0);

  overlay_state_t st;
  fixture_full_state(&st);
  st.version = 1;
  overlay_update(ov, &st);
  overlay_flush(ov);
  GstVideoOverlayComposition *first = overlay_ref_current_versioned(ov, &version);
  g_assert_nonnull(first);
  g_assert_cmpuint(version, ==, 1);
  /* One rectangle per box: title, question, five rows, QR, card. */
  g_assert_cmpuint(gst_video_overlay_composition_n_rectangles(first), ==, 9);

  st.product.stock = 99;
  st.version = 2;
  overlay_update(ov, &st);
  overlay_flush(ov);
  GstVideoOverlayComposition *second = overlay_ref_current_versioned(ov, &version);
  g_assert_true(first != second);
  g_assert_cmpuint(version, ==, 2);
  g_assert_cmpuint(overlay_render_count(ov), ==, 2);

  /* The replaced composition is still whole for whoever holds it. */
  blend_once(first);
  gst_video_overlay_composition_unref(first);

  /* Everything hidden: nothing is current. */
  overlay_state_t none = {.version = 3};
  overlay_update(ov, &none);
  overlay_flush(ov);
  g_assert_null(overlay_ref_current_versioned(ov, &version));
  g_assert_cmpuint(version, ==, 3);

  st.version = 4;
  overlay_update(ov, &st);
  overlay_flush(ov);
  GstVideoOverlayComposition *third = overlay_ref_current(ov);
  g_assert_nonnull(third);

  /* Freeing the overlay while streaming threads hold compositions, and with
   * a state still pending. */
  overlay_update(ov, &none);
  overlay_free(ov);
  blend_once(second);
  blend_once(third);
  gst_video_overlay_composition_unref(second);
  gst_video_overlay_composition_unref(third);
}

/* Many updates while the render thread is busy: only the newest is drawn. */
static void test_latest_wins(void) {
  overlay_t *ov = overlay_new(720, 1280);
  overlay_state_t st;
  fixture_full_state(&st);
  overlay_set_animate(ov, FALSE);
  overlay_update(ov, &st);
  overlay_flush(ov);
  g_assert_cmpuint(overlay_render_count(ov), ==, 1);

  overlay_hold(ov, TRUE); /* plays a render thread stuck in a long render */
  for (int i = 0; i < 500; i++) {
    st.version = 100 + (guint64)i;
    st.product.stock = 500 - i;
    overlay_update(ov, &st);
  }
  overlay_hold(ov, FALSE);
  overlay_flush(ov);
  overlay_stats_t s;
  overlay_get_stats(ov, &s);
  g_assert_cmpuint(s.renders, ==, 2);
  g_assert_cmpuint(s.last_version, ==, 599);
  guint64 version;
  GstVideoOverlayComposition *comp = overlay_ref_current_versioned(ov, &version);
  g_assert_cmpuint(version, ==, 599);
  gst_video_overlay_composition_unref(comp);

  /* Without the hold, a burst still ends on the newest state, and renders
   * no more states than were submitted. */
  for (int i = 0; i < 50; i++) {
    st.version = 1000 + (guint64)i;
    st.product.sold = i;
    overlay_update(ov, &st);
  }
  overlay_flush(ov);
  overlay_get_stats(ov, &s);
  g_test_message("a burst of 50 updates took %" G_GUINT64_FORMAT " renders", s.renders - 2);
  g_assert_cmpuint(s.last_version, ==, 1049);
  g_assert_cmpuint(s.renders, <=, 52);
  overlay_free(ov);
}

/* A change redraws its own box only; an unchanged state redraws nothing. */
static void test_box_cache(void) {
  overlay_t *ov = overlay_new(720, 1280);
  overlay_state_t st;
  fixture_full_state(&st);
  overlay_set_animate(ov, FALSE);
  overlay_stats_t s0, s1;

  overlay_update(ov, &st);
  overlay_flush(ov);
  overlay_get_stats(ov, &s0);
  g_assert_cmpuint(s0.box_renders, ==, 9);

  const struct {
    const char *what;
    guint64 boxes;
  } steps[] = {{"same state", 0}, {"stock", 1}, {"new order", 1},
               {"answer", 1},     {"title", 1}, {"unpin", 0},
               {"pin again", 1},  {"qr", 1},    {"everything hidden", 0}};
  for (gsize i = 0; i < G_N_ELEMENTS(steps); i++) {
    switch (i) {
      case 1:
        st.product.stock = 42;
        break;
      case 2:
        memmove(st.ticker, st.ticker + 1, 4 * sizeof st.ticker[0]);
        st.ticker[4] = (overlay_ticker_entry_t){106, "赵六", "阳山水蜜桃", 1};
        break;
      case 3:
        st.question.answer = "放冰箱五天";
        break;
      case 4:
        st.title = "阳山水蜜桃果园直播 第二场";
        break;
      case 5:
        st.product.shown = FALSE;
        break;
      case 6:
        st.product.shown = TRUE;
        break;
      case 7:
        st.qr_text = "http://192.168.1.20:8080/?from=qr";
        break;
      case 8: {
        overlay_state_t none = {0};
        st = none;
        break;
      }
    }
    overlay_update(ov, &st);
    overlay_flush(ov);
    overlay_get_stats(ov, &s1);
    g_test_message("%s: %" G_GUINT64_FORMAT " boxes drawn", steps[i].what,
                   s1.box_renders - s0.box_renders);
    g_assert_cmpuint(s1.box_renders - s0.box_renders, ==, steps[i].boxes);
    s0 = s1;
  }
  overlay_free(ov);
}

static void row_positions(GstVideoOverlayComposition *comp, const overlay_layout_t *l, int *xs,
                          int *ys, int *n) {
  *n = 0;
  for (guint i = 0; i < gst_video_overlay_composition_n_rectangles(comp); i++) {
    gint x, y;
    guint w, h;
    gst_video_overlay_rectangle_get_render_rectangle(
        gst_video_overlay_composition_get_rectangle(comp, i), &x, &y, &w, &h);
    if ((int)w == l->ticker.width && (int)h < l->ticker.height / 2) {
      xs[*n] = x;
      ys[*n] = y;
      (*n)++;
    }
  }
}

/* A new order slides in: several compositions are published for it, the
 * rows are drawn once, and the slide ends with every row in its slot. */
static void test_ticker_slide(void) {
  overlay_t *ov = overlay_new(720, 1280);
  overlay_layout_t l;
  overlay_layout_for(720, 1280, &l);
  overlay_state_t st;
  fixture_full_state(&st);
  st.n_ticker = 4;
  overlay_update(ov, &st);
  overlay_flush(ov);
  overlay_stats_t s0, s1;
  overlay_get_stats(ov, &s0);

  st.n_ticker = 5; /* order 105 is new */
  st.version = 8;
  overlay_update(ov, &st);
  /* Watch the streaming thread's view while it slides. */
  int min_x = G_MAXINT, frames_seen = 0;
  gint64 end = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
  GstVideoOverlayComposition *last = NULL;
  while (g_get_monotonic_time() < end) {
    GstVideoOverlayComposition *c = overlay_ref_current(ov);
    if (c != last) {
      int xs[8], ys[8], n;
      row_positions(c, &l, xs, ys, &n);
      for (int i = 0; i < n; i++)
        min_x = MIN(min_x, xs[i]);
      frames_seen++;
    }
    if (last)
      gst_video_overlay_composition_unref(last);
    last = c;
    overlay_get_stats(ov, &s1);
    if (s1.frames >= s0.frames + OVERLAY_ANIM_FRAMES)
      break;
    g_usleep(2000);
  }
  gst_video_overlay_composition_unref(last);
  overlay_flush(ov);
  overlay_get_stats(ov, &s1);
  g_test_message("slide: %" G_GUINT64_FORMAT " frames, %d seen, leftmost row x %d",
                 s1.frames - s0.frames, frames_seen, min_x);
  g_assert_cmpuint(s1.frames - s0.frames, ==, OVERLAY_ANIM_FRAMES);
  g_assert_cmpuint(s1.box_renders - s0.box_renders, ==, 1); /* the new row only */
  g_assert_cmpint(min_x, <, l.ticker.x);                    /* it came from the left */

  GstVideoOverlayComposition *c = overlay_ref_current(ov);
  int xs[8], ys[8], n;
  row_positions(c, &l, xs, ys, &n);
  g_assert_cmpint(n, ==, 5);
  const overlay_geom_t *g = NULL;
  overlay_geom_t geom;
  overlay_geom_for(720, 1280, &geom);
  g = &geom;
  for (int i = 0; i < n; i++) {
    g_assert_cmpint(xs[i], ==, l.ticker.x);
    g_assert_cmpint(ys[i], ==, l.ticker.y + i * (g->row_h + g->row_gap));
  }
  gst_video_overlay_composition_unref(c);
  overlay_free(ov);
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
      g_assert_cmpuint(gst_video_overlay_composition_n_rectangles(c), >=, 1);
      if ((r->refs & 63) == 0) {
        g_assert_true(overlay_blend(c, &f.frame));
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
  overlay_state_t st;
  fixture_full_state(&st);

  for (int i = 0; i < 200; i++) {
    st.product.stock = 200 - i;
    st.product.shown = i % 50 != 25;
    st.ticker[4].seq = 200 + (guint64)i / 10; /* a slide now and then */
    overlay_update(r.ov, &st);
    if (i % 20 == 0)
      overlay_flush(r.ov);
  }
  overlay_flush(r.ov);
  g_atomic_int_set(&r.stop, 1);
  g_thread_join(t);
  g_test_message("reader: %" G_GUINT64_FORMAT " refs, %" G_GUINT64_FORMAT
                 " non-NULL, %" G_GUINT64_FORMAT " blends",
                 r.refs, r.seen, r.blends);
  g_assert_cmpuint(r.seen, >, 0);
  g_assert_cmpuint(overlay_render_count(r.ov), >=, 10);
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

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/overlay/layout", test_layout);
  g_test_add_func("/overlay/swap", test_swap);
  g_test_add_func("/overlay/latest-wins", test_latest_wins);
  g_test_add_func("/overlay/box-cache", test_box_cache);
  g_test_add_func("/overlay/ticker-slide", test_ticker_slide);
  g_test_add_func("/overlay/threads", test_threads);
  g_test_add_func("/overlay/blend", test_blend);
  g_test_add_func("/overlay/fast-blend-matches", test_fast_blend_matches);
  g_test_add_func("/overlay/blend-clipped", test_blend_clipped);
  test_overlay_text_register();
  test_overlay_state_register();
  return g_test_run();
}
