/* store_show.c — a show and its timeline: begin and end, the pin history,
 * and events, which every such write leaves behind in the same transaction.
 * Questions and answers are in store_questions.c.
 *
 * Events are public (the replay page reads them): they carry masked names,
 * never a phone number or a token, and store_event_add() refuses data that does.
 */
#include <string.h>

#include "ws/store_priv.h"

/* Deeper caller data than this is refused rather than walked. */
#define EVENT_DATA_MAX_DEPTH 32

/* ---- shared with the other store_*.c ---- */

store_show_state_t store_show_state(store_t *st, gint64 show_id, GError **err) {
  sqlite3_stmt *s = store_stmt(st, ST_SHOW_ENDED);
  sqlite3_bind_int64(s, 1, show_id);
  int rc = sqlite3_step(s);
  store_show_state_t state = STORE_SHOW_UNKNOWN;
  if (rc == SQLITE_ROW)
    state = sqlite3_column_int(s, 0) ? STORE_SHOW_ENDED : STORE_SHOW_OPEN;
  else if (rc == SQLITE_DONE)
    state = STORE_SHOW_MISSING;
  else
    store_fail(st, err, "show state");
  store_done(s);
  return state;
}

gboolean store_show_exists(store_t *st, gint64 show_id) {
  store_show_state_t state = store_show_state(st, show_id, NULL);
  return state == STORE_SHOW_OPEN || state == STORE_SHOW_ENDED;
}

gboolean store_show_require_open(store_t *st, gint64 show_id, GError **err) {
  switch (store_show_state(st, show_id, err)) {
    case STORE_SHOW_OPEN:
      return TRUE;
    case STORE_SHOW_MISSING:
      g_set_error(err, STORE_ERROR, STORE_ERROR_NOT_FOUND, "no show %" G_GINT64_FORMAT, show_id);
      return FALSE;
    case STORE_SHOW_ENDED:
      g_set_error(err, STORE_ERROR, STORE_ERROR_STATE, "show %" G_GINT64_FORMAT " has ended",
                  show_id);
      return FALSE;
    case STORE_SHOW_UNKNOWN:
      break;
  }
  return FALSE;
}

gboolean store_event_insert(store_t *st, gint64 show_id, const char *type, gint64 stream_ms,
                            gint64 unix_ms, json_t *data, GError **err) {
  char *text = data ? json_dumps(data, JSON_COMPACT) : NULL;
  sqlite3_stmt *s = store_stmt(st, ST_EVENT_INSERT);
  sqlite3_bind_int64(s, 1, show_id);
  store_bind_text(s, 2, type);
  sqlite3_bind_int64(s, 3, stream_ms);
  sqlite3_bind_int64(s, 4, unix_ms);
  store_bind_text(s, 5, text ? text : "{}");
  gboolean ok = store_exec(st, s, err, "event insert");
  free(text); /* jansson's allocator */
  return ok;
}

/* ---- shows ---- */

gboolean store_show_products_on_sale(store_t *st, gint64 product_id, GError **err) {
  sqlite3_stmt *s = store_stmt(st, ST_SHOW_PRODUCTS_ON_SALE);
  sqlite3_bind_int64(s, 1, product_id);
  return store_exec(st, s, err, "show products on sale");
}

static gboolean show_insert(store_t *st, const char *title, gint64 unix_ms, gint64 *id,
                            GError **err) {
  gint64 open = store_show_current(st);
  if (open != 0) {
    g_set_error(err, STORE_ERROR, STORE_ERROR_STATE,
                "show %" G_GINT64_FORMAT " is still open: end it first", open);
    return FALSE;
  }
  sqlite3_stmt *s = store_stmt(st, ST_SHOW_INSERT);
  store_bind_text(s, 1, title);
  sqlite3_bind_int64(s, 2, unix_ms);
  if (!store_exec(st, s, err, "show begin"))
    return FALSE;
  *id = sqlite3_last_insert_rowid(st->db);
  if (!store_show_products_on_sale(st, 0, err))
    return FALSE;
  json_t *data = json_pack("{so}", "title", store_json_text(title));
  gboolean ok = store_event_insert(st, *id, "show.begin", 0, unix_ms, data, err);
  json_decref(data);
  return ok;
}

