/* ws_endpoint.c — tourcast.v1 connections on libwebsockets: frames in, queues out.
 *
 * Per connection: a receive buffer bounded by the frame limit (the rest of a
 * larger frame is counted and dropped), a token bucket for the message rate,
 * and a queue of refcounted outgoing frames. A frame goes straight to the
 * socket when nothing is queued ahead of it; otherwise it waits for
 * WRITEABLE. A broadcast costs one buffer and a reference per connection. Anything over a
 * limit gets a protocol error; a connection that only sends errors, sends a
 * huge frame, or lets its queue grow past the limits is closed.
 *
 * Room for real viewers: a connection is un-greeted until the room says it
 * greeted it (ws_endpoint_greeted(), after a valid hello). Un-greeted ones
 * are closed hello_timeout_ms after they opened, whatever they send; while
 * more than a quarter of the slots are un-greeted (pressure), an address
 * may keep at most max_ungreeted_per_ip of them past WS_GREET_GRACE_MS (its
 * oldest go first; a burst of honest connects from one address, a NAT or a
 * test, to a busy server is left alone otherwise); an address holds at
 * most max_per_ip connections in all; and when the endpoint is full, the
 * oldest un-greeted connection makes room for a new one. So sockets that
 * never say hello cannot keep a viewer out.
 */
#include "ws/ws_endpoint.h"

#include <jansson.h>
#include <libwebsockets.h>
#include <string.h>

#include "ws/http_server.h"

struct ws_msg {
  gint refs;
  guint frames; /* 0: buf holds one frame's text, framed by lws when written;
                 * else buf holds that many complete frames, written as is */
  gsize len;
  unsigned char buf[]; /* LWS_PRE bytes of headroom, then the bytes */
};

typedef struct {
  ws_endpoint_t *ep;
  ws_conn_id_t id;
  struct lws *wsi;
  GQueue out; /* of ws_msg_t* */
  gsize out_bytes;
  GByteArray *rx;
  gsize rx_total; /* bytes of the frame being received, kept or not */
  gboolean rx_binary;
  double tokens;
  gint64 refill_us;
  guint violations;
  gboolean closing;
  gsize queue_limit; /* max_queued_bytes unless the owner set another */
  gint64 opened_us;  /* monotonic */
  GList *ungreeted;  /* its link in ep->ungreeted; NULL once greeted */
  struct peer *peer; /* its address's counts; NULL for test connections */
} conn_t;

/* Connections per remote address. */
typedef struct peer {
  char addr[48];
  guint open, ungreeted;
} peer_t;

struct ws_endpoint {
  ws_endpoint_config_t cfg;
  ws_endpoint_callbacks_t cb;
  void *user;
  GHashTable *conns; /* ws_conn_id_t* -> conn_t* */
  GHashTable *peers; /* address -> peer_t* (owned) */
  GQueue ungreeted;  /* of conn_t*, oldest first */
  guint closing_now; /* connections told to go that lws has not closed yet */
  guint sweep_source;
  ws_conn_id_t next_id;
  ws_endpoint_stats_t stats;
  ws_endpoint_sink_fn test_sink;
  void *test_sink_user;
};

/* How often un-greeted connections are checked against their deadline. */
#define WS_SWEEP_MS 250
/* An un-greeted connection this young is not evicted for its address's
 * cap: it has had no time to say hello yet. */
#define WS_GREET_GRACE_MS 3000

/* lws' per-session data: only a pointer, so the conn outlives nothing. */
struct ws_pss {
  conn_t *conn;
};

void ws_endpoint_config_init(ws_endpoint_config_t *cfg) {
  *cfg = (ws_endpoint_config_t){
      .max_connections = 5000,
      .max_frame_bytes = 4096,
      .abusive_frame_bytes = 65536,
      .rate_per_s = 20,
      .rate_burst = 20,
      .max_violations = 50,
      .max_queued_msgs = 1024,
      .max_queued_bytes = 1024 * 1024,
      .max_per_ip = 1000,
      .max_ungreeted_per_ip = 64,
      .hello_timeout_ms = 10000,
  };
}

