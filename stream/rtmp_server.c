/* rtmp_server.c — the RTMP listener on the GLib control loop: sockets,
 * back-pressure, timeouts and limits around rtmp_conn's protocol work.
 *
 * Every socket is non-blocking and watched by a GSource; nothing here waits.
 * A connection's life: accepted → reading (paused while the consumer is
 * full, so TCP pushes back on the phone) → closing (a refused publisher
 * reads why) → closed. Protocol errors close that connection only.
 *
 * Strangers' sockets never keep the phone out. A connection is
 * unauthenticated from accept until rtmp_conn accepts its publish (right
 * app and key; on_publish_start is the one place that marks it), and
 * authenticated from then on, for the rest of its life. Unauthenticated
 * connections:
 *   - must be authenticated within auth_timeout_ms of accept (5 s), counted
 *     from accept: pings, acks, chunk sizes or anything else they send do
 *     not extend it (the sweep on_tick closes them, auth_timeouts);
 *   - are at most max_unauth_per_ip (8) per address: one more from that
 *     address evicts its oldest unauthenticated connection;
 *   - make room when the server is full (max_connections, 128): the oldest
 *     unauthenticated one is evicted for the newcomer (connections_evicted).
 * The authenticated publisher is never evicted or timed out by these rules.
 * Evicting the oldest rather than refusing the newest is what lets the phone
 * in even from the attacker's own address (a shared NAT, or loopback in the
 * tests): squatters are old by the time the phone arrives, and an honest
 * client reaches publish in a few round trips, long before it is the oldest.
 * Addresses are compared exactly (an IPv6 peer holding a whole prefix gets
 * a cap per address; the total cap and global eviction still hold).
 */
#include "stream/rtmp_server.h"

#include <string.h>

#include <gio/gio.h>
#include <gst/gst.h>

#include "stream/rtmp_conn.h"

GST_DEBUG_CATEGORY_STATIC(rtmp_debug);
#define GST_CAT_DEFAULT rtmp_debug

#define READ_SIZE 65536 /* bytes read from a socket per wake-up */
#define RETRY_MS 10     /* how soon a paused publisher asks can_accept again */
#define ACCEPT_PER_WAKEUP 16
#define ACCEPT_BACKOFF_MS 100 /* after an accept error such as EMFILE */
/* A burst of a full server's worth of connects waits in the kernel. With a
 * short queue the kernel drops the handshake's last ACK of the overflow, and
 * a phone connecting during a burst reaches accept() only when its SYN-ACK
 * is sent again, 1 s and more later (measured: 160 connects on loopback, a
 * backlog of 32, the last accepted after 3 s). */
#define LISTEN_BACKLOG RTMP_MAX_CONNECTIONS

typedef struct server_conn server_conn_t;

struct server_conn {
  rtmp_server_t *srv; /* borrowed; outlives every connection */
  char label[96];
  GSocket *sock;
  rtmp_conn_t *conn;
  GSource *in_source;    /* while reading */
  GSource *out_source;   /* while output waits for the socket */
  GSource *retry_source; /* while paused by back-pressure */
  gint64 opened_us;
  gint64 last_input_us;
  gint64 closing_us;      /* 0 until the connection only flushes before closing */
  gboolean authenticated; /* its publish was accepted; see mark_authenticated */
  char ip[64];            /* the peer's address, for the per-address cap */
};

struct rtmp_server {
  GMainContext *ctx;
  GSocket *listener;
  GSource *accept_source;
  GSource *accept_retry_source;
  GSource *tick_source;
  guint16 port;
  char *app, *key;
  rtmp_server_callbacks_t cb;
  void *user; /* borrowed */
  rtmp_server_limits_t limits;
  GList *conns; /* server_conn_t * */
  server_conn_t *publisher;
  rtmp_server_stats_t stats;
  guint64 next_id;
  guint8 rbuf[READ_SIZE];
};

static gboolean flush_output(server_conn_t *sc);
static void start_reading(server_conn_t *sc);

