/* room.c — sessions, the meaning of each tourcast.v1 message, and broadcasts.
 *
 * A connection is a session: not greeted, a viewer (bound to a stored
 * viewer) or the leader. Every message is parsed by protocol.c; this file
 * decides who may do it, stores it, and says who hears about it. Orders go
 * through room_orders.c (group commit). Room-wide state that changes often
 * (stock, the ticker, the viewer count) is coalesced on timers.
 */
#include <string.h>

#include "ws/prom.h"
#include "ws/room_priv.h"

static gint64 unix_ms(void) {
  return g_get_real_time() / 1000;
}

gint64 room_now_stream_ms(room_t *r) {
  gint64 ms = r->cfg.stream_ms ? r->cfg.stream_ms(r->cfg.clock_user) : -1;
  return ms < 0 ? 0 : ms;
}

/* ---- sending ---- */

void room_send_json(room_t *r, ws_conn_id_t id, json_t *msg) {
  char *text = json_dumps(msg, JSON_COMPACT);
  json_decref(msg);
  if (text != NULL)
    ws_endpoint_send_text(r->ep, id, text, strlen(text));
  free(text);
}

static void broadcast_msg(room_t *r, ws_msg_t *m, gboolean leaders_only, guint frames) {
  GHashTableIter it;
  gpointer value;
  /* Sending may drop a slow connection, which only marks it closing: the
   * table is not changed under the iteration. */
  g_hash_table_iter_init(&it, r->sessions);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    session_t *s = value;
    if (s->role == ROLE_LEADER || (s->role == ROLE_VIEWER && !leaders_only)) {
      ws_endpoint_send(r->ep, s->id, m);
      r->stats.broadcasts += frames;
    }
  }
}

void room_broadcast_json(room_t *r, json_t *msg, gboolean leaders_only) {
  char *text = json_dumps(msg, JSON_COMPACT);
  json_decref(msg);
  if (text == NULL)
    return;
  ws_msg_t *m = ws_msg_new(text, strlen(text));
  free(text);
  broadcast_msg(r, m, leaders_only, 1);
  ws_msg_unref(m);
}

/* Like room_broadcast_json() for each of msgs[0..n) (all taken), in order,
 * but framed once and written to each connection with one write: a
 * coalesced flush costs one system call per viewer, not one per message. */
static void broadcast_json_batch(room_t *r, json_t **msgs, guint n, gboolean leaders_only) {
  char **texts = g_new0(char *, n);
  gsize *lens = g_new0(gsize, n);
  guint kept = 0;
  for (guint i = 0; i < n; i++) {
    char *t = json_dumps(msgs[i], JSON_COMPACT);
    json_decref(msgs[i]);
    if (t != NULL) {
      texts[kept] = t;
      lens[kept++] = strlen(t);
    }
  }
  if (kept > 0) {
    ws_msg_t *m = ws_msg_new_frames((const char *const *)texts, lens, kept);
    broadcast_msg(r, m, leaders_only, kept);
    ws_msg_unref(m);
  }
  for (guint i = 0; i < kept; i++)
    free(texts[i]);
  g_free(texts);
  g_free(lens);
}

void room_error(room_t *r, ws_conn_id_t id, proto_error_t code, const char *message,
                const char *ref) {
  r->stats.errors++;
  ws_endpoint_send_error(r->ep, id, proto_error_code(code), message, ref);
}

/* ---- the leaders' order feed ---- */

/* The orders committed since the last flush, as order.new frames of at most
 * ROOM_ORDER_FRAME_ORDERS each, framed once for every leader. NULL if none. */
static ws_msg_t *order_frames(room_t *r, guint *n_frames) {
  gsize n = json_array_size(r->leader_orders);
  *n_frames = 0;
  if (n == 0)
    return NULL;
  guint frames = (guint)((n + ROOM_ORDER_FRAME_ORDERS - 1) / ROOM_ORDER_FRAME_ORDERS);
  char **texts = g_new0(char *, frames);
  gsize *lens = g_new0(gsize, frames);
  guint kept = 0;
  for (gsize at = 0; at < n; at += ROOM_ORDER_FRAME_ORDERS) {
    json_t *part = json_array();
    for (gsize i = at; i < MIN(n, at + ROOM_ORDER_FRAME_ORDERS); i++)
      json_array_append(part, json_array_get(r->leader_orders, i));
    json_t *msg = json_pack("{s:s, s:o}", "type", "order.new", "orders", part);
    char *t = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (t != NULL) {
      texts[kept] = t;
      lens[kept++] = strlen(t);
    }
  }
  ws_msg_t *m = kept ? ws_msg_new_frames((const char *const *)texts, lens, kept) : NULL;
  for (guint i = 0; i < kept; i++)
    free(texts[i]);
  g_free(texts);
  g_free(lens);
  *n_frames = kept;
  return m;
}