static gboolean on_sweep(gpointer data);

ws_endpoint_t *ws_endpoint_new(const ws_endpoint_config_t *cfg, const ws_endpoint_callbacks_t *cb,
                               void *user) {
  ws_endpoint_t *ep = g_new0(ws_endpoint_t, 1);
  if (cfg != NULL)
    ep->cfg = *cfg;
  else
    ws_endpoint_config_init(&ep->cfg);
  ep->cb = *cb;
  ep->user = user;
  ep->conns = g_hash_table_new(g_int64_hash, g_int64_equal);
  ep->peers = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
  g_queue_init(&ep->ungreeted);
  ep->next_id = 1;
  ep->sweep_source = g_timeout_add(WS_SWEEP_MS, on_sweep, ep);
  return ep;
}

void ws_endpoint_free(ws_endpoint_t *ep) {
  if (ep == NULL)
    return;
  /* The HTTP server, freed first, closed every connection (CLOSED removed
   * each from the table). Anything left is detached from lws already. */
  if (ep->sweep_source)
    g_source_remove(ep->sweep_source);
  g_hash_table_destroy(ep->conns);
  g_hash_table_destroy(ep->peers);
  g_queue_clear(&ep->ungreeted);
  g_free(ep);
}

/* ---- messages ---- */

ws_msg_t *ws_msg_new(const char *text, gsize len) {
  ws_msg_t *m = g_malloc(sizeof *m + LWS_PRE + len);
  m->refs = 1;
  m->frames = 0;
  m->len = len;
  memcpy(m->buf + LWS_PRE, text, len);
  return m;
}

gsize ws_frame_header(unsigned char *h, gsize len) {
  h[0] = 0x81;
  if (len < 126) {
    h[1] = (unsigned char)len;
    return 2;
  }
  if (len <= 0xFFFF) {
    h[1] = 126;
    h[2] = (unsigned char)(len >> 8);
    h[3] = (unsigned char)len;
    return 4;
  }
  h[1] = 127;
  for (int i = 0; i < 8; i++)
    h[2 + i] = (unsigned char)((guint64)len >> (56 - 8 * i));
  return 10;
}

ws_msg_t *ws_msg_new_frames(const char *const *texts, const gsize *lens, guint n) {
  gsize total = 0;
  for (guint i = 0; i < n; i++)
    total += WS_FRAME_HEADER_MAX + lens[i];
  ws_msg_t *m = g_malloc(sizeof *m + LWS_PRE + total);
  m->refs = 1;
  m->frames = n;
  unsigned char *p = m->buf + LWS_PRE;
  for (guint i = 0; i < n; i++) {
    p += ws_frame_header(p, lens[i]);
    memcpy(p, texts[i], lens[i]);
    p += lens[i];
  }
  m->len = (gsize)(p - (m->buf + LWS_PRE));
  return m;
}

gsize ws_msg_len(const ws_msg_t *msg) {
  return msg->len;
}

ws_msg_t *ws_msg_ref(ws_msg_t *msg) {
  g_atomic_int_inc(&msg->refs);
  return msg;
}

void ws_msg_unref(ws_msg_t *msg) {
  if (msg != NULL && g_atomic_int_dec_and_test(&msg->refs))
    g_free(msg);
}

/* ---- who holds a slot ---- */

static conn_t *find(ws_endpoint_t *ep, ws_conn_id_t id) {
  return g_hash_table_lookup(ep->conns, &id);
}

static void leave_ungreeted(conn_t *c) {
  if (c->ungreeted == NULL)
    return;
  g_queue_delete_link(&c->ep->ungreeted, c->ungreeted);
  c->ungreeted = NULL;
  if (c->peer != NULL)
    c->peer->ungreeted--;
}

/* The connection stops counting against its address (idempotent). */
static void release_peer(conn_t *c) {
  leave_ungreeted(c);
  peer_t *p = c->peer;
  c->peer = NULL;
  if (p != NULL && --p->open == 0)
    g_hash_table_remove(c->ep->peers, p->addr); /* frees p */
}

