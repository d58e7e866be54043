/* fuzz_http_route.c — libFuzzer target for the request path parser (ws/http_route.c).
 *
 * Feeds raw bytes as a request path of exactly that length (no NUL added, so
 * ASan sees any read past the end) and checks the promises of http_route.h:
 * a route always comes back, and any file name handed out is a safe one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "ws/http_route.h"

static int name_is_safe(const char *name) {
  size_t n = strlen(name);
  if (n > HTTP_ROUTE_NAME_MAX || (n > 0 && name[0] == '.') || strstr(name, "..") != NULL)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '_' || c == '-'))
      return 0;
  }
  return 1;
}

/* The same bytes as a query's paging arguments ("key=value&..."): each one
 * accepted is in range, each refused leaves the route as it was. */
static void page_args(const uint8_t *data, size_t size) {
  char buf[256];
  size_t len = size < sizeof buf - 1 ? size : sizeof buf - 1;
  memcpy(buf, data, len);
  buf[len] = '\0';
  char *save = NULL;
  for (char *kv = strtok_r(buf, "&", &save); kv != NULL; kv = strtok_r(NULL, "&", &save)) {
    char *eq = strchr(kv, '=');
    if (eq == NULL)
      continue;
    *eq = '\0';
    http_route_t r, before;
    memset(&r, 0, sizeof r);
    before = r;
    if (!http_route_page(kv, eq + 1, &r)) {
      if (memcmp(&r, &before, sizeof r) != 0)
        abort();
      continue;
    }
    if (r.before_id < 0 || r.before_id > HTTP_ROUTE_ID_MAX || r.after_id < 0 ||
        r.after_id > HTTP_ROUTE_ID_MAX || r.after_ms < 0 || r.after_ms > HTTP_ROUTE_ID_MAX ||
        r.limit < 0 || r.limit > 100000)
      abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  http_route_t r;
  http_route_kind_t k = http_route_parse((const char *)data, size, &r);
  if (k != r.kind || k < HTTP_ROUTE_REJECTED || k > HTTP_ROUTE_API_QR)
    abort();
  if (!name_is_safe(r.name))
    abort();
  size_t n = strlen(r.name);
  switch (k) {
    case HTTP_ROUTE_REJECTED:
    case HTTP_ROUTE_NOT_FOUND:
    case HTTP_ROUTE_HEALTHZ:
    case HTTP_ROUTE_METRICS:
      if (n != 0 || (k != HTTP_ROUTE_HEALTHZ && k != HTTP_ROUTE_METRICS && r.content_type))
        abort();
      break;
    case HTTP_ROUTE_LIVE_SEGMENT:
      if (n < 4 || strcmp(r.name + n - 3, ".ts") != 0 || !r.under_live)
        abort();
      break;
    case HTTP_ROUTE_LIVE_PLAYLIST:
      if (strcmp(r.name, "index.m3u8") != 0 || !r.under_live)
        abort();
      break;
    case HTTP_ROUTE_WEB_ASSET:
      /* The name came from the input, right after "/web/". */
      if (n == 0 || size < 5 + n || memcmp(data, "/web/", 5) != 0 ||
          memcmp(data + 5, r.name, n) != 0 || r.content_type == NULL)
        abort();
      break;
    case HTTP_ROUTE_API_SHOWS:
    case HTTP_ROUTE_API_QR:
      if (n != 0 || r.show_id != 0 || r.content_type == NULL)
        abort();
      break;
    case HTTP_ROUTE_API_EVENTS:
    case HTTP_ROUTE_API_ORDERS:
    case HTTP_ROUTE_API_ORDERS_CSV:
      /* A show id taken from the path, in range. */
      if (n != 0 || r.show_id < 1 || r.show_id > HTTP_ROUTE_ID_MAX || r.content_type == NULL ||
          size < 12 || memcmp(data, "/api/shows/", 11) != 0)
        abort();
      break;
    case HTTP_ROUTE_API_PRODUCT_IMAGE: {
      /* A product id from the path, in range, named as the stored file. */
      char want[HTTP_ROUTE_NAME_MAX + 1];
      snprintf(want, sizeof want, "product-%lld.png", r.product_id);
      if (r.product_id < 1 || r.product_id > HTTP_ROUTE_ID_MAX || strcmp(r.name, want) != 0 ||
          size < 15 || memcmp(data, "/api/products/", 14) != 0)
        abort();
      break;
    }
    case HTTP_ROUTE_SHOW_PLAYLIST:
    case HTTP_ROUTE_SHOW_SEGMENT:
      /* A show id in range, a safe name, and only under /shows/. */
      if (n == 0 || r.show_id < 1 || r.show_id > HTTP_ROUTE_ID_MAX || r.content_type == NULL ||
          size < 9 || memcmp(data, "/shows/", 7) != 0 ||
          (k == HTTP_ROUTE_SHOW_PLAYLIST && strcmp(r.name, "index.m3u8") != 0) ||
          (k == HTTP_ROUTE_SHOW_SEGMENT && strcmp(r.name + n - 3, ".ts") != 0))
        abort();
      break;
    case HTTP_ROUTE_INDEX:
    case HTTP_ROUTE_LEADER:
      if (r.content_type == NULL || size == 0 || data[0] != '/')
        abort();
      break;
    case HTTP_ROUTE_REPLAY:
      if (strcmp(r.name, "replay.html") != 0 || r.show_id < 1 || r.show_id > HTTP_ROUTE_ID_MAX ||
          size < 9 || memcmp(data, "/replay/", 8) != 0)
        abort();
      break;
    case HTTP_ROUTE_VENDOR:
      /* One fixed file, never a name taken from the input. */
      if (strcmp(r.name, "hls.light.min.js") != 0 || r.content_type == NULL)
        abort();
      break;
  }
  if (n > 0)
    (void)http_route_web_content_type(r.name);
  page_args(data, size);
  return 0;
}