void rtmp_server_limits_init(rtmp_server_limits_t *l) {
  rtmp_chunk_limits_t cl;

  rtmp_chunk_limits_init(&cl);
  l->max_connections = RTMP_MAX_CONNECTIONS;
  l->max_unauth_per_ip = RTMP_MAX_UNAUTH_PER_IP;
  l->auth_timeout_ms = RTMP_AUTH_DEADLINE_MS;
  l->max_message_size = cl.max_message_size;
  l->max_chunk_streams = cl.max_chunk_streams;
  l->max_pending_bytes = cl.max_pending_bytes;
  l->max_output_bytes = 1u << 20;
  l->handshake_timeout_ms = 10000;
  l->idle_timeout_ms = 30000;
  l->publish_idle_timeout_ms = 60000;
  l->close_flush_timeout_ms = 2000;
  /* The same rule as the output's stall (2 s of no media): by then viewers
   * see the slate, so a phone that comes back must not be refused. */
  l->publisher_takeover_ms = 2000;
}

static GSource *add_source(rtmp_server_t *srv, GSource *src, gpointer func, gpointer data) {
  g_source_set_callback(src, (GSourceFunc)func, data, NULL);
  g_source_attach(src, srv->ctx);
  return src;
}

static void drop_source(GSource **src) {
  if (*src == NULL)
    return;
  g_source_destroy(*src);
  g_source_unref(*src);
  *src = NULL;
}

/* ---- closing ---- */

static void close_conn(server_conn_t *sc, const char *why) {
  rtmp_server_t *srv = sc->srv;

  GST_INFO("[%s] closed: %s", sc->label, why);
  srv->conns = g_list_remove(srv->conns, sc);
  drop_source(&sc->in_source);
  drop_source(&sc->out_source);
  drop_source(&sc->retry_source);
  rtmp_conn_free(sc->conn); /* ends a live publish through on_publish_stop */
  g_socket_close(sc->sock, NULL);
  g_object_unref(sc->sock);
  srv->stats.connections_open--;
  g_free(sc);
}

/* ---- callbacks from rtmp_conn ---- */

/* One publisher at a time, but a silent one may be replaced: see
 * publisher_takeover_ms. Time the server spent not reading (back-pressure)
 * does not count as silence, on_retry sees to that. */
static gboolean on_may_publish(void *user) {
  server_conn_t *sc = user;
  rtmp_server_t *srv = sc->srv;
  server_conn_t *old = srv->publisher;
  gint64 silent_us;

  if (old == NULL)
    return TRUE;
  silent_us = g_get_monotonic_time() - old->last_input_us;
  if (srv->limits.publisher_takeover_ms == 0 ||
      silent_us < (gint64)srv->limits.publisher_takeover_ms * 1000)
    return FALSE;
  GST_INFO("[%s] replaces [%s], silent for %" G_GINT64_FORMAT " ms", sc->label, old->label,
           silent_us / 1000);
  close_conn(old, "replaced by a new publisher"); /* publish_stop before the new start */
  return TRUE;
}

/* The one place a connection becomes authenticated: rtmp_conn accepted its
 * publish (right app, right key, may_publish said yes). It stays so after
 * an unpublish: it proved it holds the key. */
static void mark_authenticated(server_conn_t *sc) {
  if (!sc->authenticated)
    GST_DEBUG("[%s] authenticated after %" G_GINT64_FORMAT " ms", sc->label,
              (g_get_monotonic_time() - sc->opened_us) / 1000);
  sc->authenticated = TRUE;
}

static void on_publish_start(void *user, const char *key) {
  server_conn_t *sc = user;
  rtmp_server_t *srv = sc->srv;

  mark_authenticated(sc);
  srv->publisher = sc;
  srv->stats.publishing = TRUE;
  GST_INFO("[%s] is the live publisher", sc->label);
  if (srv->cb.publish_start != NULL)
    srv->cb.publish_start(srv->user, key);
}

static void on_flv_data(void *user, guint8 tag_type, guint32 ts, const guint8 *data, gsize len) {
  server_conn_t *sc = user;
  rtmp_server_t *srv = sc->srv;

  if (tag_type == 8 || tag_type == 9)
    srv->stats.media_messages++;
  if (srv->cb.flv_data != NULL)
    srv->cb.flv_data(srv->user, tag_type, ts, data, len);
}

