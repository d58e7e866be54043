/* store.c — opening and closing the store, and what every store_*.c shares:
 * statements, transactions and their timing, errors, JSON of columns.
 *
 * The data lives elsewhere: store_catalog.c (products, viewers), store_show.c
 * (shows, pins, questions, events), store_orders.c (group commit) and
 * store_csv.c (the picking list). SQL is in store_sql.c, the schema in
 * store_schema.c.
 */
#include <string.h>

#include "ws/store_priv.h"

GST_DEBUG_CATEGORY(store_debug);

/* How long a statement waits for another connection's lock. The store runs
 * on the control loop, which every socket shares: it fails fast
 * (STORE_ERROR_BUSY) and the caller retries on a later iteration
 * (room_orders.c) rather than stall the loop. */
#define STORE_BUSY_MS 2

GQuark store_error_quark(void) {
  return g_quark_from_static_string("tourcast-store-error-quark");
}

static void init_debug(void) {
  static gsize once = 0;

  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(store_debug, "tourcast-store", 0, "tourcast SQLite store");
    g_once_init_leave(&once, 1);
  }
}

/* ---- helpers shared by the store_*.c files ---- */

gboolean store_fail(store_t *st, GError **err, const char *what) {
  const char *msg = st->db ? sqlite3_errmsg(st->db) : "out of memory";
  int code = st->db ? sqlite3_extended_errcode(st->db) : SQLITE_NOMEM;
  GST_WARNING("%s: %s (%d)", what, msg, code);
  gboolean busy = (code & 0xFF) == SQLITE_BUSY || (code & 0xFF) == SQLITE_LOCKED;
  g_set_error(err, STORE_ERROR, busy ? STORE_ERROR_BUSY : STORE_ERROR_SQLITE, "%s: %s", what, msg);
  return FALSE;
}

void store_done(sqlite3_stmt *s) {
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
}

gboolean store_exec(store_t *st, sqlite3_stmt *s, GError **err, const char *what) {
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    ;
  /* Read the error before the reset, which may replace the message. */
  gboolean ok = rc == SQLITE_DONE || store_fail(st, err, what);
  store_done(s);
  return ok;
}

void store_bind_text(sqlite3_stmt *s, int idx, const char *text) {
  if (text == NULL)
    sqlite3_bind_null(s, idx);
  else
    sqlite3_bind_text(s, idx, text, -1, SQLITE_STATIC);
}

void store_bind_opt(sqlite3_stmt *s, int idx, gint64 v) {
  if (v < 0)
    sqlite3_bind_null(s, idx);
  else
    sqlite3_bind_int64(s, idx, v);
}

char *store_col_dup(sqlite3_stmt *s, int col) {
  return g_strdup((const char *)sqlite3_column_text(s, col));
}

gboolean store_tx_begin(store_t *st, GError **err) {
  st->tx_start_us = g_get_monotonic_time();
  return store_exec(st, store_stmt(st, ST_BEGIN), err, "begin");
}

gboolean store_tx_end(store_t *st, gboolean ok, GError **err) {
  if (ok && store_exec(st, store_stmt(st, ST_COMMIT), err, "commit")) {
    guint64 us = (guint64)(g_get_monotonic_time() - st->tx_start_us);
    st->stats.commits++;
    st->stats.commit_us_last = us;
    st->stats.commit_us_max = MAX(st->stats.commit_us_max, us);
    st->stats.commit_us_sum += us;
    return TRUE;
  }
  /* Some errors (I/O, disk full) end the transaction inside SQLite already;
   * a failed COMMIT of a deferred constraint leaves it open. */
  if (!sqlite3_get_autocommit(st->db) &&
      !store_exec(st, store_stmt(st, ST_ROLLBACK), NULL, "rollback"))
    GST_ERROR("rollback failed: %s", sqlite3_errmsg(st->db));
  st->stats.rollbacks++;
  return FALSE;
}

json_t *store_json_text(const char *text) {
  if (text == NULL)
    return json_null();
  json_t *j = json_string(text);
  if (j == NULL) {
    /* Stored as given, but JSON must be valid UTF-8. */
    char *fixed = g_utf8_make_valid(text, -1);
    j = json_string(fixed);
    g_free(fixed);
  }
  return j ? j : json_null();
}

json_t *store_json_col_text(sqlite3_stmt *s, int col) {
  return store_json_text((const char *)sqlite3_column_text(s, col));
}

json_t *store_json_col_int(sqlite3_stmt *s, int col) {
  if (sqlite3_column_type(s, col) == SQLITE_NULL)
    return json_null();
  return json_integer(sqlite3_column_int64(s, col));
}

json_t *store_rows_json(store_t *st, sqlite3_stmt *s, json_t *(*row)(sqlite3_stmt *),
                        const char *what) {
  json_t *arr = json_array();
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    json_array_append_new(arr, row(s));
  if (rc != SQLITE_DONE) {
    store_fail(st, NULL, what);
    json_decref(arr);
    arr = NULL;
  }
  store_done(s);
  return arr;
}

gint64 store_int_row(store_t *st, sqlite3_stmt *s, GError **err, const char *what) {
  gint64 v = -1;
  if (sqlite3_step(s) == SQLITE_ROW)
    v = sqlite3_column_int64(s, 0);
  else
    store_fail(st, err, what);
  store_done(s);
  return v;
}

