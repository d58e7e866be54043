/* test_overlay_render.c — rendered overlays against reference images.
 *
 * Each case renders a state through the real render thread, flattens the
 * composition onto a transparent frame and compares it with
 * tests/overlay/expected/<case>.png. Tolerance (font rasterizer versions
 * differ in antialiasing, not in layout): at most TOL_LOOSE_PIXELS pixels
 * may differ by more than TOL_SMALL in any channel, and at most
 * TOL_HARD_PIXELS by more than TOL_BIG; a moved or changed glyph, box or
 * number breaks both. When the layout is meant to change, regenerate with
 * scripts/regen-overlay-refs.sh (TOURCAST_OVERLAY_REGEN=1 writes the PNGs
 * instead of comparing) and look at them before committing.
 */
#include <string.h>

#include <glib/gstdio.h>

#include "tests/overlay/overlay_fixture.h"

#define TOL_SMALL 8
#define TOL_BIG 48
#define TOL_LOOSE_PIXELS 400
#define TOL_HARD_PIXELS 40

typedef void (*state_fn)(overlay_state_t *st, const char *tmpdir);

typedef struct {
  const char *name;
  int width, height;
  state_fn make;
} render_case_t;

static void full(overlay_state_t *st, const char *tmpdir) {
  fixture_full_state(st);
}

static char *picture_path(const char *tmpdir) {
  return g_build_filename(tmpdir, "peach.png", NULL);
}

static void with_image(overlay_state_t *st, const char *tmpdir) {
  static char path[4096];
  char *p = picture_path(tmpdir);
  g_strlcpy(path, p, sizeof path);
  g_free(p);
  fixture_full_state(st);
  st->product.image_path = path;
}

static void sold_out(overlay_state_t *st, const char *tmpdir) {
  with_image(st, tmpdir);
  st->product.stock = 0;
  st->product.sold = 200;
}

static void no_product(overlay_state_t *st, const char *tmpdir) {
  fixture_full_state(st);
  st->product.shown = FALSE;
  st->question.shown = FALSE;
}

/* 32+ characters with emoji, right-to-left text, markup and controls. */
#define HOSTILE_NAME                                                                               \
  "<b>x</b>阳山水蜜桃🍑🍑 مرحبا بكم עברית \x01\t\xE2\x80\xAE<i>特大果</i>礼盒装精选五斤装顺丰包邮"
static void hostile(overlay_state_t *st, const char *tmpdir) {
  fixture_full_state(st);
  st->product.name = HOSTILE_NAME;
  st->product.unit = "<span>斤</span>";
  st->title = HOSTILE_NAME HOSTILE_NAME;
  st->promise = "\xE2\x80\xAE坏果包赔 · 次日自提 <b>必达</b>🍑🍑🍑 مرحبا بكم في البث المباشر";
  st->ticker[4].name = "\xE2\x80\xAE🍑王";
  st->ticker[4].product = HOSTILE_NAME;
  st->question.name = HOSTILE_NAME;
  st->question.text = HOSTILE_NAME HOSTILE_NAME HOSTILE_NAME;
  st->question.answer = HOSTILE_NAME HOSTILE_NAME;
}

static void question_answer(overlay_state_t *st, const char *tmpdir) {
  memset(st, 0, sizeof *st);
  st->version = 1;
  st->title = "阳山水蜜桃果园直播";
  st->question.shown = TRUE;
  st->question.name = "刘阿姨";
  st->question.text =
      "桃子是今天现摘的吗？小区自提点在哪里，几点可以去拿？家里有老人，软一点的有吗？";
  st->question.answer = "都是今天早上现摘的，明天下午三点后到小区门口的便利店自提，软桃可以备注";
}

static void ticker5(overlay_state_t *st, const char *tmpdir) {
  fixture_full_state(st);
  st->product.shown = FALSE;
  st->question.shown = FALSE;
  st->qr_text = NULL;
  st->ticker[2].product = "无花果礼盒装特大果精选十二只装顺丰冷链包邮到家";
  st->ticker[3].qty = 1234567;
}

static const render_case_t cases[] = {
    {"portrait_full", 720, 1280, full},
    {"landscape_full", 1280, 720, full},
    {"product_image", 720, 1280, with_image},
    {"sold_out", 720, 1280, sold_out},
    {"sold_out_landscape", 1280, 720, sold_out},
    {"no_product", 720, 1280, no_product},
    {"hostile", 720, 1280, hostile},
    {"hostile_landscape", 1280, 720, hostile},
    {"question_answer", 720, 1280, question_answer},
    {"ticker5", 720, 1280, ticker5},
};

static void compare(cairo_surface_t *got, const char *expected_path, const char *name) {
  cairo_surface_t *want = cairo_image_surface_create_from_png(expected_path);
  if (cairo_surface_status(want) != CAIRO_STATUS_SUCCESS)
    g_error("%s: cannot read %s (run scripts/regen-overlay-refs.sh)", name, expected_path);
  int w = cairo_image_surface_get_width(got), h = cairo_image_surface_get_height(got);
  g_assert_cmpint(cairo_image_surface_get_width(want), ==, w);
  g_assert_cmpint(cairo_image_surface_get_height(want), ==, h);
  int loose = 0, hard = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      guint32 a = surface_at(got, x, y), b = surface_at(want, x, y);
      int worst = 0;
      for (int sh = 0; sh < 32; sh += 8)
        worst = MAX(worst, ABS((int)((a >> sh) & 0xFF) - (int)((b >> sh) & 0xFF)));
      loose += worst > TOL_SMALL;
      hard += worst > TOL_BIG;
    }
  g_test_message("%s: %d pixels differ by more than %d, %d by more than %d", name, loose, TOL_SMALL,
                 hard, TOL_BIG);
  if (loose > TOL_LOOSE_PIXELS || hard > TOL_HARD_PIXELS) {
    char *dump = g_strdup_printf("%s/%s.actual.png", g_get_tmp_dir(), name);
    cairo_surface_write_to_png(got, dump);
    g_test_message("wrote the actual rendering to %s", dump);
    g_free(dump);
  }
  g_assert_cmpint(loose, <=, TOL_LOOSE_PIXELS);
  g_assert_cmpint(hard, <=, TOL_HARD_PIXELS);
  cairo_surface_destroy(want);
}