static void on_publish_stop(void *user) {
  server_conn_t *sc = user;
  rtmp_server_t *srv = sc->srv;

  if (srv->publisher != sc)
    return;
  srv->publisher = NULL;
  srv->stats.publishing = FALSE;
  if (srv->cb.publish_stop != NULL)
    srv->cb.publish_stop(srv->user);
}

/* ---- reading ---- */

static gboolean on_retry(gpointer data) {
  server_conn_t *sc = data;
  rtmp_server_t *srv = sc->srv;

  /* Time spent waiting for the consumer is not the publisher's silence. */
  sc->last_input_us = g_get_monotonic_time();
  if (srv->cb.can_accept != NULL && !srv->cb.can_accept(srv->user))
    return G_SOURCE_CONTINUE;
  g_source_unref(sc->retry_source);
  sc->retry_source = NULL;
  start_reading(sc);
  return G_SOURCE_REMOVE;
}

/* Acts on a feed's outcome. FALSE if the connection is gone. */
static gboolean after_feed(server_conn_t *sc, rtmp_conn_status_t st) {
  switch (st) {
    case RTMP_CONN_OK:
      break;
    case RTMP_CONN_ERROR:
      sc->srv->stats.connections_rejected++;
      close_conn(sc, rtmp_conn_reason(sc->conn));
      return FALSE;
    case RTMP_CONN_CLOSE:
      if (sc->closing_us == 0) {
        sc->srv->stats.connections_rejected++;
        sc->closing_us = g_get_monotonic_time();
        drop_source(&sc->in_source); /* nothing more is read, only flushed */
      }
      break;
  }
  return flush_output(sc);
}