/* A leader whose queue held more than ROOM_LEADER_FEED_MAX_QUEUED missed
 * some order.new entries; once it drained, it hears how many and how many
 * the show has, and reloads the list (paged /api/shows/ID/orders). The
 * server never drops a leader for volume it produced itself. */
static void feed_resume(room_t *r, session_t *s) {
  if (s->feed_missed == 0 ||
      ws_endpoint_queued_bytes(r->ep, s->id) > ROOM_LEADER_FEED_MAX_QUEUED / 2)
    return;
  gint64 show = store_show_current(r->store);
  json_t *gap = json_pack("{s:s, s:I, s:I, s:I}", "type", "order.gap", "missed",
                          (json_int_t)s->feed_missed, "show_id", (json_int_t)show, "orders_total",
                          (json_int_t)(show ? MAX(store_orders_count(r->store, show, 0), 0) : 0));
  s->feed_missed = 0;
  room_send_json(r, s->id, gap);
}

static void leader_feed(room_t *r) {
  gsize n = json_array_size(r->leader_orders);
  guint frames = 0;
  ws_msg_t *m = order_frames(r, &frames);
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, r->sessions);
  while (m != NULL && g_hash_table_iter_next(&it, NULL, &value)) {
    session_t *s = value;
    if (s->role != ROLE_LEADER)
      continue;
    if (s->feed_missed > 0 ||
        ws_endpoint_queued_bytes(r->ep, s->id) + ws_msg_len(m) > ROOM_LEADER_FEED_MAX_QUEUED) {
      s->feed_missed += (gint64)n;
      r->stats.leader_feed_held += n;
      feed_resume(r, s);
      continue;
    }
    ws_endpoint_send(r->ep, s->id, m);
    r->stats.broadcasts += frames;
  }
  ws_msg_unref(m);
  json_array_clear(r->leader_orders);
}

/* ---- coalesced broadcasts ---- */

static gboolean on_coalesce(gpointer data) {
  room_t *r = data;
  r->coalesce_source = 0;
  GPtrArray *batch = g_ptr_array_new();
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, r->dirty_stock);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    g_hash_table_iter_steal(&it); /* the message goes to the broadcast, */
    g_free(key);                  /* the key is ours to free */
    g_ptr_array_add(batch, value);
  }
  json_t *t;
  while ((t = g_queue_pop_head(&r->ticker)) != NULL)
    g_ptr_array_add(batch, t);
  if (batch->len > 0) {
    broadcast_json_batch(r, (json_t **)batch->pdata, batch->len, FALSE);
    room_overlay_changed(r); /* stock of the card, the ticker: as often as viewers hear */
  }
  g_ptr_array_free(batch, TRUE);
  leader_feed(r);
  return G_SOURCE_REMOVE;
}

void room_schedule_coalesced(room_t *r) {
  if (r->coalesce_source == 0)
    r->coalesce_source = g_timeout_add(ROOM_COALESCE_MS, on_coalesce, r);
}

/* Once a second: the viewer count when it changed, and the leaders' view
 * of the stream. */
static gboolean on_tick(gpointer data) {
  room_t *r = data;
  if (r->stats.viewers != r->last_viewers) {
    r->last_viewers = r->stats.viewers;
    room_broadcast_json(r, json_pack("{s:s, s:i}", "type", "viewers", "count", r->last_viewers),
                        FALSE);
  }
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, r->sessions);
  while (g_hash_table_iter_next(&it, NULL, &value))
    if (((session_t *)value)->feed_missed > 0)
      feed_resume(r, value);
  if (r->cfg.stream_status != NULL && r->stats.leaders > 0) {
    json_t *st = r->cfg.stream_status(r->cfg.clock_user);
    if (st != NULL) {
      json_object_set_new(st, "type", json_string("stream"));
      room_broadcast_json(r, st, TRUE);
    }
  }
  return G_SOURCE_CONTINUE;
}

/* ---- hello ---- */

static json_t *id_or_null(gint64 id) {
  return id ? json_integer(id) : json_null();
}

