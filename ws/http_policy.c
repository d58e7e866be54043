/* http_policy.c — request-head checks, security headers and the Origin allow-list.
 *
 * libwebsockets 4.1 parses the head; this file decides what of it we serve.
 * lws frames a request body by Content-Length alone and ignores
 * Transfer-Encoding, so anything that could make a proxy in front frame the
 * same bytes differently is refused here (see http_policy_check_head()).
 * It does not see header lines lws keeps as unknown ("custom") headers
 * other than by exact name, so the hidden spellings of the two framing
 * headers are looked up by name; PROTOCOL.md lists what lws itself does
 * with folded and colon-less lines. No per-request allocation.
 */
#include "ws/http_policy.h"

#include <libwebsockets.h>
#include <string.h>

/* ---- pure parsers (fuzzed) ---- */

static gboolean is_ows(char c) {
  return c == ' ' || c == '\t';
}

gint64 http_policy_parse_content_length(const char *s, size_t len) {
  const char *p = s, *end = s + len;
  while (p < end && is_ows(*p))
    p++;
  while (end > p && is_ows(end[-1]))
    end--;
  size_t n = (size_t)(end - p);
  if (n == 0 || n > HTTP_POLICY_CL_DIGITS_MAX)
    return -1;
  gint64 v = 0;
  for (; p < end; p++) {
    if (!g_ascii_isdigit(*p))
      return -1;
    v = v * 10 + (*p - '0');
  }
  return v;
}

char *http_policy_origin_of_url(const char *url) {
  if (url == NULL || strlen(url) > 4096)
    return NULL;
  GUri *u = g_uri_parse(url, G_URI_FLAGS_SCHEME_NORMALIZE, NULL);
  if (u == NULL)
    return NULL;
  const char *scheme = g_uri_get_scheme(u), *host = g_uri_get_host(u);
  int port = g_uri_get_port(u);
  char *out = NULL;
  gboolean web =
      g_ascii_strcasecmp(scheme, "http") == 0 || g_ascii_strcasecmp(scheme, "https") == 0;
  if (web && host != NULL && *host != '\0' && g_uri_get_userinfo(u) == NULL && port != 0 &&
      port <= 65535) {
    char *s = g_ascii_strdown(scheme, -1), *h = g_ascii_strdown(host, -1);
    gboolean v6 = strchr(h, ':') != NULL;
    GString *o = g_string_new(NULL);
    g_string_append_printf(o, "%s://%s%s%s", s, v6 ? "[" : "", h, v6 ? "]" : "");
    /* GLib's scheme normalisation fills in the default port; an Origin
     * leaves it out. */
    int default_port = g_str_equal(s, "https") ? 443 : 80;
    if (port > 0 && port != default_port)
      g_string_append_printf(o, ":%d", port);
    g_free(s);
    g_free(h);
    /* A host with bytes no browser would put in an Origin never matches
     * anything: refuse it here rather than keep a dead entry. */
    gboolean ok = o->len <= HTTP_POLICY_ORIGIN_MAX;
    for (gsize i = 0; ok && i < o->len; i++)
      ok = g_ascii_isgraph(o->str[i]);
    out = g_string_free(o, !ok);
  }
  g_uri_unref(u);
  return out;
}

static gboolean same_ci(const char *a, size_t alen, const char *b, size_t blen) {
  if (alen != blen)
    return FALSE;
  for (size_t i = 0; i < alen; i++)
    if (g_ascii_tolower(a[i]) != g_ascii_tolower(b[i]))
      return FALSE;
  return TRUE;
}

