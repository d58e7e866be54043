/* store.h — tourcast's durable state in one SQLite file: shows, products,
 * viewers, orders, questions, the pin history and each show's event timeline.
 *
 * Threading: a store is opened once and used only from the control loop's
 * thread; it takes no locks. Every write is a transaction committed with
 * synchronous=FULL in WAL mode before the call returns, so whatever a
 * function reports as done survives a crash of the process (and of the
 * machine, as far as the disk honours fsync).
 *
 * Text is stored byte for byte as given (bound as a parameter, never
 * interpreted). Sizes of outside text are bounded by the protocol layer; the
 * store only refuses what it cannot store meaningfully (NULL where text is
 * required, negative stock, quantities outside 1..STORE_QTY_MAX).
 *
 * Ownership, unless a function says otherwise: strings passed in are
 * borrowed for the call; returned json_t are new references (json_decref);
 * returned char * are newly allocated (g_free); structs filled by the store
 * own their strings until their _clear().
 */
#ifndef TOURCAST_STORE_H
#define TOURCAST_STORE_H

#include <glib.h>
#include <jansson.h>

typedef struct store store_t;

/* Schema version this build writes (PRAGMA user_version). */
#define STORE_SCHEMA_VERSION 3
/* PRAGMA application_id of a tourcast database ("tcst"). */
#define STORE_APPLICATION_ID 0x74637374
/* Quantities an order may carry. */
#define STORE_QTY_MIN 1
#define STORE_QTY_MAX 99
/* Largest price (cents), stock and per-buyer limit a product may have: far
 * above any real group buy, low enough that qty * price and stock + sold can
 * never overflow 64 bits. */
#define STORE_PRICE_MAX 1000000000LL
#define STORE_STOCK_MAX 1000000000LL
#define STORE_LIMIT_MAX 1000000LL
/* Length of a viewer token (URL-safe base64 of 18 random bytes). */
#define STORE_TOKEN_LEN 24
/* Products in the catalogue at most: every welcome lists them all, so the
 * catalogue is bounded like any list the server sends (reuse a product,
 * e.g. this week's 水蜜桃 as next week's, rather than create one per show). */
#define STORE_MAX_PRODUCTS 500

#define STORE_ERROR (store_error_quark())
GQuark store_error_quark(void);
typedef enum {
  STORE_ERROR_SQLITE,    /* SQLite failed (I/O, disk full, corrupt): its message is kept */
  STORE_ERROR_VERSION,   /* the file's schema is newer than this build knows, or not tourcast's */
  STORE_ERROR_NOT_FOUND, /* no such show, product, viewer or question */
  STORE_ERROR_INVALID,   /* an argument the store cannot accept (NULL text, out of range) */
  STORE_ERROR_STATE,     /* not now: a show is already open, the show has ended */
  STORE_ERROR_BUSY,      /* another connection holds the lock: nothing changed, try again soon */
} store_error_t;

/* ---- life ---- */

/* Opens (creating if needed) the database at `path` (copied), switches it to
 * WAL with synchronous=FULL and foreign keys on, brings its schema up to
 * STORE_SCHEMA_VERSION (each migration in its own transaction) and prepares
 * every statement. Refuses, with STORE_ERROR_VERSION, a file whose
 * user_version is newer than STORE_SCHEMA_VERSION or whose application_id
 * belongs to another program. NULL with `err` set on failure. */
store_t *store_open(const char *path, GError **err);
/* Closes the database. NULL is a no-op. */
void store_free(store_t *st);
/* How long a write waits for a lock held by another connection (a backup,
 * the sqlite3 shell) before failing. Default 250 ms: the control loop must
 * not stall for long. */
void store_set_busy_timeout(store_t *st, int ms);

/* ---- shows ---- */

/* Begins a show: inserts it and its "show.begin" event (stream_ms 0).
 * Returns the new show id, or 0 with `err` set (STORE_ERROR_STATE if a show
 * is still open: at most one is open at a time). */