static json_t *welcome_json(room_t *r, session_t *s, const store_viewer_t *v) {
  gint64 show = store_show_current(r->store);
  /* The newest questions only: the page asks for older ones
   * (questions.more), so a welcome fits the queue however much was asked. */
  json_t *questions = show ? store_questions_json(r->store, show, 0, ROOM_WELCOME_QUESTIONS) : NULL;
  json_t *w = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:I, s:o, s:i}", "type", "welcome", "role",
                        s->role == ROLE_LEADER ? "leader" : "viewer", "show",
                        room_show_json_cached(r), "products", store_products_json(r->store),
                        "pinned", id_or_null(r->pinned), "highlight", id_or_null(r->highlight),
                        "stream_ms", (json_int_t)room_now_stream_ms(r), "questions",
                        questions ? questions : json_array(), "viewers", r->stats.viewers);
  json_object_set_new(w, "questions_total",
                      json_integer(show ? MAX(store_questions_count(r->store, show), 0) : 0));
  json_object_set_new(w, "publisher_live", json_boolean(r->publisher_live));
  /* The player is seconds behind: a page that joins right after a pin
   * shows each card when its frame is on screen, not at once. */
  json_t *pins = show ? store_pins_recent_json(r->store, show, 5) : NULL;
  json_object_set_new(w, "recent_pins", pins ? pins : json_array());
  /* Between shows the pages offer the last one's replay and the next one. */
  json_object_set_new(w, "last_show", room_last_show_json_cached(r));
  json_object_set_new(w, "next_show", room_next_show_json(r));
  if (s->role == ROLE_LEADER && r->cfg.stream_status != NULL) {
    json_t *st = r->cfg.stream_status(r->cfg.clock_user);
    if (st != NULL)
      json_object_set_new(w, "stream", st);
  }
  if (s->role == ROLE_LEADER && r->cfg.settings != NULL)
    json_object_set_new(w, "settings", r->cfg.settings(r->cfg.clock_user));
  /* The newest orders only: a flash sale's whole list would not fit a
   * connection's queue (the paged /api/shows/ID/orders and the CSV have
   * them all). */
  json_t *orders = NULL;
  if (show != 0 && !s->guest)
    orders = v ? store_viewer_orders_json(r->store, show, v->id, ROOM_WELCOME_ORDERS)
               : store_orders_json(r->store, show, 0, ROOM_WELCOME_ORDERS);
  if (orders == NULL)
    orders = json_array();
  if (v == NULL && !s->guest)
    json_object_set_new(w, "orders_total",
                        json_integer(show ? MAX(store_orders_count(r->store, show, 0), 0) : 0));
  json_object_set_new(w, v || s->guest ? "my_orders" : "orders", orders);
  if (s->guest)
    json_object_set_new(w, "guest", json_true());
  if (v != NULL) {
    json_object_set_new(w, "viewer_id", json_integer(v->id));
    json_object_set_new(w, "viewer_token", json_string(v->token));
    json_object_set_new(w, "name", json_string(v->name));
    json_object_set_new(w, "pickup", json_string(v->pickup));
    json_object_set_new(w, "phone", json_string(v->phone));
  } else {
    json_object_set_new(w, "viewer_id", json_null());
    json_object_set_new(w, "viewer_token", json_null());
  }
  return w;
}

/* A valid hello: the connection is greeted (no hello deadline, never
 * evicted to make room), and a leader may queue more than a viewer. */
static void send_welcome(room_t *r, session_t *s, const store_viewer_t *v) {
  ws_endpoint_greeted(r->ep, s->id);
  if (s->role == ROLE_LEADER)
    ws_endpoint_set_queue_limit(r->ep, s->id, ROOM_LEADER_QUEUE_BYTES);
  room_send_json(r, s->id, welcome_json(r, s, v));
}

static void session_set_viewer(session_t *s, const store_viewer_t *v) {
  s->role = ROLE_VIEWER;
  s->viewer_id = v->id;
  s->name = g_strdup(v->name);
  s->masked = store_mask_name(v->name);
  s->pickup = g_strdup(v->pickup);
  s->phone = g_strdup(v->phone);
}

/* A guest watches: show, products, questions, pins and the ticker, no
 * orders or questions of its own until it joins. */
static void hello_guest(room_t *r, session_t *s) {
  s->role = ROLE_VIEWER;
  s->guest = TRUE;
  s->masked = g_strdup("**");
  r->stats.viewers++;
  send_welcome(r, s, NULL);
}