json_t *store_rows_json_newest(store_t *st, sqlite3_stmt *s, json_t *(*row)(sqlite3_stmt *),
                               const char *what) {
  json_t *newest_first = store_rows_json(st, s, row, what);
  if (newest_first == NULL)
    return NULL;
  json_t *list = json_array();
  for (gsize i = json_array_size(newest_first); i > 0; i--)
    json_array_append(list, json_array_get(newest_first, i - 1));
  json_decref(newest_first);
  return list;
}

/* ---- life ---- */

static gboolean set_pragmas(store_t *st, GError **err) {
  sqlite3_stmt *s = NULL;
  char *mode = NULL;
  /* journal_mode answers with the mode now in force: a file system without
   * shared memory may keep it at "delete", which we do not accept. */
  if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s, NULL) == SQLITE_OK &&
      sqlite3_step(s) == SQLITE_ROW)
    mode = g_ascii_strdown((const char *)sqlite3_column_text(s, 0), -1);
  sqlite3_finalize(s);
  if (mode == NULL)
    return store_fail(st, err, "journal_mode");
  gboolean wal = strcmp(mode, "wal") == 0 || strcmp(mode, "memory") == 0;
  if (!wal)
    g_set_error(err, STORE_ERROR, STORE_ERROR_SQLITE, "journal_mode is %s, not wal", mode);
  g_free(mode);
  if (!wal)
    return FALSE;
  /* A page cache that holds a show's working set (64 MiB at most, taken only
   * as pages are used): a flash sale touches an index page per buyer, and
   * SQLite's 2 MiB default re-read them from the file on every order. */
  if (sqlite3_exec(st->db,
                   "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
                   "PRAGMA cache_size = -65536;"
                   /* Checkpoint every 32 MiB of WAL, not SQLite's 4 MiB: a
                    * page rewritten by many batches is copied back once. */
                   "PRAGMA wal_autocheckpoint = 8192;",
                   NULL, NULL, NULL) != SQLITE_OK)
    return store_fail(st, err, "pragmas");
  return TRUE;
}

char *store_phone_norm(const char *phone) {
  if (phone == NULL)
    return NULL;
  GString *d = g_string_new(NULL);
  for (const char *p = phone; *p != '\0'; p++)
    if (g_ascii_isdigit(*p))
      g_string_append_c(d, *p);
  if (d->len == 15 && g_str_has_prefix(d->str, "0086"))
    g_string_erase(d, 0, 4);
  else if (d->len == 13 && g_str_has_prefix(d->str, "86"))
    g_string_erase(d, 0, 2);
  if (d->len == 0) {
    g_string_free(d, TRUE);
    return NULL;
  }
  return g_string_free(d, FALSE);
}

/* tc_phone_norm(text) in SQL, for the migration that adds the column. */
static void sql_phone_norm(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  char *n = store_phone_norm((const char *)sqlite3_value_text(argv[0]));
  if (n != NULL)
    sqlite3_result_text(ctx, n, -1, g_free);
  else
    sqlite3_result_null(ctx);
}

static gboolean prepare_all(store_t *st, GError **err) {
  for (int i = 0; i < ST_N; i++) {
    if (sqlite3_prepare_v3(st->db, store_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
                           NULL) != SQLITE_OK) {
      g_set_error(err, STORE_ERROR, STORE_ERROR_SQLITE, "prepare \"%s\": %s", store_sql[i],
                  sqlite3_errmsg(st->db));
      return FALSE;
    }
  }
  return TRUE;
}

store_t *store_open(const char *path, GError **err) {
  g_return_val_if_fail(path != NULL, NULL);
  init_debug();
  store_t *st = g_new0(store_t, 1);
  st->path = g_strdup(path);
  GError *local = NULL;
  int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
    store_fail(st, &local, "open");
    goto error;
  }
  sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
  if (sqlite3_create_function(st->db, "tc_phone_norm", 1,
                              SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, NULL,
                              sql_phone_norm, NULL, NULL) != SQLITE_OK) {
    store_fail(st, &local, "register tc_phone_norm");
    goto error;
  }
  if (!set_pragmas(st, &local) || !store_schema_migrate(st->db, &local) || !prepare_all(st, &local))
    goto error;
  GST_INFO("opened %s (schema version %d)", path, STORE_SCHEMA_VERSION);
  return st;

error:
  g_prefix_error(&local, "%s: ", path);
  g_propagate_error(err, local);
  store_free(st);
  return NULL;
}

void store_free(store_t *st) {
  if (st == NULL)
    return;
  for (int i = 0; i < ST_N; i++)
    sqlite3_finalize(st->stmt[i]);
  if (sqlite3_close(st->db) != SQLITE_OK)
    GST_ERROR("close %s: %s", st->path, sqlite3_errmsg(st->db));
  g_free(st->path);
  g_free(st);
}

void store_set_busy_timeout(store_t *st, int ms) {
  g_return_if_fail(st != NULL);
  sqlite3_busy_timeout(st->db, ms);
}

void store_get_stats(const store_t *st, store_stats_t *out) {
  g_return_if_fail(st != NULL && out != NULL);
  *out = st->stats;
}

char *store_mask_name(const char *utf8) {
  if (utf8 == NULL)
    return g_strdup("**");
  char *valid = g_utf8_make_valid(utf8, -1);
  const char *p = valid;
  /* Leading blanks and control characters would make the mask show nothing. */
  while (*p != '\0' &&
         (g_unichar_isspace(g_utf8_get_char(p)) || g_unichar_iscntrl(g_utf8_get_char(p))))
    p = g_utf8_next_char(p);
  char *out =
      *p == '\0' ? g_strdup("**") : g_strdup_printf("%.*s**", (int)(g_utf8_next_char(p) - p), p);
  g_free(valid);
  return out;
}
