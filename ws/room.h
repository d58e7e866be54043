/* room.h — the live room: what tourcast.v1 messages mean.
 *
 * Greets viewers and the leader, takes orders (group-committed, acknowledged
 * only once durable), questions and the leader's actions, stamps everything
 * with the stream clock, stores it, and tells everyone what changed, with
 * room-wide state coalesced so an order storm is not a broadcast storm. It
 * owns the /ws endpoint; the HTTP server only carries its connections.
 * Control loop only.
 */
#ifndef TOURCAST_ROOM_H
#define TOURCAST_ROOM_H

#include <glib.h>
#include <jansson.h>

#include "ws/store.h"
#include "ws/ws_endpoint.h"

typedef struct room room_t;

typedef struct {
  const char *leader_token; /* copied */
  const char *show_title;   /* title of shows begun by a publish; copied */
  /* Where product pictures are kept (product-ID.png); copied. NULL: no
   * uploads. */
  const char *images_dir;
  guint max_connections; /* WebSocket connections (5000) */
  guint rate_per_s;      /* messages per second per connection, also the burst (20) */
  guint max_per_ip;      /* WebSocket connections from one address (1000) */
  /* The stream clock: stream_ms of the frame going out now, -1 before the
   * first and between shows. */
  gint64 (*stream_ms)(void *user);
  /* Archives: shows_dir/ID/index.m3u8 is a show's replay ("has_replay").
   * Copied; NULL: none. */
  const char *shows_dir;
  /* The show's media output must start (on TRUE: a phone is connected, or
   * a show left open by the last process resumes on the slate) or end (the
   * show ended), with clock_user. May be NULL. */
  void (*output)(void *user, gint64 show_id, gboolean on);
  /* The leader's phone and chat-group settings, a new JSON object for the
   * leader's welcome ("settings"). May be NULL. */
  json_t *(*settings)(void *user);
  /* The leader's restream.add (add TRUE) / restream.remove: returns FALSE
   * with *why (static English text) when refused. May be NULL: refused. */
  gboolean (*restream)(void *user, gboolean add, const char *url, const char **why);
  /* The stream's health for the leader (publisher and restream targets), a
   * new JSON object; in the leader's welcome as "stream" and sent to leaders
   * once a second as {"type":"stream",...}. May be NULL. */
  json_t *(*stream_status)(void *user);
  void *clock_user;
  /* What the video overlay shows changed (room_overlay_get() has it now).
   * Returns the version of the overlay state that will show it, which the
   * video reports back through room_overlay_shown() with the stream_ms of
   * the first frame showing it; `pinned` and `highlight` are stamped with
   * that. 0 (or no function): no video will report, stamp with the clock. */
  guint64 (*overlay_changed)(void *user);
  void *overlay_user;
} room_config_t;

/* The overlay's view of the room (control loop; strings owned, see
 * room_overlay_clear()). Names in the ticker and question are masked. */
#define ROOM_OVERLAY_TICKER 5
typedef struct {
  char *title, *promise; /* the open show's; NULL: none */
  gboolean has_product;  /* a product is pinned */
  gint64 product_id, price_cents, stock, sold;
  gboolean on_sale;
  char *product_name, *unit;
  char *image_path; /* its picture (PNG), NULL: none */
  int n_ticker;     /* newest orders, oldest first */
  struct {
    guint64 seq; /* increases by one per order: tells which entries are new */
    char *name, *product;
    gint64 qty;
  } ticker[ROOM_OVERLAY_TICKER];
  gboolean has_question; /* a question is highlighted */
  gint64 question_id;
  char *question_name, *question_text, *answer; /* answer NULL: none yet */
} room_overlay_t;

void room_overlay_get(room_t *room, room_overlay_t *out);
void room_overlay_clear(room_overlay_t *o);
/* The first output frame showing overlay `version` (and every earlier one)
 * went out at `stream_ms`. Control loop. */
void room_overlay_shown(room_t *room, guint64 version, gint64 stream_ms);

typedef struct {
  guint viewers;     /* greeted viewer connections now */
  guint leaders;     /* greeted leader connections now */
  guint64 messages;  /* frames that reached the room */
  guint64 errors;    /* error replies sent by the room */
  guint64 orders_ok; /* order.ok sent (duplicates included) */
  guint64 orders_rejected;
  guint64 broadcasts;       /* frames queued by broadcasts */
  guint64 order_batches;    /* group commits */
  guint64 leader_feed_held; /* order.new entries held back from a leader behind (order.gap) */
  guint64 store_retries;    /* order batches put back after a busy database, retried */
} room_stats_t;