static void hello_viewer(room_t *r, session_t *s, const proto_msg_t *m) {
  const typeof(m->u.hello_viewer) *h = &m->u.hello_viewer;
  gboolean full = h->name && h->pickup && h->phone;
  gboolean joining = s->guest; /* `join`: the guest becomes a viewer */
  if (h->guest && !full && h->viewer_token == NULL) {
    hello_guest(r, s);
    return;
  }
  store_viewer_t v = {0};
  GError *err = NULL;
  gboolean ok;
  if (h->viewer_token && store_viewer_by_token(r->store, h->viewer_token, &v)) {
    /* A returning viewer; new details, if sent, replace the old ones. */
    gint64 id = v.id;
    ok = !full || store_viewer_update(r->store, id, h->name, h->pickup, h->phone, &err);
    if (ok && full) {
      store_viewer_clear(&v); /* zeroes v.id too: read back by the saved id */
      ok = store_viewer_by_id(r->store, id, &v);
    }
  } else if (full) {
    ok = store_viewer_create(r->store, h->name, h->pickup, h->phone, h->invite_ref, unix_ms(), &v,
                             &err);
  } else {
    room_error(r, s->id, PROTO_ERR_INVALID, "unknown viewer_token: send name, pickup and phone",
               m->ref);
    return;
  }
  if (!ok) {
    g_message("viewer hello failed: %s", err ? err->message : "?");
    g_clear_error(&err);
    room_error(r, s->id, PROTO_ERR_UNAVAILABLE, "could not store the viewer, retry", m->ref);
    store_viewer_clear(&v);
    return;
  }
  if (joining) { /* counted once already, as a guest */
    g_free(s->masked);
    s->guest = FALSE;
    r->stats.viewers--;
  }
  session_set_viewer(s, &v);
  r->stats.viewers++;
  gint64 show = store_show_current(r->store);
  if (show != 0)
    store_event_viewer(r->store, show, "join", v.id, room_now_stream_ms(r), unix_ms(), NULL);
  send_welcome(r, s, &v);
  store_viewer_clear(&v);
}

static gboolean constant_time_equal(const char *a, const char *b) {
  gsize la = strlen(a), lb = strlen(b);
  guint8 diff = la != lb;
  for (gsize i = 0; i < la; i++)
    diff |= (guint8)(a[i] ^ b[i % (lb ? lb : 1)]);
  return diff == 0;
}

static void hello_leader(room_t *r, session_t *s, const proto_msg_t *m) {
  if (!constant_time_equal(m->u.hello_leader.token, r->cfg.leader_token)) {
    room_error(r, s->id, PROTO_ERR_FORBIDDEN, "wrong leader token", m->ref);
    return;
  }
  s->role = ROLE_LEADER;
  r->stats.leaders++;
  send_welcome(r, s, NULL);
}

/* ---- viewer and leader actions ---- */

/* A viewer's own orders of a show (live and replay), e.g. for the replay's
 * 我的订单 and its per-buyer limits. */
static void on_my_orders(room_t *r, session_t *s, const proto_msg_t *m) {
  gint64 show = m->u.my_orders.show_id;
  if (!store_show_exists(r->store, show)) {
    room_error(r, s->id, PROTO_ERR_INVALID, "no such show", m->ref);
    return;
  }
  json_t *orders = store_viewer_orders_json(r->store, show, s->viewer_id, ROOM_WELCOME_ORDERS);
  if (orders == NULL)
    orders = json_array();
  gint64 total = store_orders_count(r->store, show, s->viewer_id);
  json_t *reply =
      json_pack("{s:s, s:I, s:o, s:I}", "type", "my_orders", "show_id", (json_int_t)show, "orders",
                orders, "orders_total", (json_int_t)MAX(total, 0));
  if (m->ref != NULL)
    json_object_set_new(reply, "ref", json_string(m->ref));
  room_send_json(r, s->id, reply);
}

/* A page of older questions: the welcome has the newest only. Anyone
 * greeted may ask (guests read questions too); each page is bounded. */
static void on_questions_more(room_t *r, session_t *s, const proto_msg_t *m) {
  gint64 show = m->u.questions_more.show_id;
  if (show == 0)
    show = store_show_current(r->store);
  if (show == 0 || !store_show_exists(r->store, show)) {
    room_error(r, s->id, PROTO_ERR_INVALID, "no such show", m->ref);
    return;
  }
  json_t *page = store_questions_json(r->store, show, m->u.questions_more.before_id,
                                      (int)m->u.questions_more.limit);
  json_t *reply =
      json_pack("{s:s, s:I, s:I, s:o, s:I}", "type", "questions.page", "show_id", (json_int_t)show,
                "before_id", (json_int_t)m->u.questions_more.before_id, "questions",
                page ? page : json_array(), "questions_total",
                (json_int_t)MAX(store_questions_count(r->store, show), 0));
  if (m->ref != NULL)
    json_object_set_new(reply, "ref", json_string(m->ref));
  room_send_json(r, s->id, reply);
}

