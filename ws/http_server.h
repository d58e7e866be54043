/* http_server.h — the one HTTP server of tourcast (libwebsockets on the GLib loop).
 *
 * Serves the pages under web_dir, the live HLS playlist and segments from the
 * data dir, /healthz and /metrics. It runs on the GLib main loop of the
 * calling thread (LWS_SERVER_OPTION_GLIB), so its callbacks run on the
 * control loop. Later the same context serves the WebSocket /ws.
 */
#ifndef TOURCAST_HTTP_SERVER_H
#define TOURCAST_HTTP_SERVER_H

#include <glib.h>

typedef struct http_server http_server_t;

typedef struct {
  /* Body of /healthz (application/json). Returns a newly allocated string,
   * freed by the server with g_free. */
  char *(*healthz_json)(void *user);
  /* Body of /metrics (Prometheus text format 0.0.4), newly allocated. The
   * server appends its own http_* metrics after it. */
  char *(*metrics_text)(void *user);
} http_server_callbacks_t;

typedef struct {
  const char *bind_addr; /* NULL or "0.0.0.0": all interfaces */
  guint16 port;
  const char *live_dir;  /* served under /live/ */
  const char *web_dir;   /* index.html for /, leader.html for /leader */
  GMainLoop *loop;       /* the control loop; borrowed */
} http_server_config_t;

/* Starts listening. Strings in `cfg` are copied, `cb` is copied, `user` is
 * borrowed. Returns NULL with `err` set if the port cannot be bound. */
http_server_t *http_server_new(const http_server_config_t *cfg, const http_server_callbacks_t *cb,
                               void *user, GError **err);
/* NULL is a no-op. */
void http_server_free(http_server_t *srv);

#endif