/* Inside the card, the padding around the text column is only panel: black
 * at the panel's alpha, or the accent. Ink from hostile text would be
 * coloured there. */
static void assert_card_margins_clean(cairo_surface_t *s, int fw, int fh) {
  overlay_geom_t g;
  overlay_geom_for(fw, fh, &g);
  const overlay_layout_t *l = &g.box;
  int right = g.text.x + g.text.width, top = g.text.y, bottom = g.text.y + g.text.height;
  int inked = 0;
  for (int y = 0; y < l->height; y++)
    for (int x = l->accent_width; x < l->width; x++) {
      if (!(x >= right || y < top || y >= bottom))
        continue;
      guint32 p = surface_at(s, l->x + x, l->y + y);
      inked += (p & 0xFFFFFF) != 0;
    }
  g_assert_cmpint(inked, ==, 0);
}

static void run_case(gconstpointer data) {
  const render_case_t *c = data;
  char *tmpdir = g_dir_make_tmp("overlay-render-XXXXXX", NULL);
  char *pic = picture_path(tmpdir);
  fixture_write_picture(pic);

  overlay_state_t st;
  c->make(&st, tmpdir);
  GstVideoOverlayComposition *comp = fixture_render(c->width, c->height, &st);
  g_assert_nonnull(comp);
  cairo_surface_t *got = fixture_flatten(comp, c->width, c->height);

  /* Every rectangle lies inside one of the layout's boxes (a ticker row
   * inside the ticker box): no pixel is drawn outside its box. */
  overlay_layout_t l;
  overlay_layout_for(c->width, c->height, &l);
  overlay_rect_t card = {l.x, l.y, l.width, l.height};
  const overlay_rect_t *boxes[] = {&card, &l.title, &l.ticker, &l.question, &l.qr};
  for (guint i = 0; i < gst_video_overlay_composition_n_rectangles(comp); i++) {
    gint x, y;
    guint w, h;
    gst_video_overlay_rectangle_get_render_rectangle(
        gst_video_overlay_composition_get_rectangle(comp, i), &x, &y, &w, &h);
    gboolean inside = FALSE;
    for (gsize b = 0; b < G_N_ELEMENTS(boxes); b++)
      inside |= x >= boxes[b]->x && y >= boxes[b]->y &&
                x + (int)w <= boxes[b]->x + boxes[b]->width &&
                y + (int)h <= boxes[b]->y + boxes[b]->height;
    g_assert_true(inside);
  }
  if (st.product.shown)
    assert_card_margins_clean(got, c->width, c->height);

  const char *src = g_getenv("TOURCAST_SOURCE_DIR");
  g_assert_nonnull(src);
  char *file = g_strdup_printf("%s.png", c->name);
  char *path = g_build_filename(src, "tests", "overlay", "expected", file, NULL);
  if (g_getenv("TOURCAST_OVERLAY_REGEN") != NULL) {
    g_assert_cmpint(cairo_surface_write_to_png(got, path), ==, CAIRO_STATUS_SUCCESS);
    g_test_message("wrote %s", path);
  } else {
    compare(got, path, c->name);
  }

  g_free(path);
  g_free(file);
  cairo_surface_destroy(got);
  gst_video_overlay_composition_unref(comp);
  g_unlink(pic);
  g_rmdir(tmpdir);
  g_free(pic);
  g_free(tmpdir);
}

/* The comparison itself must be able to fail: a one-character change of
 * the price is far outside the tolerance. */
static void test_tolerance_catches_change(void) {
  overlay_state_t st;
  fixture_full_state(&st);
  GstVideoOverlayComposition *a = fixture_render(720, 1280, &st);
  st.product.price_cents = 1380;
  GstVideoOverlayComposition *b = fixture_render(720, 1280, &st);
  cairo_surface_t *sa = fixture_flatten(a, 720, 1280), *sb = fixture_flatten(b, 720, 1280);
  int hard = 0;
  for (int y = 0; y < 1280; y++)
    for (int x = 0; x < 720; x++) {
      guint32 p = surface_at(sa, x, y), q = surface_at(sb, x, y);
      int worst = 0;
      for (int sh = 0; sh < 32; sh += 8)
        worst = MAX(worst, ABS((int)((p >> sh) & 0xFF) - (int)((q >> sh) & 0xFF)));
      hard += worst > TOL_BIG;
    }
  g_test_message("¥12.80 vs ¥13.80: %d pixels differ by more than %d", hard, TOL_BIG);
  g_assert_cmpint(hard, >, TOL_HARD_PIXELS);
  cairo_surface_destroy(sa);
  cairo_surface_destroy(sb);
  gst_video_overlay_composition_unref(a);
  gst_video_overlay_composition_unref(b);
}

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    char *name = g_strdup_printf("/overlay/render/%s", cases[i].name);
    g_test_add_data_func(name, &cases[i], run_case);
    g_free(name);
  }
  g_test_add_func("/overlay/render/tolerance-catches-change", test_tolerance_catches_change);
  return g_test_run();
}