/* The open show, or 0 after telling the sender there is none. */
static gint64 need_show(room_t *r, session_t *s, const proto_msg_t *m) {
  gint64 show = store_show_current(r->store);
  if (show == 0)
    room_error(r, s->id, PROTO_ERR_INVALID, "no show is on", m->ref);
  return show;
}

/* A store call failed: the change did not happen; say so. */
void room_store_failed(room_t *r, ws_conn_id_t id, const char *ref, GError *err) {
  gboolean bad = err && err->domain == STORE_ERROR &&
                 (err->code == STORE_ERROR_NOT_FOUND || err->code == STORE_ERROR_INVALID ||
                  err->code == STORE_ERROR_STATE);
  room_error(r, id, bad ? PROTO_ERR_INVALID : PROTO_ERR_UNAVAILABLE,
             bad ? err->message : "could not store it, retry", ref);
  g_clear_error(&err);
}

static void on_ask(room_t *r, session_t *s, const proto_msg_t *m) {
  gint64 show = need_show(r, s, m);
  if (show == 0)
    return;
  GError *err = NULL;
  gint64 now = room_now_stream_ms(r);
  gint64 id = store_question_add(r->store, show, s->viewer_id, m->u.ask.text, m->u.ask.seen_ms, now,
                                 unix_ms(), &err);
  if (id == 0) {
    room_store_failed(r, s->id, m->ref, err);
    return;
  }
  room_broadcast_json(r,
                      json_pack("{s:s, s:I, s:s, s:s, s:I}", "type", "question", "id",
                                (json_int_t)id, "name", s->masked, "text", m->u.ask.text,
                                "stream_ms", (json_int_t)now),
                      FALSE);
}

static void on_product_put(room_t *r, session_t *s, const proto_msg_t *m) {
  const typeof(m->u.product) *in = &m->u.product;
  store_product_t p = {0};
  if (in->id != 0 && !store_product_get(r->store, in->id, &p)) {
    room_error(r, s->id, PROTO_ERR_INVALID, "no such product", m->ref);
    return;
  }
  /* Strings of `p` are read by put, not freed: keep the stored ones aside. */
  char *old_name = p.name, *old_unit = p.unit;
  if (in->present & PROTO_FIELD_NAME)
    p.name = (char *)in->name;
  if (in->present & PROTO_FIELD_UNIT)
    p.unit = (char *)in->unit;
  if (in->present & PROTO_FIELD_PRICE)
    p.price_cents = in->price_cents;
  if (in->present & PROTO_FIELD_STOCK)
    p.stock = in->stock;
  if (in->present & PROTO_FIELD_LIMIT)
    p.limit_per_buyer = in->limit_per_buyer;
  if (in->present & PROTO_FIELD_ON_SALE)
    p.on_sale = in->on_sale;
  GError *err = NULL;
  if (store_product_put(r->store, &p, unix_ms(), &err)) {
    room_product_renamed(r, p.id, p.name);
    json_t *pj = store_product_json(&p);
    room_broadcast_json(r, json_pack("{s:s, s:o}", "type", "product", "product", pj), FALSE);
    if (p.id == r->pinned)
      room_overlay_changed(r);
  } else {
    room_store_failed(r, s->id, m->ref, err);
  }
  p.name = old_name;
  p.unit = old_unit;
  store_product_clear(&p);
}

/* Stored and announced once the frame showing it is known (room_overlay.c). */
static void on_pin(room_t *r, session_t *s, const proto_msg_t *m) {
  gint64 id = m->u.pin.product_id;
  store_product_t p = {0};
  if (need_show(r, s, m) == 0)
    return;
  if (id != 0 && !store_product_get(r->store, id, &p)) {
    room_error(r, s->id, PROTO_ERR_INVALID, "no such product", m->ref);
    return;
  }
  store_product_clear(&p);
  r->pinned = id;
  room_mark_on_screen(r, ROOM_MARK_PIN, id, s->id, m->ref);
}

