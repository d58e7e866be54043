/* test_overlay_text.c — text going onto the card: sanitizing, price spans,
 * real CJK glyphs, and hostile strings that must stay plain, on one line and
 * inside the card. Registered from test_overlay.c's main().
 */
#include <string.h>

#include "overlay/overlay_priv.h"

void test_overlay_text_register(void);

typedef struct {
  const char *in;
  const char *want; /* NULL: nothing to show */
} sanitize_row_t;

static void test_sanitize(void) {
  static const sanitize_row_t rows[] = {
      {NULL, NULL},
      {"", NULL},
      {"   \t\n ", NULL},
      {"水蜜桃 ¥12.80/斤", "水蜜桃 ¥12.80/斤"},
      {"<b>x</b>", "<b>x</b>"},
      {"&amp; <span>", "&amp; <span>"},
      {"  padded  ", "padded"},
      {"two\nlines\r\nand\ttab", "two lines  and tab"},
      {"sep\xE2\x80\xA8"
       "arated",
       "sep arated"}, /* U+2028 */
      {"x\xE2\x80\xAE"
       "08.21\xC2\xA5",
       "x08.21\xC2\xA5"}, /* RLO dropped */
      {"\xE2\x81\xA7"
       "iso\xE2\x81\xA9",
       "iso"}, /* RLI..PDI dropped */
      {"bad\xFF"
       "byte",
       "bad\xEF\xBF\xBD"
       "byte"},                                                         /* U+FFFD */
      {"\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD"},                         /* overlong '/' */
      {"\xE6\xB0\xB4\xE8\x9C", "\xE6\xB0\xB4\xEF\xBF\xBD\xEF\xBF\xBD"}, /* truncated 水蜜 */
      {"\x01\x02"
       "ctl",
       "ctl"},
  };

  for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
    char *got = overlay_text_sanitize(rows[i].in);
    g_test_message("row %" G_GSIZE_FORMAT, i);
    g_assert_cmpstr(got, ==, rows[i].want);
    g_free(got);
  }

  /* Oversized: capped in characters, not bytes, and still valid UTF-8. */
  GString *big = g_string_new(NULL);
  for (int i = 0; i < 1000; i++)
    g_string_append(big, "桃");
  char *got = overlay_text_sanitize(big->str);
  g_assert_true(g_utf8_validate(got, -1, NULL));
  g_assert_cmpint(g_utf8_strlen(got, -1), ==, OVERLAY_TEXT_MAX_CHARS);
  g_free(got);
  g_string_free(big, TRUE);
}

typedef struct {
  const char *in;
  const char *want; /* the highlighted span, NULL: none */
} price_row_t;

static void test_find_price(void) {
  static const price_row_t rows[] = {
      {"水蜜桃 ¥12.80/斤 · 剩 100 份", "¥12.80/斤"},
      {"礼盒 ￥9.9/箱", "￥9.9/箱"},
      {"¥12", "¥12"},
      {"¥1,299.00 包邮", "¥1,299.00"},
      {"¥5/500g装", "¥5/500g"},
      {"¥12.80/ 斤", "¥12.80"},
      {"¥12.80/", "¥12.80"},
      {"¥¥3", "¥3"},
      {"¥ 3", NULL},
      {"¥", NULL},
      {"¥.5", NULL},
      {"\xC2", NULL},     /* truncated sign */
      {"\xEF\xBF", NULL}, /* truncated sign */
      {"no price 12.80", NULL},
      {"", NULL},
      {NULL, NULL},
  };

  for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
    int start = -1, end = -1;
    gboolean found = overlay_text_find_price(rows[i].in, &start, &end);
    g_test_message("row %" G_GSIZE_FORMAT, i);
    if (rows[i].want == NULL) {
      g_assert_false(found);
      continue;
    }
    g_assert_true(found);
    char *span = g_strndup(rows[i].in + start, (gsize)(end - start));
    g_assert_cmpstr(span, ==, rows[i].want);
    g_free(span);
  }
}

