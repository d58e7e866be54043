/* overlay_fit.c — shortening a line to a width without showing a wrong number.
 *
 * pango's own end-ellipsis cuts anywhere, so "¥128.00/箱" can come out as
 * "¥1…", which a viewer reads as a price. Here a line is only ever cut where
 * no number is split, and on the product line the price stays whole while the
 * name in front of it gives way first: "水蜜桃礼盒…¥128.00/箱 · 剩 100 份".
 * pango's ellipsis stays on as the last guard against overflow.
 */
#include <string.h>

#include "overlay/overlay_priv.h"

#define ELLIPSIS "\xE2\x80\xA6" /* … */
#define HEAD_SHARE_PERCENT 40   /* of a line kept for the name before the price */

static int text_width(PangoLayout *m, const char *s, int len) {
  int w;
  pango_layout_set_text(m, s, len);
  pango_layout_get_pixel_size(m, &w, NULL);
  return w;
}

static gboolean is_numeric(gunichar c) {
  return g_unichar_isdigit(c) || c == '.' || c == ',';
}

/* May the text be cut just before `at`? Not inside a number ("1|,299",
 * "12|.80", "10|0") and not right after a currency sign. */
static gboolean can_cut(const char *s, const char *at) {
  if (at == s)
    return TRUE;
  gunichar a = g_utf8_get_char(g_utf8_prev_char(at));
  gunichar c = g_utf8_get_char(at);
  if (a == 0xA5 || a == 0xFFE5)
    return FALSE;
  return !(is_numeric(a) && is_numeric(c) && (g_unichar_isdigit(a) || g_unichar_isdigit(c)));
}

/* Blanks and separators that would dangle before the ellipsis. */
static gboolean is_trailing_junk(gunichar c) {
  return c == ' ' || c == ',' || c == 0x00B7 /* · */ || c == 0x2022 /* • */ ||
         c == 0x3000 /* ideographic space */ || c == 0x3001 /* 、 */ || c == 0xFF0C /* ， */;
}

/* `s` cut to its first `cut` bytes, dangling separators dropped, plus "…":
 * "剩 100 份 · 满两箱" becomes "剩 100 份…", not "剩 100 份 ·…". */
static char *with_ellipsis(const char *s, int cut) {
  while (cut > 0) {
    const char *last = g_utf8_prev_char(s + cut);
    if (!is_trailing_junk(g_utf8_get_char(last)))
      break;
    cut = (int)(last - s);
  }
  char *prefix = g_strndup(s, (gsize)cut);
  char *out = g_strconcat(prefix, ELLIPSIS, NULL);
  g_free(prefix);
  return out;
}

/* s[0, len) as is if it fits `max_width`, else its longest prefix that fits
 * with an ellipsis, cut at a can_cut() point no earlier than `min_cut`.
 * NULL when not even that fits. */
static char *fit_end(PangoLayout *m, const char *s, int len, int min_cut, int max_width) {
  if (text_width(m, s, len) <= max_width)
    return g_strndup(s, (gsize)len);

  GArray *cuts = g_array_new(FALSE, FALSE, sizeof(int));
  for (const char *p = s; p < s + len; p = g_utf8_next_char(p)) {
    int at = (int)(p - s);
    if (at >= min_cut && can_cut(s, p))
      g_array_append_val(cuts, at);
  }

  /* Widths grow with the prefix: binary search for the longest that fits. */
  char *best = NULL;
  int lo = 0, hi = (int)cuts->len - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    char *cand = with_ellipsis(s, g_array_index(cuts, int, mid));
    if (text_width(m, cand, -1) <= max_width) {
      g_free(best);
      best = cand;
      lo = mid + 1;
    } else {
      g_free(cand);
      hi = mid - 1;
    }
  }
  g_array_free(cuts, TRUE);
  return best;
}

/* The price [ps, pe) stays whole. The name in front of it is guaranteed up
 * to HEAD_SHARE_PERCENT of the width, then the price and what follows it take what
 * they need, and the name gets the rest. NULL when the price does not fit. */
static char *fit_around_price(PangoLayout *m, const char *text, int ps, int pe, int max_width) {
  const char *tail = text + ps;
  int min_head = 0;

  if (ps > 0) {
    char *head = fit_end(m, text, ps, 0, max_width * HEAD_SHARE_PERCENT / 100);
    min_head = head != NULL ? text_width(m, head, -1) : 0;
    g_free(head);
  }
  char *tail_fit = fit_end(m, tail, (int)strlen(tail), pe - ps, max_width - min_head);
  if (tail_fit == NULL)
    return NULL;

  /* Shaping across the join can differ from the sum of the parts by a
   * pixel or two: give the name a little less until the whole fits. */
  int room = max_width - text_width(m, tail_fit, -1);
  for (int attempt = 0; attempt < 4; attempt++, room -= 2) {
    char *head_fit = ps > 0 ? fit_end(m, text, ps, 0, room) : NULL;
    char *joined = g_strconcat(head_fit ? head_fit : "", tail_fit, NULL);
    g_free(head_fit);
    if (text_width(m, joined, -1) <= max_width) {
      g_free(tail_fit);
      return joined;
    }
    g_free(joined);
  }
  g_free(tail_fit);
  return NULL;
}

char *overlay_text_fit(PangoLayout *measure, const char *text, int max_width, gboolean keep_price) {
  int len = (int)strlen(text), ps, pe;
  char *out = NULL;

  if (text_width(measure, text, len) <= max_width)
    return g_strdup(text);
  if (keep_price && overlay_text_find_price(text, &ps, &pe))
    out = fit_around_price(measure, text, ps, pe, max_width);
  if (out == NULL)
    out = fit_end(measure, text, len, 0, max_width);
  return out != NULL ? out : g_strdup("");
}