gint64 store_show_begin(store_t *st, const char *title, gint64 unix_ms, GError **err);
/* The open show's id, or 0 when none is open (or on error). */
gint64 store_show_current(store_t *st);
/* Wall clock (unix ms) of the show's stream_ms 0, or -1 to clear it. */
gboolean store_show_set_epoch(store_t *st, gint64 show_id, gint64 epoch_unix_ms, GError **err);
/* The leader's promise for the show (e.g. "坏果包赔"); NULL clears it. */
gboolean store_show_set_promise(store_t *st, gint64 show_id, const char *promise, GError **err);
/* Renames the show (title: not NULL). */
gboolean store_show_set_title(store_t *st, gint64 show_id, const char *title, GError **err);
/* Ends an open show and writes its "show.end" event. STORE_ERROR_STATE if it
 * has already ended, STORE_ERROR_NOT_FOUND if there is no such show. */
gboolean store_show_end(store_t *st, gint64 show_id, gint64 stream_ms, gint64 unix_ms,
                        GError **err);
/* {"id","title","started_unix_ms","ended_unix_ms"|null,"ended_stream_ms"|null,
 *  "epoch_unix_ms"|null,"promise"|null,"highlight" (question id)|null,"orders" (count)};
 * NULL if there is no such show. */
json_t *store_show_json(store_t *st, gint64 show_id);
/* TRUE if show `show_id` exists (open or ended); one indexed lookup. */
gboolean store_show_exists(store_t *st, gint64 show_id);
/* The newest `limit` shows as above with an id below `before_id` (0: the
 * newest of all), newest first; NULL only on a database error. */
json_t *store_shows_json(store_t *st, gint64 before_id, int limit);
/* Title and promise (g_free; promise may be NULL) of the newest ended show;
 * FALSE (both NULL) if no show has ended. */
gboolean store_show_previous(store_t *st, char **title, char **promise);
/* The newest ended show's id, 0 if none. */
gint64 store_show_last_ended(store_t *st);

/* What a show sold, for the leader: units x price at order (cents), distinct
 * buyers, and orders that came from the replay (after the show ended). */
typedef struct {
  gint64 gmv_cents, buyers, replay_orders;
} store_show_totals_t;
gboolean store_show_totals(store_t *st, gint64 show_id, store_show_totals_t *out);

/* Small settings that outlive shows (e.g. "next_show"), as JSON values: a new
 * reference or NULL when unset; put NULL to unset. */
json_t *store_setting_get(store_t *st, const char *key);
gboolean store_setting_put(store_t *st, const char *key, const json_t *value, GError **err);

/* ---- products (the store's catalogue, reused across shows) ---- */

typedef struct {
  gint64 id;
  char *name; /* required */
  gint64 price_cents;
  char *unit;             /* e.g. "斤", "箱"; NULL is stored as "" */
  gint64 stock;           /* units left, >= 0 */
  gint64 sold;            /* units sold, kept by the store (ignored by put) */
  gint64 limit_per_buyer; /* most units one viewer may order per show; 0: no limit */
  gboolean on_sale;
  char *image;            /* path or URL of a picture, NULL for none */
  gint64 updated_unix_ms; /* set by put */
} store_product_t;

/* Frees the strings of `p` (filled by the store) and zeroes it; NULL is a no-op. */
void store_product_clear(store_product_t *p);
/* Creates (p->id == 0) or replaces (p->id of an existing product) a product:
 * name, price, unit, stock, limit, on_sale and image are taken from `p`;
 * `sold` is kept. On success the scalar fields of `p` are filled back (id,
 * sold, updated_unix_ms); its strings are only read, never freed or replaced,
 * so they may point anywhere. STORE_ERROR_INVALID for a NULL name or a value
 * out of range, STORE_ERROR_NOT_FOUND for an unknown id. */
gboolean store_product_put(store_t *st, store_product_t *p, gint64 unix_ms, GError **err);
/* Fills `out` (overwritten, not freed first: pass a zeroed or cleared struct)
 * with product `id`; FALSE if there is none. Clear `out` afterwards. */
