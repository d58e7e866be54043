/* store_orders.c — orders with group commit (many orders, one transaction,
 * one fsync), and reading them back. With synchronous=FULL each commit waits
 * for the disk, so the control loop hands over every order of one loop
 * iteration; they are decided in arrival order inside one BEGIN IMMEDIATE ...
 * COMMIT and acknowledged after it. Nothing is OK unless that COMMIT succeeded.
 */
#include <string.h>

#include "ws/store_priv.h"

/* What one batch remembers between its requests: the state of the show it
 * last checked (a show cannot open or end in the middle of a batch). */
typedef struct {
  gint64 show_id;
  store_show_state_t state;
} batch_t;

/* The product fields an order decision needs. */
typedef struct {
  gboolean exists, on_sale;
  gint64 price_cents, limit_per_buyer, stock, sold;
} product_row_t;

const char *store_order_status_name(store_order_status_t status) {
  static const char *const names[STORE_ORDER_N_STATUS] = {
      [STORE_ORDER_ERROR] = "error",
      [STORE_ORDER_OK] = "ok",
      [STORE_ORDER_DUPLICATE] = "duplicate",
      [STORE_ORDER_INVALID] = "invalid",
      [STORE_ORDER_NOT_ON_SALE] = "not_on_sale",
      [STORE_ORDER_OVER_LIMIT] = "over_limit",
      [STORE_ORDER_SOLD_OUT] = "sold_out",
      [STORE_ORDER_NO_SHOW] = "no_show",
  };
  if ((int)status < 0 || status >= STORE_ORDER_N_STATUS)
    return "error";
  return names[status];
}

/* 1 and the original order in `res` if the viewer used `key` before, 0 if
 * not, -1 on a database error. */
