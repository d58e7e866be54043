/* ws_load_selftest.c — `ws_load selftest`: tables for the JSON scanner, then its cost beside
 * jansson.
 *
 * Every table has valid, truncated, oversized and invalid rows; every valid
 * scanner input is also fed cut at each length, from an exact-size heap
 * copy so that a sanitizer build catches any read past the end. The timing
 * part answers whether the hand-written scanner is worth having: it parses
 * an order.ok (compact, and spaced the way jansson's json_dumps writes it)
 * and builds an order both ways.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws_load.h"

static int failures;

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      failures++;                                                                                  \
      fprintf(stderr, "selftest: %s:%d: ", __FILE__, __LINE__);                                    \
      fprintf(stderr, __VA_ARGS__);                                                                \
      fputc('\n', stderr);                                                                         \
    }                                                                                              \
  } while (0)

static const struct {
  const char *json;
  const char *key;
  int rc;          /* wl_json_scan's return */
  wl_jtype_t type; /* of key's value */
  const char *raw; /* its text (strings: between the quotes) */
} scan_rows[] = {
    {"{\"type\":\"order.ok\",\"key\":\"k1\"}", "key", 0, WL_JSTR, "k1"},
    {"{ \"type\" : \"x\" , \"n\" : -12 }", "n", 0, WL_JNUM, "-12"},
    {"{\"a\":{\"b\":[1,2,{\"c\":\"}]\"}]},\"b\":2}", "b", 0, WL_JNUM, "2"},
    {"{\"a\":{\"b\":[1,2,{\"c\":\"}]\"}]},\"b\":2}", "a", 0, WL_JOBJ,
     "{\"b\":[1,2,{\"c\":\"}]\"}]}"},
    {"{\"s\":\"a\\\"b\\\\\"}", "s", 0, WL_JSTR, "a\\\"b\\\\"},
    {"{}", "a", 0, WL_JNONE, NULL},
    {" \t{\"a\":true,\"b\":false,\"c\":null}\n", "c", 0, WL_JNULL, "null"},
    {"{\"a\":true,\"b\":false,\"c\":null}", "b", 0, WL_JFALSE, "false"},
    {"{\"a\":1,\"a\":2}", "a", 0, WL_JNUM, "1"},
    {"{\"n\":1.5e+3}", "n", 0, WL_JNUM, "1.5e+3"},
    {"{\"p\":[]}", "p", 0, WL_JARR, "[]"},
    {"{\"name\":\"买家12\"}", "name", 0, WL_JSTR, "买家12"},
    /* invalid */
    {"", "a", -1, WL_JNONE, NULL},
    {"[1]", "a", -1, WL_JNONE, NULL},
    {"{\"a\":}", "a", -1, WL_JNONE, NULL},
    {"{\"a\" 1}", "a", -1, WL_JNONE, NULL},
    {"{\"a\":1,}", "a", -1, WL_JNONE, NULL},
    {"{\"a\":1}x", "a", -1, WL_JNONE, NULL},
    {"{\"a\":1}}", "a", -1, WL_JNONE, NULL},
    {"{\"a\":tru}", "a", -1, WL_JNONE, NULL},
    {"{\"a\":nul}", "a", -1, WL_JNONE, NULL},
    {"{\"a\":\"x\ny\"}", "a", -1, WL_JNONE, NULL},
    {"{\"a\":[1,2}", "a", -1, WL_JNONE, NULL},
    {"{\"a\":{\"b\":1]}", "a", -1, WL_JNONE, NULL},
    {"{\"a\":\"abc", "a", -1, WL_JNONE, NULL},
    {"{\"a\":\"abc\\", "a", -1, WL_JNONE, NULL},
    {"{a:1}", "a", -1, WL_JNONE, NULL},
    {"{\"a\":+1}", "a", -1, WL_JNONE, NULL},
};

static char *heap_copy(const char *s, size_t n) {
  char *p = malloc(n ? n : 1);
  if (p && n)
    memcpy(p, s, n);
  return p;
}

