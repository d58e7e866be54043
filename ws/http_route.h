/* http_route.h — classify an HTTP request path into one of tourcast's routes.
 *
 * Pure and allocation-free: it reads outside bytes (the request target) and
 * decides which route they name and which file, if any. Every file name it
 * hands out has been validated, so the caller may join it to a directory.
 */
#ifndef TOURCAST_HTTP_ROUTE_H
#define TOURCAST_HTTP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

/* Longest file name accepted under /web/, /live/ and /shows/ID/ (bytes, without NUL). */
#define HTTP_ROUTE_NAME_MAX 64
/* Longest path (query string excluded) the parser looks at; longer is rejected. */
#define HTTP_ROUTE_PATH_MAX 1024

typedef enum {
  HTTP_ROUTE_REJECTED = 0,   /* malformed or unsafe (traversal, bad byte, too long): answer 404 */
  HTTP_ROUTE_NOT_FOUND,      /* well formed, but no such route: answer 404 */
  HTTP_ROUTE_INDEX,          /* "/"          -> web_dir/index.html */
  HTTP_ROUTE_LEADER,         /* "/leader"    -> web_dir/leader.html */
  HTTP_ROUTE_WEB_ASSET,      /* "/web/NAME"  -> web_dir/NAME, NAME has a known extension */
  HTTP_ROUTE_LIVE_PLAYLIST,  /* "/live/index.m3u8" */
  HTTP_ROUTE_LIVE_SEGMENT,   /* "/live/NAME.ts" */
  HTTP_ROUTE_HEALTHZ,        /* "/healthz" */
  HTTP_ROUTE_METRICS,        /* "/metrics" */
  HTTP_ROUTE_API_SHOWS,      /* "/api/shows" */
  HTTP_ROUTE_API_EVENTS,     /* "/api/shows/ID/events", id in show_id */
  HTTP_ROUTE_API_ORDERS_CSV, /* "/api/shows/ID/orders.csv" (leader token), id in show_id */
  /* "/api/products/ID/image": GET the picture, POST a new one (leader
   * token); id in product_id, name "product-ID.png" (the stored file). */
  HTTP_ROUTE_API_PRODUCT_IMAGE,
  HTTP_ROUTE_REPLAY,        /* "/replay/ID" -> web_dir/replay.html, id in show_id */
  HTTP_ROUTE_VENDOR,        /* "/vendor/hls.light.min.js" -> vendor_dir/NAME (npm packages) */
  HTTP_ROUTE_SHOW_PLAYLIST, /* "/shows/ID/index.m3u8": an archived show, id in show_id */
  HTTP_ROUTE_SHOW_SEGMENT,  /* "/shows/ID/NAME.ts": its segments, id in show_id */
  HTTP_ROUTE_API_ORDERS,    /* "/api/shows/ID/orders" (leader token): JSON, id in show_id */
  HTTP_ROUTE_API_QR,        /* "/api/qr.svg": the viewer link as a QR code */
} http_route_kind_t;

typedef struct {
  http_route_kind_t kind;
  /* The file to serve, relative to web_dir or live_dir: "" for routes without
   * one. Only [A-Za-z0-9._-], 1..HTTP_ROUTE_NAME_MAX bytes, no leading dot,
   * never "..". NUL-terminated. */
  char name[HTTP_ROUTE_NAME_MAX + 1];
  /* Content-Type of the body (a static string), NULL for routes whose body
   * is not a file (healthz, metrics) and for rejections. */
  const char *content_type;
  /* The path is under /live/, even when rejected or not found: answers there
   * carry CORS so that players on other origins can read the error. */
  bool under_live;
  /* The show id of the /api/shows/ID/..., /replay/ID and /shows/ID/... routes:
   * 1..HTTP_ROUTE_ID_MAX. */
  long long show_id;
  /* The product id of /api/products/ID/...: 1..HTTP_ROUTE_ID_MAX. */
  long long product_id;
  /* Paging of the /api lists, from the query (?before_id=&after_id=&after_ms=
   * &limit=, see http_route_page()); 0 / -1 when absent. */
  long long before_id, after_id, after_ms;
  int limit;
} http_route_t;

/* Reads one paging argument of the query (`key` is "before_id", "after_id",
 * "after_ms" or "limit"; `value` its text, NUL-terminated) into `out`.
 * FALSE if the key is unknown or the value is not a decimal number in
 * 0..HTTP_ROUTE_ID_MAX (limit: 1..100000). */
bool http_route_page(const char *key, const char *value, http_route_t *out);

/* Largest show id a path may name (2^53 - 1, exact in JSON). */
#define HTTP_ROUTE_ID_MAX 9007199254740991LL

/* Classifies `path` (`len` bytes, need not be NUL-terminated, may contain any
 * byte). A query string ("?...") or fragment ("#...") is ignored. The path
 * must be absolute ("/..."); percent-encoding is rejected, not decoded: the
 * HTTP library has already decoded the URI once, so a '%' left over can only
 * come from an encoded '%', which no name of ours contains. Double slashes,
 * dot segments, empty and overlong paths are rejected.
 *
 * Always fills `out` (never NULL) and returns out->kind. */
http_route_kind_t http_route_parse(const char *path, size_t len, http_route_t *out);

/* Content-Type for a file name by its extension among the few the web pages
 * use (html, css, js, json, svg, png, jpg, webp, ico, woff2, txt); NULL for
 * anything else. `name` is NUL-terminated. */
const char *http_route_web_content_type(const char *name);

/* Short name of a route kind for logs ("live-segment", ...); never NULL. */
const char *http_route_kind_name(http_route_kind_t kind);

#endif