gint64 store_show_begin(store_t *st, const char *title, gint64 unix_ms, GError **err) {
  g_return_val_if_fail(st != NULL, 0);
  if (title == NULL) {
    g_set_error_literal(err, STORE_ERROR, STORE_ERROR_INVALID, "show title is required");
    return 0;
  }
  gint64 id = 0;
  if (!store_tx_begin(st, err))
    return 0;
  return store_tx_end(st, show_insert(st, title, unix_ms, &id, err), err) ? id : 0;
}

gint64 store_show_current(store_t *st) {
  g_return_val_if_fail(st != NULL, 0);
  sqlite3_stmt *s = store_stmt(st, ST_SHOW_CURRENT);
  int rc = sqlite3_step(s);
  gint64 id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    store_fail(st, NULL, "show current");
  store_done(s);
  return id;
}

/* Runs `s` (its ?2 already bound) on show ?1 in a transaction. */
static gboolean show_update(store_t *st, sqlite3_stmt *s, gint64 show_id, GError **err) {
  sqlite3_bind_int64(s, 1, show_id);
  if (!store_tx_begin(st, err)) {
    store_done(s);
    return FALSE;
  }
  gboolean ok = store_exec(st, s, err, "show update");
  if (ok && sqlite3_changes(st->db) == 0) {
    g_set_error(err, STORE_ERROR, STORE_ERROR_NOT_FOUND, "no show %" G_GINT64_FORMAT, show_id);
    ok = FALSE;
  }
  return store_tx_end(st, ok, err);
}

gboolean store_show_set_epoch(store_t *st, gint64 show_id, gint64 epoch_unix_ms, GError **err) {
  g_return_val_if_fail(st != NULL, FALSE);
  sqlite3_stmt *s = store_stmt(st, ST_SHOW_SET_EPOCH);
  store_bind_opt(s, 2, epoch_unix_ms);
  return show_update(st, s, show_id, err);
}

gboolean store_show_set_promise(store_t *st, gint64 show_id, const char *promise, GError **err) {
  g_return_val_if_fail(st != NULL, FALSE);
  sqlite3_stmt *s = store_stmt(st, ST_SHOW_SET_PROMISE);
  store_bind_text(s, 2, promise);
  return show_update(st, s, show_id, err);
}

gboolean store_show_set_title(store_t *st, gint64 show_id, const char *title, GError **err) {
  g_return_val_if_fail(st != NULL && title != NULL, FALSE);
  sqlite3_stmt *s = store_stmt(st, ST_SHOW_SET_TITLE);
  store_bind_text(s, 2, title);
  return show_update(st, s, show_id, err);
}

gboolean store_show_end(store_t *st, gint64 show_id, gint64 stream_ms, gint64 unix_ms,
                        GError **err) {
  g_return_val_if_fail(st != NULL, FALSE);
  if (!store_tx_begin(st, err))
    return FALSE;
  gboolean ok = store_show_require_open(st, show_id, err);
  if (ok) {
    sqlite3_stmt *s = store_stmt(st, ST_SHOW_END);
    sqlite3_bind_int64(s, 1, show_id);
    sqlite3_bind_int64(s, 2, unix_ms);
    sqlite3_bind_int64(s, 3, stream_ms);
    ok = store_exec(st, s, err, "show end") &&
         store_event_insert(st, show_id, "show.end", stream_ms, unix_ms, NULL, err);
  }
  return store_tx_end(st, ok, err);
}