static void on_answer(room_t *r, session_t *s, const proto_msg_t *m) {
  GError *err = NULL;
  gint64 now = room_now_stream_ms(r);
  if (!store_question_answer(r->store, m->u.answer.question_id, m->u.answer.text, now, unix_ms(),
                             &err)) {
    room_store_failed(r, s->id, m->ref, err);
    return;
  }
  room_broadcast_json(r,
                      json_pack("{s:s, s:I, s:s, s:I}", "type", "answer", "question_id",
                                (json_int_t)m->u.answer.question_id, "text", m->u.answer.text,
                                "stream_ms", (json_int_t)now),
                      FALSE);
  if (m->u.answer.question_id == r->highlight)
    room_overlay_changed(r);
}

static void on_highlight(room_t *r, session_t *s, const proto_msg_t *m) {
  gint64 show = need_show(r, s, m);
  gint64 id = m->u.highlight.question_id;
  if (show == 0)
    return;
  json_t *q = id != 0 ? room_question_json(r, show, id) : NULL;
  gboolean missing = id != 0 && q == NULL;
  json_decref(q);
  if (missing) {
    room_error(r, s->id, PROTO_ERR_INVALID, "no such question in this show", m->ref);
    return;
  }
  r->highlight = id;
  room_mark_on_screen(r, ROOM_MARK_HIGHLIGHT, id, s->id, m->ref);
}

/* The leader changes where the show is pushed; the reply says whether it took. */
static void on_restream(room_t *r, session_t *s, const proto_msg_t *m) {
  gboolean add = m->type == PROTO_RESTREAM_ADD;
  const char *why = "restreaming is not available";
  if (r->cfg.restream == NULL ||
      !r->cfg.restream(r->cfg.clock_user, add, m->u.restream.url, &why)) {
    room_error(r, s->id, PROTO_ERR_INVALID, why, m->ref);
    return;
  }
  json_t *ok = json_pack("{s:s, s:s}", "type", add ? "restream.added" : "restream.removed", "url",
                         m->u.restream.url);
  if (m->ref != NULL)
    json_object_set_new(ok, "ref", json_string(m->ref));
  room_send_json(r, s->id, ok);
}

/* ---- dispatch ---- */

static void dispatch(room_t *r, session_t *s, const proto_msg_t *m) {
  gboolean hello = m->type == PROTO_HELLO_VIEWER || m->type == PROTO_HELLO_LEADER;
  if (hello && s->role != ROLE_NONE) {
    room_error(r, s->id, PROTO_ERR_INVALID, "hello was already said", m->ref);
    return;
  }
  if (!hello && s->role == ROLE_NONE) {
    room_error(r, s->id, PROTO_ERR_FORBIDDEN, "say hello first", m->ref);
    return;
  }
  if (proto_is_leader_only(m->type) && s->role != ROLE_LEADER) {
    room_error(r, s->id, PROTO_ERR_FORBIDDEN, "only the leader may do that", m->ref);
    return;
  }
  gboolean own = m->type == PROTO_ORDER || m->type == PROTO_ASK || m->type == PROTO_MY_ORDERS;
  if ((own || m->type == PROTO_JOIN) && s->role != ROLE_VIEWER) {
    room_error(r, s->id, PROTO_ERR_FORBIDDEN, "only viewers order and ask", m->ref);
    return;
  }
  if (own && s->guest) {
    room_error(r, s->id, PROTO_ERR_JOIN_REQUIRED, "join first: name, pickup point and phone",
               m->ref);
    return;
  }
  if (m->type == PROTO_JOIN && !s->guest) {
    room_error(r, s->id, PROTO_ERR_INVALID, "already joined", m->ref);
    return;
  }
  switch (m->type) {
    case PROTO_HELLO_VIEWER:
    case PROTO_JOIN:
      hello_viewer(r, s, m);
      break;
    case PROTO_MY_ORDERS:
      on_my_orders(r, s, m);
      break;
    case PROTO_QUESTIONS_MORE:
      on_questions_more(r, s, m);
      break;
    case PROTO_HELLO_LEADER:
      hello_leader(r, s, m);
      break;
    case PROTO_ORDER:
      room_order_enqueue(r, s, m);
      break;
    case PROTO_ASK:
      on_ask(r, s, m);
      break;
    case PROTO_PRODUCT_PUT:
      on_product_put(r, s, m);
      break;
    case PROTO_PIN:
      on_pin(r, s, m);
      break;
    case PROTO_ANSWER:
      on_answer(r, s, m);
      break;
    case PROTO_HIGHLIGHT:
      on_highlight(r, s, m);
      break;
    case PROTO_SHOW_BEGIN:
    case PROTO_SHOW_END:
    case PROTO_SHOW_UPDATE:
    case PROTO_SHOW_SCHEDULE:
      room_on_show(r, s->id, m);
      break;
    case PROTO_RESTREAM_ADD:
    case PROTO_RESTREAM_REMOVE:
      on_restream(r, s, m);
      break;
    case PROTO_PING:
      room_send_json(
          r, s->id,
          json_pack("{s:s, s:I}", "type", "pong", "stream_ms", (json_int_t)room_now_stream_ms(r)));
      break;
  }
}

