/* test_overlay.c — overlay layout, the render thread (latest wins, box cache,
 * ticker slide, product image), the ref/swap under threads. Blending is in
 * test_overlay_blend.c, rendered pixels against reference images in
 * test_overlay_render.c.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <utime.h>

#include <glib/gstdio.h>

#include "overlay/overlay_compose.h"
#include "tests/overlay/overlay_fixture.h"

void test_overlay_text_register(void);
void test_overlay_state_register(void);
void test_overlay_blend_register(void);

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

/* The product picture: reloaded when its file changes, and a missing,
 * foreign or truncated file leaves the card without a thumbnail. */
static void test_image(void) {
  char *dir = g_dir_make_tmp("overlay-image-XXXXXX", NULL);
  char *png = g_build_filename(dir, "p.png", NULL), *bad = g_build_filename(dir, "bad.png", NULL);
  fixture_write_picture(png);
  overlay_t *ov = overlay_new(720, 1280);
  overlay_set_animate(ov, FALSE);
  overlay_state_t st;
  fixture_full_state(&st);
  st.product.image_path = png;
  overlay_stats_t s0, s1;
  overlay_update(ov, &st);
  overlay_flush(ov);
  overlay_get_stats(ov, &s0);

  overlay_update(ov, &st); /* same file: nothing redrawn */
  overlay_flush(ov);
  overlay_get_stats(ov, &s1);
  g_assert_cmpuint(s1.box_renders, ==, s0.box_renders);

  struct utimbuf later = {time(NULL) + 10, time(NULL) + 10};
  g_assert_cmpint(utime(png, &later), ==, 0); /* the leader uploaded a new picture */
  overlay_update(ov, &st);
  overlay_flush(ov);
  overlay_get_stats(ov, &s1);
  g_assert_cmpuint(s1.box_renders, ==, s0.box_renders + 1);

  gchar *bytes;
  gsize len;
  g_assert_true(g_file_get_contents(png, &bytes, &len, NULL));
  const struct {
    const char *data;
    gssize len;
  } files[] = {{"not a picture at all, just text", -1},
               {bytes, (gssize)len / 2}, /* truncated PNG */
               {bytes, 30}};             /* header only */
  for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
    g_assert_true(g_file_set_contents(bad, files[i].data, files[i].len, NULL));
    st.product.image_path = bad;
    st.version = 10 + i;
    overlay_update(ov, &st);
    overlay_flush(ov);
    GstVideoOverlayComposition *c = overlay_ref_current(ov);
    g_assert_nonnull(c);
    gst_video_overlay_composition_unref(c);
  }
  st.product.image_path = "/nonexistent/p.png";
  overlay_update(ov, &st);
  overlay_flush(ov);
  g_assert_cmpuint(overlay_render_count(ov), ==, 7);

  overlay_free(ov);
  g_unlink(png);
  g_unlink(bad);
  g_rmdir(dir);
  g_free(bytes);
  g_free(png);
  g_free(bad);
  g_free(dir);
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

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/overlay/layout", test_layout);
  g_test_add_func("/overlay/swap", test_swap);
  g_test_add_func("/overlay/latest-wins", test_latest_wins);
  g_test_add_func("/overlay/box-cache", test_box_cache);
  g_test_add_func("/overlay/ticker-slide", test_ticker_slide);
  g_test_add_func("/overlay/image", test_image);
  g_test_add_func("/overlay/threads", test_threads);
  test_overlay_text_register();
  test_overlay_state_register();
  test_overlay_blend_register();
  return g_test_run();
}