static json_t *show_from_row(sqlite3_stmt *s) {
  return json_pack(
      "{sI so sI so so so so so sI}", "id", (json_int_t)sqlite3_column_int64(s, 0), "title",
      store_json_col_text(s, 1), "started_unix_ms", (json_int_t)sqlite3_column_int64(s, 2),
      "ended_unix_ms", store_json_col_int(s, 3), "ended_stream_ms", store_json_col_int(s, 4),
      "epoch_unix_ms", store_json_col_int(s, 5), "promise", store_json_col_text(s, 6), "highlight",
      store_json_col_int(s, 7), "orders", (json_int_t)sqlite3_column_int64(s, 8));
}

json_t *store_show_json(store_t *st, gint64 show_id) {
  g_return_val_if_fail(st != NULL, NULL);
  sqlite3_stmt *s = store_stmt(st, ST_SHOW_GET);
  sqlite3_bind_int64(s, 1, show_id);
  json_t *arr = store_rows_json(st, s, show_from_row, "show get");
  json_t *show = arr ? json_incref(json_array_get(arr, 0)) : NULL;
  json_decref(arr);
  return show;
}

json_t *store_shows_json(store_t *st, gint64 before_id, int limit) {
  g_return_val_if_fail(st != NULL, NULL);
  sqlite3_stmt *s = store_stmt(st, ST_SHOWS_LIST);
  sqlite3_bind_int64(s, 1, before_id > 0 ? before_id : G_MAXINT64);
  sqlite3_bind_int(s, 2, MAX(limit, 0));
  return store_rows_json(st, s, show_from_row, "shows list");
}

/* ---- pins ---- */

/* The pin event keeps the product as it was on screen: a later rename or
 * price change must not rewrite the replay. */
static json_t *pin_data(store_t *st, gint64 product_id, GError **err) {
  if (product_id == 0)
    return json_pack("{sn}", "product_id");
  store_product_t p = {0};
  if (!store_product_get(st, product_id, &p)) {
    g_set_error(err, STORE_ERROR, STORE_ERROR_NOT_FOUND, "no product %" G_GINT64_FORMAT,
                product_id);
    return NULL;
  }
  json_t *data =
      json_pack("{sI so sI so}", "product_id", (json_int_t)p.id, "name", store_json_text(p.name),
                "price_cents", (json_int_t)p.price_cents, "unit", store_json_text(p.unit));
  store_product_clear(&p);
  return data;
}

static gboolean pin_write(store_t *st, gint64 show_id, gint64 product_id, gint64 stream_ms,
                          gint64 unix_ms, GError **err) {
  if (!store_show_require_open(st, show_id, err))
    return FALSE;
  json_t *data = pin_data(st, product_id, err);
  if (data == NULL)
    return FALSE;
  sqlite3_stmt *s = store_stmt(st, ST_PIN_INSERT);
  sqlite3_bind_int64(s, 1, show_id);
  sqlite3_bind_int64(s, 2, stream_ms);
  if (product_id != 0)
    sqlite3_bind_int64(s, 3, product_id);
  else
    sqlite3_bind_null(s, 3);
  sqlite3_bind_int64(s, 4, unix_ms);
  gboolean ok = store_exec(st, s, err, "pin") &&
                store_event_insert(st, show_id, "pin", stream_ms, unix_ms, data, err);
  if (ok && product_id != 0) { /* a pinned product is on sale in the show */
    s = store_stmt(st, ST_SHOW_PRODUCT_ADD);
    sqlite3_bind_int64(s, 1, show_id);
    sqlite3_bind_int64(s, 2, product_id);
    ok = store_exec(st, s, err, "show product");
  }
  json_decref(data);
  return ok;
}

gboolean store_pin(store_t *st, gint64 show_id, gint64 product_id, gint64 stream_ms, gint64 unix_ms,
                   GError **err) {
  g_return_val_if_fail(st != NULL, FALSE);
  if (!store_tx_begin(st, err))
    return FALSE;
  return store_tx_end(st, pin_write(st, show_id, product_id, stream_ms, unix_ms, err), err);
}

