/* test_http_policy.c — the pure parsers of ws/http_policy.c, as tables.
 *
 * Content-Length values, origins made from command-line URLs, the Origin
 * allow-list (with the server's own origin from Host), header names and the
 * constant-time token compare. The request-head checks over a live lws
 * connection are in test_http_server.c (framing) and the abuse suite.
 */
#include <glib.h>
#include <string.h>

#include "ws/http_policy.h"

static void test_content_length(void) {
  static const struct {
    const char *in;
    gint64 want;
  } rows[] = {
      {"0", 0},     {"5", 5},     {" 12 ", 12},
      {"\t7\t", 7}, {"007", 7},   {"999999999999999", 999999999999999},
      {"", -1},     {" ", -1},    {"+5", -1},
      {"-5", -1},   {"5, 5", -1}, {"5,5", -1},
      {"0x5", -1},  {"5 5", -1},  {"1000000000000000", -1},
      {"5\r", -1},  {"\v5", -1},  {"５", -1},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
    gint64 got = http_policy_parse_content_length(rows[i].in, strlen(rows[i].in));
    if (got != rows[i].want)
      g_error("Content-Length \"%s\": %" G_GINT64_FORMAT ", want %" G_GINT64_FORMAT, rows[i].in,
              got, rows[i].want);
  }
  /* Only the given length is read: the digits after it are not part of it. */
  g_assert_cmpint(http_policy_parse_content_length("12345", 2), ==, 12);
}

static void test_origin_of_url(void) {
  static const struct {
    const char *in, *want;
  } rows[] = {
      {"https://tour.example.org/watch", "https://tour.example.org"},
      {"https://tour.example.org", "https://tour.example.org"},
      {"HTTPS://Shop.Example.COM:443/", "https://shop.example.com"},
      {"http://shop.example.com:80", "http://shop.example.com"},
      {"http://shop.example.com:443", "http://shop.example.com:443"},
      {"https://shop.example.com:8443/a?b#c", "https://shop.example.com:8443"},
      {"http://192.168.1.20:8080/", "http://192.168.1.20:8080"},
      {"http://[::1]:8080/", "http://[::1]:8080"},
      {"ftp://shop.example.com", NULL},
      {"shop.example.com", NULL},
      {"http://", NULL},
      {"http://user:pw@shop.example.com/", NULL},
      {"http://shop.example.com:0/", NULL},
      {"http://shop.example.com:70000/", NULL},
      {"http://a b/", NULL},
      {"", NULL},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
    char *got = http_policy_origin_of_url(rows[i].in);
    if (g_strcmp0(got, rows[i].want) != 0)
      g_error("origin of \"%s\": %s, want %s", rows[i].in, got ? got : "NULL",
              rows[i].want ? rows[i].want : "NULL");
    g_free(got);
  }
  g_assert_null(http_policy_origin_of_url(NULL));
}

static gboolean allowed(const char *origin, const char *host) {
  static const char *const list[] = {"https://tour.example.org", "http://10.0.0.2:8080", NULL};
  return http_policy_origin_allowed(list, origin, strlen(origin), host, host ? strlen(host) : 0);
}

static void test_origin_allowed(void) {
  g_assert_true(allowed("https://tour.example.org", NULL));
  g_assert_true(allowed("HTTPS://TOUR.EXAMPLE.ORG", NULL));
  g_assert_true(allowed("http://10.0.0.2:8080", "x"));
  /* The server's own origin, from Host, in either scheme (behind TLS). */
  g_assert_true(allowed("http://127.0.0.1:8080", "127.0.0.1:8080"));
  g_assert_true(allowed("https://127.0.0.1:8080", "127.0.0.1:8080"));
  g_assert_true(allowed("http://Live.Local", "live.local"));
  /* Anything else. */
  g_assert_false(allowed("https://tour.example.org.evil.example", NULL));
  g_assert_false(allowed("https://tour.example.org:444", NULL));
  g_assert_false(allowed("http://tour.example.org", NULL));
  g_assert_false(allowed("null", "127.0.0.1:8080"));
  g_assert_false(allowed("http://127.0.0.1:8081", "127.0.0.1:8080"));
  g_assert_false(allowed("http://127.0.0.1:8080/", "127.0.0.1:8080"));
  g_assert_false(allowed("ws://127.0.0.1:8080", "127.0.0.1:8080"));
  g_assert_false(allowed("http://127.0.0.1:8080", NULL));
  g_assert_false(allowed("", "127.0.0.1:8080"));
  g_assert_false(http_policy_origin_allowed(NULL, "http://a", 8, "", 0));
  /* A prefix of an allowed origin is not it. */
  g_assert_false(http_policy_origin_allowed((const char *const[]){"https://tour.example.org", NULL},
                                            "https://tour.example.org", 20, NULL, 0));
}

static void test_field_name(void) {
  static const char *const good[] = {"x-thing:", "a:", "x_y.z~!#$%&'*+^`|:", "X-Zz9:"};
  static const char *const bad[] = {
      ":", "x-thing", " x:", "x :", "x\r\ny:", "x\ty:", "x(:", "é:", "x:y", "x\"y:"};
  for (gsize i = 0; i < G_N_ELEMENTS(good); i++)
    if (!http_policy_field_name_ok(good[i], strlen(good[i])))
      g_error("\"%s\" refused", good[i]);
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++)
    if (http_policy_field_name_ok(bad[i], strlen(bad[i])))
      g_error("\"%s\" accepted", bad[i]);
}

static void test_token_equal(void) {
  g_assert_true(http_policy_token_equal("scrape-me", "scrape-me"));
  g_assert_false(http_policy_token_equal("scrape-me-not", "scrape-me"));
  g_assert_false(http_policy_token_equal("scrape-m", "scrape-me"));
  g_assert_false(http_policy_token_equal("scrape-mE", "scrape-me"));
  g_assert_false(http_policy_token_equal("", "scrape-me"));
  g_assert_false(http_policy_token_equal(NULL, "scrape-me"));
  g_assert_false(http_policy_token_equal("x", NULL));
  g_assert_false(http_policy_token_equal("", "")); /* an empty secret opens nothing */
}

static void test_fixed_headers(void) {
  const char *h = http_policy_fixed_headers();
  g_assert_nonnull(strstr(h, "x-content-type-options: nosniff\r\n"));
  g_assert_nonnull(strstr(h, "referrer-policy: no-referrer\r\n"));
  g_assert_nonnull(strstr(h, "x-frame-options: DENY\r\n"));
  g_assert_nonnull(strstr(http_policy_csp_page, "frame-ancestors 'none'"));
  g_assert_null(strstr(http_policy_csp_page, "unsafe"));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/http_policy/content_length", test_content_length);
  g_test_add_func("/http_policy/origin_of_url", test_origin_of_url);
  g_test_add_func("/http_policy/origin_allowed", test_origin_allowed);
  g_test_add_func("/http_policy/field_name", test_field_name);
  g_test_add_func("/http_policy/token_equal", test_token_equal);
  g_test_add_func("/http_policy/fixed_headers", test_fixed_headers);
  return g_test_run();
}