gboolean store_product_get(store_t *st, gint64 id, store_product_t *out);
/* {"id","name","price_cents","unit","stock","sold","limit_per_buyer","on_sale","image"|null}. */
json_t *store_product_json(const store_product_t *p);
/* Every product as above, by id; NULL only on a database error. */
json_t *store_products_json(store_t *st);

/* ---- viewers ---- */

typedef struct {
  gint64 id;
  char *token; /* the viewer's secret: only ever sent to that viewer */
  char *name;
  char *pickup; /* pickup point of the group buy */
  char *phone;  /* only ever shown to the leader */
  char *ref;    /* who referred the viewer, NULL if nobody */
  gint64 created_unix_ms;
} store_viewer_t;

/* Frees the strings of `v` (filled by the store) and zeroes it; NULL is a no-op. */
void store_viewer_clear(store_viewer_t *v);
/* Creates a viewer with a new random token (STORE_TOKEN_LEN characters of
 * [A-Za-z0-9_-] from getrandom()). name, pickup and phone are required
 * (empty is allowed), ref may be NULL. On success fills `out` (overwritten,
 * clear it afterwards). */
gboolean store_viewer_create(store_t *st, const char *name, const char *pickup, const char *phone,
                             const char *ref, gint64 unix_ms, store_viewer_t *out, GError **err);
/* A returning viewer's new name, pickup point and phone (all required). */
gboolean store_viewer_update(store_t *st, gint64 viewer_id, const char *name, const char *pickup,
                             const char *phone, GError **err);
/* Fill `out` (overwritten; clear it afterwards) with the viewer holding
 * `token` / with id `id`. FALSE if there is none (a NULL token has none). */
gboolean store_viewer_by_token(store_t *st, const char *token, store_viewer_t *out);
gboolean store_viewer_by_id(store_t *st, gint64 id, store_viewer_t *out);

/* A viewer's name as other viewers see it: the first character and "**"
 * ("王小明" -> "王**"). Invalid UTF-8 is repaired first; NULL or "" -> "**".
 * Newly allocated. */
char *store_mask_name(const char *utf8);

/* A phone number as the per-person rules compare it: its ASCII digits only,
 * without a leading 0086 or 86 country code on an 11-digit mainland number
 * ("+86 139-1234-5678" -> "13912345678"). NULL (no person to link) when no
 * digit is left. Newly allocated. */
char *store_phone_norm(const char *phone);

/* ---- orders: group commit ---- */

typedef enum {
  STORE_ORDER_ERROR = 0,   /* undecided: the batch failed and stored nothing */
  STORE_ORDER_OK,          /* stored now, committed */
  STORE_ORDER_DUPLICATE,   /* the viewer used this key before: the original order is reported */
  STORE_ORDER_INVALID,     /* qty outside 1..99, NULL key, unknown viewer or show */
  STORE_ORDER_NOT_ON_SALE, /* unknown product, or product off sale */
  STORE_ORDER_OVER_LIMIT,  /* the viewer's units of the product in this show would pass its limit */
  STORE_ORDER_SOLD_OUT,    /* fewer units left than asked for */
  STORE_ORDER_NO_SHOW,     /* no show is on, or it has ended (buying from its replay is replay) */
  STORE_ORDER_N_STATUS
} store_order_status_t;

/* "ok", "duplicate", "invalid", "not_on_sale", "over_limit", "sold_out",
 * "no_show", "error": the protocol's rejection reasons. Never NULL. */
const char *store_order_status_name(store_order_status_t status);

typedef struct {
  gint64 show_id;
  gint64 viewer_id;
  gint64 product_id;
  gint64 qty;
  const char *key; /* the client's idempotency key; borrowed */
  gint64 seen_ms;  /* stream_ms the viewer was watching, or -1 if unknown */
  gint64 stream_ms;
  gint64 unix_ms;
  /* Ordered while watching the show's replay (naming a show that is not
   * the open one): accepted for a product on sale now that was also on
   * sale while that show was open (listed or pinned), under the same
   * per-person limit as the show's live orders; stream_ms is then the
   * replay position the viewer was at. */
  gboolean replay;
} store_order_req_t;

