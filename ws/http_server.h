/* http_server.h — the one HTTP server of tourcast (libwebsockets on the GLib loop).
 *
 * Serves the pages under web_dir, the live HLS playlist and segments from the
 * data dir, /healthz and /metrics. It runs on the GLib main loop of the
 * calling thread (through libuv, polled as one GSource), so its callbacks run on the
 * control loop. Later the same context serves the WebSocket /ws.
 */
#ifndef TOURCAST_HTTP_SERVER_H
#define TOURCAST_HTTP_SERVER_H

#include <glib.h>

#include "ws/http_route.h"

typedef struct http_server http_server_t;

/* The answer to an upload, given later: see `upload` below. */
typedef struct http_reply http_reply_t;

/* All are called on the control loop while a request is being answered; they
 * must not block and must not call http_server_free(). */
typedef struct {
  /* Body of /healthz (application/json). Returns a newly allocated string,
   * freed by the server with g_free. NULL return: 503. NULL function:
   * {"status":"ok"}. */
  char *(*healthz_json)(void *user);
  /* Body of /metrics (Prometheus text format 0.0.4), newly allocated. The
   * server appends its own tourcast_http_* metrics after it. NULL return: 500.
   * NULL function: only the server's own metrics. Served only to a request
   * with the leader token (leader_ok) or cfg->metrics_token: else 401. */
  char *(*metrics_text)(void *user);
  /* Body of an /api/ route (route->kind is one of HTTP_ROUTE_API_*). `token`
   * is the leader token the request carried (?token=... or "Authorization:
   * Bearer ..."), NULL if none; borrowed. Sets *status; returns a newly
   * allocated body (NULL: 500). NULL function: 404 for every /api/ path. */
  char *(*api)(void *user, const http_route_t *route, const char *token, int *status);
  /* POST /api/products/ID/image. leader_ok is asked first, with the token
   * the request carried (may be NULL), before a byte of the body is read:
   * FALSE answers 403. Then `upload` gets the whole body (at most
   * HTTP_UPLOAD_MAX_BYTES bytes; the reference is the callee's to unref)
   * and `reply`, which the callee must finish exactly once with
   * http_reply_finish(), at once or later from the control loop (e.g. once
   * a worker thread has decoded the picture). Until then the connection
   * waits, at most HTTP_REPLY_TIMEOUT_S. Either NULL: 404. */
  gboolean (*leader_ok)(void *user, const char *token);
  void (*upload)(void *user, const http_route_t *route, GBytes *body, http_reply_t *reply);
} http_server_callbacks_t;

/* Largest request body accepted (an upload); larger gets 413 unread. */
#define HTTP_UPLOAD_MAX_BYTES (2 * 1024 * 1024)
/* Longest an upload's connection waits for its http_reply_finish(); then it
 * is closed unanswered (finishing afterwards does nothing). */
#define HTTP_REPLY_TIMEOUT_S 30

/* Answers the upload `reply` stands for with `status` and the JSON `body`
 * (taken, g_free; NULL: 500) and releases `reply`, which must not be used
 * afterwards. If the client has gone in between (or the server was freed),
 * the body is freed and nothing else happens. Control loop only. */
void http_reply_finish(http_reply_t *reply, int status, char *body);
/* Adds "Retry-After: `seconds`" to the answer (for a 503); before
 * http_reply_finish(). */
void http_reply_set_retry_after(http_reply_t *reply, guint seconds);

typedef struct {
  /* An IPv4 or IPv6 address or an interface name. NULL: all interfaces, IPv6
   * and IPv4; "0.0.0.0": all interfaces, IPv4 only. */
  const char *bind_addr;
  guint16 port;
  const char *live_dir; /* served under /live/ */
  /* Archived shows: shows_dir/ID/ served under /shows/ID/. NULL: 404. */
  const char *shows_dir;
  const char *web_dir; /* index.html for /, leader.html for /leader, replay.html
                        * for /replay/ID, /web/NAME */
  /* hls.light.min.js for /vendor/hls.light.min.js (the npm package's dist dir); NULL:
   * that route is 404. */
  const char *vendor_dir;
  /* GET /api/products/ID/image serves product-ID.png from here; NULL: 404. */
  const char *images_dir;
  GMainLoop *loop; /* the control loop; borrowed, must outlive the server */
  /* Most connections open at once (HTTP and, later, WebSocket); beyond it new
   * connections wait in the listen backlog. 0: the default, 1000. Lowered
   * if RLIMIT_NOFILE cannot hold it. */
  guint max_connections;
  /* Serves WebSocket tourcast.v1 on /ws when set; borrowed, must outlive
   * the server. */
  struct ws_endpoint *ws;
  /* Origins (as http_policy_origin_of_url() writes them) whose pages may
   * open /ws, besides this server's own ("http://" or "https://" and the
   * request's Host). NULL-terminated, copied; NULL: only its own. */
  const char *const *allowed_origins;
  /* A second token that opens /metrics (for a scraper), copied; NULL or
   * "": only the leader token (callbacks' leader_ok) does. */
  const char *metrics_token;
} http_server_config_t;

/* Starts listening on bind_addr:port (port 0 picks a free one, see
 * http_server_port()); sources are attached to cfg->loop's context. Strings in
 * `cfg` are copied, `cb` is copied (may be NULL), `user` is borrowed.
 * Returns NULL with `err` set if the port cannot be bound. */
http_server_t *http_server_new(const http_server_config_t *cfg, const http_server_callbacks_t *cb,
                               void *user, GError **err);
/* Closes every connection and detaches from the loop; synchronous. Call it
 * from the loop's thread but outside the server's own callbacks (e.g. after
 * g_main_loop_run() returned, or from another source). NULL is a no-op. */
void http_server_free(http_server_t *srv);
/* The port actually bound. */
guint16 http_server_port(const http_server_t *srv);
/* The WebSocket endpoint given in the config, or NULL (for ws_endpoint.c). */
struct ws_endpoint *http_server_ws_endpoint(http_server_t *srv);
/* For ws_endpoint.c, at LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: TRUE if
 * the upgrade request may become a WebSocket: its head passes
 * http_policy_check_head() and it has no Origin header (not a browser) or
 * an allowed one. FALSE: a 400 or 403 has been written; return nonzero so
 * that lws closes the connection. */
struct lws;
gboolean http_server_ws_admit(http_server_t *srv, struct lws *wsi);

#endif
