/* store_catalog.c — products (the store's catalogue, shared by every show)
 * and viewers (who they are, where they pick up, how to reach them).
 *
 * Stock moves here only when the leader sets it; orders take units in
 * store_orders.c. A viewer's token is a bearer secret made from getrandom().
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "ws/store_priv.h"

/* ---- products ---- */

void store_product_clear(store_product_t *p) {
  if (p == NULL)
    return;
  g_free(p->name);
  g_free(p->unit);
  g_free(p->image);
  memset(p, 0, sizeof(*p));
}

static gboolean product_valid(const store_product_t *p, GError **err) {
  const char *bad = NULL;
  if (p->name == NULL)
    bad = "product name is required";
  else if (p->id < 0)
    bad = "product id is negative";
  else if (p->price_cents < 0 || p->price_cents > STORE_PRICE_MAX)
    bad = "price out of range";
  else if (p->stock < 0 || p->stock > STORE_STOCK_MAX)
    bad = "stock out of range";
  else if (p->limit_per_buyer < 0 || p->limit_per_buyer > STORE_LIMIT_MAX)
    bad = "per-buyer limit out of range";
  if (bad != NULL)
    g_set_error_literal(err, STORE_ERROR, STORE_ERROR_INVALID, bad);
  return bad == NULL;
}

/* In the transaction: insert or update, then learn id and sold. */
static gboolean product_write(store_t *st, store_product_t *p, gint64 unix_ms, GError **err) {
  if (p->id == 0) {
    gint64 n = store_int_row(st, store_stmt(st, ST_PRODUCTS_COUNT), err, "products count");
    if (n < 0)
      return FALSE;
    if (n >= STORE_MAX_PRODUCTS) {
      g_set_error(err, STORE_ERROR, STORE_ERROR_INVALID,
                  "the catalogue holds %d products: change one instead", STORE_MAX_PRODUCTS);
      return FALSE;
    }
  }
  sqlite3_stmt *s = store_stmt(st, p->id == 0 ? ST_PRODUCT_INSERT : ST_PRODUCT_UPDATE);
  if (p->id != 0)
    sqlite3_bind_int64(s, 1, p->id);
  store_bind_text(s, 2, p->name);
  sqlite3_bind_int64(s, 3, p->price_cents);
  store_bind_text(s, 4, p->unit ? p->unit : "");
  sqlite3_bind_int64(s, 5, p->stock);
  sqlite3_bind_int64(s, 6, p->limit_per_buyer);
  sqlite3_bind_int(s, 7, p->on_sale ? 1 : 0);
  store_bind_text(s, 8, p->image);
  sqlite3_bind_int64(s, 9, unix_ms);
  int rc = sqlite3_step(s);
  gboolean ok = TRUE;
  if (p->id == 0 && rc == SQLITE_DONE) {
    p->id = sqlite3_last_insert_rowid(st->db);
    p->sold = 0;
  } else if (p->id != 0 && rc == SQLITE_ROW) {
    p->sold = sqlite3_column_int64(s, 0);
  } else if (p->id != 0 && rc == SQLITE_DONE) {
    ok = FALSE;
    g_set_error(err, STORE_ERROR, STORE_ERROR_NOT_FOUND, "no product %" G_GINT64_FORMAT, p->id);
  } else {
    ok = store_fail(st, err, "product put");
  }
  store_done(s);
  if (ok && p->on_sale)
    ok = store_show_products_on_sale(st, p->id, err);
  if (ok)
    p->updated_unix_ms = unix_ms;
  return ok;
}

gboolean store_product_put(store_t *st, store_product_t *p, gint64 unix_ms, GError **err) {
  g_return_val_if_fail(st != NULL && p != NULL, FALSE);
  if (!product_valid(p, err))
    return FALSE;
  gint64 id_before = p->id;
  if (!store_tx_begin(st, err))
    return FALSE;
  if (store_tx_end(st, product_write(st, p, unix_ms, err), err))
    return TRUE;
  p->id = id_before; /* a rolled-back insert created nothing */
  return FALSE;
}

static void product_from_row(sqlite3_stmt *s, store_product_t *out) {
  out->id = sqlite3_column_int64(s, 0);
  out->name = store_col_dup(s, 1);
  out->price_cents = sqlite3_column_int64(s, 2);
  out->unit = store_col_dup(s, 3);
  out->stock = sqlite3_column_int64(s, 4);
  out->sold = sqlite3_column_int64(s, 5);
  out->limit_per_buyer = sqlite3_column_int64(s, 6);
  out->on_sale = sqlite3_column_int(s, 7) != 0;
  out->image = store_col_dup(s, 8);
  out->updated_unix_ms = sqlite3_column_int64(s, 9);
}