/* The product line must come out in real glyphs of the CJK font, not boxes. */
static void test_cjk_glyphs(void) {
  overlay_geom_t g;
  PangoContext *ctx = overlay_text_context_new();
  overlay_geom_for(720, 1280, &g);

  for (int which = OVERLAY_CARD_TITLE; which <= OVERLAY_CARD_PRODUCT; which++) {
    PangoLayout *l = overlay_card_line_layout(ctx, &g, which, "阳山水蜜桃 ¥12.80/斤");
    g_assert_nonnull(l);
    g_assert_cmpint(pango_layout_get_unknown_glyphs_count(l), ==, 0);
    g_assert_false(pango_layout_is_ellipsized(l));
    g_object_unref(l);
  }

  /* And the family we ask for is the one fontconfig gives us. */
  PangoFontDescription *fd = pango_font_description_from_string(OVERLAY_FONT_FAMILY " Bold 30px");
  PangoFont *font = pango_context_load_font(ctx, fd);
  g_assert_nonnull(font);
  PangoFontDescription *got = pango_font_describe(font);
  g_assert_cmpstr(pango_font_description_get_family(got), ==, OVERLAY_FONT_FAMILY);
  pango_font_description_free(got);
  g_object_unref(font);
  pango_font_description_free(fd);
  g_object_unref(ctx);
}

static char *long_name(void) {
  GString *s = g_string_new(NULL);
  for (int i = 0; i < 200; i++)
    g_string_append(s, i % 3 ? "桃" : "M");
  return g_string_free(s, FALSE);
}

/* Every hostile line: laid out as typed (no markup), one line, and its ink
 * and logical extents inside the text column, hence inside the card. */
static void check_line_fits(const overlay_geom_t *g, PangoLayout *l, gsize row) {
  PangoRectangle ink, logical;

  pango_layout_get_pixel_extents(l, &ink, &logical);
  g_test_message("row %" G_GSIZE_FORMAT ": ink x=%d w=%d h=%d logical w=%d h=%d ellipsized=%d", row,
                 ink.x, ink.width, ink.height, logical.width, logical.height,
                 pango_layout_is_ellipsized(l));
  g_assert_cmpint(pango_layout_get_line_count(l), ==, 1);
  g_assert_cmpint(pango_layout_get_unknown_glyphs_count(l), ==, 0); /* no hex boxes */
  g_assert_cmpint(logical.width, <=, g->text.width);
  g_assert_cmpint(logical.height, <=, g->box.height);
  if (ink.width > 0) {
    g_assert_cmpint(g->text.x + ink.x, >=, g->box.accent_width);
    g_assert_cmpint(g->text.x + ink.x + ink.width, <=, g->box.width);
  }
}

static void test_hostile_text(void) {
  char *name200 = long_name();
  const char *rows[] = {
      name200,
      "🍑🍑 水蜜桃 ¥12.80/斤 🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑🍑",
      "מבצע היום ¥12.80 مرحبا بكم في البث المباشر للمزرعة اليوم",
      "<b>x</b>",
      "<span foreground=\"red\">红</span> &amp; &lt;",
      "Z\xCC\x81\xCC\x82\xCC\x83\xCC\x84\xCC\x85\xCC\x86\xCC\x87\xCC\x88\xCC\x89\xCC\x8A"
      "\xCC\x8B\xCC\x8C\xCC\x8D\xCC\x8E\xCC\x8F\xCC\x90\xCC\x91\xCC\x92\xCC\x93\xCC\x94",
      "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW",
  };
  const int sizes[][2] = {{720, 1280}, {1280, 720}, {360, 640}};
  PangoContext *ctx = overlay_text_context_new();

  for (gsize s = 0; s < G_N_ELEMENTS(sizes); s++) {
    overlay_geom_t g;
    overlay_geom_for(sizes[s][0], sizes[s][1], &g);
    for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
      for (int which = OVERLAY_CARD_TITLE; which <= OVERLAY_CARD_PRODUCT; which++) {
        PangoLayout *l = overlay_card_line_layout(ctx, &g, which, rows[i]);
        g_assert_nonnull(l);
        check_line_fits(&g, l, i);
        g_object_unref(l);
      }
    }
  }

  /* Plain text: the tags are characters on screen, not formatting. */
  overlay_geom_t g;
  overlay_geom_for(720, 1280, &g);
  PangoLayout *l = overlay_card_line_layout(ctx, &g, OVERLAY_CARD_PRODUCT, "<b>x</b>");
  g_assert_cmpstr(pango_layout_get_text(l), ==, "<b>x</b>");
  g_assert_cmpint(pango_layout_get_character_count(l), ==, 8);
  g_object_unref(l);

  /* The 200-character name is cut with an ellipsis, not wrapped. */
  l = overlay_card_line_layout(ctx, &g, OVERLAY_CARD_TITLE, name200);
  g_assert_true(g_str_has_suffix(pango_layout_get_text(l), "…"));
  g_assert_cmpint(pango_layout_get_character_count(l), <, 200);
  g_object_unref(l);

  /* Emoji only: drawn if an emoji font is installed, else the line is hidden;
   * either way no hex boxes. */
  l = overlay_card_line_layout(ctx, &g, OVERLAY_CARD_TITLE, "🍑🍑\xE2\x80\x8D🍑");
  if (l != NULL) {
    g_assert_cmpint(pango_layout_get_unknown_glyphs_count(l), ==, 0);
    g_object_unref(l);
  }

  /* Hidden lines. */
  g_assert_null(overlay_card_line_layout(ctx, &g, OVERLAY_CARD_TITLE, NULL));
  g_assert_null(overlay_card_line_layout(ctx, &g, OVERLAY_CARD_TITLE, ""));
  g_assert_null(overlay_card_line_layout(ctx, &g, OVERLAY_CARD_TITLE, " \n "));

  /* The whole card renders with all of them. */
  overlay_t *ov = overlay_new(720, 1280);
  for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
    overlay_state_t st = {.title = rows[i], .version = i + 1};
    st.product.shown = TRUE;
    st.product.name = rows[(i + 1) % G_N_ELEMENTS(rows)];
    st.product.unit = rows[i];
    overlay_update(ov, &st);
    overlay_flush(ov);
  }
  g_assert_cmpuint(overlay_render_count(ov), ==, G_N_ELEMENTS(rows));
  overlay_free(ov);
  g_object_unref(ctx);
  g_free(name200);
}