/* It is on its way out: it no longer holds a slot anyone counts. */
static void mark_closing(conn_t *c) {
  if (c->closing)
    return;
  c->closing = TRUE;
  c->ep->closing_now++;
  release_peer(c);
}

static peer_t *peer_get(ws_endpoint_t *ep, const char *addr) {
  peer_t *p = g_hash_table_lookup(ep->peers, addr);
  if (p == NULL) {
    p = g_new0(peer_t, 1);
    g_strlcpy(p->addr, addr, sizeof p->addr);
    g_hash_table_insert(ep->peers, p->addr, p);
  }
  return p;
}

/* Closes the oldest un-greeted connection (of address `only`, unless
 * NULL) opened at least `min_age_ms` ago. FALSE if there is none. */
static gboolean evict_oldest(ws_endpoint_t *ep, const peer_t *only, guint min_age_ms,
                             const char *why) {
  gint64 born_before = g_get_monotonic_time() - (gint64)min_age_ms * 1000;
  for (GList *l = ep->ungreeted.head; l != NULL; l = l->next) {
    conn_t *c = l->data;
    if (c->opened_us > born_before)
      return FALSE; /* the rest are younger still */
    if (only == NULL || c->peer == only) {
      ep->stats.evicted++;
      ws_endpoint_close(ep, c->id, why);
      return TRUE;
    }
  }
  return FALSE;
}

/* More than a quarter of the slots held by connections that did not say
 * hello: then the per-address cap on them applies. */
static gboolean under_pressure(const ws_endpoint_t *ep) {
  return g_queue_get_length((GQueue *)&ep->ungreeted) > ep->cfg.max_connections / 4;
}

/* Whether a new connection from `addr` may open, after making room for it
 * at the expense of un-greeted ones where that is allowed. */
static gboolean make_room(ws_endpoint_t *ep, const char *addr) {
  const ws_endpoint_config_t *cfg = &ep->cfg;
  peer_t *p = g_hash_table_lookup(ep->peers, addr);
  if (p != NULL && p->ungreeted >= cfg->max_ungreeted_per_ip && under_pressure(ep))
    evict_oldest(ep, p, WS_GREET_GRACE_MS, "too many un-greeted connections"); /* p may go */
  p = g_hash_table_lookup(ep->peers, addr);
  if (p != NULL && p->open >= cfg->max_per_ip &&
      !evict_oldest(ep, p, 0, "too many connections from one address")) {
    ep->stats.refused_per_ip++;
    return FALSE;
  }
  guint open = g_hash_table_size(ep->conns) - ep->closing_now;
  if (open >= cfg->max_connections && !evict_oldest(ep, NULL, 0, "server full: say hello")) {
    ep->stats.refused++;
    return FALSE;
  }
  return TRUE;
}

/* Un-greeted connections past hello_timeout_ms go, oldest first; so do
 * those past the grace of an address over max_ungreeted_per_ip. */
static gboolean on_sweep(gpointer data) {
  ws_endpoint_t *ep = data;
  gint64 now = g_get_monotonic_time();
  gint64 cutoff = now - (gint64)ep->cfg.hello_timeout_ms * 1000;
  gint64 graced = now - (gint64)WS_GREET_GRACE_MS * 1000;
  conn_t *c;
  while ((c = g_queue_peek_head(&ep->ungreeted)) != NULL && c->opened_us <= cutoff) {
    ep->stats.hello_timeouts++;
    ws_endpoint_close(ep, c->id, "no hello in time"); /* leaves the queue */
  }
  for (GList *l = ep->ungreeted.head, *next;
       l != NULL && under_pressure(ep) && ((conn_t *)l->data)->opened_us <= graced; l = next) {
    next = l->next; /* closing unlinks l */
    c = l->data;
    if (c->peer != NULL && c->peer->ungreeted > ep->cfg.max_ungreeted_per_ip) {
      ep->stats.evicted++;
      ws_endpoint_close(ep, c->id, "too many un-greeted connections");
    }
  }
  return G_SOURCE_CONTINUE;
}

void ws_endpoint_greeted(ws_endpoint_t *ep, ws_conn_id_t id) {
  conn_t *c = find(ep, id);
  if (c != NULL)
    leave_ungreeted(c);
}