static void test_scan(void) {
  for (size_t i = 0; i < sizeof scan_rows / sizeof scan_rows[0]; i++) {
    const char *json = scan_rows[i].json;
    const char *keys[1] = {scan_rows[i].key};
    size_t len = strlen(json);
    char *copy = heap_copy(json, len);
    wl_jval_t v;
    int rc = wl_json_scan(copy, len, keys, 1, &v);

    CHECK(rc == scan_rows[i].rc, "scan row %zu (%s): rc %d", i, json, rc);
    if (rc == 0) {
      CHECK(v.type == scan_rows[i].type, "scan row %zu: type %d", i, (int)v.type);
      if (scan_rows[i].raw)
        CHECK(v.n == strlen(scan_rows[i].raw) && memcmp(v.p, scan_rows[i].raw, v.n) == 0,
              "scan row %zu: value %.*s", i, (int)v.n, v.p);
    }
    free(copy);

    /* every cut before the closing brace is incomplete */
    if (scan_rows[i].rc == 0) {
      size_t complete = (size_t)(strrchr(json, '}') - json) + 1;
      for (size_t cut = 0; cut < complete; cut++) {
        char *part = heap_copy(json, cut);
        CHECK(wl_json_scan(part, cut, keys, 1, &v) == -1, "scan row %zu cut at %zu accepted", i,
              cut);
        free(part);
      }
    }
  }

  /* nesting deeper than the scanner's stack is refused, not overflowed */
  {
    char deep[300];
    size_t n = 0;
    const char *keys[1] = {"a"};
    wl_jval_t v;
    n += (size_t)snprintf(deep + n, sizeof deep - n, "{\"a\":");
    for (int d = 0; d < 100; d++)
      deep[n++] = '[';
    for (int d = 0; d < 100; d++)
      deep[n++] = ']';
    deep[n++] = '}';
    CHECK(wl_json_scan(deep, n, keys, 1, &v) == -1, "100-deep nesting accepted");
  }
}

static void test_int(void) {
  static const struct {
    const char *text;
    int rc;
    int64_t v;
  } rows[] = {
      {"123", 0, 123},
      {"-5", 0, -5},
      {"0", 0, 0},
      {"9223372036854775807", 0, INT64_MAX},
      {"9223372036854775808", -1, 0},
      {"99999999999999999999999", -1, 0},
      {"1.5", -1, 0},
      {"1e3", -1, 0},
      {"-", -1, 0},
      {"", -1, 0},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    wl_jval_t v = {WL_JNUM, rows[i].text, strlen(rows[i].text)};
    int64_t out = -777;
    int rc = wl_json_int(&v, &out);
    CHECK(rc == rows[i].rc && (rc != 0 || out == rows[i].v), "int row %zu (%s): rc %d v %lld", i,
          rows[i].text, rc, (long long)out);
  }
  wl_jval_t s = {WL_JSTR, "12", 2};
  int64_t out;
  CHECK(wl_json_int(&s, &out) == -1, "a string read as an int");
}

