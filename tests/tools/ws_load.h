/* ws_load.h — internals shared by the files of ws_load, tourcast's WebSocket load and test client.
 *
 * ws_load is one program in a few files: ws_load.c (options, main),
 * ws_load_net.c (the libwebsockets client: one context, many connections,
 * one thread), ws_load_json.c (a bounded JSON scanner for the hot path and
 * the builders of outgoing frames), ws_load_hist.c (latency histogram),
 * ws_load_setup.c (the leader's product set-up), one file per mode (orders,
 * fanout, script) and ws_load_selftest.c. This header is not a library
 * interface: it is the seam between those files.
 */
#ifndef TOURCAST_WS_LOAD_H
#define TOURCAST_WS_LOAD_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- options ---------------------------------------------------------- */

typedef enum { WL_VIA_PUT, WL_VIA_PIN } wl_via_t;

/* Products one run orders from (the server caps stock at 1,000,000, so a
 * long run at full speed spreads the buyers over several). */
#define WL_MAX_PRODUCTS 64

typedef struct {
  const char *url;     /* ws://HOST:PORT/PATH, borrowed from argv */
  char host[256];      /* parsed from url */
  char path[512];      /* parsed from url, starts with '/' */
  int port;            /* parsed from url */
  double timeout_s;    /* connect-to-welcome, ack and round timeout */
  double connect_rate; /* new connections per second */
  int verbose;         /* 0: errors only, 1: lws warnings, 2: notices */
  long coalesce_us;    /* pause after a poll that read few frames, 0: never */
  const char *leader_token;
  int64_t product_ids[WL_MAX_PRODUCTS]; /* --product ID[,ID...] */
  int n_products;
  const char *setup; /* "name,price_cents,stock,limit" or NULL */
  int setup_count;   /* products to create with --setup-product */
  /* orders */
  int buyers;
  double duration_s;
  int qty;
  double pace;       /* orders/s per buyer, 0: closed loop at full speed */
  double rate_limit; /* the server's messages/s per connection (for the ceiling) */
  /* fanout */
  int viewers;
  int rounds;
  double interval_s; /* minimum time from one round's send to the next */
  wl_via_t via;
  const char *put_id_field; /* the product's id in product.put ("id") */
  /* script */
  double linger_s;
  /* selftest */
  long bench_iters;
} wl_opts_t;

/* Parses "ws://host:port/path" into o->host/port/path. Returns 0, or -1 with
 * a reason in err. */
int wl_parse_url(wl_opts_t *o, char *err, size_t err_len);

/* Mode entry points; each returns the process exit code. */
int wl_orders_main(const wl_opts_t *o);
int wl_fanout_main(const wl_opts_t *o);
int wl_script_main(const wl_opts_t *o);
int wl_selftest_main(const wl_opts_t *o);

/* Monotonic clock in microseconds. */
int64_t wl_now_us(void);
/* User + system CPU time of this process in microseconds. */
int64_t wl_cpu_us(void);

/* ---- JSON: bounded scanner and builders (ws_load_json.c) -------------- */

typedef enum {
  WL_JNONE = 0, /* member absent */
  WL_JSTR,      /* p/n: the raw text between the quotes, escapes not decoded */
  WL_JNUM,      /* p/n: the number's text */
  WL_JOBJ,      /* p/n: from '{' to '}' inclusive */
  WL_JARR,      /* p/n: from '[' to ']' inclusive */
  WL_JTRUE,
  WL_JFALSE,
  WL_JNULL,
} wl_jtype_t;

typedef struct {
  wl_jtype_t type;
  const char *p; /* borrowed from the scanned text */
  size_t n;
} wl_jval_t;

/* Scans the JSON object in [src, src + len) once and, for each of the nkeys
 * top-level member names in keys, stores its value in vals (WL_JNONE when
 * absent; the first occurrence wins). Nested values are skipped, not
 * validated beyond their brackets and strings. Never reads outside the
 * range. Returns 0, or -1 when the text is not one complete object. */
int wl_json_scan(const char *src, size_t len, const char *const *keys, size_t nkeys,
                 wl_jval_t *vals);

/* Integer value of a WL_JNUM without fraction or exponent. Returns 0, or -1
 * (other types, fractions, overflow). */
int wl_json_int(const wl_jval_t *v, int64_t *out);
/* Decodes a WL_JSTR into buf (NUL-terminated, UTF-8). Returns the decoded
 * length, or -1 when not a string, malformed or longer than cap - 1. */
long wl_json_str(const wl_jval_t *v, char *buf, size_t cap);
/* True when v is a string equal to lit once decoded. */
bool wl_json_str_eq(const wl_jval_t *v, const char *lit);