gboolean http_policy_origin_allowed(const char *const *allowed, const char *origin, size_t len,
                                    const char *host, size_t host_len) {
  if (origin == NULL || len == 0 || len > HTTP_POLICY_ORIGIN_MAX)
    return FALSE;
  for (const char *const *a = allowed; a != NULL && *a != NULL; a++)
    if (same_ci(*a, strlen(*a), origin, len))
      return TRUE;
  /* This server's own origin: the pages it serves open /ws from it. */
  static const char *const schemes[] = {"http://", "https://"};
  if (host == NULL || host_len == 0 || host_len > HTTP_POLICY_ORIGIN_MAX)
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS(schemes); i++) {
    size_t sl = strlen(schemes[i]);
    if (len == sl + host_len && same_ci(schemes[i], sl, origin, sl) &&
        same_ci(host, host_len, origin + sl, host_len))
      return TRUE;
  }
  return FALSE;
}

gboolean http_policy_token_equal(const char *given, const char *want) {
  if (given == NULL || want == NULL || *want == '\0')
    return FALSE;
  gsize lg = strlen(given), lw = strlen(want);
  guint8 diff = lg != lw;
  for (gsize i = 0; i < lg; i++)
    diff |= (guint8)(given[i] ^ want[i % lw]);
  return diff == 0;
}

gboolean http_policy_field_name_ok(const char *name, size_t len) {
  /* RFC 9110 5.6.2 token characters, then the colon lws keeps. */
  static const char tchar_punct[] = "!#$%&'*+-.^_`|~";
  if (len < 2 || name[len - 1] != ':')
    return FALSE;
  for (size_t i = 0; i + 1 < len; i++) {
    char c = name[i];
    if (!g_ascii_isalnum(c) && (c == '\0' || strchr(tchar_punct, c) == NULL))
      return FALSE;
  }
  return TRUE;
}

/* ---- the request head, as lws parsed it ---- */

/* Sent at all, even empty. lws 4.1 exports no lws_hdr_simple_ptr(): an
 * empty first fragment is the one that still fits a one-byte buffer. */
gboolean http_policy_header_present(struct lws *wsi, int token) {
  enum lws_token_indexes t = (enum lws_token_indexes)token;
  char c;
  return lws_hdr_total_length(wsi, t) > 0 || lws_hdr_copy_fragment(wsi, &c, 1, t, 0) == 0;
}

static gboolean present(struct lws *wsi, enum lws_token_indexes t) {
  return http_policy_header_present(wsi, t);
}

/* lws joins repeated lines of a header it knows into fragments; a second
 * fragment makes the total longer than the first one (by the comma). */
static gboolean repeated(struct lws *wsi, enum lws_token_indexes t) {
  return lws_hdr_total_length(wsi, t) != lws_hdr_fragment_length(wsi, t, 0);
}

#if defined(LWS_WITH_CUSTOM_HEADERS) &&                                                            \
    LWS_LIBRARY_VERSION_MAJOR * 1000 + LWS_LIBRARY_VERSION_MINOR >= 4003
/* lws 4.3 lists the unknown headers: every name must be a token. A folded
 * or colon-less line glued to the next one (lws keeps both as one name)
 * has a space, a tab, a CR or an LF in it. */
static void name_check(const char *name, int nlen, void *opaque) {
  if (nlen <= 0 || !http_policy_field_name_ok(name, (size_t)nlen))
    *(gboolean *)opaque = TRUE;
}

static gboolean framing_header_hidden(struct lws *wsi) {
  gboolean bad = FALSE;
  if (lws_hdr_custom_name_foreach(wsi, name_check, &bad) != 0)
    return TRUE;
  return bad;
}
#else
/* lws 4.1 cannot list the unknown headers, only look one up by its exact
 * name: look up the spellings of the two framing headers that a lenient
 * proxy may read as the real ones while lws keeps them as unknown (a space
 * or tab before the name, as in an obs-fold line, or before the colon). */