static void test_str(void) {
  static const struct {
    const char *raw;
    size_t cap;
    long rc; /* decoded length or -1 */
    const char *out;
  } rows[] = {
      {"plain", 64, 5, "plain"},
      {"a\\\"b\\\\c\\/d", 64, 7, "a\"b\\c/d"},
      {"\\n\\t\\r\\b\\f", 64, 5, "\n\t\r\b\f"},
      {"\\u4e70\\u5bb6", 64, 6, "买家"},
      {"\\u00e9", 64, 2, "é"},
      {"\\ud83d\\ude00", 64, 4, "\xF0\x9F\x98\x80"},
      {"\\ud83d", 64, -1, NULL},
      {"\\ude00", 64, -1, NULL},
      {"\\ud83dx\\ude00", 64, -1, NULL},
      {"\\u12", 64, -1, NULL},
      {"\\u12zz", 64, -1, NULL},
      {"\\x", 64, -1, NULL},
      {"\\", 64, -1, NULL},
      {"abcdef", 6, -1, NULL}, /* no room for the NUL */
      {"abcdef", 7, 6, "abcdef"},
      {"\\u4e70", 3, -1, NULL},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    size_t n = strlen(rows[i].raw);
    char *copy = heap_copy(rows[i].raw, n);
    wl_jval_t v = {WL_JSTR, copy, n};
    char buf[64];
    long rc = wl_json_str(&v, buf, rows[i].cap);
    CHECK(rc == rows[i].rc && (rc < 0 || strcmp(buf, rows[i].out) == 0), "str row %zu (%s): %ld", i,
          rows[i].raw, rc);
    free(copy);
  }
  wl_jval_t esc = {WL_JSTR, "order\\u002eok", 13};
  CHECK(wl_json_str_eq(&esc, "order.ok"), "escaped type not recognised");
  wl_jval_t num = {WL_JNUM, "1", 1};
  CHECK(!wl_json_str_eq(&num, "1"), "a number compared equal to a string");
}

static void test_quote(void) {
  char buf[64];
  CHECK(wl_json_quote(buf, sizeof buf, "a\"b\\c\n") == 11 && strcmp(buf, "\"a\\\"b\\\\c\\n\"") == 0,
        "quote escapes: %s", buf);
  CHECK(wl_json_quote(buf, sizeof buf, "\x01") == 8 && strcmp(buf, "\"\\u0001\"") == 0,
        "quote control: %s", buf);
  CHECK(wl_json_quote(buf, sizeof buf, "买家") == 8 && strcmp(buf, "\"买家\"") == 0,
        "quote utf-8: %s", buf);
  CHECK(wl_json_quote(buf, 5, "abc") == -1, "quote into 5 bytes");
  CHECK(wl_json_quote(buf, 6, "abc") == 5, "quote into 6 bytes");
  CHECK(wl_json_quote(buf, 2, "") == -1, "quote into 2 bytes");
  /* what wl_json_quote writes, the scanner reads back */
  static const char *const samples[] = {"",          "plain",      "q\"uo\\te",
                                        "tab\there", "买家 3号楼", "\x1f\x7f"};
  for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
    char frame[128], back[64];
    const char *keys[1] = {"s"};
    wl_jval_t v;
    size_t n = (size_t)snprintf(frame, sizeof frame, "{\"s\":");
    long q = wl_json_quote(frame + n, sizeof frame - n - 1, samples[i]);
    CHECK(q > 0, "quote sample %zu", i);
    if (q <= 0)
      continue;
    n += (size_t)q;
    frame[n++] = '}';
    CHECK(wl_json_scan(frame, n, keys, 1, &v) == 0 &&
              wl_json_str(&v, back, sizeof back) == (long)strlen(samples[i]) &&
              strcmp(back, samples[i]) == 0,
          "round trip of sample %zu", i);
  }
}