/* ---- endpoint callbacks ---- */

static void session_free(gpointer data) {
  session_t *s = data;
  g_free(s->name);
  g_free(s->masked);
  g_free(s->pickup);
  g_free(s->phone);
  g_free(s);
}

static void on_open(void *user, ws_conn_id_t id) {
  room_t *r = user;
  session_t *s = g_new0(session_t, 1);
  s->id = id;
  g_hash_table_insert(r->sessions, &s->id, s);
}

static void on_text(void *user, ws_conn_id_t id, const char *text, gsize len) {
  room_t *r = user;
  session_t *s = g_hash_table_lookup(r->sessions, &id);
  if (s == NULL)
    return;
  r->stats.messages++;
  proto_msg_t m;
  const char *message = NULL;
  char *ref = NULL;
  proto_error_t err = proto_parse(text, len, &m, &message, &ref);
  if (err != PROTO_OK) {
    room_error(r, id, err, message, ref);
    g_free(ref);
    return;
  }
  dispatch(r, s, &m);
  proto_msg_clear(&m);
}

static void on_close(void *user, ws_conn_id_t id) {
  room_t *r = user;
  session_t *s = g_hash_table_lookup(r->sessions, &id);
  if (s == NULL)
    return;
  if (s->role == ROLE_VIEWER) {
    r->stats.viewers--;
    gint64 show = store_show_current(r->store);
    if (show != 0 && !s->guest)
      store_event_viewer(r->store, show, "leave", s->viewer_id, room_now_stream_ms(r), unix_ms(),
                         NULL);
  } else if (s->role == ROLE_LEADER) {
    r->stats.leaders--;
  }
  g_hash_table_remove(r->sessions, &id);
}

/* ---- life ---- */

room_t *room_new(const room_config_t *cfg, store_t *store, GError **err) {
  room_t *r = g_new0(room_t, 1);
  r->cfg = *cfg;
  r->cfg.leader_token = g_strdup(cfg->leader_token);
  r->cfg.show_title = g_strdup(cfg->show_title ? cfg->show_title : "直播");
  r->cfg.images_dir = g_strdup(cfg->images_dir);
  r->cfg.shows_dir = g_strdup(cfg->shows_dir);
  r->store = store;
  ws_endpoint_config_t ec;
  ws_endpoint_config_init(&ec);
  if (cfg->max_connections)
    ec.max_connections = cfg->max_connections;
  if (cfg->rate_per_s)
    ec.rate_per_s = ec.rate_burst = cfg->rate_per_s;
  if (cfg->max_per_ip)
    ec.max_per_ip = cfg->max_per_ip;
  ws_endpoint_callbacks_t cb = {on_open, on_text, on_close};
  r->ep = ws_endpoint_new(&ec, &cb, r);
  r->sessions = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, session_free);
  r->pending = g_array_new(FALSE, FALSE, sizeof(pending_order_t));
  r->dirty_stock =
      g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, (GDestroyNotify)json_decref);
  g_queue_init(&r->ticker);
  r->leader_orders = json_array();
  r->product_names = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  r->tick_source = g_timeout_add_seconds(1, on_tick, r);
  room_overlay_init(r);
  room_show_init(r);
  room_images_init(r);
  gint64 show = store_show_current(store);
  if (show != 0) { /* a restart in the middle of a show: what is on screen */
    r->pinned = store_pinned_at(store, show, G_MAXINT64 / 2);
    r->highlight = store_highlighted(store, show);
  }
  (void)err;
  return r;
}

void room_free(room_t *r) {
  if (r == NULL)
    return;
  room_orders_flush(r); /* never drop orders that were sent */
  room_overlay_fini(r); /* pins still waiting for their frame are stamped now */
  room_images_fini(r);  /* uploads still decoding are answered now */
  if (r->coalesce_source)
    g_source_remove(r->coalesce_source);
  g_source_remove(r->tick_source);
  g_hash_table_destroy(r->dirty_stock);
  g_queue_clear_full(&r->ticker, (GDestroyNotify)json_decref);
  json_decref(r->leader_orders);
  g_hash_table_destroy(r->product_names);
  json_decref(r->show_cache);
  json_decref(r->last_show_cache);
  g_array_free(r->pending, TRUE);
  g_hash_table_destroy(r->sessions);
  ws_endpoint_free(r->ep);
  g_free((char *)r->cfg.leader_token);
  g_free((char *)r->cfg.show_title);
  g_free((char *)r->cfg.images_dir);
  g_free((char *)r->cfg.shows_dir);
  g_free(r);
}

