/* http_route.c — the request path parser: outside bytes in, a route and a safe file name out.
 *
 * It reads the path through a src/end cursor and fails closed: a byte, a
 * segment or a length it does not expect ends in HTTP_ROUTE_REJECTED. It never
 * touches the file system; whether the named file exists is the server's
 * business, and it only ever joins a validated single name to its own dirs.
 */
#include "ws/http_route.h"

#include <stdio.h>
#include <string.h>

typedef struct {
  const char *ext;
  const char *type;
} ext_type_t;

/* The pages only need these. Anything else under /web/ is 404, so a stray
 * file dropped into web_dir is never served with a guessed type. */
static const ext_type_t web_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".webp", "image/webp"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
};

#define TYPE_HTML "text/html; charset=utf-8"
#define TYPE_JSON_API "application/json"
#define TYPE_M3U8 "application/vnd.apple.mpegurl"
#define TYPE_TS "video/mp2t"

static bool name_byte_ok(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

/* One path segment as a file name: the rules in http_route_t.name. */
static bool name_ok(const char *src, const char *end) {
  size_t len = (size_t)(end - src);
  if (len == 0 || len > HTTP_ROUTE_NAME_MAX || src[0] == '.')
    return false;
  for (const char *p = src; p < end; p++) {
    if (!name_byte_ok((unsigned char)*p))
      return false;
    if (*p == '.' && p + 1 < end && p[1] == '.')
      return false;
  }
  return true;
}

/* Every segment of [src, end) must be a valid name. `src` points at the
 * leading '/'. An empty segment is allowed only at the very end (a trailing
 * slash, which then simply matches no route); "//" anywhere is rejected. */
static bool segments_ok(const char *src, const char *end) {
  while (src < end) {
    src++; /* the '/' */
    const char *seg = src;
    while (src < end && *src != '/')
      src++;
    if (src == seg) {
      if (src == end)
        return true;
      return false;
    }
    if (!name_ok(seg, src))
      return false;
  }
  return true;
}

static bool equals(const char *src, const char *end, const char *lit) {
  size_t n = strlen(lit);
  return (size_t)(end - src) == n && memcmp(src, lit, n) == 0;
}

static bool has_prefix(const char *src, const char *end, const char *lit) {
  size_t n = strlen(lit);
  return (size_t)(end - src) >= n && memcmp(src, lit, n) == 0;
}

static bool has_suffix(const char *name, const char *suffix) {
  size_t n = strlen(name), m = strlen(suffix);
  return n > m && memcmp(name + n - m, suffix, m) == 0;
}

static http_route_kind_t finish(http_route_t *out, http_route_kind_t kind, const char *type) {
  out->kind = kind;
  out->content_type = type;
  if (kind == HTTP_ROUTE_REJECTED || kind == HTTP_ROUTE_NOT_FOUND) {
    out->name[0] = '\0';
    out->content_type = NULL;
  }
  return kind;
}

/* Copies the single segment [src, end) into out->name; fails if it is not
 * exactly one valid name. */
static bool take_name(const char *src, const char *end, http_route_t *out) {
  if (memchr(src, '/', (size_t)(end - src)) != NULL || !name_ok(src, end))
    return false;
  memcpy(out->name, src, (size_t)(end - src));
  out->name[end - src] = '\0';
  return true;
}

static void set_name(http_route_t *out, const char *name) {
  size_t n = strlen(name);
  memcpy(out->name, name, n + 1);
}

/* An id at the start of [src, end): 1..ID_MAX in plain decimal (no sign,
 * no leading zero). Returns the end of its digits, or NULL. */
static const char *parse_id(const char *src, const char *end, long long *id) {
  const char *p = src;
  *id = 0;
  if (p < end && *p == '0')
    return NULL;
  while (p < end && *p >= '0' && *p <= '9') {
    if (*id > (HTTP_ROUTE_ID_MAX - (*p - '0')) / 10)
      return NULL;
    *id = *id * 10 + (*p++ - '0');
  }
  return p == src ? NULL : p;
}

/* "ID/events", "ID/orders" or "ID/orders.csv" after /api/shows/. */
static http_route_kind_t parse_show_route(const char *src, const char *end, http_route_t *out) {
  long long id = 0;
  const char *p = parse_id(src, end, &id);
  if (p == NULL)
    return finish(out, HTTP_ROUTE_NOT_FOUND, NULL);
  out->show_id = id;
  if (equals(p, end, "/events"))
    return finish(out, HTTP_ROUTE_API_EVENTS, TYPE_JSON_API);
  if (equals(p, end, "/orders.csv"))
    return finish(out, HTTP_ROUTE_API_ORDERS_CSV, "text/csv; charset=utf-8");
  if (equals(p, end, "/orders"))
    return finish(out, HTTP_ROUTE_API_ORDERS, TYPE_JSON_API);
  out->show_id = 0;
  return finish(out, HTTP_ROUTE_NOT_FOUND, NULL);
}

/* "ID/image" after /api/products/: the stored picture, product-ID.png. */
static http_route_kind_t parse_product_route(const char *src, const char *end, http_route_t *out) {
  long long id;
  const char *p = parse_id(src, end, &id);
  if (p == NULL || !equals(p, end, "/image"))
    return finish(out, HTTP_ROUTE_NOT_FOUND, NULL);
  out->product_id = id;
  snprintf(out->name, sizeof out->name, "product-%lld.png", id);
  return finish(out, HTTP_ROUTE_API_PRODUCT_IMAGE, "image/png");
}

/* "ID/index.m3u8" or "ID/NAME.ts" after /shows/: an archived show. */
static http_route_kind_t parse_archive_route(const char *src, const char *end, http_route_t *out) {
  long long id = 0;
  const char *p = parse_id(src, end, &id);
  if (p == NULL || p >= end || *p != '/' || !take_name(p + 1, end, out))
    return finish(out, HTTP_ROUTE_NOT_FOUND, NULL);
  out->show_id = id;
  if (strcmp(out->name, "index.m3u8") == 0)
    return finish(out, HTTP_ROUTE_SHOW_PLAYLIST, TYPE_M3U8);
  if (has_suffix(out->name, ".ts"))
    return finish(out, HTTP_ROUTE_SHOW_SEGMENT, TYPE_TS);
  out->show_id = 0;
  return finish(out, HTTP_ROUTE_NOT_FOUND, NULL);
}

bool http_route_page(const char *key, const char *value, http_route_t *out) {
  size_t n = strlen(value);
  if (n == 0 || n > 16)
    return false;
  long long v = 0;
  for (size_t i = 0; i < n; i++) {
    if (value[i] < '0' || value[i] > '9')
      return false;
    v = v * 10 + (value[i] - '0');
  }
  if (v > HTTP_ROUTE_ID_MAX)
    return false;
  if (strcmp(key, "before_id") == 0)
    out->before_id = v;
  else if (strcmp(key, "after_id") == 0)
    out->after_id = v;
  else if (strcmp(key, "after_ms") == 0)
    out->after_ms = v;
  else if (strcmp(key, "limit") == 0 && v >= 1 && v <= 100000)
    out->limit = (int)v;
  else
    return false;
  return true;
}

http_route_kind_t http_route_parse(const char *path, size_t len, http_route_t *out) {
  memset(out, 0, sizeof(*out));
  out->after_ms = -1;
  if (path == NULL)
    return finish(out, HTTP_ROUTE_REJECTED, NULL);

  const char *src = path, *end = path + len;
  const char *q = memchr(src, '?', len);
  if (q != NULL)
    end = q;
  q = memchr(src, '#', (size_t)(end - src));
  if (q != NULL)
    end = q;

  /* Decided before any check, so that a rejected /live/ path still gets CORS. */
  out->under_live = has_prefix(src, end, "/live/");
  size_t n = (size_t)(end - src);
  if (n == 0 || n > HTTP_ROUTE_PATH_MAX || src[0] != '/')
    return finish(out, HTTP_ROUTE_REJECTED, NULL);
  /* Only name bytes and '/' may appear at all: this is what rejects '%',
   * NUL, backslashes, spaces and every non-ASCII byte in one place. */
  for (const char *p = src; p < end; p++)
    if (*p != '/' && !name_byte_ok((unsigned char)*p))
      return finish(out, HTTP_ROUTE_REJECTED, NULL);

  if (!segments_ok(src, end))
    return finish(out, HTTP_ROUTE_REJECTED, NULL);

  if (equals(src, end, "/")) {
    set_name(out, "index.html");
    return finish(out, HTTP_ROUTE_INDEX, TYPE_HTML);
  }
  if (equals(src, end, "/leader")) {
    set_name(out, "leader.html");
    return finish(out, HTTP_ROUTE_LEADER, TYPE_HTML);
  }
  if (equals(src, end, "/healthz"))
    return finish(out, HTTP_ROUTE_HEALTHZ, NULL);
  if (equals(src, end, "/metrics"))
    return finish(out, HTTP_ROUTE_METRICS, NULL);

  if (out->under_live) {
    if (!take_name(src + strlen("/live/"), end, out))
      return finish(out, HTTP_ROUTE_NOT_FOUND, NULL);
    if (strcmp(out->name, "index.m3u8") == 0)
      return finish(out, HTTP_ROUTE_LIVE_PLAYLIST, TYPE_M3U8);
    if (has_suffix(out->name, ".ts"))
      return finish(out, HTTP_ROUTE_LIVE_SEGMENT, TYPE_TS);
    return finish(out, HTTP_ROUTE_NOT_FOUND, NULL);
  }
  if (equals(src, end, "/api/shows"))
    return finish(out, HTTP_ROUTE_API_SHOWS, TYPE_JSON_API);
  if (equals(src, end, "/api/qr.svg"))
    return finish(out, HTTP_ROUTE_API_QR, "image/svg+xml");
  if (has_prefix(src, end, "/api/shows/"))
    return parse_show_route(src + strlen("/api/shows/"), end, out);
  if (has_prefix(src, end, "/api/products/"))
    return parse_product_route(src + strlen("/api/products/"), end, out);
  if (has_prefix(src, end, "/replay/")) {
    long long id;
    const char *p = parse_id(src + strlen("/replay/"), end, &id);
    if (p == NULL || p != end)
      return finish(out, HTTP_ROUTE_NOT_FOUND, NULL);
    out->show_id = id;
    set_name(out, "replay.html");
    return finish(out, HTTP_ROUTE_REPLAY, TYPE_HTML);
  }
  /* Only the files the pages load from npm packages, by exact name. */
  if (equals(src, end, "/vendor/hls.light.min.js")) {
    set_name(out, "hls.light.min.js");
    return finish(out, HTTP_ROUTE_VENDOR, "text/javascript; charset=utf-8");
  }
  if (has_prefix(src, end, "/shows/"))
    return parse_archive_route(src + strlen("/shows/"), end, out);
  if (has_prefix(src, end, "/web/")) {
    if (!take_name(src + strlen("/web/"), end, out))
      return finish(out, HTTP_ROUTE_NOT_FOUND, NULL);
    const char *type = http_route_web_content_type(out->name);
    if (type == NULL)
      return finish(out, HTTP_ROUTE_NOT_FOUND, NULL);
    return finish(out, HTTP_ROUTE_WEB_ASSET, type);
  }
  return finish(out, HTTP_ROUTE_NOT_FOUND, NULL);
}

const char *http_route_web_content_type(const char *name) {
  for (size_t i = 0; i < sizeof(web_types) / sizeof(web_types[0]); i++)
    if (has_suffix(name, web_types[i].ext))
      return web_types[i].type;
  return NULL;
}

const char *http_route_kind_name(http_route_kind_t kind) {
  switch (kind) {
    case HTTP_ROUTE_REJECTED:
      return "rejected";
    case HTTP_ROUTE_NOT_FOUND:
      return "not-found";
    case HTTP_ROUTE_INDEX:
      return "index";
    case HTTP_ROUTE_LEADER:
      return "leader";
    case HTTP_ROUTE_WEB_ASSET:
      return "web-asset";
    case HTTP_ROUTE_LIVE_PLAYLIST:
      return "live-playlist";
    case HTTP_ROUTE_LIVE_SEGMENT:
      return "live-segment";
    case HTTP_ROUTE_HEALTHZ:
      return "healthz";
    case HTTP_ROUTE_API_SHOWS:
      return "api-shows";
    case HTTP_ROUTE_API_EVENTS:
      return "api-events";
    case HTTP_ROUTE_API_ORDERS_CSV:
      return "api-orders-csv";
    case HTTP_ROUTE_METRICS:
      return "metrics";
    case HTTP_ROUTE_API_PRODUCT_IMAGE:
      return "api-product-image";
    case HTTP_ROUTE_REPLAY:
      return "replay";
    case HTTP_ROUTE_VENDOR:
      return "vendor";
    case HTTP_ROUTE_SHOW_PLAYLIST:
      return "show-playlist";
    case HTTP_ROUTE_SHOW_SEGMENT:
      return "show-segment";
    case HTTP_ROUTE_API_ORDERS:
      return "api-orders";
    case HTTP_ROUTE_API_QR:
      return "api-qr";
  }
  return "unknown";
}