static void test_msg(void) {
  static const struct {
    const char *json;
    wl_msg_type_t type;
    int product_rc;
    int64_t id, stock;
  } rows[] = {
      {"{\"type\":\"order.ok\",\"key\":\"k\",\"order_id\":5}", WL_MSG_ORDER_OK, -1, 0, -1},
      {"{\"type\": \"order.rejected\", \"key\": \"k\", \"reason\": \"sold_out\"}",
       WL_MSG_ORDER_REJECTED, -1, 0, -1},
      {"{\"type\":\"stock\",\"product_id\":7,\"stock\":3,\"sold\":97}", WL_MSG_STOCK, 0, 7, 3},
      {"{\"type\":\"product\",\"product\":{\"id\":7,\"name\":\"苹果\",\"stock\":5}}",
       WL_MSG_PRODUCT, 0, 7, 5},
      {"{\"type\":\"product\",\"id\":9,\"name\":\"x\",\"stock\":0}", WL_MSG_PRODUCT, 0, 9, 0},
      {"{\"type\":\"pinned\",\"product_id\":null,\"stream_ms\":1}", WL_MSG_PINNED, -1, 0, -1},
      {"{\"type\":\"welcome\",\"viewer_id\":3,\"products\":[]}", WL_MSG_WELCOME, -1, 0, -1},
      {"{\"type\":\"error\",\"code\":\"rate_limited\"}", WL_MSG_ERROR, -1, 0, -1},
      {"{\"type\":\"viewers\",\"count\":10}", WL_MSG_OTHER, -1, 0, -1},
      {"{\"type\":7}", WL_MSG_OTHER, -1, 0, -1},
      {"not json", WL_MSG_OTHER, -1, 0, -1},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    wl_msg_t m;
    wl_product_t p;
    wl_msg_parse(rows[i].json, strlen(rows[i].json), &m);
    CHECK(m.type == rows[i].type, "msg row %zu: type %d", i, (int)m.type);
    if (m.type == WL_MSG_OTHER && rows[i].type == WL_MSG_OTHER)
      continue;
    int rc = wl_product_from_msg(&m, &p);
    CHECK(rc == rows[i].product_rc && (rc != 0 || (p.id == rows[i].id && p.stock == rows[i].stock)),
          "msg row %zu: product rc %d id %lld stock %lld", i, rc, (long long)p.id,
          (long long)p.stock);
  }

  /* welcome's products[], element by element */
  const char *w = "{\"type\":\"welcome\",\"products\":[{\"id\":1,\"name\":\"a\"}, {\"id\":2,"
                  "\"name\":\"b\",\"price_cents\":250,\"unit\":\"\\u65a4\",\"limit_per_buyer\":"
                  "3}],\"pinned\":null}";
  wl_msg_t m;
  wl_jarr_t it;
  wl_jval_t el;
  wl_product_t p;
  int count = 0;
  CHECK(wl_msg_parse(w, strlen(w), &m) == 0 && m.type == WL_MSG_WELCOME, "welcome");
  wl_jarr_init(&it, &m.f[WL_F_PRODUCTS]);
  while (wl_jarr_next(&it, &el) == 1) {
    CHECK(wl_product_from_obj(&el, &p) == 0 && p.id == count + 1, "products[%d]", count);
    count++;
  }
  CHECK(count == 2 && p.price_cents == 250 && p.limit_per_buyer == 3 &&
            wl_json_str_eq(&p.unit, "斤"),
        "products[] walk: %d", count);

  static const struct {
    const char *arr;
    int n_ok; /* elements read before the end (0) or an error (-1) */
    int last;
  } arrs[] = {{"[]", 0, 0},    {"[ ]", 0, 0},    {"[1, 2 ,3]", 3, 0},
              {"[1,]", 1, -1}, {"[1 2]", 1, -1}, {"[,1]", 0, -1}};
  for (size_t i = 0; i < sizeof arrs / sizeof arrs[0]; i++) {
    wl_jval_t a = {WL_JARR, arrs[i].arr, strlen(arrs[i].arr)};
    int n = 0, r;
    wl_jarr_init(&it, &a);
    while ((r = wl_jarr_next(&it, &el)) == 1)
      n++;
    CHECK(n == arrs[i].n_ok && r == arrs[i].last, "array row %zu: %d elements, end %d", i, n, r);
  }
}