gsize ws_endpoint_queued_bytes(ws_endpoint_t *ep, ws_conn_id_t id) {
  conn_t *c = find(ep, id);
  return c != NULL ? c->out_bytes : 0;
}

void ws_endpoint_set_queue_limit(ws_endpoint_t *ep, ws_conn_id_t id, gsize bytes) {
  conn_t *c = find(ep, id);
  if (c != NULL)
    c->queue_limit = bytes;
}

/* ---- sending ---- */

static void drop_queue(conn_t *c) {
  ws_msg_t *m;
  while ((m = g_queue_pop_head(&c->out)) != NULL)
    ws_msg_unref(m);
  c->out_bytes = 0;
}

/* One frame to lws. lws (4.1) sends what the socket takes and keeps the rest
 * of that one frame itself (lws_partial_buffered()), flushing it before any
 * later write; callers queue instead while it does, so lws never holds more
 * than one frame of ours. FALSE: the connection is broken. */
static gboolean write_msg(conn_t *c, ws_msg_t *m) {
  /* Pre-framed bytes go raw: lws adds nothing and buffers a short write
   * the same way. Only ever between frames (see the callers). */
  int n = lws_write(c->wsi, m->buf + LWS_PRE, m->len, m->frames ? LWS_WRITE_RAW : LWS_WRITE_TEXT);
  c->ep->stats.frames_out += m->frames ? m->frames : 1;
  c->ep->stats.bytes_out += m->len;
  return n >= 0;
}

void ws_endpoint_set_test_sink(ws_endpoint_t *ep, ws_endpoint_sink_fn sink, void *user) {
  ep->test_sink = sink;
  ep->test_sink_user = user;
}

/* Hands each frame of `m` to the test sink: our own headers, read back. */
static void sink_frames(ws_endpoint_t *ep, ws_conn_id_t id, const ws_msg_t *m) {
  const unsigned char *p = m->buf + LWS_PRE, *end = p + m->len;
  if (m->frames == 0) {
    ep->test_sink(ep->test_sink_user, id, (const char *)p, m->len);
    return;
  }
  while (end - p >= 2) {
    guint64 len = p[1] & 0x7F;
    gsize hdr = len == 126 ? 4 : len == 127 ? 10 : 2;
    if ((gsize)(end - p) < hdr)
      return;
    if (hdr == 4)
      len = (guint64)p[2] << 8 | p[3];
    else if (hdr == 10)
      for (int i = 0; i < 8; i++)
        len = i == 0 ? p[2] : len << 8 | p[2 + i];
    if (len > (guint64)(end - p) - hdr)
      return;
    ep->test_sink(ep->test_sink_user, id, (const char *)p + hdr, (gsize)len);
    p += hdr + len;
  }
}

gboolean ws_endpoint_send(ws_endpoint_t *ep, ws_conn_id_t id, ws_msg_t *msg) {
  conn_t *c = find(ep, id);
  if (c == NULL && ep->test_sink != NULL)
    sink_frames(ep, id, msg);
  if (c == NULL || c->closing)
    return FALSE;
  if (g_queue_get_length(&c->out) >= ep->cfg.max_queued_msgs ||
      c->out_bytes + msg->len > c->queue_limit) {
    /* Too slow to keep up: free its memory now and let it go. */
    ep->stats.dropped_slow++;
    drop_queue(c);
    mark_closing(c);
    lws_close_reason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)"too slow", 8);
    lws_callback_on_writable(c->wsi);
    return FALSE;
  }
  if (g_queue_is_empty(&c->out) && !lws_partial_buffered(c->wsi)) {
    /* Nothing ahead of it: straight to the socket, without a trip through
     * the poll loop. Under an order storm this halves the system calls per
     * acknowledgement (no POLLOUT armed and disarmed around each one). */
    if (!write_msg(c, msg)) {
      mark_closing(c);
      lws_callback_on_writable(c->wsi); /* WRITEABLE sees closing and hangs up */
      return FALSE;
    }
    return TRUE;
  }
  g_queue_push_tail(&c->out, ws_msg_ref(msg));
  c->out_bytes += msg->len;
  lws_callback_on_writable(c->wsi);
  return TRUE;
}