static int find_duplicate(store_t *st, const store_order_req_t *r, store_order_res_t *res,
                          GError **err) {
  sqlite3_stmt *s = store_stmt(st, ST_ORDER_FIND);
  sqlite3_bind_int64(s, 1, r->viewer_id);
  store_bind_text(s, 2, r->key);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    res->order_id = sqlite3_column_int64(s, 0);
    res->product_id = sqlite3_column_int64(s, 1);
    res->qty = sqlite3_column_int64(s, 2);
    res->stream_ms = sqlite3_column_int64(s, 3);
    res->price_cents = sqlite3_column_int64(s, 4);
  } else if (rc != SQLITE_DONE) {
    store_fail(st, err, "order find");
  }
  store_done(s);
  return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static gboolean product_row(store_t *st, gint64 product_id, product_row_t *p, GError **err) {
  memset(p, 0, sizeof(*p));
  sqlite3_stmt *s = store_stmt(st, ST_PRODUCT_GET);
  sqlite3_bind_int64(s, 1, product_id);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    p->exists = TRUE;
    p->price_cents = sqlite3_column_int64(s, 2);
    p->stock = sqlite3_column_int64(s, 4);
    p->sold = sqlite3_column_int64(s, 5);
    p->limit_per_buyer = sqlite3_column_int64(s, 6);
    p->on_sale = sqlite3_column_int(s, 7) != 0;
  } else if (rc != SQLITE_DONE) {
    store_fail(st, err, "order product");
  }
  store_done(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

/* 1 if the product was on sale while the request's show was open, 0 if
 * not, -1 on a database error. */
static int sold_in_show(store_t *st, const store_order_req_t *r, GError **err) {
  sqlite3_stmt *s = store_stmt(st, ST_SHOW_PRODUCT_HAS);
  sqlite3_bind_int64(s, 1, r->show_id);
  sqlite3_bind_int64(s, 2, r->product_id);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    store_fail(st, err, "order show product");
  store_done(s);
  return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Units of the product the person (every viewer with the viewer's phone)
 * already ordered in this show, live and replay, or -1. */
static gint64 ordered_qty(store_t *st, const store_order_req_t *r, GError **err) {
  sqlite3_stmt *s = store_stmt(st, ST_ORDER_QTY_SUM);
  sqlite3_bind_int64(s, 1, r->show_id);
  sqlite3_bind_int64(s, 2, r->viewer_id);
  sqlite3_bind_int64(s, 3, r->product_id);
  return store_int_row(st, s, err, "order qty sum");
}

/* The conditional decrement: 1 taken (res gets the new stock and sold),
 * 0 not enough left, -1 on a database error. `p` was read in this
 * transaction, which holds the write lock, so p + the change is the row now. */
static int take_stock(store_t *st, const store_order_req_t *r, const product_row_t *p,
                      store_order_res_t *res, GError **err) {
  sqlite3_stmt *s = store_stmt(st, ST_PRODUCT_TAKE);
  sqlite3_bind_int64(s, 1, r->product_id);
  sqlite3_bind_int64(s, 2, r->qty);
  int rc = sqlite3_step(s);
  int taken = rc == SQLITE_DONE ? sqlite3_changes(st->db) == 1 : -1;
  if (taken < 0)
    store_fail(st, err, "order take stock");
  store_done(s);
  if (taken == 1) {
    res->stock = p->stock - r->qty;
    res->sold = p->sold + r->qty;
  }
  return taken;
}

static gboolean insert_order(store_t *st, const store_order_req_t *r, const product_row_t *p,
                             const char *masked, store_order_res_t *res, GError **err) {
  gint64 seen_product = r->seen_ms >= 0 ? store_pinned_at(st, r->show_id, r->seen_ms) : 0;
  sqlite3_stmt *s = store_stmt(st, ST_ORDER_INSERT);
  sqlite3_bind_int64(s, 1, r->show_id);
  sqlite3_bind_int64(s, 2, r->viewer_id);
  sqlite3_bind_int64(s, 3, r->product_id);
  sqlite3_bind_int64(s, 4, r->qty);
  store_bind_text(s, 5, r->key);
  sqlite3_bind_int64(s, 6, p->price_cents);
  store_bind_opt(s, 7, r->seen_ms);
  store_bind_opt(s, 8, seen_product > 0 ? seen_product : -1);
  sqlite3_bind_int64(s, 9, r->stream_ms);
  sqlite3_bind_int64(s, 10, r->unix_ms);
  if (!store_exec(st, s, err, "order insert"))
    return FALSE;
  res->order_id = sqlite3_last_insert_rowid(st->db);
  res->price_cents = p->price_cents;
  json_t *data = json_pack(
      "{sI sI ss sI sI so so}", "order_id", (json_int_t)res->order_id, "viewer_id",
      (json_int_t)r->viewer_id, "name", masked, "product_id", (json_int_t)r->product_id, "qty",
      (json_int_t)r->qty, "seen_ms", r->seen_ms >= 0 ? json_integer(r->seen_ms) : json_null(),
      "seen_product_id", seen_product > 0 ? json_integer(seen_product) : json_null());
  gboolean ok = store_event_insert(st, r->show_id, "order", r->stream_ms, r->unix_ms, data, err);
  json_decref(data);
  return ok;
}

/* Checks that need no product: the request's own fields, its show and its
 * viewer. Returns OK to go on, a rejection, or ERROR. *masked gets the
 * viewer's masked name for the event. */
static store_order_status_t check_request(store_t *st, batch_t *b, const store_order_req_t *r,
                                          char **masked, GError **err) {
  if (r->key == NULL || r->qty < STORE_QTY_MIN || r->qty > STORE_QTY_MAX)
    return STORE_ORDER_INVALID;
  if (b->show_id != r->show_id || b->state == STORE_SHOW_UNKNOWN) {
    b->show_id = r->show_id;
    b->state = store_show_state(st, r->show_id, err);
  }
  if (b->state == STORE_SHOW_UNKNOWN)
    return STORE_ORDER_ERROR;
  if (b->state == STORE_SHOW_MISSING)
    return STORE_ORDER_INVALID;
  GError *local = NULL;
  *masked = store_viewer_masked(st, r->viewer_id, &local);
  if (*masked == NULL) {
    gboolean missing = g_error_matches(local, STORE_ERROR, STORE_ERROR_NOT_FOUND);
    if (missing)
      g_error_free(local);
    else
      g_propagate_error(err, local);
    return missing ? STORE_ORDER_INVALID : STORE_ORDER_ERROR;
  }
  return STORE_ORDER_OK;
}

/* Decides one request inside the batch's transaction; ERROR means the
 * database failed and the whole batch must roll back. */
static store_order_status_t order_one(store_t *st, batch_t *b, const store_order_req_t *r,
                                      store_order_res_t *res, GError **err) {
  *res = (store_order_res_t){.product_id = r->product_id,
                             .qty = r->qty,
                             .stream_ms = r->stream_ms,
                             .stock = -1,
                             .sold = -1};
  product_row_t p;
  int dup = r->key ? find_duplicate(st, r, res, err) : 0;
  if (dup != 0) {
    if (dup < 0 || !product_row(st, res->product_id, &p, err))
      return STORE_ORDER_ERROR;
    res->stock = p.stock;
    res->sold = p.sold;
    return STORE_ORDER_DUPLICATE;
  }
  char *masked = NULL;
  store_order_status_t status = check_request(st, b, r, &masked, err);
  if (status == STORE_ORDER_OK && !product_row(st, r->product_id, &p, err))
    status = STORE_ORDER_ERROR;
  if (status == STORE_ORDER_OK && p.exists) {
    res->stock = p.stock;
    res->sold = p.sold;
  }
  if (status == STORE_ORDER_OK && b->state == STORE_SHOW_ENDED && !r->replay)
    status = STORE_ORDER_NO_SHOW;
  if (status == STORE_ORDER_OK && (!p.exists || !p.on_sale))
    status = STORE_ORDER_NOT_ON_SALE;
  if (status == STORE_ORDER_OK && r->replay) {
    int sold_there = sold_in_show(st, r, err);
    status = sold_there < 0 ? STORE_ORDER_ERROR : sold_there ? status : STORE_ORDER_NOT_ON_SALE;
  }
  if (status == STORE_ORDER_OK && p.limit_per_buyer > 0) {
    gint64 before = ordered_qty(st, r, err);
    if (before < 0)
      status = STORE_ORDER_ERROR;
    else if (before + r->qty > p.limit_per_buyer)
      status = STORE_ORDER_OVER_LIMIT;
  }
  if (status == STORE_ORDER_OK) {
    int taken = take_stock(st, r, &p, res, err);
    if (taken < 0 || (taken == 1 && !insert_order(st, r, &p, masked, res, err)))
      status = STORE_ORDER_ERROR;
    else if (taken == 0)
      status = STORE_ORDER_SOLD_OUT;
  }
  g_free(masked);
  return status;
}

gboolean store_order_batch(store_t *st, const store_order_req_t *reqs, gsize n,
                           store_order_res_t *out, GError **err) {
  g_return_val_if_fail(st != NULL && (n == 0 || (reqs != NULL && out != NULL)), FALSE);
  if (n == 0)
    return TRUE;
  memset(out, 0, n * sizeof(*out));
  guint64 tally[STORE_ORDER_N_STATUS] = {0};
  batch_t b = {.show_id = 0, .state = STORE_SHOW_UNKNOWN};
  gboolean ok = store_tx_begin(st, err);
  for (gsize i = 0; ok && i < n; i++) {
    out[i].status = order_one(st, &b, &reqs[i], &out[i], err);
    ok = out[i].status != STORE_ORDER_ERROR;
    tally[out[i].status]++;
  }
  if (!store_tx_end(st, ok, err)) {
    /* Rolled back: whatever was decided is void, and must not be acknowledged. */
    memset(out, 0, n * sizeof(*out));
    GST_WARNING("order batch of %" G_GSIZE_FORMAT " rolled back", n);
    return FALSE;
  }
  st->stats.order_batches++;
  for (int i = 0; i < STORE_ORDER_N_STATUS; i++)
    st->stats.orders[i] += tally[i];
  return TRUE;
}

/* ---- reading orders back ---- */

static json_t *viewer_order_from_row(sqlite3_stmt *s) {
  return json_pack(
      "{sI sI sI sI so sI so sI sb}", "order_id", (json_int_t)sqlite3_column_int64(s, 0),
      "product_id", (json_int_t)sqlite3_column_int64(s, 1), "qty",
      (json_int_t)sqlite3_column_int64(s, 2), "stream_ms", (json_int_t)sqlite3_column_int64(s, 3),
      "key", store_json_col_text(s, 4), "price_cents", (json_int_t)sqlite3_column_int64(s, 5),
      "seen_ms", store_json_col_int(s, 6), "created_unix_ms",
      (json_int_t)sqlite3_column_int64(s, 7), "replay", sqlite3_column_int64(s, 8) != 0);
}

json_t *store_viewer_orders_json(store_t *st, gint64 show_id, gint64 viewer_id, int limit) {
  g_return_val_if_fail(st != NULL, NULL);
  sqlite3_stmt *s = store_stmt(st, ST_ORDERS_OF_VIEWER);
  sqlite3_bind_int64(s, 1, show_id);
  sqlite3_bind_int64(s, 2, viewer_id);
  sqlite3_bind_int(s, 3, MAX(limit, 0));
  return store_rows_json_newest(st, s, viewer_order_from_row, "viewer orders");
}

static json_t *leader_order_from_row(sqlite3_stmt *s) {
  json_t *o = viewer_order_from_row(s);
  json_t *more = json_pack(
      "{sI so so so so so so sI sI}", "viewer_id", (json_int_t)sqlite3_column_int64(s, 9), "name",
      store_json_col_text(s, 10), "pickup", store_json_col_text(s, 11), "phone",
      store_json_col_text(s, 12), "seen_product_id", store_json_col_int(s, 13), "product_name",
      store_json_col_text(s, 14), "unit", store_json_col_text(s, 15), "unix_ms",
      (json_int_t)sqlite3_column_int64(s, 7), "show_id", (json_int_t)sqlite3_column_int64(s, 16));
  /* One person, however many viewer tokens they used (the same phone). */
  json_object_set_new(o, "person_id", json_integer(sqlite3_column_int64(s, 17)));
  json_object_update(o, more);
  json_decref(more);
  return o;
}

json_t *store_orders_json(store_t *st, gint64 show_id, gint64 before_id, int limit) {
  g_return_val_if_fail(st != NULL, NULL);
  sqlite3_stmt *s = store_stmt(st, ST_ORDERS_OF_SHOW);
  sqlite3_bind_int64(s, 1, show_id);
  sqlite3_bind_int64(s, 2, before_id > 0 ? before_id : G_MAXINT64);
  sqlite3_bind_int(s, 3, MAX(limit, 0));
  return store_rows_json_newest(st, s, leader_order_from_row, "show orders");
}

gint64 store_orders_count(store_t *st, gint64 show_id, gint64 viewer_id) {
  g_return_val_if_fail(st != NULL, -1);
  sqlite3_stmt *s = store_stmt(st, viewer_id ? ST_ORDERS_COUNT_OF_VIEWER : ST_ORDERS_COUNT);
  sqlite3_bind_int64(s, 1, show_id);
  if (viewer_id)
    sqlite3_bind_int64(s, 2, viewer_id);
  return store_int_row(st, s, NULL, "orders count");
}

gboolean store_show_totals(store_t *st, gint64 show_id, store_show_totals_t *out) {
  g_return_val_if_fail(st != NULL && out != NULL, FALSE);
  memset(out, 0, sizeof *out);
  sqlite3_stmt *s = store_stmt(st, ST_SHOW_TOTALS);
  sqlite3_bind_int64(s, 1, show_id);
  gboolean ok = sqlite3_step(s) == SQLITE_ROW;
  if (ok) {
    out->gmv_cents = sqlite3_column_int64(s, 0);
    out->buyers = sqlite3_column_int64(s, 1);
    out->replay_orders = sqlite3_column_int64(s, 2);
  }
  sqlite3_reset(s);
  return ok;
}
