/* room_priv.h — what room.c and room_orders.c share (internal to ws/). */
#ifndef TOURCAST_ROOM_PRIV_H
#define TOURCAST_ROOM_PRIV_H

#include <jansson.h>

#include "ws/protocol.h"
#include "ws/room.h"

#define ROOM_MAX_BATCH 2000 /* orders per group commit */
/* A batch that found the database locked (another process: a backup, the
 * sqlite3 shell) is put back and tried again this often, for this long
 * since its first try, before its orders are answered `unavailable`. */
#define ROOM_BUSY_RETRY_MS 5
#define ROOM_BUSY_GIVE_UP_MS 3000
#define ROOM_COALESCE_MS 100    /* stock and ticker broadcasts at most this often */
#define ROOM_TICKER_PER_FLUSH 5 /* newest ordered entries per coalesced flush */
/* What bounds every message the server builds from user data (ws/PROTOCOL.md,
 * "Limits"): a list is cut to its newest entries, and each entry is bounded
 * by the protocol's text limits (at most 4 bytes a character escaped). */
#define ROOM_WELCOME_ORDERS 200     /* newest orders in the leader's welcome and in my_orders */
#define ROOM_WELCOME_QUESTIONS 50   /* newest questions in welcome */
#define ROOM_QUESTIONS_PAGE 50      /* most questions in one questions.page */
#define ROOM_ORDER_FRAME_ORDERS 100 /* most orders in one order.new frame */
/* A leader connection's queue may hold this much: its welcome and its order
 * feed are the largest things the server sends (a viewer gets 1 MiB). */
#define ROOM_LEADER_QUEUE_BYTES (8 * 1024 * 1024)
/* The order feed stops while a leader's queue holds more than this, and
 * resumes with an order.gap once it drained (the console then reloads). */
#define ROOM_LEADER_FEED_MAX_QUEUED (2 * 1024 * 1024)
/* Picture decodes running at once (each may hold IMAGE_MAX_DECODE_BYTES),
 * and the Retry-After of an upload refused for that. */
#define ROOM_IMAGE_DECODES 2
#define ROOM_IMAGE_RETRY_S 1

typedef enum { ROLE_NONE, ROLE_VIEWER, ROLE_LEADER } role_t;

/* The show's life cycle (room_show.c has the diagram and the one
 * transition function). */
typedef enum {
  ROOM_SHOW_NONE,     /* no show open (the phone may be connected) */
  ROOM_SHOW_WAITING,  /* open, no output: the phone has not come since show.begin */
  ROOM_SHOW_STARTING, /* open, the output is starting: its first frame is not out yet */
  ROOM_SHOW_LIVE,     /* the phone's picture on air */
  ROOM_SHOW_SLATE,    /* the standby slate on air: the phone is away */
} room_show_state_t;

typedef struct {
  ws_conn_id_t id;
  role_t role;
  gboolean guest; /* a viewer watching without having joined (viewer_id 0) */
  gint64 viewer_id;
  char *name, *masked, *pickup, *phone; /* viewers only */
  gint64 feed_missed; /* leaders: order.new entries held back while its queue was full */
} session_t;

/* An order waiting for the next group commit. */
typedef struct {
  ws_conn_id_t conn;
  gint64 viewer_id;
  gint64 product_id;
  gint64 qty;
  gint64 seen_ms;
  gint64 show_id;      /* 0: the show open at commit time */
  gboolean replay;     /* for an earlier show, from its replay */
  gint64 first_try_us; /* monotonic; 0 until its first commit failed busy */
  char *key;
  char *ref;
} pending_order_t;

struct room {
  room_config_t cfg;
  store_t *store;
  ws_endpoint_t *ep;
  GHashTable *sessions; /* ws_conn_id_t* -> session_t* */
  room_stats_t stats;

  GArray *pending;     /* of pending_order_t, in arrival order */
  guint commit_source; /* fires on the next loop iteration */

  GHashTable *dirty_stock;   /* product id (gint64*) -> json_t* stock message */
  GQueue ticker;             /* json_t* ordered messages, newest last */
  json_t *leader_orders;     /* orders committed since the last order.new */
  GHashTable *product_names; /* gint64* id -> char* name, for order.new (no SQL per order) */
  guint coalesce_source;
  guint tick_source;  /* once a second: viewer count, show epoch */
  guint last_viewers; /* the count last broadcast */