/* Iterates the elements of a WL_JARR: init with the array, then next()
 * returns 1 with the element, 0 at the end, -1 when malformed. */
typedef struct {
  const char *p, *end;
  bool first;
} wl_jarr_t;
void wl_jarr_init(wl_jarr_t *it, const wl_jval_t *arr);
int wl_jarr_next(wl_jarr_t *it, wl_jval_t *elem);

/* Writes s as a JSON string literal (with quotes) at dst. Returns the length
 * written (a NUL follows it), or -1 when it does not fit in cap. */
long wl_json_quote(char *dst, size_t cap, const char *s);

/* The server messages ws_load reacts to, from their "type". */
typedef enum {
  WL_MSG_OTHER = 0,
  WL_MSG_WELCOME,
  WL_MSG_ORDER_OK,
  WL_MSG_ORDER_REJECTED,
  WL_MSG_ERROR,
  WL_MSG_STOCK,
  WL_MSG_PRODUCT,
  WL_MSG_PINNED,
} wl_msg_type_t;

/* The top-level fields any mode looks at, collected in one pass. */
enum {
  WL_F_TYPE,
  WL_F_KEY,
  WL_F_REASON,
  WL_F_CODE,
  WL_F_PRODUCT_ID,
  WL_F_ID,
  WL_F_STOCK,
  WL_F_SOLD,
  WL_F_NAME,
  WL_F_PRODUCT,
  WL_F_VIEWER_ID,
  WL_F_PRODUCTS,
  WL_F_MESSAGE,
  WL_F_SHOW,
  WL_F_COUNT
};

typedef struct {
  wl_msg_type_t type;
  wl_jval_t f[WL_F_COUNT];
} wl_msg_t;

/* Parses one received frame. Returns 0, or -1 when it is not a JSON object
 * (m->type is then WL_MSG_OTHER). m borrows from src. */
int wl_msg_parse(const char *src, size_t len, wl_msg_t *m);
/* The type of a frame of which only the first len bytes are at hand (one
 * too large to keep): m->type from a leading "type" member, every field
 * WL_JNONE. Returns 0, or -1 when the text does not start that way. */
int wl_msg_peek(const char *src, size_t len, wl_msg_t *m);

/* A product as the server describes it, in a `product` or `stock`
 * broadcast (flat, or nested under "product") or in welcome's products[]. */
typedef struct {
  int64_t id;                           /* 0: absent */
  int64_t stock;                        /* -1: absent */
  int64_t sold;                         /* -1: absent */
  int64_t price_cents, limit_per_buyer; /* -1: absent */
  wl_jval_t name, unit;
} wl_product_t;
/* Fills p from the product object text obj (an element of products[] or
 * the "product" member). Returns 0 when an id was found, else -1. */
int wl_product_from_obj(const wl_jval_t *obj, wl_product_t *p);
/* Same for a whole message: the nested "product" object when there is one,
 * else the top-level fields ("product_id" or "id"). */
int wl_product_from_msg(const wl_msg_t *m, wl_product_t *p);

/* ---- latency histogram (ws_load_hist.c) ------------------------------ */

/* Log-linear buckets over microseconds: exact below 1024 us, then 512
 * buckets per power of two (relative error under 0.2%) up to 2^40 us. Fixed
 * size, no allocation per sample. */
#define WL_HIST_BUCKETS (1024 + 30 * 512)
typedef struct {
  uint64_t counts[WL_HIST_BUCKETS];
  uint64_t n;
  int64_t max_us;
  double sum_us;
} wl_hist_t;

void wl_hist_init(wl_hist_t *h);
void wl_hist_add(wl_hist_t *h, int64_t us);
/* The q-quantile (0..1) in milliseconds, 0 when empty. */
double wl_hist_ms(const wl_hist_t *h, double q);
double wl_hist_max_ms(const wl_hist_t *h);

/* ---- the client: one lws context, many connections (ws_load_net.c) ---- */

/* A connection's life. Viewer and leader connections say hello when the
 * upgrade completes and are READY once welcome arrives; raw connections
 * (script mode) are READY as soon as the upgrade completes.
 *
 *   IDLE -> CONNECTING -> HELLO -> READY -> CLOSED
 *               |           |
 *               +-----------+--> FAILED  (error, refused upgrade, error
 *                                         reply to hello, timeout)
 */
typedef enum {
  WL_CONN_IDLE,
  WL_CONN_CONNECTING,
  WL_CONN_HELLO,
  WL_CONN_READY,
  WL_CONN_CLOSED,
  WL_CONN_FAILED,
} wl_conn_state_t;

