/* overlay_text.c — turning outside strings into safe single-line pango layouts.
 *
 * Product names and titles come from the leader's console and from stored
 * shows, so they are treated as hostile: repaired, stripped of characters that
 * could reorder or break the line, capped, and always laid out as plain text
 * (never markup). Drawing is the callers' business.
 */
#include <string.h>

#include "overlay/overlay_priv.h"

/* Explicit embeddings, overrides and isolates (LRE..RLO, LRI..PDI). A name
 * carrying RLO would otherwise render the price that follows it reversed;
 * the bidi algorithm still orders Arabic or Hebrew text correctly without them. */
static gboolean is_bidi_control(gunichar c) {
  return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

char *overlay_text_sanitize(const char *text) {
  if (text == NULL || text[0] == '\0')
    return NULL;

  char *valid = g_utf8_make_valid(text, -1);
  GString *out = g_string_sized_new(strlen(valid));
  int kept = 0;

  for (const char *p = valid; *p != '\0' && kept < OVERLAY_TEXT_MAX_CHARS;
       p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    if (is_bidi_control(c))
      continue;
    /* One line only: newlines, tabs and separators become plain spaces
     * rather than pango's visible paragraph-separator glyph. */
    if (g_unichar_iscntrl(c) || c == 0x2028 || c == 0x2029)
      c = ' ';
    g_string_append_unichar(out, c);
    kept++;
  }
  g_free(valid);

  char *s = g_strstrip(g_string_free(out, FALSE));
  if (s[0] == '\0') {
    g_free(s);
    return NULL;
  }
  return s;
}

/* A unit after the slash is short ("斤", "箱", "500g"): a few letters or
 * digits, so "¥12.80/斤 · 剩 100 份" highlights only "¥12.80/斤". */
#define PRICE_UNIT_MAX_CHARS 4

/* Byte length of a currency sign at `p`, or 0. */
static size_t price_sign_len(const char *p) {
  if ((guchar)p[0] == 0xC2 && (guchar)p[1] == 0xA5) /* ¥ U+00A5 */
    return 2;
  if ((guchar)p[0] == 0xEF && (guchar)p[1] == 0xBF && (guchar)p[2] == 0xA5) /* ￥ U+FFE5 */
    return 3;
  return 0;
}

/* End of an amount and optional "/unit" starting at `p`, or NULL if `p`
 * does not start with a digit. */
static const char *price_end(const char *p) {
  if (!g_ascii_isdigit(*p))
    return NULL;
  while (g_ascii_isdigit(*p) || *p == '.' || *p == ',')
    p++;
  if (*p == '/') {
    const char *q = p + 1;
    int n = 0;
    while (*q != '\0' && n < PRICE_UNIT_MAX_CHARS && g_unichar_isalnum(g_utf8_get_char(q))) {
      q = g_utf8_next_char(q);
      n++;
    }
    if (n > 0)
      p = q;
  }
  return p;
}

gboolean overlay_text_find_price(const char *text, int *start, int *end) {
  if (text == NULL)
    return FALSE;
  /* Byte-wise scan is safe: both signs start with a lead byte that never
   * occurs inside another UTF-8 sequence. */
  for (const char *p = text; *p != '\0'; p++) {
    size_t len = price_sign_len(p);
    const char *e = len ? price_end(p + len) : NULL;
    if (e != NULL) {
      *start = (int)(p - text);
      *end = (int)(e - text);
      return TRUE;
    }
  }
  return FALSE;
}

PangoContext *overlay_text_context_new(void) {
  /* A font map of our own, not the thread default one: its glyph caches live
   * as long as the overlay and nothing else can change its settings. */
  PangoFontMap *fm = pango_cairo_font_map_new();
  PangoContext *ctx = pango_font_map_create_context(fm);
  g_object_unref(fm);

  /* Video is chroma-subsampled and scaled by players: subpixel colour
   * fringes would show, and hinting buys nothing at these sizes. */
  cairo_font_options_t *fo = cairo_font_options_create();
  cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
  cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
  pango_cairo_context_set_font_options(ctx, fo);
  cairo_font_options_destroy(fo);

  /* Simplified Chinese glyph forms when a fallback font is needed, and a
   * left-to-right line even when a name starts with Arabic or Hebrew. */
  pango_context_set_language(ctx, pango_language_from_string("zh-cn"));
  pango_context_set_base_dir(ctx, PANGO_DIRECTION_LTR);
  return ctx;
}

/* Removes the characters that no installed font can draw (emoji, without a
 * colour emoji font): on a live show a hex box reads as a bug. Needs the
 * layout unwrapped and unellipsized so that every character is shaped.
 * Returns the filtered text (g_free), or NULL if nothing had to go. */
static char *drop_unknown_glyphs(PangoLayout *layout) {
  if (pango_layout_get_unknown_glyphs_count(layout) == 0)
    return NULL;

  const char *text = pango_layout_get_text(layout);
  gsize len = strlen(text);
  guint8 *drop = g_malloc0(len);
  PangoLayoutIter *it = pango_layout_get_iter(layout);
  do {
    PangoLayoutRun *run = pango_layout_iter_get_run_readonly(it);
    if (run == NULL)
      continue;
    for (int i = 0; i < run->glyphs->num_glyphs; i++) {
      if (!(run->glyphs->glyphs[i].glyph & PANGO_GLYPH_UNKNOWN_FLAG))
        continue;
      gsize at = (gsize)(run->item->offset + run->glyphs->log_clusters[i]);
      if (at < len)
        memset(drop + at, 1, (gsize)(g_utf8_next_char(text + at) - (text + at)));
    }
  } while (pango_layout_iter_next_run(it));
  pango_layout_iter_free(it);

  GString *out = g_string_sized_new(len);
  for (gsize i = 0; i < len; i++)
    if (!drop[i])
      g_string_append_c(out, text[i]);
  g_free(drop);
  return g_strstrip(g_string_free(out, FALSE));
}

PangoLayout *overlay_text_line_new(PangoContext *ctx, const char *text, int px,
                                   overlay_text_flags_t flags, int max_width) {
  g_return_val_if_fail(PANGO_IS_CONTEXT(ctx), NULL);
  g_return_val_if_fail(text != NULL, NULL);

  PangoLayout *layout = pango_layout_new(ctx);
  PangoFontDescription *fd = pango_font_description_new();
  pango_font_description_set_family_static(fd, OVERLAY_FONT_FAMILY);
  pango_font_description_set_weight(fd, (flags & OVERLAY_TEXT_BOLD) ? PANGO_WEIGHT_BOLD
                                                                    : PANGO_WEIGHT_NORMAL);
  pango_font_description_set_absolute_size(fd, (double)px * PANGO_SCALE);
  pango_layout_set_font_description(layout, fd);
  pango_font_description_free(fd);
  pango_layout_set_auto_dir(layout, FALSE);
  pango_layout_set_single_paragraph_mode(layout, TRUE);
  pango_layout_set_text(layout, text, -1); /* plain text, never set_markup */

  /* Unwrapped and unellipsized until here: both steps measure whole text. */
  char *shown = drop_unknown_glyphs(layout);
  if (shown == NULL)
    shown = g_strdup(text);
  char *fitted =
      overlay_text_fit(layout, shown, MAX(max_width, 0), (flags & OVERLAY_TEXT_KEEP_PRICE) != 0);
  g_free(shown);
  if (fitted[0] == '\0') {
    g_free(fitted);
    g_object_unref(layout);
    return NULL;
  }
  pango_layout_set_text(layout, fitted, -1);
  g_free(fitted);

  pango_layout_set_width(layout, MAX(max_width, 0) * PANGO_SCALE);
  pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
  return layout;
}

PangoLayout *overlay_text_block_new(PangoContext *ctx, const char *text, int px,
                                    overlay_text_flags_t flags, int max_width, int max_lines) {
  g_return_val_if_fail(PANGO_IS_CONTEXT(ctx), NULL);
  g_return_val_if_fail(text != NULL, NULL);

  /* A one-line layout does the font setup and drops undrawable characters;
   * then the same layout is re-laid out wrapped, with pango's ellipsis on
   * the last allowed line. Its numbers may be cut there: questions and
   * answers are prose, not prices. */
  PangoLayout *layout = overlay_text_line_new(ctx, text, px, flags, G_MAXINT / PANGO_SCALE);
  if (layout == NULL)
    return NULL;
  pango_layout_set_width(layout, MAX(max_width, 1) * PANGO_SCALE);
  pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_height(layout, -MAX(max_lines, 1));
  pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
  return layout;
}
