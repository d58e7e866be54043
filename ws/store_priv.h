/* store_priv.h — what the store_*.c files share and nobody else sees: the
 * store struct, the statement table, transaction and binding helpers.
 */
#ifndef TOURCAST_STORE_PRIV_H
#define TOURCAST_STORE_PRIV_H

#include <gst/gst.h>
#include <sqlite3.h>

#include "ws/store.h"

GST_DEBUG_CATEGORY_EXTERN(store_debug);
#define GST_CAT_DEFAULT store_debug

/* Every statement the store runs, prepared once in store_open() (SQL in
 * store_sql.c). A statement is taken with store_stmt(), bound, stepped and
 * handed back with store_done() on every path, so none is left mid-step. */
typedef enum {
  ST_BEGIN,
  ST_COMMIT,
  ST_ROLLBACK,
  ST_SHOW_INSERT,
  ST_SHOW_CURRENT,
  ST_SHOW_ENDED,
  ST_SHOW_END,
  ST_SHOW_SET_EPOCH,
  ST_SHOW_SET_PROMISE,
  ST_SHOW_SET_TITLE,
  ST_SHOW_SET_HIGHLIGHT,
  ST_SHOW_HIGHLIGHT,
  ST_SHOW_GET,
  ST_SHOWS_LIST,
  ST_PRODUCT_INSERT,
  ST_PRODUCT_UPDATE,
  ST_PRODUCT_GET,
  ST_PRODUCTS_LIST,
  ST_PRODUCT_TAKE,
  ST_VIEWER_INSERT,
  ST_VIEWER_UPDATE,
  ST_VIEWER_BY_TOKEN,
  ST_VIEWER_BY_ID,
  ST_VIEWER_NAME,
  ST_ORDER_FIND,
  ST_PRODUCTS_COUNT,
  ST_ORDER_QTY_SUM,
  ST_SHOW_PRODUCT_HAS,
  ST_SHOW_PRODUCT_ADD,
  ST_SHOW_PRODUCTS_ON_SALE,
  ST_ORDER_INSERT,
  ST_ORDERS_OF_VIEWER,
  ST_ORDERS_OF_SHOW,
  ST_ORDERS_COUNT,
  ST_ORDERS_COUNT_OF_VIEWER,
  ST_ORDERS_CSV,
  ST_SHOW_TOTALS,
  ST_SETTING_GET,
  ST_SETTING_PUT,
  ST_SETTING_DELETE,
  ST_SHOW_PREVIOUS,
  ST_SHOW_LAST_ENDED,
  ST_QUESTION_INSERT,
  ST_QUESTION_ANSWER,
  ST_QUESTION_GET,
  ST_QUESTIONS_LIST,
  ST_QUESTIONS_COUNT,
  ST_PIN_INSERT,
  ST_PIN_AT,
  ST_PINS_RECENT,
  ST_EVENT_INSERT,
  ST_EVENTS_LIST,
  ST_N
} store_stmt_id_t;

extern const char *const store_sql[ST_N];

struct store {
  sqlite3 *db;
  char *path;
  sqlite3_stmt *stmt[ST_N];
  gint64 tx_start_us; /* monotonic time of the open transaction's BEGIN */
  store_stats_t stats;
};

/* ---- store.c ---- */

/* Sets STORE_ERROR_SQLITE from the connection's last error, prefixed with
 * `what`, logs it, and returns FALSE. */
gboolean store_fail(store_t *st, GError **err, const char *what);
/* The prepared statement `id`, ready to bind. */
static inline sqlite3_stmt *store_stmt(store_t *st, store_stmt_id_t id) {
  return st->stmt[id];
}
/* Resets a statement and drops its bindings (bound text is SQLITE_STATIC:
 * it must not outlive the caller's strings). */
void store_done(sqlite3_stmt *s);
/* Steps `s` to completion (rows ignored) and store_done()s it. */
gboolean store_exec(store_t *st, sqlite3_stmt *s, GError **err, const char *what);
/* In a transaction: notes that the open show (if any) sells product
 * `product_id` if it is on sale, or every product on sale (0). */
gboolean store_show_products_on_sale(store_t *st, gint64 product_id, GError **err);
/* Binds UTF-8 text without copying (NULL binds SQL NULL). */
void store_bind_text(sqlite3_stmt *s, int idx, const char *text);
/* Binds v, or SQL NULL when v < 0 (optional times). */
void store_bind_opt(sqlite3_stmt *s, int idx, gint64 v);
/* A column's text, newly allocated; NULL for SQL NULL. */
char *store_col_dup(sqlite3_stmt *s, int col);

/* BEGIN IMMEDIATE: the write lock is taken now, so the transaction can never
 * fail later for want of it. */
gboolean store_tx_begin(store_t *st, GError **err);
/* Commits if `ok`, else rolls back; a failed COMMIT rolls back too. Returns
 * TRUE only if the transaction committed. `err` is set on every FALSE. */
gboolean store_tx_end(store_t *st, gboolean ok, GError **err);

/* JSON of possibly invalid UTF-8 text (repaired with U+FFFD), null for NULL. */
json_t *store_json_text(const char *text);
/* A column as JSON: text, integer, or null. */
json_t *store_json_col_text(sqlite3_stmt *s, int col);
json_t *store_json_col_int(sqlite3_stmt *s, int col);

/* Steps `s` to its end, one JSON value per row made by `row`, and
 * store_done()s it. NULL (logged) on a database error. */
json_t *store_rows_json(store_t *st, sqlite3_stmt *s, json_t *(*row)(sqlite3_stmt *),
                        const char *what);
/* Steps `s` (bound) to its first row and store_done()s it: the row's first
 * column, or -1 (logged, `err` set) on a database error or no row. */
gint64 store_int_row(store_t *st, sqlite3_stmt *s, GError **err, const char *what);
/* Like store_rows_json() for a query that reads the newest rows first (ORDER
 * BY id DESC LIMIT n): the list comes back oldest first. */
json_t *store_rows_json_newest(store_t *st, sqlite3_stmt *s, json_t *(*row)(sqlite3_stmt *),
                               const char *what);

/* Inside an open transaction: appends an event (data borrowed, may be NULL). */
gboolean store_event_insert(store_t *st, gint64 show_id, const char *type, gint64 stream_ms,
                            gint64 unix_ms, json_t *data, GError **err);
/* Inside a transaction: the masked name of a viewer, or NULL (err set) if the
 * viewer does not exist. */
char *store_viewer_masked(store_t *st, gint64 viewer_id, GError **err);

/* Show states as seen by the writes that need an open show. */
typedef enum {
  STORE_SHOW_MISSING,
  STORE_SHOW_OPEN,
  STORE_SHOW_ENDED,
  STORE_SHOW_UNKNOWN
} store_show_state_t;
/* STORE_SHOW_UNKNOWN with `err` set on a database error. */
store_show_state_t store_show_state(store_t *st, gint64 show_id, GError **err);
/* TRUE if the show is open; else sets NOT_FOUND / STATE / SQLITE. */
gboolean store_show_require_open(store_t *st, gint64 show_id, GError **err);

/* ---- store_schema.c ---- */

/* Brings the schema of `db` to STORE_SCHEMA_VERSION, one transaction per
 * migration; refuses newer or foreign files (STORE_ERROR_VERSION). */
gboolean store_schema_migrate(sqlite3 *db, GError **err);

#endif