  gint64 pinned;            /* product on screen now, 0 none */
  gint64 highlight;         /* question on screen now, 0 none */
  gboolean publisher_live;  /* the output shows the phone (not the slate) */
  gboolean phone_connected; /* a publisher is connected, on air or not */
  room_show_state_t show_state;
  json_t *show_cache;      /* the show for welcomes, see room_show_json_cached() */
  json_t *last_show_cache; /* the last ended one, cached with it */
  gint64 show_cache_us;

  /* room_images.c: uploads being decoded (room_image_job_t*), by product */
  GHashTable *image_jobs;

  /* room_overlay.c */
  GArray *marks;         /* of room_mark_t: pins and highlights waiting for their frame */
  guint mark_timeout;    /* stamps them with the clock if no frame reports in time */
  GQueue overlay_ticker; /* room_ticker_t*, newest last, at most ROOM_OVERLAY_TICKER */
  guint64 ticker_seq;
};

/* A pin or highlight on its way to the screen. */
typedef enum { ROOM_MARK_PIN, ROOM_MARK_HIGHLIGHT } room_mark_kind_t;
typedef struct {
  room_mark_kind_t kind;
  gint64 id; /* product or question, 0: none */
  guint64 version;
  ws_conn_id_t conn; /* who asked: told if storing fails */
  char *ref;
} room_mark_t;

typedef struct {
  guint64 seq;
  char *name; /* masked */
  gint64 product_id, qty;
} room_ticker_t;

/* room.c */
gint64 room_now_stream_ms(room_t *r);
void room_send_json(room_t *r, ws_conn_id_t id, json_t *msg /* stolen */);
void room_broadcast_json(room_t *r, json_t *msg /* stolen */, gboolean leaders_only);
void room_error(room_t *r, ws_conn_id_t id, proto_error_t code, const char *message,
                const char *ref);
void room_schedule_coalesced(room_t *r);
/* A store call failed (`err` taken): the change did not happen; tells the
 * sender `invalid` (with the store's reason) or `unavailable`. */
void room_store_failed(room_t *r, ws_conn_id_t id, const char *ref, GError *err);

/* room_overlay.c */
void room_overlay_init(room_t *r);
void room_overlay_fini(room_t *r);
/* The overlay's inputs changed; returns the version that will show them (0: none). */
guint64 room_overlay_changed(room_t *r);
/* Pins a product or highlights a question (id 0: none) once the frame
 * showing it is known: stored and broadcast with that frame's stream_ms. */
void room_mark_on_screen(room_t *r, room_mark_kind_t kind, gint64 id, ws_conn_id_t conn,
                         const char *ref);
/* Question `id` of `show` as store_questions_json() gives it (a new
 * reference), or NULL if the show has no such question. */
json_t *room_question_json(room_t *r, gint64 show, gint64 id);
/* An order went through: the ticker gets it. */
void room_overlay_ticker_push(room_t *r, const char *masked, gint64 product_id, gint64 qty);
/* Between shows: pins and highlights still waiting for their frame are
 * stored now (with the clock), and the burned-in ticker starts empty. */
void room_overlay_reset(room_t *r);

/* room_images.c */
void room_images_init(room_t *r);
/* Uploads still decoding are answered 503 now; their results, when the
 * workers finish, are dropped. */
void room_images_fini(room_t *r);

/* room_show.c */
void room_show_init(room_t *r);
/* The open show as welcomes carry it, at most a second old; a new reference
 * (null when no show is open). */
json_t *room_show_json_cached(room_t *r);
/* The newest ended show the same way (null when none has ended). */
json_t *room_last_show_json_cached(room_t *r);
/* The leader's announced next show ({"title","at_unix_ms"}) or null; new. */
json_t *room_next_show_json(room_t *r);
/* show.begin, show.update, show.end and show.schedule (leader only). */
void room_on_show(room_t *r, ws_conn_id_t id, const proto_msg_t *m);

/* room_orders.c */
void room_order_enqueue(room_t *r, session_t *s, const proto_msg_t *m);
void room_orders_flush(room_t *r); /* commits whatever is pending, now */
/* A product's current name (borrowed, valid until it changes), from a cache
 * kept by product.put: orders name their product without a query. NULL
 * if there is no such product. */
const char *room_product_name(room_t *r, gint64 id);
void room_product_renamed(room_t *r, gint64 id, const char *name);
/* A new show: the viewers' ticker not yet sent is dropped. */
void room_ticker_reset(room_t *r);
void pending_order_clear(pending_order_t *o);

#endif