gboolean store_product_get(store_t *st, gint64 id, store_product_t *out) {
  g_return_val_if_fail(st != NULL && out != NULL, FALSE);
  memset(out, 0, sizeof(*out));
  sqlite3_stmt *s = store_stmt(st, ST_PRODUCT_GET);
  sqlite3_bind_int64(s, 1, id);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    product_from_row(s, out);
  else if (rc != SQLITE_DONE)
    store_fail(st, NULL, "product get");
  store_done(s);
  return rc == SQLITE_ROW;
}

json_t *store_product_json(const store_product_t *p) {
  g_return_val_if_fail(p != NULL, NULL);
  return json_pack("{sI so sI so sI sI sI sb so}", "id", (json_int_t)p->id, "name",
                   store_json_text(p->name), "price_cents", (json_int_t)p->price_cents, "unit",
                   store_json_text(p->unit ? p->unit : ""), "stock", (json_int_t)p->stock, "sold",
                   (json_int_t)p->sold, "limit_per_buyer", (json_int_t)p->limit_per_buyer,
                   "on_sale", p->on_sale ? 1 : 0, "image", store_json_text(p->image));
}

static json_t *product_row_json(sqlite3_stmt *s) {
  store_product_t p = {0};
  product_from_row(s, &p);
  json_t *j = store_product_json(&p);
  store_product_clear(&p);
  return j;
}

json_t *store_products_json(store_t *st) {
  g_return_val_if_fail(st != NULL, NULL);
  return store_rows_json(st, store_stmt(st, ST_PRODUCTS_LIST), product_row_json, "products list");
}

/* ---- viewers ---- */

void store_viewer_clear(store_viewer_t *v) {
  if (v == NULL)
    return;
  g_free(v->token);
  g_free(v->name);
  g_free(v->pickup);
  g_free(v->phone);
  g_free(v->ref);
  memset(v, 0, sizeof(*v));
}

/* STORE_TOKEN_LEN characters of URL-safe base64 over 18 bytes of the
 * kernel's CSPRNG (144 bits: unguessable, and short enough for a cookie). */
static gboolean make_token(char out[STORE_TOKEN_LEN + 1], GError **err) {
  guint8 raw[STORE_TOKEN_LEN / 4 * 3];
  gsize have = 0;
  while (have < sizeof(raw)) {
    ssize_t n = getrandom(raw + have, sizeof(raw) - have, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      g_set_error(err, STORE_ERROR, STORE_ERROR_SQLITE, "getrandom: %s", g_strerror(errno));
      return FALSE;
    }
    have += (gsize)n;
  }
  char *b64 = g_base64_encode(raw, sizeof(raw));
  g_strdelimit(b64, "+", '-');
  g_strdelimit(b64, "/", '_');
  memcpy(out, b64, STORE_TOKEN_LEN);
  out[STORE_TOKEN_LEN] = '\0';
  g_free(b64);
  return TRUE;
}

/* In the transaction. A token collision (2^-144 per pair) is retried rather
 * than assumed away: *retry is set on a UNIQUE violation. */
static gboolean viewer_insert(store_t *st, const char *token, const char *name, const char *pickup,
                              const char *phone, const char *ref, gint64 unix_ms, gboolean *retry,
                              GError **err) {
  sqlite3_stmt *s = store_stmt(st, ST_VIEWER_INSERT);
  store_bind_text(s, 1, token);
  store_bind_text(s, 2, name);
  store_bind_text(s, 3, pickup);
  store_bind_text(s, 4, phone);
  store_bind_text(s, 5, ref);
  sqlite3_bind_int64(s, 6, unix_ms);
  int rc = sqlite3_step(s);
  *retry = rc == SQLITE_CONSTRAINT_UNIQUE;
  gboolean ok = rc == SQLITE_DONE || store_fail(st, err, "viewer create");
  store_done(s);
  return ok;
}

