/* http_policy.h — what the HTTP server refuses in a request head and adds to every answer.
 *
 * Three policies around the head libwebsockets 4.1 has parsed: framing (one
 * request stays one request to us and to any proxy in front: no
 * Transfer-Encoding, one plain Content-Length, one Host, a real HTTP/1.x
 * version), the security headers every response carries, and the WebSocket
 * Origin allow-list. The parsers of outside bytes (Content-Length, origins)
 * are pure functions over a pointer and a length, fuzzed by
 * tests/fuzz/fuzz_http_policy.c. Control loop only; nothing here allocates
 * per request except http_policy_origin_of_url().
 */
#ifndef TOURCAST_HTTP_POLICY_H
#define TOURCAST_HTTP_POLICY_H

#include <glib.h>
#include <stddef.h>

/* The most digits a Content-Length may have (about a petabyte): more is
 * refused rather than risk an overflow in anyone's parser. */
#define HTTP_POLICY_CL_DIGITS_MAX 15
/* Longest Origin (and origin given on the command line) compared, bytes. */
#define HTTP_POLICY_ORIGIN_MAX 255

/* The value of a Content-Length header (`len` bytes, need not be
 * NUL-terminated): optional SP/HT around 1..HTTP_POLICY_CL_DIGITS_MAX ASCII
 * digits. Returns the number, or -1 for anything else (empty, signs, a
 * comma list such as "5, 5", other bytes). */
gint64 http_policy_parse_content_length(const char *s, size_t len);

/* The origin of an absolute http:// or https:// URL (a --public-url, an
 * --allowed-origin): "scheme://host" or "scheme://host:port", lower-case,
 * the default port (80, 443) left out, as browsers send it in Origin.
 * A path is allowed and dropped; user info, an empty host or a port that
 * is not 1..65535 are not. Returns a new string (g_free) or NULL. */
char *http_policy_origin_of_url(const char *url);

/* Whether an Origin header value (`origin`, `len` bytes) may open a
 * WebSocket: it equals one of `allowed` (NULL-terminated list of origins as
 * http_policy_origin_of_url() makes them; may be NULL), or it is this
 * server's own origin, "http://" or "https://" followed by the request's
 * Host header (`host`, `host_len` bytes; none when host_len is 0).
 * Compared without regard to ASCII case. */
gboolean http_policy_origin_allowed(const char *const *allowed, const char *origin, size_t len,
                                    const char *host, size_t host_len);

/* A header line's name as lws keeps an unknown one (`len` bytes, the
 * colon included): RFC 9110 token characters and the colon, nothing else. */
gboolean http_policy_field_name_ok(const char *name, size_t len);

/* Compares two secrets in time that depends only on their lengths. NULL
 * never matches. */
gboolean http_policy_token_equal(const char *given, const char *want);

struct lws;
struct lws_protocol_vhost_options;

/* The head of the request `wsi` is being answered for, as lws parsed it.
 * NULL when it may be served; else why it must be refused with 400 and the
 * connection closed (a static string, for logs and the answer's body). */
const char *http_policy_check_head(struct lws *wsi);

/* Whether the request carries header `token` (an enum lws_token_indexes),
 * even with an empty value. */
gboolean http_policy_header_present(struct lws *wsi, int token);

/* The headers lws adds to every status line it writes, ours and its own
 * (nosniff, Referrer-Policy, X-Frame-Options): for
 * lws_context_creation_info.headers. Static; never freed. */
const struct lws_protocol_vhost_options *http_policy_vhost_headers(void);

/* The same headers as one block of "name: value\r\n" lines, for an
 * answer written without lws' help. Static. */
const char *http_policy_fixed_headers(void);

/* Adds the Content-Security-Policy for a response of `content_type` to a
 * head being built in [*p, end) (lws_add_http_header_by_name). Pages get
 * the pages' policy; every other type one that allows nothing. Returns
 * nonzero if the head has no room. */
int http_policy_add_csp(struct lws *wsi, const char *content_type, unsigned char **p,
                        unsigned char *end);

/* The two policies, for tests and docs. */
extern const char http_policy_csp_page[];
extern const char http_policy_csp_other[];

#endif
