/* rtmp_server.h — the RTMP ingest listener, running on the GLib control loop.
 *
 * Accepts TCP connections, speaks the RTMP server side (handshake, chunk
 * stream, AMF0 commands) and hands the one accepted publisher's media on as an
 * FLV byte stream (header, then tags), ready for appsrc ! flvdemux. It never
 * blocks the loop: sockets are non-blocking and read only while the consumer
 * says it can take more, so a full pipeline pushes back on the phone's TCP.
 */
#ifndef TOURCAST_RTMP_SERVER_H
#define TOURCAST_RTMP_SERVER_H

#include <glib.h>

typedef struct rtmp_server rtmp_server_t;

/* Room for the real publisher (rtmp_server.c's header says how they work
 * together; ws/PROTOCOL.md "Limits" lists them). A connection is
 * unauthenticated until its publish is accepted (right app, right key). */
#define RTMP_MAX_CONNECTIONS 128   /* open at once, authenticated or not */
#define RTMP_MAX_UNAUTH_PER_IP 8   /* unauthenticated ones from one address */
#define RTMP_AUTH_DEADLINE_MS 5000 /* from accept to an accepted publish */

typedef struct {
  /* A publisher was accepted (right key, nobody else live). `key` is borrowed. */
  void (*publish_start)(void *user, const char *key);
  /* FLV stream bytes of the live publisher, in order: first the 13-byte FLV
   * header (tag_type 0, timestamp 0), then one call per FLV tag, each with its
   * 11-byte tag header, body and 4-byte PreviousTagSize. tag_type is 8 audio,
   * 9 video, 18 script data; timestamp is the tag's timestamp in ms (32-bit,
   * extended timestamps already resolved). `data` is borrowed for the call. */
  void (*flv_data)(void *user, guint8 tag_type, guint32 timestamp_ms, const guint8 *data,
                   gsize len);
  /* The live publisher is gone: FCUnpublish/deleteStream, socket closed, or
   * its connection failed. Called once per publish_start. */
  void (*publish_stop)(void *user);
  /* Back-pressure: return FALSE while the consumer is full; the server then
   * stops reading the publisher's socket and asks again a little later. May be
   * NULL (always TRUE). */
  gboolean (*can_accept)(void *user);
} rtmp_server_callbacks_t;

typedef struct {
  guint64 connections_accepted;
  guint64 connections_rejected; /* refused publishes, protocol errors, full of publishers */
  guint64 connections_evicted;  /* unauthenticated ones closed to make room for a new one */
  guint64 auth_timeouts;        /* unauthenticated ones closed at the publish deadline */
  guint64 bytes_in;
  guint64 media_messages;
  guint connections_open;
  gboolean publishing;
} rtmp_server_stats_t;

/* Listens on bind_addr:port (port 0 picks a free one). app is the only
 * application name accepted ("live"), stream_key the only key that may
 * publish. Strings are copied; `cb` is copied; `user` is borrowed.
 * Sources are attached to the thread-default main context.
 * Returns NULL with `err` set if the socket cannot be bound. */
rtmp_server_t *rtmp_server_new(const char *bind_addr, guint16 port, const char *app,
                               const char *stream_key, const rtmp_server_callbacks_t *cb,
                               void *user, GError **err);
/* Closes every connection (publish_stop is called if one was live). NULL is a no-op. */
void rtmp_server_free(rtmp_server_t *srv);
/* Limits on what peers may cost us; the defaults (in parentheses) are what
 * rtmp_server_new() starts with. */
typedef struct {
  /* Open at once (RTMP_MAX_CONNECTIONS). When full, a new connection evicts
   * the oldest unauthenticated one; only if every open one is authenticated
   * is the new one closed on accept. */
  guint max_connections;
  /* Unauthenticated connections from one address (RTMP_MAX_UNAUTH_PER_IP;
   * 0: no cap). One more evicts that address's oldest unauthenticated one. */
  guint max_unauth_per_ip;
  /* From accept to an accepted publish (RTMP_AUTH_DEADLINE_MS); nothing the
   * peer sends meanwhile extends it. Past it the connection is closed. */
  guint auth_timeout_ms;
  guint32 max_message_size;      /* a larger RTMP message closes the connection (4 MiB) */
  guint max_chunk_streams;       /* distinct chunk stream ids per connection (64) */
  gsize max_pending_bytes;       /* unfinished messages per connection (8 MiB) */
  gsize max_output_bytes;        /* replies the peer has not read; more closes it (1 MiB) */
  guint handshake_timeout_ms;    /* from accept to handshake done (10 s) */
  guint idle_timeout_ms;         /* no input on a connection that is not live (30 s) */
  guint publish_idle_timeout_ms; /* no input from the live publisher while we read (60 s) */
  guint close_flush_timeout_ms;  /* a refused peer gets this long to read why (2 s) */
  /* A right-key publish replaces a live publisher that has sent nothing for
   * this long: a phone reconnecting after a network switch leaves a
   * half-open connection behind (2 s; 0: never, the new one is refused). */
  guint publisher_takeover_ms;
} rtmp_server_limits_t;

void rtmp_server_limits_init(rtmp_server_limits_t *limits);
/* Replaces the limits (copied). Timeouts apply at once; message, chunk
 * stream and pending sizes to connections accepted afterwards. */
void rtmp_server_set_limits(rtmp_server_t *srv, const rtmp_server_limits_t *limits);

/* The port actually bound. */
guint16 rtmp_server_port(const rtmp_server_t *srv);
void rtmp_server_get_stats(const rtmp_server_t *srv, rtmp_server_stats_t *out);

#endif