gboolean ws_endpoint_send_text(ws_endpoint_t *ep, ws_conn_id_t id, const char *text, gsize len) {
  ws_msg_t *m = ws_msg_new(text, len);
  gboolean ok = ws_endpoint_send(ep, id, m);
  ws_msg_unref(m);
  return ok;
}

void ws_endpoint_send_error(ws_endpoint_t *ep, ws_conn_id_t id, const char *code,
                            const char *message, const char *ref) {
  json_t *o = json_pack("{s:s, s:s, s:s}", "type", "error", "code", code, "message",
                        message ? message : code);
  json_object_set_new(o, "ref", ref ? json_string(ref) : json_null());
  char *text = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  if (text != NULL)
    ws_endpoint_send_text(ep, id, text, strlen(text));
  free(text);
}

void ws_endpoint_close(ws_endpoint_t *ep, ws_conn_id_t id, const char *reason) {
  conn_t *c = find(ep, id);
  if (c == NULL || c->closing)
    return;
  mark_closing(c);
  lws_close_reason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)reason,
                   strlen(reason));
  lws_callback_on_writable(c->wsi);
}

void ws_endpoint_get_stats(const ws_endpoint_t *ep, ws_endpoint_stats_t *out) {
  *out = ep->stats;
  out->open_now = g_hash_table_size(ep->conns);
}

/* ---- receiving ---- */

/* A protocol error for the peer; one that sends nothing but errors goes. */
static void violation(conn_t *c, const char *code, const char *message) {
  ws_endpoint_send_error(c->ep, c->id, code, message, NULL);
  if (++c->violations >= c->ep->cfg.max_violations)
    ws_endpoint_close(c->ep, c->id, "too many errors");
}

static gboolean take_token(conn_t *c) {
  const ws_endpoint_config_t *cfg = &c->ep->cfg;
  gint64 now = g_get_monotonic_time();
  c->tokens = MIN(cfg->rate_burst, c->tokens + (now - c->refill_us) / 1e6 * cfg->rate_per_s);
  c->refill_us = now;
  if (c->tokens < 1.0)
    return FALSE;
  c->tokens -= 1.0;
  return TRUE;
}

/* A whole frame has arrived: hand it over or say what is wrong with it. */
static void frame_done(conn_t *c) {
  ws_endpoint_t *ep = c->ep;
  ep->stats.frames_in++;
  if (c->rx_binary) {
    ep->stats.binary++;
    violation(c, "bad_json", "only text frames carry messages");
  } else if (c->rx_total > ep->cfg.max_frame_bytes) {
    ep->stats.too_large++;
    violation(c, "too_large", "frames are at most 4096 bytes");
  } else if (!take_token(c)) {
    ep->stats.rate_limited++;
    violation(c, "rate_limited", "too many messages a second");
  } else {
    c->violations = 0;
    g_byte_array_append(c->rx, (const guint8 *)"", 1); /* NUL for the callback */
    ep->cb.text(ep->user, c->id, (const char *)c->rx->data, c->rx->len - 1);
  }
  g_byte_array_set_size(c->rx, 0);
  c->rx_total = 0;
}

static int on_receive(struct lws *wsi, conn_t *c, const void *in, size_t len) {
  if (c->closing)
    return 0;
  if (lws_is_first_fragment(wsi)) {
    g_byte_array_set_size(c->rx, 0);
    c->rx_total = 0;
    c->rx_binary = lws_frame_is_binary(wsi);
  }
  c->rx_total += len;
  if (c->rx_total > c->ep->cfg.abusive_frame_bytes) {
    c->ep->stats.too_large++;
    lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)"frame too large",
                     15);
    return -1;
  }
  if (c->rx_total <= c->ep->cfg.max_frame_bytes)
    g_byte_array_append(c->rx, in, (guint)len);
  if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0)
    frame_done(c);
  return 0;
}

/* Frames written per WRITEABLE at most, so one connection with a long queue
 * cannot hold the loop while others wait. */
