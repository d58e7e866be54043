/* ws_endpoint.h — the /ws WebSocket endpoint (subprotocol tourcast.v1).
 *
 * Owns the WebSocket connections of the HTTP server's lws vhost: reassembles
 * text frames up to the protocol's size limit, applies the per-connection
 * rate limit, keeps a bounded outgoing queue per connection and drops a
 * client that cannot keep up. It knows nothing of what messages mean; the
 * room gets whole frames and sends replies and broadcasts back through here.
 * Control loop only.
 */
#ifndef TOURCAST_WS_ENDPOINT_H
#define TOURCAST_WS_ENDPOINT_H

#include <glib.h>

typedef struct ws_endpoint ws_endpoint_t;
typedef guint64 ws_conn_id_t; /* unique for the life of the process, never 0 */

/* A frame to send, shared by every connection it goes to (refcounted). */
typedef struct ws_msg ws_msg_t;

typedef struct {
  guint max_connections;      /* WebSocket connections open at once (5000) */
  guint max_frame_bytes;      /* a larger text frame gets too_large (4096) */
  guint abusive_frame_bytes;  /* a frame this large closes the connection (65536) */
  double rate_per_s;          /* messages per second per connection (20) */
  double rate_burst;          /* token bucket size (20) */
  guint max_violations;       /* errors in a row before the connection is closed (50) */
  guint max_queued_msgs;      /* outgoing frames queued per connection (1024) */
  gsize max_queued_bytes;     /* outgoing bytes queued per connection (1 MiB) */
  guint max_per_ip;           /* connections open at once from one address (1000) */
  guint max_ungreeted_per_ip; /* of them not greeted yet (64): a new one evicts the oldest */
  guint hello_timeout_ms; /* an un-greeted connection is closed this long after it opened (10000) */
} ws_endpoint_config_t;

void ws_endpoint_config_init(ws_endpoint_config_t *cfg);

typedef struct {
  void (*open)(void *user, ws_conn_id_t id);
  /* One whole text frame within the limits and the rate. `text` is
   * NUL-terminated and borrowed for the call. */
  void (*text)(void *user, ws_conn_id_t id, const char *text, gsize len);
  /* The connection is gone (closed by either side or dropped). */
  void (*close)(void *user, ws_conn_id_t id);
} ws_endpoint_callbacks_t;

typedef struct {
  guint64 opened, closed, refused; /* refused: over max_connections, none to evict */
  guint64 refused_per_ip;          /* over max_per_ip, none of its own to evict */
  guint64 evicted;                 /* un-greeted connections closed to make room */
  guint64 hello_timeouts;          /* un-greeted connections closed at their deadline */
  guint64 frames_in, frames_out, bytes_out;
  guint64 too_large, rate_limited, binary, dropped_slow;
  guint open_now;
} ws_endpoint_stats_t;

/* `cfg` and `cb` are copied, `user` borrowed. */
ws_endpoint_t *ws_endpoint_new(const ws_endpoint_config_t *cfg, const ws_endpoint_callbacks_t *cb,
                               void *user);
/* Closes nothing by itself (the lws context owns the sockets; free the HTTP
 * server first). NULL is a no-op. */
void ws_endpoint_free(ws_endpoint_t *ep);

/* A frame holding `len` bytes of text (copied). */
ws_msg_t *ws_msg_new(const char *text, gsize len);
/* Several text frames (each of texts[i], lens[i] bytes, copied) framed once
 * into one buffer, so that a connection gets all of them with one write.
 * For broadcasts: the bytes are the same for every connection (server
 * frames are not masked). n >= 1. */
/* Writes the header of a final, unmasked text frame of `len` payload bytes
 * (RFC 6455 5.2: 7-, 16- or 64-bit length) to `h`, which has room for
 * WS_FRAME_HEADER_MAX bytes; returns the header's length. */
#define WS_FRAME_HEADER_MAX 10
gsize ws_frame_header(unsigned char *h, gsize len);
ws_msg_t *ws_msg_new_frames(const char *const *texts, const gsize *lens, guint n);
ws_msg_t *ws_msg_ref(ws_msg_t *msg);
/* The bytes `msg` puts on the wire (its frames' headers included, for
 * ws_msg_new_frames()). */
gsize ws_msg_len(const ws_msg_t *msg);
void ws_msg_unref(ws_msg_t *msg);

/* Queues `msg` (a new reference is taken) for connection `id`. FALSE if the
 * connection is gone, or its queue is over the limits: then the connection is
 * dropped, because a client that cannot keep up must not hold memory or
 * delay the others. */
gboolean ws_endpoint_send(ws_endpoint_t *ep, ws_conn_id_t id, ws_msg_t *msg);
/* ws_endpoint_send of a copy of `text`. */
gboolean ws_endpoint_send_text(ws_endpoint_t *ep, ws_conn_id_t id, const char *text, gsize len);
/* Sends an {"type":"error",...} frame for a protocol error code. */
void ws_endpoint_send_error(ws_endpoint_t *ep, ws_conn_id_t id, const char *code,
                            const char *message, const char *ref);
/* The room greeted connection `id` (a valid hello): it is no longer
 * subject to the hello deadline or to eviction. */
void ws_endpoint_greeted(ws_endpoint_t *ep, ws_conn_id_t id);
/* Bytes waiting in connection `id`'s queue (0 if it is gone). */
gsize ws_endpoint_queued_bytes(ws_endpoint_t *ep, ws_conn_id_t id);
/* Lets connection `id` queue up to `bytes` (instead of max_queued_bytes),
 * for the few connections that are sent more (the leader's). */
void ws_endpoint_set_queue_limit(ws_endpoint_t *ep, ws_conn_id_t id, gsize bytes);
/* Closes a connection once its queue is flushed (close code 1008). */
void ws_endpoint_close(ws_endpoint_t *ep, ws_conn_id_t id, const char *reason);

void ws_endpoint_get_stats(const ws_endpoint_t *ep, ws_endpoint_stats_t *out);

/* Tests: every frame sent to an id with no connection behind it (the
 * room's test connections) is handed to `sink` (text borrowed, not
 * NUL-terminated) instead of being dropped. NULL sink: dropped again. */
typedef void (*ws_endpoint_sink_fn)(void *user, ws_conn_id_t id, const char *text, gsize len);
void ws_endpoint_set_test_sink(ws_endpoint_t *ep, ws_endpoint_sink_fn sink, void *user);

/* For http_server.c: the lws protocol entry that serves tourcast.v1. Its
 * callback finds the endpoint through http_server_ws_endpoint(). */
struct lws_protocols;
const struct lws_protocols *ws_endpoint_lws_protocol(void);

#endif
