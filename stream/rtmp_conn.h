/* rtmp_conn.h — one server-side RTMP connection as a pure state machine.
 *
 * Bytes from the peer go in through rtmp_conn_feed(); bytes for the peer
 * collect in an output buffer the caller drains; what happens on the way out
 * (publish start/stop, FLV tags) is reported through callbacks during the
 * feed. No sockets and no clocks, so it can be unit-tested and fuzzed.
 *
 * Handshake (simple, unencrypted; C2 is read and not checked, as most servers
 * do, because clients fill it inconsistently):
 *
 *        publisher                                      rtmp_conn
 *            │  C0 (version 3) + C1 (time, zero, 1528 random)│
 *            │──────────────────────────────────────────────▶│ HS_C0C1
 *            │  S0 (3) + S1 (time, zero, 1528 random)        │
 *            │       + S2 (C1 echoed)                        │
 *            │◀──────────────────────────────────────────────│
 *            │  C2 (S1 echoed)                               │
 *            │──────────────────────────────────────────────▶│ HS_C2
 *            │  chunk stream: AMF0 commands, media           │ CHUNKS
 *
 * Commands, once in CHUNKS:
 *
 *   connect         → Window Ack Size, Set Peer Bandwidth, Set Chunk Size,
 *                     _result NetConnection.Connect.Success
 *   releaseStream   → _result
 *   FCPublish       → onFCPublish, _result
 *   createStream    → _result (stream id 1)
 *   publish         → app, key and may_publish() all right: Stream Begin,
 *                     onStatus NetStream.Publish.Start, publish_start();
 *                     else onStatus NetStream.Publish.BadName → CLOSING
 *   FCUnpublish, deleteStream, closeStream → publish_stop() if live
 *
 * States: HS_C0C1 → HS_C2 → CHUNKS → CLOSING (a refused publish: output is
 * flushed, then the caller closes) and, from any of them, FAILED (malformed
 * or hostile input: the caller closes at once).
 */
#ifndef TOURCAST_RTMP_CONN_H
#define TOURCAST_RTMP_CONN_H

#include <glib.h>

#include "stream/rtmp_chunk.h"

#define RTMP_HANDSHAKE_SIZE 1536
#define RTMP_STREAM_ID 1 /* the one message stream createStream hands out */

typedef enum {
  RTMP_CONN_HS_C0C1,
  RTMP_CONN_HS_C2,
  RTMP_CONN_CHUNKS,
  RTMP_CONN_CLOSING,
  RTMP_CONN_FAILED,
} rtmp_conn_state_t;

typedef enum {
  RTMP_CONN_OK,    /* carry on; send whatever output there is */
  RTMP_CONN_CLOSE, /* send the output, then close */
  RTMP_CONN_ERROR, /* close now; rtmp_conn_reason() says why */
} rtmp_conn_status_t;

typedef struct {
  const char *app;        /* the only application accepted, e.g. "live" */
  const char *stream_key; /* the only key that may publish */
  const char *label;      /* names the connection in logs; may be NULL */
  rtmp_chunk_limits_t limits;
  guint32 out_chunk_size;  /* ours, announced after connect; default 4096 */
  guint32 window_ack_size; /* announced to the peer, and our own ack window
                              until the peer sets one; default 2500000 */
} rtmp_conn_config_t;

typedef struct {
  /* A publish with the right app and key arrived: may it go live now? FALSE
   * refuses it as "a publisher is already live". NULL means yes. */
  gboolean (*may_publish)(void *user);
  /* The publish went live. `key` is borrowed for the call. */
  void (*publish_start)(void *user, const char *key);
  /* FLV bytes, as rtmp_server_callbacks_t.flv_data describes them: first
   * the header (tag_type 0), then whole tags. `data` is borrowed. */
  void (*flv_data)(void *user, guint8 tag_type, guint32 timestamp_ms, const guint8 *data,
                   gsize len);
  /* The publish ended; exactly once per publish_start, at the latest from
   * rtmp_conn_free(). */
  void (*publish_stop)(void *user);
} rtmp_conn_callbacks_t;

typedef struct rtmp_conn rtmp_conn_t;

/* Fills `cfg` with defaults: app "live", no key (nothing may publish), no
 * label, default chunk limits, chunk size 4096, window 2500000. */
void rtmp_conn_config_init(rtmp_conn_config_t *cfg);

/* Strings in `cfg` are copied, `cb` is copied, `user` is borrowed. Callbacks
 * run inside rtmp_conn_feed() and rtmp_conn_free(); they must not free the
 * connection. */
rtmp_conn_t *rtmp_conn_new(const rtmp_conn_config_t *cfg, const rtmp_conn_callbacks_t *cb,
                           void *user);
/* Ends a live publish (publish_stop) and frees everything. NULL is a no-op. */
void rtmp_conn_free(rtmp_conn_t *c);

/* Processes bytes from the peer (borrowed, not kept). After CLOSE or ERROR,
 * further input is ignored and the same status returned. */
rtmp_conn_status_t rtmp_conn_feed(rtmp_conn_t *c, const guint8 *data, gsize len);

/* Bytes waiting to go to the peer, borrowed until the next call on `c`. */
const guint8 *rtmp_conn_output(const rtmp_conn_t *c, gsize *len);
/* Marks the first `n` output bytes as sent. */
void rtmp_conn_output_consume(rtmp_conn_t *c, gsize n);

rtmp_conn_state_t rtmp_conn_state(const rtmp_conn_t *c);
gboolean rtmp_conn_is_publishing(const rtmp_conn_t *c);
/* Why the connection failed or is closing (static or owned by `c`); NULL if
 * it is fine. */
const char *rtmp_conn_reason(const rtmp_conn_t *c);

#endif