typedef enum { WL_ROLE_VIEWER, WL_ROLE_LEADER, WL_ROLE_RAW } wl_role_t;

typedef struct wl_run wl_run_t;

typedef struct {
  struct lws *wsi;
  uint32_t idx;
  uint8_t state;      /* wl_conn_state_t */
  uint8_t role;       /* wl_role_t */
  bool tx_queued;     /* tx holds a frame that waits for WRITEABLE */
  bool busy;          /* mode flag: an order awaits its ack */
  uint32_t seq;       /* mode counter: order sequence, last round seen */
  int64_t t_begin_us; /* connect started */
  int64_t t_sent_us;  /* the last frame was handed to the socket */
  int64_t t_next_us;  /* mode: do not send before */
  unsigned char *tx;  /* LWS_PRE headroom, then the frame */
  size_t tx_len, tx_cap;
  bool tx_owned;   /* tx was malloc'd for this connection (script) */
  bool want_close; /* close at the next WRITEABLE */
  bool retry;      /* mode flag: resend the last order with the same key */
  bool slowed;     /* mode flag: keep to the server's rate limit from now on */
  bool rx_drop;    /* the frame being received is too large: skip it */
  char *rx;        /* reassembly of a frame lws delivers in pieces */
  size_t rx_len, rx_cap;
} wl_conn_t;

/* What a mode does on the events of its connections. All run on the one
 * lws thread; `now` is wl_now_us() at the event. Any may be NULL. */
typedef struct {
  /* c got its welcome (raw: upgraded). */
  void (*on_ready)(wl_run_t *run, wl_conn_t *c, const wl_msg_t *welcome, int64_t now);
  /* A frame arrived on a READY connection; raw frames are not parsed for
   * raw connections (m is NULL). */
  void (*on_message)(wl_run_t *run, wl_conn_t *c, const wl_msg_t *m, const char *text, size_t len,
                     int64_t now);
  /* The queued frame was written; c->t_sent_us is set. */
  void (*on_sent)(wl_run_t *run, wl_conn_t *c, int64_t now);
  /* c left READY or HELLO: closed by the peer, an error or a timeout. */
  void (*on_lost)(wl_run_t *run, wl_conn_t *c, int64_t now);
  /* Every WL_TICK_FAST_US while connections are being opened or the mode
   * asks for it (run->fast_tick), else every WL_TICK_SLOW_US. */
  void (*on_tick)(wl_run_t *run, int64_t now);
} wl_mode_ops_t;

/* With lws' poll loop every wake-up scans every descriptor (about 2 ms for
 * 5,000 sockets on the 2-core test machine), so an idle client must not
 * tick fast: a 5 ms tick alone cost 5,000 idle connections half a core. */
#define WL_TICK_FAST_US 5000
#define WL_TICK_SLOW_US 50000
/* Frames ws_load builds itself fit here (hello, order, product.put). */
#define WL_TX_CAP 1024
/* Largest frame we reassemble (a welcome with a long question list fits);
 * larger ones are counted and dropped, so no connection holds more. */
#define WL_RX_MAX (1024u * 1024)

struct wl_run {
  const wl_opts_t *o;
  const wl_mode_ops_t *ops;
  void *mode; /* the mode's own state, borrowed */
  struct lws_context *ctx;
  struct lws_vhost *vh;
  wl_conn_t *conns;
  size_t n_conns;
  unsigned char *tx_slab;
  lws_sorted_usec_list_t tick;
  int64_t t_timeouts; /* last check of connect timeouts */
  bool fast_tick;     /* set by the mode: it needs WL_TICK_FAST_US */
  bool done;          /* leave the service loop: set through wl_net_stop */
  bool shutting_down; /* closes from now on are ours, not counted */
  /* connect pacing over conns[pace_next .. pace_end) */
  size_t pace_next, pace_end;
  uint8_t pace_role;
  int64_t pace_t0;
  size_t pace_started;
  /* counters; n_connecting covers CONNECTING and HELLO, n_up every
   * connection that ever became READY */
  size_t n_connecting, n_ready, n_up, n_failed, n_closed;
  size_t n_oversized, n_bad_json, n_hello_errors;
  uint64_t n_rx_frames, n_tx_frames;
  char last_error[160];
  char host_header[300];
  /* stdin (script mode): on_stdin runs when it is readable and returns < 0
   * at end of file; stdin_closed is set once lws has let go of it */
  struct lws *stdin_wsi;
  int (*on_stdin)(wl_run_t *run, int64_t now);
  bool stdin_closed;
};