typedef struct {
  store_order_status_t status;
  /* OK and DUPLICATE: the stored order (for DUPLICATE the original one,
   * whatever this request asked for). Otherwise order_id is 0 and the rest
   * echoes the request. */
  gint64 order_id;
  gint64 product_id;
  gint64 qty;
  gint64 stream_ms;
  /* The product's units left and sold just after this request, for the
   * `stock` broadcast (the last result of a product in a batch is its state
   * at commit); -1 when not known (no such product, or an INVALID request,
   * which is refused before the product is looked at). */
  gint64 stock;
  gint64 sold;
  gint64 price_cents; /* OK and DUPLICATE: the unit price the order was taken at */
} store_order_res_t;

/* Decides and stores `n` orders in one transaction (BEGIN IMMEDIATE ...
 * COMMIT), in the order given, so later requests see earlier ones (a key
 * repeated inside the batch is a DUPLICATE). Each request is checked in this
 * order: duplicate key, invalid, not on sale, over limit, sold out; an OK
 * takes its units from stock atomically, records the product pinned at
 * seen_ms, and writes its "order" event. Only OK orders are stored: a
 * rejected request leaves no trace, so its key may succeed on a later try
 * (e.g. after a restock). The per-buyer limit counts the viewer's units of
 * the product in the request's show.
 *
 * TRUE: committed; out[i] is the result of reqs[i]. FALSE (with `err`): the
 * transaction was rolled back, nothing changed, and every out[i].status is
 * STORE_ORDER_ERROR: acknowledge nothing; the client may retry with the same
 * keys. `out` has room for `n` results, owned by the caller. */
gboolean store_order_batch(store_t *st, const store_order_req_t *reqs, gsize n,
                           store_order_res_t *out, GError **err);

/* The newest `limit` of a viewer's orders in a show, oldest first (for "my orders" after a
 * reconnect, and the replay's): [{"order_id","product_id","qty","stream_ms",
 * "key","price_cents","seen_ms"|null,"created_unix_ms","replay"}], where
 * `replay` is an order placed after the show ended. NULL only on a database
 * error. */
json_t *store_viewer_orders_json(store_t *st, gint64 show_id, gint64 viewer_id, int limit);
/* The newest `limit` orders of a show with an id below `before_id` (0: the
 * newest of all), oldest first, for the leader only (phone numbers): the
 * viewer's fields above plus "viewer_id","name","pickup","phone",
 * "seen_product_id"|null,"product_name","unit","unix_ms","show_id" and
 * "person_id" (the first viewer with the same phone: one neighbour however
 * many tokens). NULL only on a database error. */
json_t *store_orders_json(store_t *st, gint64 show_id, gint64 before_id, int limit);
/* How many orders the show has (of viewer `viewer_id` only, unless 0); -1
 * on a database error. */
gint64 store_orders_count(store_t *st, gint64 show_id, gint64 viewer_id);

/* The leader's picking list for a show, appended to `out`: UTF-8 with a BOM,
 * CRLF lines, RFC 4180 quoting, a header row, then one row per order (pickup
 * point, name, phone, product, qty, unit, amount in yuan, order id, local
 * time) sorted by pickup point, person (viewers with the same phone
 * together), viewer, order. A field that a
 * spreadsheet would take as a formula (starting = + - @ tab or CR) gets a
 * leading apostrophe. Contains phone numbers: leader only. FALSE on a
 * database error (`out` may then hold a partial list). */
gboolean store_orders_csv(store_t *st, gint64 show_id, GString *out);

/* ---- questions ---- */

/* Stores a question of an open show and its "question" event. seen_ms -1:
 * unknown. Returns the question id, or 0 with `err` set. */