static void test_peek(void) {
  static const struct {
    const char *prefix;
    int rc;
    wl_msg_type_t type;
  } rows[] = {
      {"{\"type\":\"welcome\",\"role\":\"leader\",\"orders\":[{\"order_id\":1,\"na", 0,
       WL_MSG_WELCOME},
      {" { \"type\" : \"welcome\"", 0, WL_MSG_WELCOME},
      {"{\"type\":\"stock\",", 0, WL_MSG_STOCK},
      {"{\"type\":\"viewers\"", 0, WL_MSG_OTHER},
      {"{\"role\":\"leader\",\"type\":\"welcome\"", -1, WL_MSG_OTHER},
      {"{\"type\":\"welc", -1, WL_MSG_OTHER},
      {"{\"type\":1,", -1, WL_MSG_OTHER},
      {"{\"type\"", -1, WL_MSG_OTHER},
      {"[\"type\"]", -1, WL_MSG_OTHER},
      {"", -1, WL_MSG_OTHER},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    size_t n = strlen(rows[i].prefix);
    char *copy = heap_copy(rows[i].prefix, n);
    wl_msg_t m;
    int rc = wl_msg_peek(copy, n, &m);
    CHECK(rc == rows[i].rc && m.type == rows[i].type, "peek row %zu (%s): rc %d type %d", i,
          rows[i].prefix, rc, (int)m.type);
    free(copy);
  }
}

static void test_hist(void) {
  wl_hist_t *h = malloc(sizeof *h);
  if (!h)
    return;
  wl_hist_init(h);
  CHECK(wl_hist_ms(h, 0.5) == 0.0, "empty histogram");
  for (int64_t us = 1; us <= 100000; us++)
    wl_hist_add(h, us);
  double p50 = wl_hist_ms(h, 0.5), p99 = wl_hist_ms(h, 0.99);
  CHECK(p50 > 49.9 && p50 < 50.1, "p50 %.3f", p50);
  CHECK(p99 > 98.8 && p99 < 99.2, "p99 %.3f", p99);
  CHECK(wl_hist_max_ms(h) == 100.0, "max %.3f", wl_hist_max_ms(h));
  wl_hist_init(h);
  wl_hist_add(h, 700);
  CHECK(wl_hist_ms(h, 0.5) == 0.7 && wl_hist_ms(h, 0.999) == 0.7, "exact below 1024 us");
  wl_hist_add(h, -5);
  wl_hist_add(h, INT64_MAX); /* clamped into the last bucket, max kept */
  CHECK(h->n == 3 && h->max_us == INT64_MAX, "extremes");
  free(h);
}

static void test_url(void) {
  static const struct {
    const char *url;
    int rc;
    const char *host;
    int port;
    const char *path;
  } rows[] = {
      {"ws://127.0.0.1:8080/ws", 0, "127.0.0.1", 8080, "/ws"},
      {"ws://localhost/ws", 0, "localhost", 80, "/ws"},
      {"ws://h:1", 0, "h", 1, "/"},
      {"ws://[::1]:9000/x/y", 0, "::1", 9000, "/x/y"},
      {"wss://h/ws", -1, NULL, 0, NULL},
      {"http://h/ws", -1, NULL, 0, NULL},
      {"ws://:80/ws", -1, NULL, 0, NULL},
      {"ws://h:0/ws", -1, NULL, 0, NULL},
      {"ws://h:65536/ws", -1, NULL, 0, NULL},
      {"ws://h:80x/ws", -1, NULL, 0, NULL},
      {"ws://[::1/ws", -1, NULL, 0, NULL},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    wl_opts_t o;
    char err[128];
    memset(&o, 0, sizeof o);
    o.url = rows[i].url;
    int rc = wl_parse_url(&o, err, sizeof err);
    CHECK(rc == rows[i].rc, "url row %zu (%s): rc %d", i, rows[i].url, rc);
    if (rc == 0 && rows[i].rc == 0)
      CHECK(strcmp(o.host, rows[i].host) == 0 && o.port == rows[i].port &&
                strcmp(o.path, rows[i].path) == 0,
            "url row %zu: %s %d %s", i, o.host, o.port, o.path);
  }
}

/* ---- timing ----------------------------------------------------------- */

