/* test_http_route.c — table tests for the request path parser (ws/http_route.c).
 *
 * Each row is a path and the route, file name and CORS flag it must give,
 * with valid, truncated, oversized and hostile rows side by side.
 */
#include <glib.h>
#include <string.h>

#include "ws/http_route.h"
#include "ws/qr_svg.h"

#define NUL_LEN(s) (sizeof(s) - 1) /* length of a literal that contains NUL bytes */

typedef struct {
  const char *path;
  gssize len; /* -1: strlen(path) */
  http_route_kind_t kind;
  const char *name;
  gboolean under_live;
} row_t;

static const row_t rows[] = {
    /* pages */
    {"/", -1, HTTP_ROUTE_INDEX, "index.html", FALSE},
    {"/?", -1, HTTP_ROUTE_INDEX, "index.html", FALSE},
    {"/?from=wechat&x=%2e%2e", -1, HTTP_ROUTE_INDEX, "index.html", FALSE},
    {"/#top", -1, HTTP_ROUTE_INDEX, "index.html", FALSE},
    {"/leader", -1, HTTP_ROUTE_LEADER, "leader.html", FALSE},
    {"/leader?token=abc/../def", -1, HTTP_ROUTE_LEADER, "leader.html", FALSE},
    {"/leader/", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/Leader", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/index.html", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/healthz", -1, HTTP_ROUTE_HEALTHZ, "", FALSE},
    {"/healthz?verbose=1", -1, HTTP_ROUTE_HEALTHZ, "", FALSE},
    {"/healthz/", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/metrics", -1, HTTP_ROUTE_METRICS, "", FALSE},
    {"/replay/3", -1, HTTP_ROUTE_REPLAY, "replay.html", FALSE},
    {"/replay/3?t=12#c", -1, HTTP_ROUTE_REPLAY, "replay.html", FALSE},
    {"/replay/9007199254740991", -1, HTTP_ROUTE_REPLAY, "replay.html", FALSE},
    {"/replay/9007199254740992", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/replay/0", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/replay/03", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/replay/3x", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/replay/3/", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/replay/", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/replay", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/replay/../leader", -1, HTTP_ROUTE_REJECTED, "", FALSE},
    {"/vendor/hls.light.min.js", -1, HTTP_ROUTE_VENDOR, "hls.light.min.js", FALSE},
    {"/vendor/hls.light.min.js?v=1.7.4", -1, HTTP_ROUTE_VENDOR, "hls.light.min.js", FALSE},
    {"/vendor/hls.js", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/vendor/hls.min.js", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/vendor/package.json", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/vendor/", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/vendor/../package.json", -1, HTTP_ROUTE_REJECTED, "", FALSE},
    /* the JSON API */
    {"/api/shows", -1, HTTP_ROUTE_API_SHOWS, "", FALSE},
    {"/api/shows/", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/api/shows/12/events", -1, HTTP_ROUTE_API_EVENTS, "", FALSE},
    {"/api/shows/12/orders.csv?token=x", -1, HTTP_ROUTE_API_ORDERS_CSV, "", FALSE},
    {"/api/shows/12/orders?token=x", -1, HTTP_ROUTE_API_ORDERS, "", FALSE},
    {"/api/shows/12/orders/", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/api/shows/12/ordersx", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/api/qr.svg?text=http://evil", -1, HTTP_ROUTE_API_QR, "", FALSE},
    {"/api/qr.svgx", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/api/shows/9007199254740991/events", -1, HTTP_ROUTE_API_EVENTS, "", FALSE},
    {"/api/shows/9007199254740992/events", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/api/shows/99999999999999999999999/events", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/api/shows/0/events", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/api/shows/012/events", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/api/shows/-1/events", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/api/shows/x/events", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/api/shows/1", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/api/shows/1/events/", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/api/shows/1/orders.csvx", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/api/shows/1/../events", -1, HTTP_ROUTE_REJECTED, "", FALSE},
    {"/api/products/3/image", -1, HTTP_ROUTE_API_PRODUCT_IMAGE, "product-3.png", FALSE},
    {"/api/products/3/image?v=2", -1, HTTP_ROUTE_API_PRODUCT_IMAGE, "product-3.png", FALSE},
    {"/api/products/9007199254740991/image", -1, HTTP_ROUTE_API_PRODUCT_IMAGE,
     "product-9007199254740991.png", FALSE},
    {"/api/products/9007199254740992/image", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/api/products/0/image", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/api/products/3", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/api/products/3/image/", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/api/products/3/image.png", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/api/products/x/image", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/api/products/../image", -1, HTTP_ROUTE_REJECTED, "", FALSE},
    /* archived shows */
    {"/shows/7/index.m3u8", -1, HTTP_ROUTE_SHOW_PLAYLIST, "index.m3u8", FALSE},
    {"/shows/7/s1-00003.ts?x=1", -1, HTTP_ROUTE_SHOW_SEGMENT, "s1-00003.ts", FALSE},
    {"/shows/9007199254740991/index.m3u8", -1, HTTP_ROUTE_SHOW_PLAYLIST, "index.m3u8", FALSE},
    {"/shows/9007199254740992/index.m3u8", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/shows/0/index.m3u8", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/shows/07/index.m3u8", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/shows/x/index.m3u8", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/shows/7", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/shows/7/", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/shows/7/list.txt", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/shows/7/a/b.ts", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/shows/7/.ts", -1, HTTP_ROUTE_REJECTED, "", FALSE},
    {"/shows/7/../../stream_key", -1, HTTP_ROUTE_REJECTED, "", FALSE},
    {"/shows/7/%2e%2e/x.ts", -1, HTTP_ROUTE_REJECTED, "", FALSE},
    {"/shows/7index.m3u8", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    /* static assets */
    {"/web/app.css", -1, HTTP_ROUTE_WEB_ASSET, "app.css", FALSE},
    {"/web/app.js?v=3", -1, HTTP_ROUTE_WEB_ASSET, "app.js", FALSE},
    {"/web/logo-2_x.svg", -1, HTTP_ROUTE_WEB_ASSET, "logo-2_x.svg", FALSE},
    {"/web/app.exe", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/web/Makefile", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/web/", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/web", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/web/css/app.css", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/web/.htaccess", -1, HTTP_ROUTE_REJECTED, "", FALSE},
    {"/web/../leader.html", -1, HTTP_ROUTE_REJECTED, "", FALSE},
    {"/web/..", -1, HTTP_ROUTE_REJECTED, "", FALSE},
    /* live */
    {"/live/index.m3u8", -1, HTTP_ROUTE_LIVE_PLAYLIST, "index.m3u8", TRUE},
    {"/live/index.m3u8?_HLS_msn=12&_HLS_part=0", -1, HTTP_ROUTE_LIVE_PLAYLIST, "index.m3u8", TRUE},
    {"/live/index.m3u8#t=3", -1, HTTP_ROUTE_LIVE_PLAYLIST, "index.m3u8", TRUE},
    {"/live/seg00001.ts", -1, HTTP_ROUTE_LIVE_SEGMENT, "seg00001.ts", TRUE},
    {"/live/a.ts", -1, HTTP_ROUTE_LIVE_SEGMENT, "a.ts", TRUE},
    {"/live/show_2024-06-01.seg-7.ts", -1, HTTP_ROUTE_LIVE_SEGMENT, "show_2024-06-01.seg-7.ts",
     TRUE},
    {"/live/seg.TS", -1, HTTP_ROUTE_NOT_FOUND, "", TRUE},
    {"/live/seg.ts.txt", -1, HTTP_ROUTE_NOT_FOUND, "", TRUE},
    {"/live/index.m3u", -1, HTTP_ROUTE_NOT_FOUND, "", TRUE},
    {"/live/", -1, HTTP_ROUTE_NOT_FOUND, "", TRUE},
    {"/live", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/live/seg.ts/", -1, HTTP_ROUTE_NOT_FOUND, "", TRUE},
    {"/live/sub/seg.ts", -1, HTTP_ROUTE_NOT_FOUND, "", TRUE},
    {"/LIVE/index.m3u8", -1, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    /* traversal and hidden files */
    {"/live/../x", -1, HTTP_ROUTE_REJECTED, "", TRUE},
    {"/live/..", -1, HTTP_ROUTE_REJECTED, "", TRUE},
    {"/live/./index.m3u8", -1, HTTP_ROUTE_REJECTED, "", TRUE},
    {"/live/%2e%2e/x", -1, HTTP_ROUTE_REJECTED, "", TRUE},
    {"/live/%2E%2E%2Fx", -1, HTTP_ROUTE_REJECTED, "", TRUE},
    {"/live/..%2fsecret.txt", -1, HTTP_ROUTE_REJECTED, "", TRUE},
    {"/live/seg%30001.ts", -1, HTTP_ROUTE_REJECTED, "", TRUE},
    {"/live/.hidden", -1, HTTP_ROUTE_REJECTED, "", TRUE},
    {"/live/.ts", -1, HTTP_ROUTE_REJECTED, "", TRUE},
    {"/live/a..b.ts", -1, HTTP_ROUTE_REJECTED, "", TRUE},
    {"/live/...ts", -1, HTTP_ROUTE_REJECTED, "", TRUE},
    {"/live/..\\secret.txt", -1, HTTP_ROUTE_REJECTED, "", TRUE},
    {"/../etc/passwd", -1, HTTP_ROUTE_REJECTED, "", FALSE},
    {"/./", -1, HTTP_ROUTE_REJECTED, "", FALSE},
    {"/.", -1, HTTP_ROUTE_REJECTED, "", FALSE},
    /* double slashes */
    {"//", -1, HTTP_ROUTE_REJECTED, "", FALSE},
    {"//live/index.m3u8", -1, HTTP_ROUTE_REJECTED, "", FALSE},
    {"/live//index.m3u8", -1, HTTP_ROUTE_REJECTED, "", TRUE},
    {"/web//app.css", -1, HTTP_ROUTE_REJECTED, "", FALSE},
    /* bytes that are never part of a path of ours */
    {"/live/seg 1.ts", -1, HTTP_ROUTE_REJECTED, "", TRUE},
    {"/live/seg+1.ts", -1, HTTP_ROUTE_REJECTED, "", TRUE},
    {"/live/s\xc3\xa9g.ts", -1, HTTP_ROUTE_REJECTED, "", TRUE},
    {"/live/seg\x7f.ts", -1, HTTP_ROUTE_REJECTED, "", TRUE},
    {"/live/seg\r\n.ts", -1, HTTP_ROUTE_REJECTED, "", TRUE},
    {"/live/seg:1.ts", -1, HTTP_ROUTE_REJECTED, "", TRUE},
    {"/live/seg00001.ts\0.html", NUL_LEN("/live/seg00001.ts\0.html"), HTTP_ROUTE_REJECTED, "",
     TRUE},
    {"/\0", NUL_LEN("/\0"), HTTP_ROUTE_REJECTED, "", FALSE},
    {"\0/", NUL_LEN("\0/"), HTTP_ROUTE_REJECTED, "", FALSE},
    /* the query string ends the path even when it holds NUL bytes */
    {"/live/index.m3u8?\0x", NUL_LEN("/live/index.m3u8?\0x"), HTTP_ROUTE_LIVE_PLAYLIST,
     "index.m3u8", TRUE},
    /* empty, relative, truncated */
    {"", -1, HTTP_ROUTE_REJECTED, "", FALSE},
    {"?x=1", -1, HTTP_ROUTE_REJECTED, "", FALSE},
    {"live/index.m3u8", -1, HTTP_ROUTE_REJECTED, "", FALSE},
    {"http://host/live/index.m3u8", -1, HTTP_ROUTE_REJECTED, "", FALSE},
    {"*", -1, HTTP_ROUTE_REJECTED, "", FALSE},
    {"/live/index.m3u8", 6, HTTP_ROUTE_NOT_FOUND, "", TRUE},
    {"/live/index.m3u8", 5, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/live/seg00001.ts", 15, HTTP_ROUTE_NOT_FOUND, "", TRUE},
    {"/live/seg00001.tsXYZ", 17, HTTP_ROUTE_LIVE_SEGMENT, "seg00001.ts", TRUE},
    {"/web/a.css-and-more", 10, HTTP_ROUTE_WEB_ASSET, "a.css", FALSE},
    {"/healthz", 0, HTTP_ROUTE_REJECTED, "", FALSE},
    {"/replay/12", 9, HTTP_ROUTE_REPLAY, "replay.html", FALSE},
    {"/replay/12", 8, HTTP_ROUTE_NOT_FOUND, "", FALSE},
    {"/vendor/hls.light.min.js", 17, HTTP_ROUTE_NOT_FOUND, "", FALSE},
};

static void test_table(void) {
  for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
    const row_t *row = &rows[i];
    gsize len = row->len < 0 ? strlen(row->path) : (gsize)row->len;
    http_route_t r;
    http_route_kind_t k = http_route_parse(row->path, len, &r);
    if (k != row->kind || strcmp(r.name, row->name) != 0 || r.under_live != row->under_live)
      g_error("row %" G_GSIZE_FORMAT " (%.*s): got %s \"%s\" live=%d, want %s \"%s\" live=%d", i,
              (int)len, row->path, http_route_kind_name(k), r.name, r.under_live,
              http_route_kind_name(row->kind), row->name, row->under_live);
    g_assert_cmpint(r.kind, ==, k);
  }
}

static void test_content_types(void) {
  http_route_t r;
  http_route_parse("/", 1, &r);
  g_assert_cmpstr(r.content_type, ==, "text/html; charset=utf-8");
  http_route_parse("/live/index.m3u8", 16, &r);
  g_assert_cmpstr(r.content_type, ==, "application/vnd.apple.mpegurl");
  http_route_parse("/live/seg1.ts", 13, &r);
  g_assert_cmpstr(r.content_type, ==, "video/mp2t");
  http_route_parse("/web/app.css", 12, &r);
  g_assert_cmpstr(r.content_type, ==, "text/css; charset=utf-8");
  http_route_parse("/healthz", 8, &r);
  g_assert_null(r.content_type);
  http_route_parse("/replay/7", 9, &r);
  g_assert_cmpstr(r.content_type, ==, "text/html; charset=utf-8");
  g_assert_cmpint(r.show_id, ==, 7);
  http_route_parse("/vendor/hls.light.min.js", 24, &r);
  g_assert_cmpstr(r.content_type, ==, "text/javascript; charset=utf-8");
  http_route_parse("/nope", 5, &r);
  g_assert_null(r.content_type);

  g_assert_cmpstr(http_route_web_content_type("app.js"), ==, "text/javascript; charset=utf-8");
  g_assert_cmpstr(http_route_web_content_type("a.woff2"), ==, "font/woff2");
  g_assert_null(http_route_web_content_type("js"));
  g_assert_null(http_route_web_content_type(".js"));
  g_assert_null(http_route_web_content_type("app.JS"));
  g_assert_null(http_route_web_content_type(""));
}

/* Names right at, and one past, HTTP_ROUTE_NAME_MAX; and overlong paths. */
static void test_lengths(void) {
  http_route_t r;
  char *stem = g_strnfill(HTTP_ROUTE_NAME_MAX - 3, 'a');
  char *path = g_strconcat("/live/", stem, ".ts", NULL);
  g_assert_cmpint(http_route_parse(path, strlen(path), &r), ==, HTTP_ROUTE_LIVE_SEGMENT);
  g_assert_cmpuint(strlen(r.name), ==, HTTP_ROUTE_NAME_MAX);
  g_free(path);
  path = g_strconcat("/live/a", stem, ".ts", NULL);
  g_assert_cmpint(http_route_parse(path, strlen(path), &r), ==, HTTP_ROUTE_REJECTED);
  g_assert_cmpstr(r.name, ==, "");
  g_free(path);
  g_free(stem);

  /* A long path of short, valid segments is still bounded as a whole. */
  GString *s = g_string_new(NULL);
  while (s->len <= HTTP_ROUTE_PATH_MAX)
    g_string_append(s, "/abc");
  g_assert_cmpint(http_route_parse(s->str, s->len, &r), ==, HTTP_ROUTE_REJECTED);
  g_string_truncate(s, HTTP_ROUTE_PATH_MAX);
  g_assert_cmpint(http_route_parse(s->str, s->len, &r), ==, HTTP_ROUTE_NOT_FOUND);
  g_string_free(s, TRUE);

  char *huge = g_strnfill(1 << 20, 'a');
  huge[0] = '/';
  g_assert_cmpint(http_route_parse(huge, 1 << 20, &r), ==, HTTP_ROUTE_REJECTED);
  g_free(huge);

  g_assert_cmpint(http_route_parse(NULL, 0, &r), ==, HTTP_ROUTE_REJECTED);
  g_assert_cmpint(http_route_parse(NULL, 12, &r), ==, HTTP_ROUTE_REJECTED);
}

/* Every prefix of every row, read from an exact-size heap copy so that ASan
 * catches a read past `len`: never a crash, and any name handed out is safe. */
static void test_truncations(void) {
  for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
    gsize full = rows[i].len < 0 ? strlen(rows[i].path) : (gsize)rows[i].len;
    for (gsize len = 0; len <= full; len++) {
      char *copy = g_memdup2(rows[i].path, len ? len : 1);
      http_route_t r;
      http_route_parse(copy, len, &r);
      gsize n = strlen(r.name);
      g_assert_cmpuint(n, <=, HTTP_ROUTE_NAME_MAX);
      if (n > 0) {
        g_assert_true(r.name[0] != '.');
        g_assert_null(strstr(r.name, ".."));
        g_assert_cmpuint(strspn(r.name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789._-"),
                         ==, n);
        g_assert_nonnull(r.content_type);
      }
      g_free(copy);
    }
  }
}

static void test_show_ids(void) {
  http_route_t r;
  const char *p = "/api/shows/9007199254740991/orders.csv";
  g_assert_cmpint(http_route_parse(p, strlen(p), &r), ==, HTTP_ROUTE_API_ORDERS_CSV);
  g_assert_cmpint(r.show_id, ==, 9007199254740991LL);
  p = "/api/shows/7/events";
  g_assert_cmpint(http_route_parse(p, strlen(p), &r), ==, HTTP_ROUTE_API_EVENTS);
  g_assert_cmpint(r.show_id, ==, 7);
  g_assert_cmpstr(r.content_type, ==, "application/json");
  p = "/api/products/42/image";
  g_assert_cmpint(http_route_parse(p, strlen(p), &r), ==, HTTP_ROUTE_API_PRODUCT_IMAGE);
  g_assert_cmpint(r.product_id, ==, 42);
  g_assert_cmpint(r.show_id, ==, 0);
  p = "/api/shows/7/nope";
  http_route_parse(p, strlen(p), &r);
  g_assert_cmpint(r.show_id, ==, 0);
}

static void test_kind_names(void) {
  for (int k = HTTP_ROUTE_REJECTED; k <= HTTP_ROUTE_API_QR; k++)
    g_assert_cmpstr(http_route_kind_name((http_route_kind_t)k), !=, "unknown");
  g_assert_cmpstr(http_route_kind_name((http_route_kind_t)999), ==, "unknown");
}

/* /api/qr.svg's body: a square SVG with a quiet zone; too long a text is refused. */
static void test_qr_svg(void) {
  char *svg = qr_svg("http://192.168.1.20:8080/");
  g_assert_nonnull(svg);
  g_assert_true(
      g_str_has_prefix(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 33 33\""));
  g_assert_nonnull(strstr(svg, "<path fill=\"#000\" d=\"M4 4h1v1h-1z")); /* the finder's corner */
  g_free(svg);
  char *long_text = g_strnfill(513, 'a');
  g_assert_null(qr_svg(long_text));
  long_text[512] = '\0';
  svg = qr_svg(long_text);
  g_assert_nonnull(svg);
  g_free(svg);
  g_free(long_text);
  g_assert_null(qr_svg(NULL));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/http_route/table", test_table);
  g_test_add_func("/http_route/show-ids", test_show_ids);
  g_test_add_func("/http_route/content_types", test_content_types);
  g_test_add_func("/http_route/lengths", test_lengths);
  g_test_add_func("/http_route/truncations", test_truncations);
  g_test_add_func("/http_route/kind_names", test_kind_names);
  g_test_add_func("/http_route/qr_svg", test_qr_svg);
  return g_test_run();
}