gboolean store_viewer_create(store_t *st, const char *name, const char *pickup, const char *phone,
                             const char *ref, gint64 unix_ms, store_viewer_t *out, GError **err) {
  g_return_val_if_fail(st != NULL && out != NULL, FALSE);
  memset(out, 0, sizeof(*out));
  if (name == NULL || pickup == NULL || phone == NULL) {
    g_set_error_literal(err, STORE_ERROR, STORE_ERROR_INVALID,
                        "viewer name, pickup and phone are required");
    return FALSE;
  }
  char token[STORE_TOKEN_LEN + 1];
  gboolean retry = TRUE;
  for (int attempt = 0; retry && attempt < 3; attempt++) {
    g_clear_error(err);
    if (!make_token(token, err) || !store_tx_begin(st, err))
      return FALSE;
    gboolean ok = viewer_insert(st, token, name, pickup, phone, ref, unix_ms, &retry, err);
    gint64 id = ok ? sqlite3_last_insert_rowid(st->db) : 0;
    if (store_tx_end(st, ok, err)) {
      if (store_viewer_by_id(st, id, out))
        return TRUE;
      return store_fail(st, err, "viewer read back");
    }
  }
  return FALSE;
}

gboolean store_viewer_update(store_t *st, gint64 viewer_id, const char *name, const char *pickup,
                             const char *phone, GError **err) {
  g_return_val_if_fail(st != NULL, FALSE);
  if (name == NULL || pickup == NULL || phone == NULL) {
    g_set_error_literal(err, STORE_ERROR, STORE_ERROR_INVALID,
                        "viewer name, pickup and phone are required");
    return FALSE;
  }
  if (!store_tx_begin(st, err))
    return FALSE;
  sqlite3_stmt *s = store_stmt(st, ST_VIEWER_UPDATE);
  sqlite3_bind_int64(s, 1, viewer_id);
  store_bind_text(s, 2, name);
  store_bind_text(s, 3, pickup);
  store_bind_text(s, 4, phone);
  gboolean ok = store_exec(st, s, err, "viewer update");
  if (ok && sqlite3_changes(st->db) == 0) {
    ok = FALSE;
    g_set_error(err, STORE_ERROR, STORE_ERROR_NOT_FOUND, "no viewer %" G_GINT64_FORMAT, viewer_id);
  }
  return store_tx_end(st, ok, err);
}

static gboolean viewer_lookup(store_t *st, sqlite3_stmt *s, store_viewer_t *out) {
  memset(out, 0, sizeof(*out));
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    out->id = sqlite3_column_int64(s, 0);
    out->token = store_col_dup(s, 1);
    out->name = store_col_dup(s, 2);
    out->pickup = store_col_dup(s, 3);
    out->phone = store_col_dup(s, 4);
    out->ref = store_col_dup(s, 5);
    out->created_unix_ms = sqlite3_column_int64(s, 6);
  } else if (rc != SQLITE_DONE) {
    store_fail(st, NULL, "viewer lookup");
  }
  store_done(s);
  return rc == SQLITE_ROW;
}

gboolean store_viewer_by_token(store_t *st, const char *token, store_viewer_t *out) {
  g_return_val_if_fail(st != NULL && out != NULL, FALSE);
  if (token == NULL) {
    memset(out, 0, sizeof(*out));
    return FALSE;
  }
  sqlite3_stmt *s = store_stmt(st, ST_VIEWER_BY_TOKEN);
  store_bind_text(s, 1, token);
  return viewer_lookup(st, s, out);
}

gboolean store_viewer_by_id(store_t *st, gint64 id, store_viewer_t *out) {
  g_return_val_if_fail(st != NULL && out != NULL, FALSE);
  sqlite3_stmt *s = store_stmt(st, ST_VIEWER_BY_ID);
  sqlite3_bind_int64(s, 1, id);
  return viewer_lookup(st, s, out);
}

char *store_viewer_masked(store_t *st, gint64 viewer_id, GError **err) {
  sqlite3_stmt *s = store_stmt(st, ST_VIEWER_NAME);
  sqlite3_bind_int64(s, 1, viewer_id);
  int rc = sqlite3_step(s);
  char *masked = NULL;
  if (rc == SQLITE_ROW)
    masked = store_mask_name((const char *)sqlite3_column_text(s, 0));
  else if (rc == SQLITE_DONE)
    g_set_error(err, STORE_ERROR, STORE_ERROR_NOT_FOUND, "no viewer %" G_GINT64_FORMAT, viewer_id);
  else
    store_fail(st, err, "viewer name");
  store_done(s);
  return masked;
}
