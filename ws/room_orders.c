/* room_orders.c — orders: queued per loop iteration, committed together, then acknowledged.
 *
 * Orders that arrive while the loop works through its ready sockets are
 * queued; a zero-delay source at the sockets' priority commits them in one
 * transaction on the next iteration (group commit: one fsync for the lot,
 * and an idle source could starve under constant load). Only after COMMIT
 * does anyone hear of them: order.ok to the buyer, order.new to the leader,
 * and, coalesced, stock and the ticker to everyone.
 */
#include <string.h>

#include "ws/room_priv.h"

const char *room_product_name(room_t *r, gint64 id) {
  const char *name = g_hash_table_lookup(r->product_names, &id);
  if (name != NULL)
    return name;
  store_product_t p = {0};
  if (!store_product_get(r->store, id, &p))
    return NULL;
  room_product_renamed(r, id, p.name);
  store_product_clear(&p);
  return g_hash_table_lookup(r->product_names, &id);
}

void room_product_renamed(room_t *r, gint64 id, const char *name) {
  gint64 *key = g_new(gint64, 1);
  *key = id;
  g_hash_table_replace(r->product_names, key, g_strdup(name ? name : ""));
}

void room_ticker_reset(room_t *r) {
  json_t *t;
  while ((t = g_queue_pop_head(&r->ticker)) != NULL)
    json_decref(t);
}

void pending_order_clear(pending_order_t *o) {
  g_free(o->key);
  g_free(o->ref);
}

static gboolean on_commit(gpointer data) {
  room_t *r = data;
  r->commit_source = 0;
  room_orders_flush(r);
  return G_SOURCE_REMOVE;
}

/* The next group commit in `ms` (0: the next loop iteration), unless one is
 * already due. */
static void schedule_commit(room_t *r, guint ms) {
  if (r->commit_source != 0)
    return;
  GSource *src = g_timeout_source_new(ms);
  g_source_set_callback(src, on_commit, r, NULL);
  r->commit_source = g_source_attach(src, NULL);
  g_source_unref(src);
}

void room_order_enqueue(room_t *r, session_t *s, const proto_msg_t *m) {
  pending_order_t o = {
      .conn = s->id,
      .viewer_id = s->viewer_id,
      .product_id = m->u.order.product_id,
      .qty = m->u.order.qty,
      .seen_ms = m->u.order.seen_ms,
      .show_id = m->u.order.show_id,
      .key = g_strdup(m->u.order.key),
      .ref = g_strdup(m->ref),
  };
  /* Naming a show other than the open one is buying from its replay. */
  o.replay = o.show_id != 0 && o.show_id != store_show_current(r->store);
  g_array_append_val(r->pending, o);
  schedule_commit(r, 0);
}

static json_t *ok_json(const pending_order_t *o, const store_order_res_t *res) {
  json_t *j =
      json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "type", "order.ok", "key", o->key, "order_id",
                (json_int_t)res->order_id, "product_id", (json_int_t)res->product_id, "qty",
                (json_int_t)res->qty, "stream_ms", (json_int_t)res->stream_ms);
  if (o->ref)
    json_object_set_new(j, "ref", json_string(o->ref));
  return j;
}

static json_t *rejected_json(const pending_order_t *o, const store_order_res_t *res) {
  json_t *j = json_pack("{s:s, s:s, s:s}", "type", "order.rejected", "key", o->key, "reason",
                        store_order_status_name(res->status));
  if (o->ref)
    json_object_set_new(j, "ref", json_string(o->ref));
  return j;
}

/* The leader's order list carries who, where and at what price: leader
 * only, and coalesced like the rest, so a flash sale is a few frames, not
 * thousands. Replay orders of earlier shows come too, marked. */