ws_endpoint_t *room_endpoint(room_t *r) {
  return r->ep;
}

void room_test_open(room_t *r, ws_conn_id_t id) {
  on_open(r, id);
}

void room_test_text(room_t *r, ws_conn_id_t id, const char *text, gsize len) {
  on_text(r, id, text, len);
}

void room_test_close(room_t *r, ws_conn_id_t id) {
  on_close(r, id);
}

void room_flush_orders(room_t *r) {
  room_orders_flush(r);
}

void room_test_set_sink(room_t *r, ws_endpoint_sink_fn sink, void *user) {
  ws_endpoint_set_test_sink(r->ep, sink, user);
}

void room_test_flush_broadcasts(room_t *r) {
  if (r->coalesce_source != 0) {
    g_source_remove(r->coalesce_source);
    on_coalesce(r); /* clears coalesce_source itself */
  }
}

gboolean room_leader_token_ok(room_t *r, const char *token) {
  return token != NULL && constant_time_equal(token, r->cfg.leader_token);
}

void room_get_stats(room_t *r, room_stats_t *out) {
  *out = r->stats;
}

void room_metrics(room_t *r, GString *out) {
  store_stats_t st;
  ws_endpoint_stats_t es;
  store_get_stats(r->store, &st);
  ws_endpoint_get_stats(r->ep, &es);
  prom_metric(out, "tourcast_viewers", "gauge", "Greeted viewer connections.", NULL,
              r->stats.viewers);
  prom_metric(out, "tourcast_ws_connections", "gauge", "Open WebSocket connections.", NULL,
              es.open_now);
  prom_metric(out, "tourcast_ws_messages_total", "counter", "WebSocket messages received.", NULL,
              (double)es.frames_in);
  prom_metric(out, "tourcast_ws_errors_total", "counter", "Error replies sent.", NULL,
              (double)(r->stats.errors + es.too_large + es.rate_limited + es.binary));
  prom_metric(out, "tourcast_ws_dropped_slow_total", "counter",
              "Connections dropped for being slow.", NULL, (double)es.dropped_slow);
  prom_metric(out, "tourcast_ws_refused_total", "counter",
              "WebSocket connections refused: the server or the address full, none to evict.", NULL,
              (double)(es.refused + es.refused_per_ip));
  prom_metric(out, "tourcast_ws_evicted_total", "counter",
              "Un-greeted WebSocket connections closed to make room for a new one.", NULL,
              (double)es.evicted);
  prom_metric(out, "tourcast_ws_hello_timeouts_total", "counter",
              "WebSocket connections closed for not saying hello in time.", NULL,
              (double)es.hello_timeouts);
  prom_metric(out, "tourcast_leader_feed_held_total", "counter",
              "order.new entries held back from a leader whose queue was full (order.gap).", NULL,
              (double)r->stats.leader_feed_held);
  prom_metric(out, "tourcast_order_batch_retries_total", "counter",
              "Order batches put back after the database was busy, retried.", NULL,
              (double)r->stats.store_retries);
  prom_metric(out, "tourcast_orders_total", "counter", "Orders acknowledged (order.ok).", NULL,
              (double)r->stats.orders_ok);
  prom_metric(out, "tourcast_orders_rejected_total", "counter", "Orders rejected.", NULL,
              (double)r->stats.orders_rejected);
  prom_metric(out, "tourcast_order_batches_total", "counter", "Group commits of orders.", NULL,
              (double)st.order_batches);
  prom_metric(out, "tourcast_commit_latency_last_ms", "gauge",
              "Last write transaction, BEGIN to COMMIT.", NULL, st.commit_us_last / 1000.0);
  prom_metric(out, "tourcast_commit_latency_max_ms", "gauge", "Slowest write transaction.", NULL,
              st.commit_us_max / 1000.0);
  prom_metric(out, "tourcast_commit_latency_mean_ms", "gauge", "Mean write transaction.", NULL,
              st.commits ? st.commit_us_sum / 1000.0 / (double)st.commits : 0.0);
}