static gboolean framing_header_hidden(struct lws *wsi) {
#if defined(LWS_WITH_CUSTOM_HEADERS)
  static const char *const names[] = {"content-length", "transfer-encoding"};
  static const char *const ows[] = {"", " ", "\t"};
  char buf[32];
  for (gsize n = 0; n < G_N_ELEMENTS(names); n++)
    for (gsize a = 0; a < G_N_ELEMENTS(ows); a++)
      for (gsize b = 0; b < G_N_ELEMENTS(ows); b++) {
        if (a == 0 && b == 0)
          continue; /* the real header: lws knows it by name */
        int len = g_snprintf(buf, sizeof buf, "%s%s%s:", ows[a], names[n], ows[b]);
        if (lws_hdr_custom_length(wsi, buf, len) >= 0)
          return TRUE;
      }
#endif
  return FALSE;
}
#endif

const char *http_policy_check_head(struct lws *wsi) {
  char buf[32];
  int n = lws_hdr_copy(wsi, buf, sizeof buf, WSI_TOKEN_HTTP);
  gboolean v11 = n == 8 && memcmp(buf, "HTTP/1.1", 8) == 0;
  if (!v11 && !(n == 8 && memcmp(buf, "HTTP/1.0", 8) == 0))
    return "malformed request line";
  if (present(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING))
    return "Transfer-Encoding is not accepted";
  if (present(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH)) {
    if (repeated(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH))
      return "more than one Content-Length";
    n = lws_hdr_copy(wsi, buf, sizeof buf, WSI_TOKEN_HTTP_CONTENT_LENGTH);
    if (n < 0 || http_policy_parse_content_length(buf, (size_t)n) < 0)
      return "malformed Content-Length";
  }
  if (framing_header_hidden(wsi))
    return "malformed header line";
  /* RFC 9112 3.2: exactly one Host in HTTP/1.1 (at most one in 1.0). */
  if (v11 && lws_hdr_total_length(wsi, WSI_TOKEN_HOST) == 0)
    return "Host required";
  if (present(wsi, WSI_TOKEN_HOST) && repeated(wsi, WSI_TOKEN_HOST))
    return "more than one Host";
  return NULL;
}

/* ---- security headers ---- */

/* hls.js plays through MediaSource (a blob: URL on the video) and runs its
 * transmuxer in a worker made from a blob: URL. The pages' scripts and
 * styles are files; nothing inline. No page may be framed: the viewer and
 * replay pages have buy buttons and the console every leader action
 * (clickjacking). */
const char http_policy_csp_page[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/* JSON, playlists, segments, pictures, scripts: a document opened from one
 * of them (a JSON or SVG answer in a tab) may load and run nothing. */
const char http_policy_csp_other[] = "default-src 'none'; frame-ancestors 'none'";

static const struct lws_protocol_vhost_options hdr_frame = {NULL, NULL, "x-frame-options:", "DENY"};
static const struct lws_protocol_vhost_options hdr_referrer = {&hdr_frame, NULL,
                                                               "referrer-policy:", "no-referrer"};
static const struct lws_protocol_vhost_options hdr_nosniff = {&hdr_referrer, NULL,
                                                              "x-content-type-options:", "nosniff"};

const struct lws_protocol_vhost_options *http_policy_vhost_headers(void) {
  return &hdr_nosniff;
}

const char *http_policy_fixed_headers(void) {
  static gsize done;
  static char lines[256];
  if (g_once_init_enter(&done)) {
    GString *s = g_string_new(NULL);
    for (const struct lws_protocol_vhost_options *o = &hdr_nosniff; o != NULL; o = o->next)
      g_string_append_printf(s, "%s %s\r\n", o->name, o->value);
    g_strlcpy(lines, s->str, sizeof lines);
    g_string_free(s, TRUE);
    g_once_init_leave(&done, 1);
  }
  return lines;
}

int http_policy_add_csp(struct lws *wsi, const char *content_type, unsigned char **p,
                        unsigned char *end) {
  gboolean page = content_type != NULL && g_str_has_prefix(content_type, "text/html");
  const char *csp = page ? http_policy_csp_page : http_policy_csp_other;
  return lws_add_http_header_by_name(wsi, (const unsigned char *)"content-security-policy:",
                                     (const unsigned char *)csp, (int)strlen(csp), p, end);
}