static void leader_order(room_t *r, const pending_order_t *o, const store_order_res_t *res,
                         const session_t *s) {
  const char *name = room_product_name(r, res->product_id);
  json_t *order = json_pack(
      "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:s, s:I}", "order_id", (json_int_t)res->order_id,
      "viewer_id", (json_int_t)o->viewer_id, "product_id", (json_int_t)res->product_id, "qty",
      (json_int_t)res->qty, "stream_ms", (json_int_t)res->stream_ms, "show_id",
      (json_int_t)o->show_id, "price_cents", (json_int_t)res->price_cents, "replay", o->replay,
      "product_name", name ? name : "", "created_unix_ms", (json_int_t)(g_get_real_time() / 1000));
  if (s != NULL) {
    json_object_set_new(order, "name", json_string(s->name));
    json_object_set_new(order, "pickup", json_string(s->pickup));
    json_object_set_new(order, "phone", json_string(s->phone));
  }
  json_array_append_new(r->leader_orders, order);
}

/* What everyone hears of a committed order, coalesced: the product's latest
 * stock replaces any earlier one not yet sent; the ticker keeps the newest. */
static void note_committed(room_t *r, const pending_order_t *o, const store_order_res_t *res) {
  /* A buyer who left before the commit still has the order stored (it was
   * sent); only the acknowledgement has nowhere to go. */
  session_t *s = g_hash_table_lookup(r->sessions, &o->conn);
  if (res->stock >= 0) {
    gint64 *key = g_new(gint64, 1);
    *key = res->product_id;
    g_hash_table_replace(r->dirty_stock, key,
                         json_pack("{s:s, s:I, s:I, s:I}", "type", "stock", "product_id",
                                   (json_int_t)res->product_id, "stock", (json_int_t)res->stock,
                                   "sold", (json_int_t)res->sold));
  }
  if (res->status != STORE_ORDER_OK)
    return;
  leader_order(r, o, res, s);
  if (o->replay)
    return; /* the live ticker is the open show's */
  const char *masked = s && s->masked ? s->masked : "**";
  room_overlay_ticker_push(r, masked, res->product_id, res->qty);
  g_queue_push_tail(&r->ticker, json_pack("{s:s, s:s, s:I, s:I}", "type", "ordered", "name", masked,
                                          "product_id", (json_int_t)res->product_id, "qty",
                                          (json_int_t)res->qty));
  while (g_queue_get_length(&r->ticker) > ROOM_TICKER_PER_FLUSH)
    json_decref(g_queue_pop_head(&r->ticker));
}

/* Whether a batch that found the database locked may be tried again:
 * not once its first order has been trying for ROOM_BUSY_GIVE_UP_MS. */
static gboolean may_retry(const pending_order_t *orders) {
  return orders[0].first_try_us == 0 ||
         g_get_monotonic_time() - orders[0].first_try_us <= (gint64)ROOM_BUSY_GIVE_UP_MS * 1000;
}

/* Orders that found the database locked go back to the front of the queue,
 * in their order (copied: the flush frees its own), to be tried again
 * shortly. */
static void put_back(room_t *r, const pending_order_t *orders, gsize n) {
  gint64 now = g_get_monotonic_time();
  GArray *back = g_array_sized_new(FALSE, FALSE, sizeof(pending_order_t), n + r->pending->len);
  for (gsize i = 0; i < n; i++) {
    pending_order_t o = orders[i];
    if (o.first_try_us == 0)
      o.first_try_us = now;
    o.key = g_strdup(o.key);
    o.ref = g_strdup(o.ref);
    g_array_append_val(back, o);
  }
  g_array_append_vals(back, r->pending->data, r->pending->len); /* their strings move too */
  g_array_free(r->pending, TRUE);
  r->pending = back;
  r->stats.store_retries++;
}

/* `orders` all have their show (the open one filled in). TRUE if the
 * database was busy and the batch may be tried again: nothing was
 * answered, and the caller puts it back with the batches after it. */
