/* fuzz_http_policy.c — libFuzzer target for the request-head parsers of ws/http_policy.c.
 *
 * The first byte picks what the rest is: a Content-Length value, an Origin
 * header (checked against a fixed allow-list and a Host taken from the
 * input's tail), a header name, or a URL given as --allowed-origin. Inputs
 * are passed with their exact length (no NUL added where the API takes a
 * length), and the promises of http_policy.h are checked: a Content-Length
 * is -1 or what its digits say, an allowed Origin is one of the list or
 * scheme://Host, an origin made from a URL is lower-case, printable and
 * allowed by itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws/http_policy.h"

static void check_content_length(const char *s, size_t n) {
  gint64 v = http_policy_parse_content_length(s, n);
  if (v < 0)
    return;
  gint64 want = 0;
  size_t digits = 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] >= '0' && s[i] <= '9') {
      want = want * 10 + (s[i] - '0');
      digits++;
    } else if (s[i] != ' ' && s[i] != '\t')
      abort(); /* accepted a byte that is neither a digit nor OWS */
  if (v != want || digits == 0 || digits > HTTP_POLICY_CL_DIGITS_MAX)
    abort();
}

static void check_origin(const char *s, size_t n) {
  static const char *const allowed[] = {"https://shop.example.com", "http://10.0.0.2:8080", NULL};
  /* The input is "ORIGIN\nHOST" when it has a newline, else only an Origin. */
  const char *nl = memchr(s, '\n', n);
  size_t olen = nl ? (size_t)(nl - s) : n;
  const char *host = nl ? nl + 1 : NULL;
  size_t hlen = nl ? n - olen - 1 : 0;
  if (!http_policy_origin_allowed(allowed, s, olen, host, hlen))
    return;
  for (const char *const *a = allowed; *a; a++)
    if (strlen(*a) == olen && g_ascii_strncasecmp(*a, s, olen) == 0)
      return;
  /* Else it must be this server's own: a scheme and exactly the Host. */
  size_t sl = olen > hlen ? olen - hlen : 0;
  if (hlen == 0 || (sl != 7 && sl != 8) || g_ascii_strncasecmp(s + sl, host, hlen) != 0 ||
      (g_ascii_strncasecmp(s, "http://", 7) != 0 && g_ascii_strncasecmp(s, "https://", 8) != 0))
    abort();
}

static void check_origin_of_url(const char *s, size_t n) {
  char *url = g_strndup(s, n);
  char *o = http_policy_origin_of_url(url);
  if (o != NULL) {
    size_t len = strlen(o);
    if (len == 0 || len > HTTP_POLICY_ORIGIN_MAX ||
        (strncmp(o, "http://", 7) != 0 && strncmp(o, "https://", 8) != 0))
      abort();
    for (size_t i = 0; i < len; i++)
      if (!g_ascii_isgraph(o[i]) || g_ascii_isupper(o[i]))
        abort();
    const char *const list[] = {o, NULL};
    if (!http_policy_origin_allowed(list, o, len, NULL, 0))
      abort();
    g_free(o);
  }
  g_free(url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  char *s = malloc(size - 1 ? size - 1 : 1); /* exact size: ASan sees a read past the end */
  memcpy(s, data + 1, size - 1);
  size_t n = size - 1;
  switch (data[0] % 4) {
    case 0:
      check_content_length(s, n);
      break;
    case 1:
      check_origin(s, n);
      break;
    case 2:
      (void)http_policy_field_name_ok(s, n);
      break;
    default:
      check_origin_of_url(s, n);
      break;
  }
  free(s);
  return 0;
}