static double bench_scan(const char *frame, long iters) {
  size_t len = strlen(frame);
  int64_t t0 = wl_now_us();
  long hits = 0;
  for (long i = 0; i < iters; i++) {
    wl_msg_t m;
    if (wl_msg_parse(frame, len, &m) == 0 && m.type == WL_MSG_ORDER_OK &&
        wl_json_str_eq(&m.f[WL_F_KEY], "k1a2b3c4d-17-42"))
      hits++;
  }
  CHECK(hits == iters, "scanner missed the key");
  return (double)(wl_now_us() - t0) * 1000.0 / (double)iters;
}

static double bench_jansson(const char *frame, long iters) {
  size_t len = strlen(frame);
  int64_t t0 = wl_now_us();
  long hits = 0;
  for (long i = 0; i < iters; i++) {
    json_t *root = json_loadb(frame, len, 0, NULL);
    const char *type = json_string_value(json_object_get(root, "type"));
    const char *key = json_string_value(json_object_get(root, "key"));
    if (type && key && strcmp(type, "order.ok") == 0 && strcmp(key, "k1a2b3c4d-17-42") == 0)
      hits++;
    json_decref(root);
  }
  CHECK(hits == iters, "jansson missed the key");
  return (double)(wl_now_us() - t0) * 1000.0 / (double)iters;
}

static double bench_build_snprintf(long iters) {
  char buf[256];
  size_t total = 0;
  int64_t t0 = wl_now_us();
  for (long i = 0; i < iters; i++)
    total += (size_t)snprintf(buf, sizeof buf,
                              "{\"type\":\"order\",\"product_id\":%lld,\"qty\":%d,\"key\":\"k%08x-"
                              "%u-%u\",\"seen_ms\":0}",
                              7LL, 1, 0xa2b3c4du, 17u, (unsigned)i);
  CHECK(total > 0, "snprintf");
  return (double)(wl_now_us() - t0) * 1000.0 / (double)iters;
}

static double bench_build_jansson(long iters) {
  char key[48];
  size_t total = 0;
  int64_t t0 = wl_now_us();
  for (long i = 0; i < iters; i++) {
    snprintf(key, sizeof key, "k%08x-%u-%u", 0xa2b3c4du, 17u, (unsigned)i);
    json_t *o = json_pack("{s:s,s:I,s:i,s:s,s:i}", "type", "order", "product_id", (json_int_t)7,
                          "qty", 1, "key", key, "seen_ms", 0);
    char *s = json_dumps(o, JSON_COMPACT);
    total += s ? strlen(s) : 0;
    free(s);
    json_decref(o);
  }
  CHECK(total > 0, "json_dumps");
  return (double)(wl_now_us() - t0) * 1000.0 / (double)iters;
}

int wl_selftest_main(const wl_opts_t *o) {
  static const char compact[] = "{\"type\":\"order.ok\",\"key\":\"k1a2b3c4d-17-42\",\"order_id\":"
                                "123456,\"product_id\":7,\"qty\":1,\"stream_ms\":5234567}";
  static const char spaced[] = "{\"type\": \"order.ok\", \"key\": \"k1a2b3c4d-17-42\", "
                               "\"order_id\": 123456, \"product_id\": 7, \"qty\": 1, "
                               "\"stream_ms\": 5234567}";
  long iters = o->bench_iters;

  test_scan();
  test_int();
  test_str();
  test_quote();
  test_msg();
  test_peek();
  test_hist();
  test_url();
  if (failures) {
    fprintf(stderr, "selftest: %d checks failed\n", failures);
    return 1;
  }
  printf("selftest: all checks passed\n");
  printf("parse order.ok (%zu B, compact): scanner %.0f ns, jansson %.0f ns\n", sizeof compact - 1,
         bench_scan(compact, iters), bench_jansson(compact, iters));
  printf("parse order.ok (%zu B, jansson's spacing): scanner %.0f ns, jansson %.0f ns\n",
         sizeof spaced - 1, bench_scan(spaced, iters), bench_jansson(spaced, iters));
  printf("build order: snprintf %.0f ns, json_pack + json_dumps %.0f ns\n",
         bench_build_snprintf(iters), bench_build_jansson(iters));
  return failures ? 1 : 0;
}