gint64 store_question_add(store_t *st, gint64 show_id, gint64 viewer_id, const char *text,
                          gint64 seen_ms, gint64 stream_ms, gint64 unix_ms, GError **err);
/* Stores (or replaces) the answer and writes an "answer" event in the
 * question's show. */
gboolean store_question_answer(store_t *st, gint64 question_id, const char *answer,
                               gint64 stream_ms, gint64 unix_ms, GError **err);
/* Shows a question on screen (question_id 0: none) in an open show: remembers
 * it with the show and writes a "highlight" event carrying the masked name
 * and text. */
gboolean store_highlight(store_t *st, gint64 show_id, gint64 question_id, gint64 stream_ms,
                         gint64 unix_ms, GError **err);
/* The question on screen in the show (as last set by store_highlight), 0 if none. */
gint64 store_highlighted(store_t *st, gint64 show_id);
/* The newest `limit` questions of the show with an id below `before_id`
 * (0: the newest of all), oldest first: {"id","viewer_id","name" (masked),
 * "text","seen_ms"|null,"stream_ms","unix_ms","answer"|null,
 * "answered_stream_ms"|null}. NULL only on a database error. */
json_t *store_questions_json(store_t *st, gint64 show_id, gint64 before_id, int limit);
/* How many questions the show has (-1 on a database error). */
gint64 store_questions_count(store_t *st, gint64 show_id);

/* ---- pins ---- */

/* Pins a product (0: unpins) at stream_ms in an open show: appends to the pin
 * history and writes a "pin" event with the product's name, price and unit
 * as they are now. */
gboolean store_pin(store_t *st, gint64 show_id, gint64 product_id, gint64 stream_ms, gint64 unix_ms,
                   GError **err);
/* The product pinned at stream_ms (the latest pin at or before it), 0 if none. */
gint64 store_pinned_at(store_t *st, gint64 show_id, gint64 stream_ms);
/* The newest `n` pins of a show, oldest first: [{"product_id"|null,"stream_ms"}]
 * (for a page that joins while the video still shows an earlier one). */
json_t *store_pins_recent_json(store_t *st, gint64 show_id, int n);

/* ---- events (public: no phone numbers, no tokens, masked names) ---- */

/* Appends an event to the show's timeline. `data` (borrowed, may be NULL for
 * {}) must be a JSON object; STORE_ERROR_INVALID if it is not, or if it
 * carries a member named "phone", "token" or "viewer_token" at any depth. */
gboolean store_event_add(store_t *st, gint64 show_id, const char *type, gint64 stream_ms,
                         gint64 unix_ms, json_t *data, GError **err);
/* An event about a viewer ("join", "leave"): data {"viewer_id","name"} with
 * the name masked. */
gboolean store_event_viewer(store_t *st, gint64 show_id, const char *type, gint64 viewer_id,
                            gint64 stream_ms, gint64 unix_ms, GError **err);
/* The show's timeline by stream_ms, then by insertion:
 * [{"id","type","stream_ms","unix_ms","data":{...}}], the first `limit`
 * events after (after_ms, after_id) in that order (after_ms -1: from the
 * start). NULL only on a database error. */
json_t *store_events_json(store_t *st, gint64 show_id, gint64 after_ms, gint64 after_id, int limit);

/* ---- metrics ---- */

typedef struct {
  guint64 commits;                      /* write transactions committed, of every kind */
  guint64 rollbacks;                    /* write transactions abandoned on an error */
  guint64 order_batches;                /* store_order_batch() calls that committed */
  guint64 orders[STORE_ORDER_N_STATUS]; /* committed order results by status */
  /* Time from BEGIN to the end of COMMIT of committed write transactions:
   * what an order waits for before its acknowledgement. */
  guint64 commit_us_last;
  guint64 commit_us_max;
  guint64 commit_us_sum;
} store_stats_t;

void store_get_stats(const store_t *st, store_stats_t *out);

#endif