static gboolean on_readable(GSocket *sock, GIOCondition cond, gpointer data) {
  server_conn_t *sc = data;
  rtmp_server_t *srv = sc->srv;
  GError *err = NULL;
  gssize n;

  if (sc == srv->publisher && srv->cb.can_accept != NULL && !srv->cb.can_accept(srv->user)) {
    /* Leave the bytes in the kernel: the TCP window closes on the phone. */
    GST_LOG("[%s] consumer full, reading paused", sc->label);
    g_source_unref(sc->in_source);
    sc->in_source = NULL;
    sc->retry_source = add_source(srv, g_timeout_source_new(RETRY_MS), on_retry, sc);
    return G_SOURCE_REMOVE;
  }
  n = g_socket_receive(sock, (gchar *)srv->rbuf, sizeof srv->rbuf, NULL, &err);
  if (n < 0) {
    gboolean again = g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
    if (!again)
      close_conn(sc, err->message);
    g_error_free(err);
    return again ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
  }
  if (n == 0) {
    close_conn(sc, "peer closed the connection");
    return G_SOURCE_REMOVE;
  }
  srv->stats.bytes_in += (guint64)n;
  sc->last_input_us = g_get_monotonic_time();
  if (!after_feed(sc, rtmp_conn_feed(sc->conn, srv->rbuf, (gsize)n)))
    return G_SOURCE_REMOVE;
  return sc->in_source != NULL ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void start_reading(server_conn_t *sc) {
  GSource *src = g_socket_create_source(sc->sock, G_IO_IN, NULL);
  sc->in_source = add_source(sc->srv, src, on_readable, sc);
}

/* ---- writing ---- */

static gboolean on_writable(GSocket *sock, GIOCondition cond, gpointer data) {
  server_conn_t *sc = data;

  if (!flush_output(sc))
    return G_SOURCE_REMOVE;
  return sc->out_source != NULL ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* Sends what the socket takes now and watches for room for the rest.
 * FALSE if the connection is gone. */
static gboolean flush_output(server_conn_t *sc) {
  gsize len;
  const guint8 *p = rtmp_conn_output(sc->conn, &len);

  while (len > 0) {
    GError *err = NULL;
    gssize n = g_socket_send(sc->sock, (const gchar *)p, len, NULL, &err);
    if (n < 0) {
      gboolean again = g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
      if (!again)
        close_conn(sc, err->message);
      g_error_free(err);
      if (!again)
        return FALSE;
      break;
    }
    rtmp_conn_output_consume(sc->conn, (gsize)n);
    p = rtmp_conn_output(sc->conn, &len);
  }
  if (len > sc->srv->limits.max_output_bytes) {
    sc->srv->stats.connections_rejected++;
    close_conn(sc, "peer does not read what we send");
    return FALSE;
  }
  if (len == 0 && sc->closing_us != 0) {
    close_conn(sc, rtmp_conn_reason(sc->conn));
    return FALSE;
  }
  if (len > 0 && sc->out_source == NULL) {
    GSource *src = g_socket_create_source(sc->sock, G_IO_OUT, NULL);
    sc->out_source = add_source(sc->srv, src, on_writable, sc);
  } else if (len == 0 && sc->out_source != NULL) {
    drop_source(&sc->out_source);
  }
  return TRUE;
}

/* ---- accepting ---- */

static void open_conn(rtmp_server_t *srv, GSocket *sock, const char *ip) {
  server_conn_t *sc = g_new0(server_conn_t, 1);
  rtmp_conn_callbacks_t cb = {on_may_publish, on_publish_start, on_flv_data, on_publish_stop};
  rtmp_conn_config_t cfg;
  GSocketAddress *peer = g_socket_get_remote_address(sock, NULL);
  char *peer_str = NULL;

  if (peer != NULL)
    peer_str = g_socket_connectable_to_string(G_SOCKET_CONNECTABLE(peer));
  g_snprintf(sc->label, sizeof sc->label, "rtmp#%" G_GUINT64_FORMAT " %s", ++srv->next_id,
             peer_str ? peer_str : "?");
  g_free(peer_str);
  g_clear_object(&peer);

  g_socket_set_blocking(sock, FALSE);
  g_socket_set_keepalive(sock, TRUE);
  sc->srv = srv;
  sc->sock = sock; /* takes the reference */
  g_strlcpy(sc->ip, ip, sizeof sc->ip);
  sc->opened_us = sc->last_input_us = g_get_monotonic_time();
  rtmp_conn_config_init(&cfg);
  cfg.app = srv->app;
  cfg.stream_key = srv->key;
  cfg.label = sc->label;
  cfg.limits.max_message_size = srv->limits.max_message_size;
  cfg.limits.max_chunk_streams = srv->limits.max_chunk_streams;
  cfg.limits.max_pending_bytes = srv->limits.max_pending_bytes;
  sc->conn = rtmp_conn_new(&cfg, &cb, sc);
  srv->conns = g_list_prepend(srv->conns, sc);
  srv->stats.connections_accepted++;
  srv->stats.connections_open++;
  GST_INFO("[%s] accepted", sc->label);
  start_reading(sc);
}

/* The peer's address without the port ("?" if unknown), into buf. */
static void peer_ip(GSocket *sock, char *buf, gsize size) {
  GSocketAddress *peer = g_socket_get_remote_address(sock, NULL);
  char *s = NULL;

  if (peer != NULL && G_IS_INET_SOCKET_ADDRESS(peer))
    s = g_inet_address_to_string(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(peer)));
  g_strlcpy(buf, s ? s : "?", size);
  g_free(s);
  g_clear_object(&peer);
}

/* The oldest unauthenticated connection, from `ip` only unless it is NULL;
 * `count` gets how many there are. The list is newest first. */
static server_conn_t *oldest_unauthenticated(rtmp_server_t *srv, const char *ip, guint *count) {
  server_conn_t *oldest = NULL;

  *count = 0;
  for (GList *l = srv->conns; l != NULL; l = l->next) {
    server_conn_t *sc = l->data;
    if (sc->authenticated || (ip != NULL && strcmp(sc->ip, ip) != 0))
      continue;
    (*count)++;
    oldest = sc;
  }
  return oldest;
}

static void evict(server_conn_t *sc, const char *why) {
  sc->srv->stats.connections_evicted++;
  close_conn(sc, why);
}

/* Makes room for a new connection from `ip`, evicting as the header says.
 * FALSE if there is none to be had: every open connection is authenticated. */
static gboolean make_room(rtmp_server_t *srv, const char *ip) {
  const rtmp_server_limits_t *l = &srv->limits;
  guint n;
  server_conn_t *old = oldest_unauthenticated(srv, ip, &n);

  while (l->max_unauth_per_ip > 0 && n >= l->max_unauth_per_ip && old != NULL) {
    evict(old, "evicted: a newer connection from the same address");
    old = oldest_unauthenticated(srv, ip, &n);
  }
  while (srv->stats.connections_open >= l->max_connections) {
    old = oldest_unauthenticated(srv, NULL, &n);
    if (old == NULL)
      return FALSE;
    evict(old, "evicted: server full, a newer connection needs the room");
  }
  return TRUE;
}

static gboolean on_incoming(GSocket *listener, GIOCondition cond, gpointer data);

static gboolean on_accept_retry(gpointer data) {
  rtmp_server_t *srv = data;

  g_source_unref(srv->accept_retry_source);
  srv->accept_retry_source = NULL;
  srv->accept_source =
      add_source(srv, g_socket_create_source(srv->listener, G_IO_IN, NULL), on_incoming, srv);
  return G_SOURCE_REMOVE;
}

static gboolean on_incoming(GSocket *listener, GIOCondition cond, gpointer data) {
  rtmp_server_t *srv = data;

  for (int i = 0; i < ACCEPT_PER_WAKEUP; i++) {
    GError *err = NULL;
    GSocket *sock = g_socket_accept(listener, NULL, &err);
    char ip[64];

    if (sock == NULL) {
      gboolean again = g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
      if (again) {
        g_error_free(err);
        return G_SOURCE_CONTINUE;
      }
      /* Out of descriptors, say: the listener stays readable, so back off
       * instead of spinning. */
      GST_WARNING("accept failed: %s", err->message);
      g_error_free(err);
      g_source_unref(srv->accept_source);
      srv->accept_source = NULL;
      srv->accept_retry_source =
          add_source(srv, g_timeout_source_new(ACCEPT_BACKOFF_MS), on_accept_retry, srv);
      return G_SOURCE_REMOVE;
    }
    peer_ip(sock, ip, sizeof ip);
    if (!make_room(srv, ip)) {
      GST_INFO("connection from %s refused: %u open, all authenticated", ip,
               srv->stats.connections_open);
      srv->stats.connections_rejected++;
      g_socket_close(sock, NULL);
      g_object_unref(sock);
      continue;
    }
    open_conn(srv, sock, ip);
  }
  return G_SOURCE_CONTINUE;
}

/* ---- timeouts ---- */

/* Past the publish deadline; counted from accept, so input does not help. */
static gboolean auth_expired(const rtmp_server_t *srv, const server_conn_t *sc, gint64 now) {
  return !sc->authenticated && now - sc->opened_us > (gint64)srv->limits.auth_timeout_ms * 1000;
}

static const char *timed_out(const rtmp_server_t *srv, const server_conn_t *sc, gint64 now) {
  const rtmp_server_limits_t *l = &srv->limits;
  rtmp_conn_state_t st = rtmp_conn_state(sc->conn);

  if (sc->closing_us != 0 && now - sc->closing_us > (gint64)l->close_flush_timeout_ms * 1000)
    return "peer did not read the refusal in time";
  if ((st == RTMP_CONN_HS_C0C1 || st == RTMP_CONN_HS_C2) &&
      now - sc->opened_us > (gint64)l->handshake_timeout_ms * 1000)
    return "handshake timeout";
  if (rtmp_conn_is_publishing(sc->conn)) {
    if (now - sc->last_input_us > (gint64)l->publish_idle_timeout_ms * 1000)
      return "publisher silent";
  } else if (now - sc->last_input_us > (gint64)l->idle_timeout_ms * 1000) {
    return "idle without publishing";
  }
  return NULL;
}

static gboolean on_tick(gpointer data) {
  rtmp_server_t *srv = data;
  gint64 now = g_get_monotonic_time();
  GList *l, *next;

  for (l = srv->conns; l != NULL; l = next) {
    server_conn_t *sc = l->data;
    const char *why;
    next = l->next; /* closing removes only this node */
    if (auth_expired(srv, sc, now)) {
      srv->stats.auth_timeouts++;
      close_conn(sc, "no accepted publish within the deadline");
    } else if ((why = timed_out(srv, sc, now)) != NULL) {
      close_conn(sc, why);
    }
  }
  return G_SOURCE_CONTINUE;
}

/* Ticks often enough to honour the shortest timeout within a quarter of it. */
static void start_tick(rtmp_server_t *srv) {
  const rtmp_server_limits_t *l = &srv->limits;
  guint shortest = MIN(MIN(MIN(l->handshake_timeout_ms, l->idle_timeout_ms), l->auth_timeout_ms),
                       MIN(l->publish_idle_timeout_ms, l->close_flush_timeout_ms));

  drop_source(&srv->tick_source);
  srv->tick_source =
      add_source(srv, g_timeout_source_new(CLAMP(shortest / 4, 20, 1000)), on_tick, srv);
}

/* ---- public ---- */

static GSocket *listen_on(const char *bind_addr, guint16 port, GError **err) {
  const char *host = bind_addr == NULL || *bind_addr == '\0' || g_str_equal(bind_addr, "*")
                         ? "0.0.0.0"
                     : g_str_equal(bind_addr, "localhost") ? "127.0.0.1"
                                                           : bind_addr;
  GInetAddress *addr = g_inet_address_new_from_string(host);
  GSocketAddress *sa = NULL;
  GSocket *sock = NULL;

  if (addr == NULL) {
    g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "not an IP address: %s", host);
    goto out;
  }
  sa = g_inet_socket_address_new(addr, port);
  sock = g_socket_new(g_inet_address_get_family(addr), G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                      err);
  if (sock == NULL)
    goto out;
  g_socket_set_blocking(sock, FALSE);
  g_socket_set_listen_backlog(sock, LISTEN_BACKLOG);
  if (!g_socket_bind(sock, sa, TRUE, err) || !g_socket_listen(sock, err))
    g_clear_object(&sock);
out:
  g_clear_object(&sa);
  g_clear_object(&addr);
  return sock;
}