static gboolean commit_batch(room_t *r, const pending_order_t *orders, gsize n) {
  store_order_req_t *reqs = g_new0(store_order_req_t, n);
  store_order_res_t *res = g_new0(store_order_res_t, n);
  gint64 stream_ms = room_now_stream_ms(r), unix_ms = g_get_real_time() / 1000;
  for (gsize i = 0; i < n; i++) {
    const pending_order_t *o = &orders[i];
    /* A replay order sits on its show's timeline where the viewer watched. */
    gint64 at = o->replay ? MAX(o->seen_ms, 0) : stream_ms;
    reqs[i] = (store_order_req_t){o->show_id, o->viewer_id, o->product_id, o->qty,   o->key,
                                  o->seen_ms, at,           unix_ms,       o->replay};
  }
  GError *err = NULL;
  if (!store_order_batch(r->store, reqs, n, res, &err)) {
    gboolean busy = g_error_matches(err, STORE_ERROR, STORE_ERROR_BUSY);
    if (busy && may_retry(orders)) {
      g_clear_error(&err); /* decided on a later iteration, in the same order */
      g_free(reqs);
      g_free(res);
      return TRUE;
    }
    /* Nothing was stored: nobody may hear "ok"; the same keys can retry. */
    g_message("order batch of %zu failed: %s", n, err->message);
    g_clear_error(&err);
    for (gsize i = 0; i < n; i++)
      room_error(r, orders[i].conn, PROTO_ERR_UNAVAILABLE, "could not store the order, retry",
                 orders[i].ref);
  } else {
    r->stats.order_batches++;
    for (gsize i = 0; i < n; i++) {
      gboolean ok = res[i].status == STORE_ORDER_OK || res[i].status == STORE_ORDER_DUPLICATE;
      room_send_json(r, orders[i].conn,
                     ok ? ok_json(&orders[i], &res[i]) : rejected_json(&orders[i], &res[i]));
      if (ok)
        r->stats.orders_ok++;
      else
        r->stats.orders_rejected++;
      note_committed(r, &orders[i], &res[i]);
    }
    room_schedule_coalesced(r);
  }
  g_free(reqs);
  g_free(res);
  return FALSE;
}

void room_orders_flush(room_t *r) {
  if (r->commit_source != 0) {
    g_source_remove(r->commit_source);
    r->commit_source = 0;
  }
  GArray *batch = r->pending;
  r->pending = g_array_new(FALSE, FALSE, sizeof(pending_order_t));
  gint64 open_show = store_show_current(r->store);
  /* Orders for the open show with no show open have nowhere to go; the
   * rest are committed together, whatever show each is for. */
  GArray *go = g_array_sized_new(FALSE, FALSE, sizeof(pending_order_t), batch->len);
  store_order_res_t none = {.status = STORE_ORDER_NO_SHOW, .stock = -1};
  for (guint i = 0; i < batch->len; i++) {
    pending_order_t *o = &g_array_index(batch, pending_order_t, i);
    if (o->show_id == 0)
      o->show_id = open_show;
    if (o->show_id != 0) {
      g_array_append_val(go, *o);
      continue;
    }
    room_send_json(r, o->conn, rejected_json(o, &none));
    r->stats.orders_rejected++;
  }
  const pending_order_t *orders = (const pending_order_t *)(void *)go->data;
  for (guint off = 0; off < go->len; off += ROOM_MAX_BATCH) {
    guint n = MIN(ROOM_MAX_BATCH, go->len - off);
    if (commit_batch(r, orders + off, n)) {
      put_back(r, orders + off, go->len - off); /* this one and the rest, untried */
      break;
    }
  }
  g_array_free(go, TRUE); /* its orders' strings belong to `batch` */
  for (guint i = 0; i < batch->len; i++)
    pending_order_clear(&g_array_index(batch, pending_order_t, i));
  g_array_free(batch, TRUE);
  if (r->pending->len > 0) /* put back after a busy database, or arrived meanwhile */
    schedule_commit(r, ROOM_BUSY_RETRY_MS);
}
