/* test_overlay_state.c — price and name formatting, and state copies. */
#include <string.h>

#include "overlay/overlay_priv.h"

static void test_format_price(void) {
  static const struct {
    gint64 cents;
    const char *unit, *want;
  } rows[] = {
      {1280, "斤", "¥12.80/斤"},
      {1280, NULL, "¥12.80"},
      {1280, "", "¥12.80"},
      {1280, "  ", "¥12.80"},
      {0, "个", "¥0.00/个"},
      {5, "g", "¥0.05/g"},
      {99, "箱", "¥0.99/箱"},
      {100, "箱", "¥1.00/箱"},
      {12345678, "箱", "¥123456.78/箱"},
      {G_MAXINT64, "斤", "¥92233720368547758.07/斤"},
      {1280, "<b>斤</b>", "¥12.80/<b>斤</b>"},           /* plain text */
      {1280, "500g装礼盒大份量", "¥12.80/500g装礼盒大"}, /* capped at 8 characters */
      {1280, "斤\n\x01", "¥12.80/斤"},                   /* controls become blanks, then trimmed */
      {1280, "\xE2\x80\xAE斤", "¥12.80/斤"},             /* a bidi override is dropped */
      {1280, "\xFF\xFE", "¥12.80/\xEF\xBF\xBD\xEF\xBF\xBD"}, /* repaired, not passed through */
      {-1, "斤", NULL},
      {G_MININT64, "斤", NULL},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
    char *got = overlay_format_price(rows[i].cents, rows[i].unit);
    g_test_message("%" G_GINT64_FORMAT " %s -> %s", rows[i].cents, rows[i].unit, got);
    g_assert_cmpstr(got, ==, rows[i].want);
    if (got != NULL)
      g_assert_true(g_utf8_validate(got, -1, NULL));
    g_free(got);
  }
}

static void test_mask_name(void) {
  static const struct {
    const char *in, *want;
  } rows[] = {
      {"王小明", "王**"},
      {"王", "王**"},
      {"王**", "王**"},
      {"Alice", "A**"},
      {"  李华", "李**"},
      {"", "**"},
      {NULL, "**"},
      {" \n ", "**"},
      {"🍑桃", "🍑**"},
      {"\xE2\x80\xAE王", "王**"},
      {"\xFF王", "\xEF\xBF\xBD**"},
      {"13812345678", "1**"}, /* a phone number typed as a name stays hidden */
  };
  for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
    char *got = overlay_mask_name(rows[i].in);
    g_assert_cmpstr(got, ==, rows[i].want);
    g_free(got);
  }
}

/* The copy owns its strings: the caller's buffers may go at once. */
static void test_state_dup(void) {
  char *title = g_strdup("标题"), *name = g_strdup("王小明");
  overlay_state_t st = {.title = title, .version = 5, .n_ticker = 99};
  st.ticker[0] = (overlay_ticker_entry_t){1, name, "桃", 2};
  overlay_state_t *copy = overlay_state_dup(&st);
  memset(title, 'x', strlen(title));
  memset(name, 'x', strlen(name));
  g_free(title);
  g_free(name);
  g_assert_cmpstr(copy->title, ==, "标题");
  g_assert_cmpstr(copy->ticker[0].name, ==, "王小明");
  g_assert_cmpint(copy->n_ticker, ==, OVERLAY_TICKER_MAX); /* clamped */
  g_assert_null(copy->promise);
  g_assert_cmpuint(copy->version, ==, 5);
  overlay_state_free(copy);
  overlay_state_free(NULL);
}

/* Box memory comes back for the same size, aligned, and a block too big to
 * keep is freed rather than kept. */
static void test_mem_recycle(void) {
  gpointer a = overlay_mem_take(123456);
  g_assert_cmpuint(GPOINTER_TO_SIZE(a) % 16, ==, 0);
  memset(a, 0xAB, 123456);
  overlay_mem_give(a);
  gpointer b = overlay_mem_take(4000); /* another size: a fresh block */
  g_assert_true(b != a);
  gpointer c = overlay_mem_take(123456);
  g_assert_true(c == a);
  overlay_mem_give(b);
  overlay_mem_give(c);
  overlay_mem_give(NULL);
  gpointer big = overlay_mem_take(64u << 20);
  overlay_mem_give(big);
  gpointer d = overlay_mem_take(123456); /* still kept: the big one evicted nothing */
  g_assert_true(d == a);
  overlay_mem_give(d);
}

void test_overlay_state_register(void) {
  g_test_add_func("/overlay/state/mem-recycle", test_mem_recycle);
  g_test_add_func("/overlay/state/format-price", test_format_price);
  g_test_add_func("/overlay/state/mask-name", test_mask_name);
  g_test_add_func("/overlay/state/dup", test_state_dup);
}