#define WRITES_PER_WAKEUP 16

static int on_writeable(struct lws *wsi, conn_t *c) {
  if (c->closing && g_queue_is_empty(&c->out))
    return -1;
  /* Several frames per wake-up while the socket takes them whole: a viewer
   * behind on stock, ticker and questions catches up in one poll round. */
  for (int i = 0; i < WRITES_PER_WAKEUP && !lws_partial_buffered(wsi); i++) {
    ws_msg_t *m = g_queue_pop_head(&c->out);
    if (m == NULL)
      break;
    c->out_bytes -= m->len;
    gboolean ok = write_msg(c, m);
    ws_msg_unref(m);
    if (!ok)
      return -1;
  }
  if (!g_queue_is_empty(&c->out) || c->closing)
    lws_callback_on_writable(wsi);
  return 0;
}

static conn_t *conn_open(ws_endpoint_t *ep, struct lws *wsi, const char *addr) {
  conn_t *c = g_new0(conn_t, 1);
  c->ep = ep;
  c->id = ep->next_id++;
  c->wsi = wsi;
  c->queue_limit = ep->cfg.max_queued_bytes;
  c->opened_us = g_get_monotonic_time();
  c->peer = peer_get(ep, addr);
  c->peer->open++;
  c->peer->ungreeted++;
  g_queue_push_tail(&ep->ungreeted, c);
  c->ungreeted = ep->ungreeted.tail;
  c->rx = g_byte_array_sized_new(256);
  c->tokens = ep->cfg.rate_burst;
  c->refill_us = g_get_monotonic_time();
  g_queue_init(&c->out);
  g_hash_table_insert(ep->conns, &c->id, c);
  ep->stats.opened++;
  return c;
}

static void conn_closed(conn_t *c) {
  ws_endpoint_t *ep = c->ep;
  if (c->closing)
    ep->closing_now--;
  release_peer(c);
  g_hash_table_remove(ep->conns, &c->id);
  ep->stats.closed++;
  ep->cb.close(ep->user, c->id);
  drop_queue(c);
  g_byte_array_unref(c->rx);
  g_free(c);
}

static int callback_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len) {
  struct ws_pss *pss = user;
  http_server_t *srv = lws_context_user(lws_get_context(wsi));
  ws_endpoint_t *ep = srv ? http_server_ws_endpoint(srv) : NULL;

  switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
      /* tourcast.v1 lives on /ws only, for pages of the allowed origins
       * (the server answers 403 to others before the handshake). */
      char uri[8];
      int n = lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
      if (n != 3 || memcmp(uri, "/ws", 3) != 0)
        return -1;
      return srv != NULL && http_server_ws_admit(srv, wsi) ? 0 : -1;
    }
    case LWS_CALLBACK_ESTABLISHED:
      if (ep == NULL)
        return -1;
      char addr[48] = "";
      lws_get_peer_simple(wsi, addr, sizeof addr);
      if (!make_room(ep, addr)) {
        lws_close_reason(wsi, (enum lws_close_status)1013, (unsigned char *)"server full", 11);
        return -1;
      }
      pss->conn = conn_open(ep, wsi, addr);
      ep->cb.open(ep->user, pss->conn->id);
      return 0;
    case LWS_CALLBACK_RECEIVE:
      return pss->conn ? on_receive(wsi, pss->conn, in, len) : -1;
    case LWS_CALLBACK_SERVER_WRITEABLE:
      return pss->conn ? on_writeable(wsi, pss->conn) : -1;
    case LWS_CALLBACK_CLOSED:
      if (pss->conn != NULL)
        conn_closed(pss->conn);
      pss->conn = NULL;
      return 0;
    default:
      return 0;
  }
}

const struct lws_protocols *ws_endpoint_lws_protocol(void) {
  /* rx_buffer_size bounds one RECEIVE callback, not a frame: larger frames
   * arrive in pieces and are reassembled (or dropped) above. */
  static const struct lws_protocols proto = {
      "tourcast.v1", callback_ws, sizeof(struct ws_pss), 4096, 0, NULL, 0};
  return &proto;
}