gint64 store_pinned_at(store_t *st, gint64 show_id, gint64 stream_ms) {
  g_return_val_if_fail(st != NULL, 0);
  sqlite3_stmt *s = store_stmt(st, ST_PIN_AT);
  sqlite3_bind_int64(s, 1, show_id);
  sqlite3_bind_int64(s, 2, stream_ms);
  int rc = sqlite3_step(s);
  gint64 id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0; /* NULL (unpin) reads as 0 */
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    store_fail(st, NULL, "pinned at");
  store_done(s);
  return id;
}

static json_t *pin_from_row(sqlite3_stmt *s) {
  return json_pack("{so sI}", "product_id", store_json_col_int(s, 0), "stream_ms",
                   (json_int_t)sqlite3_column_int64(s, 1));
}

json_t *store_pins_recent_json(store_t *st, gint64 show_id, int n) {
  g_return_val_if_fail(st != NULL, NULL);
  sqlite3_stmt *s = store_stmt(st, ST_PINS_RECENT);
  sqlite3_bind_int64(s, 1, show_id);
  sqlite3_bind_int(s, 2, n);
  json_t *newest_first = store_rows_json(st, s, pin_from_row, "recent pins");
  if (newest_first == NULL)
    return NULL;
  json_t *out = json_array(); /* oldest first, as they happened */
  for (gsize i = json_array_size(newest_first); i > 0; i--)
    json_array_append(out, json_array_get(newest_first, i - 1));
  json_decref(newest_first);
  return out;
}

/* ---- events ---- */

static gboolean is_secret_key(const char *key) {
  return g_ascii_strcasecmp(key, "phone") == 0 || g_ascii_strcasecmp(key, "token") == 0 ||
         g_ascii_strcasecmp(key, "viewer_token") == 0;
}

/* TRUE if `j` holds a secret member, or nests too deep to tell cheaply. */
static gboolean has_secret(json_t *j, int depth) {
  if (depth > EVENT_DATA_MAX_DEPTH)
    return TRUE;
  const char *key;
  json_t *v;
  size_t i;
  if (json_is_object(j)) {
    json_object_foreach(j, key, v) {
      if (is_secret_key(key) || has_secret(v, depth + 1))
        return TRUE;
    }
  } else if (json_is_array(j)) {
    json_array_foreach(j, i, v) {
      if (has_secret(v, depth + 1))
        return TRUE;
    }
  }
  return FALSE;
}

/* In the transaction: events may be added to an ended show (a late
 * "leave"), never to a missing one. */
static gboolean show_exists(store_t *st, gint64 show_id, GError **err) {
  store_show_state_t state = store_show_state(st, show_id, err);
  if (state == STORE_SHOW_MISSING)
    g_set_error(err, STORE_ERROR, STORE_ERROR_NOT_FOUND, "no show %" G_GINT64_FORMAT, show_id);
  return state == STORE_SHOW_OPEN || state == STORE_SHOW_ENDED;
}

gboolean store_event_add(store_t *st, gint64 show_id, const char *type, gint64 stream_ms,
                         gint64 unix_ms, json_t *data, GError **err) {
  g_return_val_if_fail(st != NULL, FALSE);
  const char *bad = NULL;
  if (type == NULL || type[0] == '\0')
    bad = "event type is required";
  else if (data != NULL && !json_is_object(data))
    bad = "event data must be a JSON object";
  else if (data != NULL && has_secret(data, 0))
    bad = "event data must not carry a phone number or a token (events are public)";
  if (bad != NULL) {
    g_set_error_literal(err, STORE_ERROR, STORE_ERROR_INVALID, bad);
    return FALSE;
  }
  if (!store_tx_begin(st, err))
    return FALSE;
  gboolean ok = show_exists(st, show_id, err) &&
                store_event_insert(st, show_id, type, stream_ms, unix_ms, data, err);
  return store_tx_end(st, ok, err);
}