/* `store` is borrowed and must outlive the room. NULL with `err` set if the
 * room cannot start. */
room_t *room_new(const room_config_t *cfg, store_t *store, GError **err);
/* NULL is a no-op. Free the HTTP server first: it owns the connections. */
void room_free(room_t *room);

/* The endpoint to give the HTTP server (http_server_config_t.ws). */
ws_endpoint_t *room_endpoint(room_t *room);

/* The show's life cycle (ws/room_show.c): what the wiring tells the room.
 *
 * A phone connected (TRUE) or hung up (FALSE). Connected with no show open,
 * it begins one (titled as configured); with a show waiting for it, its
 * output starts (cfg.output). */
void room_phone(room_t *room, gboolean connected);
/* The output switched to the phone's picture (TRUE) or to the slate at the
 * frame of `stream_ms`: publisher.resume / publisher.drop on the timeline,
 * the `publisher` broadcast. */
void room_publisher_at(room_t *room, gboolean live, gint64 stream_ms);
/* The first frame of show `show_id`'s output went out; `epoch_unix_ms` is
 * the wall clock of its stream_ms 0 (stored; pages get it in `show`). */
void room_show_started(room_t *room, gint64 show_id, gint64 epoch_unix_ms);
/* At start-up, for a show the last process left open: resume it (`resume`:
 * its output starts on the slate, the timeline continues) or end it with
 * `ended_stream_ms` as its length. FALSE if no show is open. */
gboolean room_show_resume(room_t *room, gboolean resume, gint64 ended_stream_ms);
/* Ends the open show as the leader's show.end does (e.g. no publisher for too
 * long). FALSE if none was open or the store failed. */
gboolean room_show_end(room_t *room);
/* Show `show` as pages get it (state, duration_ms, has_replay; with
 * `leader`, gmv_cents, buyers and replay_orders too), or NULL. New ref. */
json_t *room_show_json(room_t *room, gint64 show, gboolean leader);
/* Every show like that, newest first (for /api/shows). New reference. */
json_t *room_shows_json(room_t *room, gboolean leader, gint64 before_id, int limit);

/* The answer to an upload: `status`, "Retry-After" seconds (0: none) and
 * the JSON body (the callee's, g_free). */
typedef void (*room_upload_done_fn)(void *user, int status, guint retry_after_s, char *body);

/* POST /api/products/ID/image (the caller checked the leader token): a
 * JPEG or PNG body (the reference is taken) is checked, decoded and scaled
 * once (ws/image.h) in a worker thread, off the control loop; then, back on
 * the loop, it is stored as images_dir/product-ID.png by rename, the
 * product's "image" becomes its URL and everyone gets the `product`
 * message. At most ROOM_IMAGE_DECODES decodes run at once and one per
 * product: beyond that the answer is 503 with a Retry-After, at once. `done`
 * is called exactly once with `user`, on the control loop, before this
 * returns (404, 503) or later: 200, 400, 404 (the product went meanwhile),
 * 413, 415, 500, or 503 if the room is freed first. The picture is stored
 * even if whoever waits for `done` has gone. */
void room_product_image_upload(room_t *room, gint64 product_id, GBytes *body,
                               room_upload_done_fn done, void *user);
/* The stored picture of a product, a path under images_dir (g_free), or
 * NULL when it has none. For the overlay. */
char *room_product_image_path(room_t *room, gint64 product_id);

/* TRUE if `token` is the leader token (compared in constant time). */
gboolean room_leader_token_ok(room_t *room, const char *token);

/* Tests and fuzzing: what the endpoint does for connection `id`, without a
 * socket. Replies to such connections go nowhere. */
void room_test_open(room_t *room, ws_conn_id_t id);
void room_test_text(room_t *room, ws_conn_id_t id, const char *text, gsize len);
void room_test_close(room_t *room, ws_conn_id_t id);
/* Frames the room sends to test connections go to `sink` (see
 * ws_endpoint_set_test_sink()). */
void room_test_set_sink(room_t *room, ws_endpoint_sink_fn sink, void *user);
/* Sends the coalesced broadcasts (stock, ticker, leader orders) now. */
void room_test_flush_broadcasts(room_t *room);
/* Commits the orders waiting for the next loop iteration, now. */
void room_flush_orders(room_t *room);

void room_get_stats(room_t *room, room_stats_t *out);
/* Appends the room's and the store's Prometheus metrics to `out`. */
void room_metrics(room_t *room, GString *out);

#endif