/* Raises RLIMIT_NOFILE to its hard limit, creates the context for n_conns
 * connections and allocates them (IDLE, each with a WL_TX_CAP buffer).
 * Returns 0, or -1 with a message on stderr. */
int wl_net_init(wl_run_t *run, const wl_opts_t *o, const wl_mode_ops_t *ops, void *mode,
                size_t n_conns);
/* Serves until wl_net_stop. */
void wl_net_loop(wl_run_t *run);
/* Makes wl_net_loop return once the current callback or timer is done. */
void wl_net_stop(wl_run_t *run);
/* Destroys the context and frees the connections; safe on a zeroed run. */
void wl_net_clear(wl_run_t *run);

/* Opens conns[first .. first + count) with role at o->connect_rate,
 * replacing any pacing under way. */
void wl_net_connect_paced(wl_run_t *run, size_t first, size_t count, wl_role_t role);
/* Opens one connection now. */
void wl_net_connect(wl_run_t *run, wl_conn_t *c, wl_role_t role);

/* Formats a frame into c's buffer and asks for WRITEABLE. Returns 0, or -1
 * when a frame is already queued, it does not fit or c is not up. */
int wl_conn_sendf(wl_conn_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Queues len bytes (copied, buffer grown as needed); for script mode. */
int wl_conn_send_copy(wl_conn_t *c, const char *data, size_t len);
/* Closes c (counted as ours, not as a loss). */
void wl_conn_close(wl_run_t *run, wl_conn_t *c);

/* Adopts stdin into the loop; run->on_stdin is called when it is readable.
 * Returns 0 or -1. */
int wl_net_adopt_stdin(wl_run_t *run);
/* Stops or resumes reading stdin (bounded queue). */
void wl_net_stdin_pause(wl_run_t *run, bool pause);

/* Prints the connection counters to stdout: `up` of `wanted` came up (the
 * mode's own count, leader excluded), then the run's failures and closes. */
void wl_net_print_conns(const wl_run_t *run, size_t wanted, size_t up);

/* ---- the leader's product set-up (ws_load_setup.c) --------------------- */

/* What the leader does before a run, driven by its frames and by pump():
 *
 *   WAIT_WELCOME --welcome--> SEND --(no show open) show.begin--> SEND
 *   SEND --(create) product.put--> WAIT_PRODUCT --product "name"--> SEND ...
 *   SEND --(all created, or --product given)--> DONE
 *   any --error reply, leader lost, timeout--> FAILED
 *
 * Orders are rejected not_on_sale and pins refused while no show is open,
 * so the leader begins one (show.begin does nothing when one is open). */
typedef enum {
  WL_SETUP_WAIT_WELCOME,
  WL_SETUP_SEND,
  WL_SETUP_WAIT_PRODUCT,
  WL_SETUP_DONE,
  WL_SETUP_FAILED,
} wl_setup_state_t;

typedef struct {
  wl_setup_state_t state;
  bool create;    /* create products rather than use --product */
  bool need_show; /* show.begin still to send */
  int count;      /* products to create */
  int64_t ids[WL_MAX_PRODUCTS];
  int n_ids;
  char base_name[128];
  char name[160]; /* of the product being created */
  char unit[64];
  int64_t price_cents, stock, limit_per_buyer; /* for creation */
  int64_t first_stock;                         /* ids[0]'s stock as last seen, -1: unknown */
  char error[200];                             /* why it FAILED */
} wl_setup_t;

/* Prepares s: o->setup ("name,price_cents,stock,limit", o->setup_count
 * products) when given, else o->product_ids, else (fallback_create) one
 * product named fallback_name with the largest stock the protocol allows.
 * Returns 0, or -1 with s->error set. */
int wl_setup_init(wl_setup_t *s, const wl_opts_t *o, const char *fallback_name,
                  bool fallback_create);
/* Feed the leader's welcome and later frames; they advance s. */
void wl_setup_on_welcome(wl_setup_t *s, const wl_msg_t *welcome);
void wl_setup_on_message(wl_setup_t *s, const wl_msg_t *m, const char *text, size_t len);
/* Sends the next frame of the set-up when the leader connection is free;
 * call after each of the above and from the mode's tick. */
void wl_setup_pump(wl_setup_t *s, wl_conn_t *leader);
/* Queues a product.put on the leader: with id 0 it creates s->name with
 * s's fields and the given stock; else it sets only that product's stock
 * (fields left out keep their value). Returns 0 or -1 (busy, too long). */
int wl_send_product_put(wl_conn_t *leader, const wl_opts_t *o, const wl_setup_t *s, int64_t id,
                        int64_t stock);
#endif /* TOURCAST_WS_LOAD_H */