gboolean store_event_viewer(store_t *st, gint64 show_id, const char *type, gint64 viewer_id,
                            gint64 stream_ms, gint64 unix_ms, GError **err) {
  g_return_val_if_fail(st != NULL, FALSE);
  if (type == NULL || type[0] == '\0') {
    g_set_error_literal(err, STORE_ERROR, STORE_ERROR_INVALID, "event type is required");
    return FALSE;
  }
  if (!store_tx_begin(st, err))
    return FALSE;
  char *name = NULL;
  gboolean ok =
      show_exists(st, show_id, err) && (name = store_viewer_masked(st, viewer_id, err)) != NULL;
  if (ok) {
    json_t *data = json_pack("{sI ss}", "viewer_id", (json_int_t)viewer_id, "name", name);
    ok = store_event_insert(st, show_id, type, stream_ms, unix_ms, data, err);
    json_decref(data);
  }
  g_free(name);
  return store_tx_end(st, ok, err);
}

static json_t *event_from_row(sqlite3_stmt *s) {
  const char *text = (const char *)sqlite3_column_text(s, 4);
  json_t *data = text ? json_loads(text, 0, NULL) : NULL;
  if (!json_is_object(data)) { /* the CHECK keeps it valid JSON; be safe anyway */
    json_decref(data);
    data = json_object();
  }
  return json_pack("{sI so sI sI so}", "id", (json_int_t)sqlite3_column_int64(s, 0), "type",
                   store_json_col_text(s, 1), "stream_ms", (json_int_t)sqlite3_column_int64(s, 2),
                   "unix_ms", (json_int_t)sqlite3_column_int64(s, 3), "data", data);
}

json_t *store_events_json(store_t *st, gint64 show_id, gint64 after_ms, gint64 after_id,
                          int limit) {
  g_return_val_if_fail(st != NULL, NULL);
  sqlite3_stmt *s = store_stmt(st, ST_EVENTS_LIST);
  sqlite3_bind_int64(s, 1, show_id);
  sqlite3_bind_int64(s, 2, after_ms < 0 ? G_MININT64 : after_ms);
  sqlite3_bind_int64(s, 3, after_ms < 0 ? G_MININT64 : after_id);
  sqlite3_bind_int(s, 4, MAX(limit, 0));
  return store_rows_json(st, s, event_from_row, "events list");
}

/* ---- between shows ---- */

gboolean store_show_previous(store_t *st, char **title, char **promise) {
  g_return_val_if_fail(st != NULL && title != NULL && promise != NULL, FALSE);
  *title = *promise = NULL;
  sqlite3_stmt *s = store_stmt(st, ST_SHOW_PREVIOUS);
  gboolean ok = sqlite3_step(s) == SQLITE_ROW;
  if (ok) {
    *title = g_strdup((const char *)sqlite3_column_text(s, 0));
    *promise = g_strdup((const char *)sqlite3_column_text(s, 1));
  }
  sqlite3_reset(s);
  return ok;
}

gint64 store_show_last_ended(store_t *st) {
  g_return_val_if_fail(st != NULL, 0);
  sqlite3_stmt *s = store_stmt(st, ST_SHOW_LAST_ENDED);
  gint64 id = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
  sqlite3_reset(s);
  return id;
}

json_t *store_setting_get(store_t *st, const char *key) {
  g_return_val_if_fail(st != NULL && key != NULL, NULL);
  sqlite3_stmt *s = store_stmt(st, ST_SETTING_GET);
  store_bind_text(s, 1, key);
  json_t *v = NULL;
  if (sqlite3_step(s) == SQLITE_ROW)
    v = json_loads((const char *)sqlite3_column_text(s, 0), 0, NULL);
  sqlite3_reset(s);
  return v;
}

gboolean store_setting_put(store_t *st, const char *key, const json_t *value, GError **err) {
  g_return_val_if_fail(st != NULL && key != NULL, FALSE);
  sqlite3_stmt *s = store_stmt(st, value ? ST_SETTING_PUT : ST_SETTING_DELETE);
  store_bind_text(s, 1, key);
  char *text = value ? json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  if (value != NULL)
    store_bind_text(s, 2, text);
  gboolean ok = store_exec(st, s, err, "setting");
  free(text);
  return ok;
}