/* Numbers shown must be numbers that were in the input, whole: "¥1…" for
 * "¥128.00" or "剩 10…" for "剩 100" would be read as a wrong figure. */
static void assert_numbers_whole(const char *in, const char *out) {
  GRegex *re = g_regex_new("[0-9][0-9.,]*", 0, 0, NULL);
  GMatchInfo *m = NULL;
  g_regex_match(re, out, 0, &m);
  while (g_match_info_matches(m)) {
    char *num = g_match_info_fetch(m, 0);
    char *pattern = g_strdup_printf("(^|[^0-9.,])%s($|[^0-9.,])", num);
    if (!g_regex_match_simple(pattern, in, 0, 0))
      g_error("\"%s\" shows %s, not a whole number of \"%s\"", out, num, in);
    g_free(pattern);
    g_free(num);
    g_match_info_next(m, NULL);
  }
  g_match_info_free(m);
  g_regex_unref(re);
  g_assert_null(strstr(out, "¥…"));
}

static void test_fit(void) {
  static const char *rows[] = {
      "水蜜桃礼盒装特大果 ¥128.00/箱 · 剩 100 份 · 满两箱包邮",
      "¥1,299.00/箱 阳山水蜜桃礼盒装特大果 · 剩 1000 份",
      "第 12345 期 阳山水蜜桃果园直播 2024.07.15",
      "水蜜桃 ¥12.80/斤 · 剩 100 份",
      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
  };
  PangoContext *ctx = overlay_text_context_new();
  PangoLayout *m = overlay_text_line_new(ctx, "x", 36, OVERLAY_TEXT_BOLD, 10000);

  for (gsize i = 0; i < G_N_ELEMENTS(rows); i++)
    for (int keep = 0; keep <= 1; keep++)
      for (int w = 0; w <= 1000; w += 9) {
        char *out = overlay_text_fit(m, rows[i], w, keep);
        int got;
        pango_layout_set_text(m, out, -1);
        pango_layout_get_pixel_size(m, &got, NULL);
        g_assert_cmpint(got, <=, w);
        g_assert_true(g_utf8_validate(out, -1, NULL));
        assert_numbers_whole(rows[i], out);
        g_free(out);
      }

  /* The product line keeps its price and a bit of the name. */
  char *out = overlay_text_fit(m, rows[0], 608, TRUE);
  g_assert_nonnull(strstr(out, "¥128.00/箱"));
  g_assert_true(g_str_has_prefix(out, "水蜜桃礼"));
  g_assert_nonnull(strstr(out, "…"));
  g_free(out);
  /* What fits is left alone. */
  out = overlay_text_fit(m, rows[3], 608, TRUE);
  g_assert_cmpstr(out, ==, rows[3]);
  g_free(out);

  g_object_unref(m);
  g_object_unref(ctx);
}

void test_overlay_text_register(void) {
  g_test_add_func("/overlay/text/sanitize", test_sanitize);
  g_test_add_func("/overlay/text/find-price", test_find_price);
  g_test_add_func("/overlay/text/fit", test_fit);
  g_test_add_func("/overlay/text/cjk-glyphs", test_cjk_glyphs);
  g_test_add_func("/overlay/text/hostile", test_hostile_text);
}