rtmp_server_t *rtmp_server_new(const char *bind_addr, guint16 port, const char *app,
                               const char *stream_key, const rtmp_server_callbacks_t *cb,
                               void *user, GError **err) {
  static gsize once = 0;
  rtmp_server_t *srv;
  GSocketAddress *local;
  GSocket *listener;

  g_return_val_if_fail(cb != NULL && app != NULL, NULL);
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(rtmp_debug, "tourcast-rtmp", 0, "RTMP ingest");
    g_once_init_leave(&once, 1);
  }
  listener = listen_on(bind_addr, port, err);
  if (listener == NULL)
    return NULL;
  srv = g_new0(rtmp_server_t, 1);
  srv->ctx = g_main_context_ref_thread_default();
  srv->listener = listener;
  local = g_socket_get_local_address(listener, NULL);
  srv->port = local ? g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local)) : port;
  g_clear_object(&local);
  srv->app = g_strdup(app);
  srv->key = g_strdup(stream_key);
  srv->cb = *cb;
  srv->user = user;
  rtmp_server_limits_init(&srv->limits);
  srv->accept_source =
      add_source(srv, g_socket_create_source(listener, G_IO_IN, NULL), on_incoming, srv);
  start_tick(srv);
  GST_INFO("listening on %s:%u", bind_addr ? bind_addr : "*", srv->port);
  return srv;
}

void rtmp_server_free(rtmp_server_t *srv) {
  if (srv == NULL)
    return;
  drop_source(&srv->accept_source);
  drop_source(&srv->accept_retry_source);
  drop_source(&srv->tick_source);
  while (srv->conns != NULL)
    close_conn(srv->conns->data, "server shutting down");
  g_socket_close(srv->listener, NULL);
  g_object_unref(srv->listener);
  g_main_context_unref(srv->ctx);
  g_free(srv->app);
  g_free(srv->key);
  g_free(srv);
}

void rtmp_server_set_limits(rtmp_server_t *srv, const rtmp_server_limits_t *limits) {
  srv->limits = *limits;
  start_tick(srv);
}

guint16 rtmp_server_port(const rtmp_server_t *srv) {
  return srv->port;
}

void rtmp_server_get_stats(const rtmp_server_t *srv, rtmp_server_stats_t *out) {
  *out = srv->stats;
}
