/* test_room.c — the message handlers: frames in, what each connection would be sent out.
 *
 * A real room over a real SQLite file; connections are the room's test
 * connections, whose frames land in a per-test log instead of a socket. The
 * end-to-end test (tests/e2e/test_room.py) drives the same handlers over
 * real WebSockets; here each rule is checked alone, with the store read back.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <string.h>

#include <sqlite3.h>

#include "ws/room.h"
#include "ws/store.h"

#define LEADER 1
#define WANG 2 /* a viewer */
#define LI 3   /* another viewer */
#define TOKEN "leader-secret"

typedef struct {
  ws_conn_id_t id;
  json_t *msg;
} sent_t;

typedef struct {
  char *dir;
  store_t *store;
  room_t *room;
  GArray *sent; /* of sent_t */
  gint64 stream_ms;
  guint64 overlay_version; /* the last version handed out (overlay tests) */
  guint overlay_changes;
  GString *outputs; /* the output calls: "+ID" started, "-ID" ended */
} fx_t;

static void fx_output(void *user, gint64 show_id, gboolean on) {
  fx_t *fx = user;
  g_string_append_printf(fx->outputs, "%c%" G_GINT64_FORMAT " ", on ? '+' : '-', show_id);
}

static guint64 fx_overlay_changed(void *user) {
  fx_t *fx = user;
  fx->overlay_changes++;
  return ++fx->overlay_version;
}

static gint64 fx_clock(void *user) {
  return ((fx_t *)user)->stream_ms;
}

static void fx_sink(void *user, ws_conn_id_t id, const char *text, gsize len) {
  fx_t *fx = user;
  json_error_t e;
  sent_t s = {id, json_loadb(text, len, 0, &e)};
  g_assert_nonnull(s.msg); /* everything the room sends is one JSON object */
  g_array_append_val(fx->sent, s);
}

/* data non-NULL: a video overlay reports frames (room_overlay_shown). */
static void fx_setup(fx_t *fx, gconstpointer data) {
  GError *err = NULL;
  fx->dir = g_dir_make_tmp("test-room-XXXXXX", &err);
  g_assert_no_error(err);
  char *path = g_build_filename(fx->dir, "tourcast.db", NULL);
  fx->store = store_open(path, &err);
  g_assert_no_error(err);
  g_free(path);
  room_config_t cfg = {.leader_token = TOKEN,
                       .show_title = "果园直播",
                       .stream_ms = fx_clock,
                       .clock_user = fx,
                       .output = fx_output,
                       .overlay_changed = data ? fx_overlay_changed : NULL,
                       .overlay_user = fx};
  fx->room = room_new(&cfg, fx->store, &err);
  g_assert_no_error(err);
  fx->sent = g_array_new(FALSE, FALSE, sizeof(sent_t));
  fx->outputs = g_string_new(NULL);
  fx->stream_ms = 1000;
  room_test_set_sink(fx->room, fx_sink, fx);
}

static void clear_sent(fx_t *fx) {
  for (guint i = 0; i < fx->sent->len; i++)
    json_decref(g_array_index(fx->sent, sent_t, i).msg);
  g_array_set_size(fx->sent, 0);
}

static void fx_teardown(fx_t *fx, gconstpointer data) {
  (void)data;
  clear_sent(fx);
  g_array_free(fx->sent, TRUE);
  g_string_free(fx->outputs, TRUE);
  room_free(fx->room);
  store_free(fx->store);
  char *db = g_build_filename(fx->dir, "tourcast.db", NULL);
  for (const char *suffix = ""; suffix != NULL; suffix = *suffix ? NULL : "-wal") {
    char *p = g_strconcat(db, suffix, NULL);
    g_unlink(p);
    g_free(p);
  }
  char *shm = g_strconcat(db, "-shm", NULL);
  g_unlink(shm);
  g_free(shm);
  g_free(db);
  g_rmdir(fx->dir);
  g_free(fx->dir);
}

static void say(fx_t *fx, ws_conn_id_t id, const char *text) {
  room_test_text(fx->room, id, text, strlen(text));
}

/* The first frame of `type` sent to `id`, removed from the log (a new
 * reference), or NULL. */
static json_t *take(fx_t *fx, ws_conn_id_t id, const char *type) {
  for (guint i = 0; i < fx->sent->len; i++) {
    sent_t *s = &g_array_index(fx->sent, sent_t, i);
    if (s->id == id && g_strcmp0(json_string_value(json_object_get(s->msg, "type")), type) == 0) {
      json_t *m = s->msg;
      g_array_remove_index(fx->sent, i);
      return m;
    }
  }
  return NULL;
}

static json_t *must_take(fx_t *fx, ws_conn_id_t id, const char *type) {
  json_t *m = take(fx, id, type);
  if (m == NULL)
    g_error("connection %" G_GUINT64_FORMAT " got no %s", id, type);
  return m;
}

static gint64 int_of(json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  g_assert_true(json_is_integer(v));
  return json_integer_value(v);
}

static const char *str_of(json_t *o, const char *key) {
  const char *v = json_string_value(json_object_get(o, key));
  g_assert_nonnull(v);
  return v;
}

static void expect_error(fx_t *fx, ws_conn_id_t id, const char *code) {
  json_t *e = must_take(fx, id, "error");
  g_assert_cmpstr(str_of(e, "code"), ==, code);
  json_decref(e);
}

/* The leader greeted, a show begun, and viewers WANG and LI greeted. */
static void open_room(fx_t *fx) {
  room_test_open(fx->room, LEADER);
  say(fx, LEADER, "{\"type\":\"hello\",\"role\":\"leader\",\"token\":\"" TOKEN "\"}");
  say(fx, LEADER, "{\"type\":\"show.begin\",\"title\":\"桃园\"}");
  room_test_open(fx->room, WANG);
  say(fx, WANG,
      "{\"type\":\"hello\",\"role\":\"viewer\",\"name\":\"王小明\",\"pickup\":\"3号楼\","
      "\"phone\":\"13800000001\"}");
  room_test_open(fx->room, LI);
  say(fx, LI,
      "{\"type\":\"hello\",\"role\":\"viewer\",\"name\":\"李雷\",\"pickup\":\"1号楼\","
      "\"phone\":\"13900000002\"}");
  clear_sent(fx);
}

/* A product put by the leader; returns its id. */
static gint64 put_product(fx_t *fx, int stock, int limit, gboolean on_sale) {
  char *text =
      g_strdup_printf("{\"type\":\"product.put\",\"name\":\"水蜜桃\",\"price_cents\":1280,"
                      "\"unit\":\"斤\",\"stock\":%d,\"limit_per_buyer\":%d,\"on_sale\":%s}",
                      stock, limit, on_sale ? "true" : "false");
  say(fx, LEADER, text);
  g_free(text);
  json_t *p = must_take(fx, WANG, "product");
  gint64 id = int_of(json_object_get(p, "product"), "id");
  json_decref(p);
  clear_sent(fx);
  return id;
}

static json_t *order(fx_t *fx, ws_conn_id_t who, gint64 product, int qty, const char *key) {
  char *text = g_strdup_printf("{\"type\":\"order\",\"product_id\":%" G_GINT64_FORMAT
                               ",\"qty\":%d,\"key\":\"%s\",\"seen_ms\":500}",
                               product, qty, key);
  say(fx, who, text);
  g_free(text);
  /* Nothing is acknowledged before the commit. */
  g_assert_null(take(fx, who, "order.ok"));
  room_flush_orders(fx->room);
  json_t *m = take(fx, who, "order.ok");
  return m ? m : must_take(fx, who, "order.rejected");
}

/* `text` (an order) from `who`, committed: refused with `reason`. */
static void expect_rejected(fx_t *fx, ws_conn_id_t who, const char *text, const char *reason) {
  say(fx, who, text);
  room_flush_orders(fx->room);
  json_t *r = must_take(fx, who, "order.rejected");
  g_assert_cmpstr(str_of(r, "reason"), ==, reason);
  json_decref(r);
}

static void test_hello(fx_t *fx, gconstpointer data) {
  (void)data;
  open_room(fx);
  /* A returning viewer's token restores the same viewer, without details. */
  room_test_open(fx->room, 10);
  say(fx, 10,
      "{\"type\":\"hello\",\"role\":\"viewer\",\"name\":\"赵\",\"pickup\":\"2号楼\","
      "\"phone\":\"13700000000\"}");
  json_t *w = must_take(fx, 10, "welcome");
  g_assert_cmpstr(str_of(w, "role"), ==, "viewer");
  gint64 viewer_id = int_of(w, "viewer_id");
  char *token = g_strdup(str_of(w, "viewer_token"));
  g_assert_true(json_is_array(json_object_get(w, "products")));
  g_assert_true(json_is_array(json_object_get(w, "my_orders")));
  g_assert_true(json_is_object(json_object_get(w, "show")));
  g_assert_cmpint(int_of(w, "stream_ms"), ==, 1000);
  json_decref(w);
  room_test_close(fx->room, 10);

  room_test_open(fx->room, 11);
  char *again =
      g_strdup_printf("{\"type\":\"hello\",\"role\":\"viewer\",\"viewer_token\":\"%s\"}", token);
  say(fx, 11, again);
  w = must_take(fx, 11, "welcome");
  g_assert_cmpint(int_of(w, "viewer_id"), ==, viewer_id);
  g_assert_cmpstr(str_of(w, "name"), ==, "赵");
  json_decref(w);
  g_free(again);
  g_free(token);

  /* An unknown token without details, and a wrong leader token. */
  room_test_open(fx->room, 12);
  say(fx, 12, "{\"type\":\"hello\",\"role\":\"viewer\",\"viewer_token\":\"nope\"}");
  expect_error(fx, 12, "invalid");
  say(fx, 12, "{\"type\":\"hello\",\"role\":\"leader\",\"token\":\"guess\"}");
  expect_error(fx, 12, "forbidden");
  /* Still not greeted: a leader action is forbidden. */
  say(fx, 12, "{\"type\":\"pin\",\"product_id\":null}");
  expect_error(fx, 12, "forbidden");
}

static void test_viewer_cannot_lead(fx_t *fx, gconstpointer data) {
  (void)data;
  open_room(fx);
  gint64 id = put_product(fx, 10, 0, TRUE);
  static const char *const leader_only[] = {
      "{\"type\":\"product.put\",\"name\":\"假货\",\"price_cents\":1,\"stock\":5}",
      "{\"type\":\"product.put\",\"id\":1,\"stock\":0}",
      "{\"type\":\"pin\",\"product_id\":1}",
      "{\"type\":\"answer\",\"question_id\":1,\"text\":\"x\"}",
      "{\"type\":\"highlight\",\"question_id\":null}",
      "{\"type\":\"show.end\"}",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(leader_only); i++) {
    say(fx, WANG, leader_only[i]);
    expect_error(fx, WANG, "forbidden");
    g_assert_null(take(fx, LI, "product")); /* nobody heard of anything */
    g_assert_null(take(fx, LI, "pinned"));
  }
  store_product_t p = {0};
  g_assert_true(store_product_get(fx->store, id, &p));
  g_assert_cmpint(p.stock, ==, 10);
  store_product_clear(&p);
  json_t *products = store_products_json(fx->store);
  g_assert_cmpuint(json_array_size(products), ==, 1);
  json_decref(products);
  g_assert_true(store_show_current(fx->store) != 0); /* not ended */
}

static void test_orders(fx_t *fx, gconstpointer data) {
  (void)data;
  open_room(fx);
  gint64 peach = put_product(fx, 5, 3, TRUE);
  fx->stream_ms = 4200;

  json_t *ok = order(fx, WANG, peach, 2, "k1");
  g_assert_cmpstr(str_of(ok, "type"), ==, "order.ok");
  g_assert_cmpstr(str_of(ok, "key"), ==, "k1");
  g_assert_cmpint(int_of(ok, "qty"), ==, 2);
  g_assert_cmpint(int_of(ok, "stream_ms"), ==, 4200);
  gint64 order_id = int_of(ok, "order_id");
  json_decref(ok);

  /* The retried key: the same order, stock taken once. */
  ok = order(fx, WANG, peach, 2, "k1");
  g_assert_cmpint(int_of(ok, "order_id"), ==, order_id);
  json_decref(ok);

  /* The per-buyer limit (3) counts the first order; another buyer is not
   * affected by it; stock runs out; a product off sale is refused. */
  json_t *r = order(fx, WANG, peach, 2, "k2");
  g_assert_cmpstr(str_of(r, "reason"), ==, "over_limit");
  json_decref(r);
  r = order(fx, LI, peach, 3, "k3");
  g_assert_cmpstr(str_of(r, "type"), ==, "order.ok");
  json_decref(r);
  r = order(fx, WANG, peach, 1, "k4");
  g_assert_cmpstr(str_of(r, "reason"), ==, "sold_out");
  json_decref(r);
  gint64 off = put_product(fx, 5, 0, FALSE);
  r = order(fx, WANG, off, 1, "k5");
  g_assert_cmpstr(str_of(r, "reason"), ==, "not_on_sale");
  json_decref(r);
  r = order(fx, WANG, 999, 1, "k6");
  g_assert_cmpstr(str_of(r, "reason"), ==, "not_on_sale");
  json_decref(r);
  r = order(fx, WANG, peach, 100, "k7");
  g_assert_cmpstr(str_of(r, "reason"), ==, "invalid");
  json_decref(r);

  store_product_t p = {0};
  g_assert_true(store_product_get(fx->store, peach, &p));
  g_assert_cmpint(p.stock, ==, 0);
  g_assert_cmpint(p.sold, ==, 5);
  store_product_clear(&p);

  /* Room-wide news comes coalesced: the latest stock, and the ticker with
   * masked names; the leader's list has who and where. */
  room_test_flush_broadcasts(fx->room);
  int peach_stocks = 0;
  for (json_t *stock; (stock = take(fx, LI, "stock")) != NULL; json_decref(stock)) {
    if (int_of(stock, "product_id") != peach)
      continue;
    peach_stocks++; /* one per product, not one per order */
    g_assert_cmpint(int_of(stock, "stock"), ==, 0);
    g_assert_cmpint(int_of(stock, "sold"), ==, 5);
  }
  g_assert_cmpint(peach_stocks, ==, 1);
  json_t *ticker = must_take(fx, LI, "ordered");
  g_assert_cmpstr(str_of(ticker, "name"), ==, "王**");
  json_decref(ticker);
  json_t *news = must_take(fx, LEADER, "order.new");
  json_t *first = json_array_get(json_object_get(news, "orders"), 0);
  g_assert_cmpstr(str_of(first, "phone"), ==, "13800000001");
  g_assert_cmpstr(str_of(first, "pickup"), ==, "3号楼");
  json_decref(news);
  g_assert_null(take(fx, WANG, "order.new"));
}

/* After the show, its replay still sells: an order naming the show. */
static void test_replay_orders(fx_t *fx, gconstpointer data) {
  (void)data;
  open_room(fx);
  gint64 peach = put_product(fx, 10, 2, TRUE);
  gint64 show = store_show_current(fx->store);
  json_decref(order(fx, WANG, peach, 1, "live"));
  say(fx, LEADER, "{\"type\":\"show.end\"}");
  g_assert_cmpint(store_show_current(fx->store), ==, 0);

  /* Without a show: nowhere to go, and told why. */
  json_t *r = order(fx, WANG, peach, 1, "nowhere");
  g_assert_cmpstr(str_of(r, "reason"), ==, "no_show");
  json_decref(r);
  /* From the replay: stamped where the viewer was watching, the per-buyer
   * limit still counting the live order, an unknown show refused. */
  char *text = g_strdup_printf(
      "{\"type\":\"order\",\"product_id\":%" G_GINT64_FORMAT
      ",\"qty\":1,\"key\":\"replay\",\"seen_ms\":4321,\"show_id\":%" G_GINT64_FORMAT "}",
      peach, show);
  say(fx, WANG, text);
  room_flush_orders(fx->room);
  json_t *ok = must_take(fx, WANG, "order.ok");
  g_assert_cmpint(int_of(ok, "stream_ms"), ==, 4321);
  json_decref(ok);
  say(fx, WANG, text); /* the same key again: the same order */
  room_flush_orders(fx->room);
  json_decref(must_take(fx, WANG, "order.ok"));
  g_free(text);
  text = g_strdup_printf("{\"type\":\"order\",\"product_id\":%" G_GINT64_FORMAT
                         ",\"qty\":1,\"key\":\"over\",\"show_id\":%" G_GINT64_FORMAT "}",
                         peach, show);
  expect_rejected(fx, WANG, text, "over_limit");
  g_free(text);
  expect_rejected(fx, LI,
                  "{\"type\":\"order\",\"product_id\":1,\"qty\":1,\"key\":\"x\",\"show_id\":77}",
                  "invalid");
  store_product_t p = {0};
  g_assert_true(store_product_get(fx->store, peach, &p));
  g_assert_cmpint(p.sold, ==, 2);
  store_product_clear(&p);
  json_t *orders = store_orders_json(fx->store, show, 0, 100000);
  g_assert_cmpuint(json_array_size(orders), ==, 2);
  json_decref(orders);
}

/* Every list the server builds from user data is cut to a bound that fits
 * far below a connection's queue: the worst case of each, measured. */
#define WELCOME_BOUND (384 * 1024)
static void test_bounded_lists(fx_t *fx, gconstpointer data) {
  (void)data;
  open_room(fx);
  gint64 peach = put_product(fx, 100000, 0, TRUE);
  /* 60 questions of 280 four-byte characters (the worst an escaped text
   * costs now that control characters are refused). */
  GString *ask = g_string_new("{\"type\":\"ask\",\"text\":\"");
  for (int i = 0; i < 280; i++)
    g_string_append(ask, "\xF0\x9F\x8D\x91"); /* U+1F351 peach */
  g_string_append(ask, "\"}");
  gint64 first_q = 0;
  for (int i = 0; i < 60; i++) {
    ws_conn_id_t who = 1000 + i; /* the rate limit is per connection */
    room_test_open(fx->room, who);
    char *hello = g_strdup_printf("{\"type\":\"hello\",\"role\":\"viewer\",\"name\":\"邻居%d\","
                                  "\"pickup\":\"3号楼\",\"phone\":\"137%08d\"}",
                                  i, i);
    say(fx, who, hello);
    g_free(hello);
    say(fx, who, ask->str);
    if (i == 0) {
      json_t *q = must_take(fx, WANG, "question");
      first_q = int_of(q, "id");
      json_decref(q);
    }
  }
  g_string_free(ask, TRUE);
  clear_sent(fx);
  room_test_open(fx->room, 4000);
  say(fx, 4000, "{\"type\":\"hello\",\"role\":\"viewer\",\"guest\":true}");
  json_t *w = must_take(fx, 4000, "welcome");
  g_assert_cmpuint(json_array_size(json_object_get(w, "questions")), ==, 50);
  g_assert_cmpint(int_of(w, "questions_total"), ==, 60);
  json_t *oldest = json_array_get(json_object_get(w, "questions"), 0);
  g_assert_cmpint(int_of(oldest, "id"), ==, first_q + 10); /* the newest 50 */
  char *text = json_dumps(w, JSON_COMPACT);
  g_test_message("guest welcome with 60 worst-case questions: %zu bytes", strlen(text));
  g_assert_cmpuint(strlen(text), <, WELCOME_BOUND);
  free(text);
  /* The older ones, a page at a time. */
  char *more = g_strdup_printf("{\"type\":\"questions.more\",\"before_id\":%" G_GINT64_FORMAT
                               ",\"ref\":\"m1\"}",
                               int_of(oldest, "id"));
  say(fx, 4000, more);
  g_free(more);
  json_decref(w);
  json_t *page = must_take(fx, 4000, "questions.page");
  g_assert_cmpuint(json_array_size(json_object_get(page, "questions")), ==, 10);
  g_assert_cmpint(int_of(json_array_get(json_object_get(page, "questions"), 0), "id"), ==, first_q);
  g_assert_cmpstr(str_of(page, "ref"), ==, "m1");
  json_decref(page);

  /* 250 orders in one flush reach the leader as frames of at most 100. */
  for (int i = 0; i < 250; i++) {
    ws_conn_id_t who = 1000 + (i % 60);
    char *o = g_strdup_printf("{\"type\":\"order\",\"product_id\":%" G_GINT64_FORMAT
                              ",\"qty\":1,\"key\":\"k%d\"}",
                              peach, i);
    room_test_text(fx->room, who, o, strlen(o));
    g_free(o);
  }
  room_flush_orders(fx->room);
  room_test_flush_broadcasts(fx->room);
  guint frames = 0, entries = 0;
  json_t *f;
  while ((f = take(fx, LEADER, "order.new")) != NULL) {
    gsize n = json_array_size(json_object_get(f, "orders"));
    g_assert_cmpuint(n, <=, 100);
    entries += n;
    frames++;
    json_decref(f);
  }
  g_assert_cmpuint(entries, ==, 250);
  g_assert_cmpuint(frames, ==, 3);
  /* The leader's welcome: the newest 200 and the total. */
  room_test_open(fx->room, 4001);
  say(fx, 4001, "{\"type\":\"hello\",\"role\":\"leader\",\"token\":\"" TOKEN "\"}");
  w = must_take(fx, 4001, "welcome");
  g_assert_cmpuint(json_array_size(json_object_get(w, "orders")), ==, 200);
  g_assert_cmpint(int_of(w, "orders_total"), ==, 250);
  json_decref(w);
}

/* `n` copies of a four-byte character: the most a text field can cost. */
static char *worst_text(int n) {
  GString *s = g_string_new(NULL);
  for (int i = 0; i < n; i++)
    g_string_append(s, "\xF0\x9F\x8D\x91");
  return g_string_free(s, FALSE);
}

/* The largest welcome anyone can cause: a full catalogue, 50 answered
 * questions and 200 orders, every text at its limit. Far below the queue
 * (1 MiB for a viewer, ROOM_LEADER_QUEUE_BYTES for the leader). */
static void test_worst_welcome(fx_t *fx, gconstpointer data) {
  (void)data;
  open_room(fx);
  char *name = worst_text(32), *unit = worst_text(8), *text = worst_text(280);
  char *key = worst_text(64), *pickup = worst_text(32), *phone = g_strdup("13812345678");
  gint64 product = 0;
  for (int i = 0; i < 500; i++) {
    char *put =
        g_strdup_printf("{\"type\":\"product.put\",\"name\":\"%s\",\"price_cents\":100000000,"
                        "\"unit\":\"%s\",\"stock\":1000000,\"limit_per_buyer\":99,"
                        "\"on_sale\":true}",
                        name, unit);
    say(fx, LEADER, put);
    g_free(put);
  }
  json_t *p = take(fx, LEADER, "product");
  product = int_of(json_object_get(p, "product"), "id");
  json_decref(p);
  clear_sent(fx);
  say(fx, LEADER, "{\"type\":\"product.put\",\"name\":\"再一个\",\"price_cents\":1}");
  expect_error(fx, LEADER, "invalid"); /* the catalogue is full */
  for (int i = 0; i < 200; i++) {
    ws_conn_id_t who = 5000 + i;
    room_test_open(fx->room, who);
    char *hello = g_strdup_printf("{\"type\":\"hello\",\"role\":\"viewer\",\"name\":\"%s\","
                                  "\"pickup\":\"%s\",\"phone\":\"139%08d\"}",
                                  name, pickup, i);
    say(fx, who, hello);
    g_free(hello);
    char *o = g_strdup_printf("{\"type\":\"order\",\"product_id\":%" G_GINT64_FORMAT
                              ",\"qty\":99,\"key\":\"%s\",\"seen_ms\":864000000}",
                              product, key);
    say(fx, who, o);
    g_free(o);
    if (i < 50) {
      char *ask = g_strdup_printf("{\"type\":\"ask\",\"text\":\"%s\"}", text);
      say(fx, who, ask);
      g_free(ask);
    }
  }
  room_flush_orders(fx->room);
  clear_sent(fx);
  for (gint64 q = 1; q <= 50; q++) {
    char *ans = g_strdup_printf(
        "{\"type\":\"answer\",\"question_id\":%" G_GINT64_FORMAT ",\"text\":\"%s\"}", q, text);
    say(fx, LEADER, ans);
    g_free(ans);
  }
  /* The same viewer placing 200 orders: its own my_orders at the bound. */
  for (int i = 0; i < 199; i++) {
    char *o = g_strdup_printf("{\"type\":\"order\",\"product_id\":%" G_GINT64_FORMAT
                              ",\"qty\":1,\"key\":\"%s%03d\",\"seen_ms\":864000000}",
                              product + 1 + i, name, i);
    say(fx, 5000, o);
    g_free(o);
  }
  room_flush_orders(fx->room);
  clear_sent(fx);
  char *token = NULL;
  {
    store_viewer_t v = {0};
    g_assert_true(store_viewer_by_id(fx->store, 3, &v)); /* the first of the 200 */
    token = g_strdup(v.token);
    store_viewer_clear(&v);
  }
  room_test_open(fx->room, 9000);
  char *again =
      g_strdup_printf("{\"type\":\"hello\",\"role\":\"viewer\",\"viewer_token\":\"%s\"}", token);
  say(fx, 9000, again);
  g_free(again);
  json_t *w = must_take(fx, 9000, "welcome");
  g_assert_cmpuint(json_array_size(json_object_get(w, "my_orders")), ==, 200);
  char *t = json_dumps(w, JSON_COMPACT);
  gsize viewer_bytes = strlen(t);
  free(t);
  json_decref(w);
  room_test_open(fx->room, 9001);
  say(fx, 9001, "{\"type\":\"hello\",\"role\":\"leader\",\"token\":\"" TOKEN "\"}");
  w = must_take(fx, 9001, "welcome");
  g_assert_cmpuint(json_array_size(json_object_get(w, "orders")), ==, 200);
  t = json_dumps(w, JSON_COMPACT);
  gsize leader_bytes = strlen(t);
  free(t);
  json_decref(w);
  g_test_message("worst welcome: viewer %zu bytes, leader %zu bytes", viewer_bytes, leader_bytes);
  g_assert_cmpuint(viewer_bytes, <, 512 * 1024);
  g_assert_cmpuint(leader_bytes, <, 1024 * 1024);
  g_free(token);
  g_free(name);
  g_free(unit);
  g_free(text);
  g_free(key);
  g_free(pickup);
  g_free(phone);
}

/* Viewers with the same phone are one person for the per-buyer limit. */
static void test_person_limit(fx_t *fx, gconstpointer data) {
  (void)data;
  open_room(fx);
  gint64 peach = put_product(fx, 100, 2, TRUE);
  json_decref(order(fx, WANG, peach, 2, "a"));
  room_test_open(fx->room, 77); /* WANG again, a fresh token, the phone written another way */
  say(fx, 77,
      "{\"type\":\"hello\",\"role\":\"viewer\",\"name\":\"王二\",\"pickup\":\"3号楼\","
      "\"phone\":\"+86 138 0000 0001\"}");
  json_decref(must_take(fx, 77, "welcome"));
  json_t *r = order(fx, 77, peach, 1, "b");
  g_assert_cmpstr(str_of(r, "type"), ==, "order.rejected");
  g_assert_cmpstr(str_of(r, "reason"), ==, "over_limit");
  json_decref(r);
  r = order(fx, LI, peach, 2, "a"); /* another person */
  g_assert_cmpstr(str_of(r, "type"), ==, "order.ok");
  json_decref(r);
}

/* A locked database (another process) does not stall the loop: the batch
 * fails fast, is put back, and commits once the lock is gone. */
static void test_busy_retry(fx_t *fx, gconstpointer data) {
  (void)data;
  open_room(fx);
  gint64 peach = put_product(fx, 100, 0, TRUE);
  char *path = g_build_filename(fx->dir, "tourcast.db", NULL);
  sqlite3 *other = NULL;
  g_assert_cmpint(sqlite3_open(path, &other), ==, SQLITE_OK);
  g_free(path);
  g_assert_cmpint(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), ==, SQLITE_OK);
  char *text = g_strdup_printf(
      "{\"type\":\"order\",\"product_id\":%" G_GINT64_FORMAT ",\"qty\":1,\"key\":\"z\"}", peach);
  say(fx, WANG, text);
  g_free(text);
  gint64 t0 = g_get_monotonic_time();
  room_flush_orders(fx->room);
  gint64 spent = g_get_monotonic_time() - t0;
  g_test_message("a flush against a locked database took %.1f ms", spent / 1000.0);
  g_assert_cmpint(spent, <, 200 * 1000); /* not the old 250 ms busy_timeout per statement */
  g_assert_null(take(fx, WANG, "order.ok"));
  g_assert_null(take(fx, WANG, "error"));
  /* Retried on later iterations while locked... */
  gint64 until = g_get_monotonic_time() + 100 * 1000;
  while (g_get_monotonic_time() < until)
    g_main_context_iteration(NULL, FALSE);
  g_assert_null(take(fx, WANG, "order.ok"));
  room_stats_t st;
  room_get_stats(fx->room, &st);
  g_assert_cmpuint(st.store_retries, >, 1);
  /* ...and committed once the lock is gone. */
  g_assert_cmpint(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close(other);
  json_t *ok = NULL;
  until = g_get_monotonic_time() + 2000 * 1000;
  while (ok == NULL && g_get_monotonic_time() < until) {
    g_main_context_iteration(NULL, FALSE);
    ok = take(fx, WANG, "order.ok");
  }
  g_assert_nonnull(ok);
  json_decref(ok);
}

/* Phone numbers only ever go to their owner and the leader. */
static void test_phones_stay_private(fx_t *fx, gconstpointer data) {
  (void)data;
  open_room(fx);
  gint64 peach = put_product(fx, 50, 0, TRUE);
  json_decref(order(fx, WANG, peach, 1, "a"));
  say(fx, WANG, "{\"type\":\"ask\",\"text\":\"甜吗\"}");
  room_test_flush_broadcasts(fx->room);
  room_test_open(fx->room, 20); /* a late viewer's welcome carries history */
  say(fx, 20,
      "{\"type\":\"hello\",\"role\":\"viewer\",\"name\":\"周\",\"pickup\":\"5号楼\","
      "\"phone\":\"13600000000\"}");
  for (guint i = 0; i < fx->sent->len; i++) {
    sent_t *s = &g_array_index(fx->sent, sent_t, i);
    if (s->id == LEADER)
      continue;
    char *text = json_dumps(s->msg, 0);
    g_assert_null(strstr(text, "13800000001") && s->id != WANG ? text : NULL);
    g_assert_null(strstr(text, "13900000002"));
    g_assert_null(strstr(text, "13600000000") && s->id != 20 ? text : NULL);
    free(text);
  }
}

static void test_questions_and_pins(fx_t *fx, gconstpointer data) {
  (void)data;
  open_room(fx);
  gint64 peach = put_product(fx, 50, 0, TRUE);
  fx->stream_ms = 7000;
  say(fx, LEADER, "{\"type\":\"pin\",\"product_id\":1}");
  json_t *pinned = must_take(fx, LI, "pinned");
  g_assert_cmpint(int_of(pinned, "product_id"), ==, peach);
  g_assert_cmpint(int_of(pinned, "stream_ms"), ==, 7000);
  json_decref(pinned);

  /* "The product I saw": a viewer whose video lags orders at seen_ms 500,
   * before the pin; one in step orders at 7500, after it. */
  json_decref(order(fx, WANG, peach, 1, "lagging")); /* order() sends seen_ms 500 */
  say(fx, LI, "{\"type\":\"order\",\"product_id\":1,\"qty\":1,\"key\":\"live\",\"seen_ms\":7500}");
  room_flush_orders(fx->room);
  json_decref(must_take(fx, LI, "order.ok"));
  json_t *orders = store_orders_json(fx->store, store_show_current(fx->store), 0, 100000);
  g_assert_cmpuint(json_array_size(orders), ==, 2);
  json_t *lagging = json_array_get(orders, 0), *live = json_array_get(orders, 1);
  g_assert_cmpint(int_of(lagging, "seen_ms"), ==, 500);
  g_assert_true(json_is_null(json_object_get(lagging, "seen_product_id")));
  g_assert_cmpint(int_of(live, "seen_ms"), ==, 7500);
  g_assert_cmpint(int_of(live, "seen_product_id"), ==, peach);
  json_decref(orders);

  /* Text is kept as typed: markup is the viewers' pages' business to escape. */
  fx->stream_ms = 8000;
  say(fx, WANG, "{\"type\":\"ask\",\"text\":\"<img src=x onerror=alert(1)> 甜吗？\"}");
  json_t *q = must_take(fx, LI, "question");
  g_assert_cmpstr(str_of(q, "text"), ==, "<img src=x onerror=alert(1)> 甜吗？");
  g_assert_cmpstr(str_of(q, "name"), ==, "王**");
  g_assert_cmpint(int_of(q, "stream_ms"), ==, 8000);
  gint64 qid = int_of(q, "id");
  json_decref(q);

  char *text = g_strdup_printf(
      "{\"type\":\"answer\",\"question_id\":%" G_GINT64_FORMAT ",\"text\":\"很甜\"}", qid);
  say(fx, LEADER, text);
  g_free(text);
  json_t *a = must_take(fx, WANG, "answer");
  g_assert_cmpint(int_of(a, "question_id"), ==, qid);
  json_decref(a);
  text = g_strdup_printf("{\"type\":\"highlight\",\"question_id\":%" G_GINT64_FORMAT "}", qid);
  say(fx, LEADER, text);
  g_free(text);
  json_t *h = must_take(fx, LI, "highlight");
  g_assert_cmpint(int_of(h, "question_id"), ==, qid);
  json_decref(h);
  clear_sent(fx);
  say(fx, LEADER, "{\"type\":\"pin\",\"product_id\":null}");
  pinned = must_take(fx, WANG, "pinned");
  g_assert_true(json_is_null(json_object_get(pinned, "product_id")));
  json_decref(pinned);
  /* Unknown ids change nothing. */
  say(fx, LEADER, "{\"type\":\"pin\",\"product_id\":404}");
  expect_error(fx, LEADER, "invalid");
  g_assert_null(take(fx, WANG, "pinned"));
}

/* Malformed input: each gets its error, the connection stays usable and
 * nothing changes. */
static void test_malformed(fx_t *fx, gconstpointer data) {
  (void)data;
  open_room(fx);
  gint64 peach = put_product(fx, 10, 0, TRUE);
  static const struct {
    const char *text;
    const char *code;
  } rows[] = {
      {"{\"type\":\"order\"", "bad_json"},
      {"[1,2]", "bad_json"},
      {"\"order\"", "bad_json"},
      {"{\"type\":\"buy\"}", "unknown_type"},
      {"{\"qty\":1}", "invalid"},
      {"{\"type\":7}", "invalid"},
      {"{\"type\":\"order\",\"product_id\":\"1\",\"qty\":1,\"key\":\"x\"}", "invalid"},
      {"{\"type\":\"order\",\"product_id\":1,\"qty\":1}", "invalid"},
      {"{\"type\":\"order\",\"product_id\":99999999999999999999,\"qty\":1,\"key\":\"x\"}",
       "bad_json"},
      {"{\"type\":\"order\",\"product_id\":1,\"qty\":1.5,\"key\":\"x\"}", "invalid"},
      {"{\"type\":\"ask\"}", "invalid"},
      {"{\"type\":\"ask\",\"text\":\"\"}", "invalid"},
      {"{\"type\":\"hello\",\"role\":\"viewer\",\"name\":\"x\"}", "invalid"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
    say(fx, WANG, rows[i].text);
    room_flush_orders(fx->room);
    json_t *e = take(fx, WANG, "error");
    if (e == NULL)
      g_error("row %zu (%s): no error", i, rows[i].text);
    if (g_strcmp0(str_of(e, "code"), rows[i].code) != 0)
      g_error("row %zu (%s): %s, want %s", i, rows[i].text, str_of(e, "code"), rows[i].code);
    json_decref(e);
    g_assert_null(take(fx, WANG, "order.ok"));
  }
  /* A negative quantity is an order the store refuses, not a parse error. */
  json_t *r = order(fx, WANG, peach, -1, "neg");
  g_assert_cmpstr(str_of(r, "reason"), ==, "invalid");
  json_decref(r);
  store_product_t p = {0};
  g_assert_true(store_product_get(fx->store, peach, &p));
  g_assert_cmpint(p.stock, ==, 10);
  store_product_clear(&p);
  /* Still usable. */
  r = order(fx, WANG, peach, 1, "fine");
  g_assert_cmpstr(str_of(r, "type"), ==, "order.ok");
  json_decref(r);
}

/* Pins and highlights are stamped with the first frame that shows them. */
static void test_overlay_sync(fx_t *fx, gconstpointer data) {
  (void)data;
  open_room(fx);
  gint64 peach = put_product(fx, 50, 0, TRUE);
  gint64 show = store_show_current(fx->store);
  fx->stream_ms = 20000;
  guint changes = fx->overlay_changes;
  say(fx, LEADER, "{\"type\":\"pin\",\"product_id\":1}");
  g_assert_cmpuint(fx->overlay_changes, ==, changes + 1);
  guint64 v = fx->overlay_version;
  /* Not yet on screen: nobody hears of it, nothing is stored. */
  g_assert_null(take(fx, LI, "pinned"));
  g_assert_cmpint(store_pinned_at(fx->store, show, 1000000), ==, 0);
  room_overlay_t o;
  room_overlay_get(fx->room, &o);
  g_assert_true(o.has_product);
  g_assert_cmpint(o.product_id, ==, peach);
  g_assert_cmpstr(o.product_name, ==, "水蜜桃");
  g_assert_cmpstr(o.unit, ==, "斤");
  g_assert_cmpint(o.price_cents, ==, 1280);
  g_assert_cmpint(o.stock, ==, 50);
  room_overlay_clear(&o);

  /* An earlier version going out does not stamp it; its own does. */
  room_overlay_shown(fx->room, v - 1, 20010);
  g_assert_null(take(fx, LI, "pinned"));
  room_overlay_shown(fx->room, v, 20033);
  json_t *pinned = must_take(fx, LI, "pinned");
  g_assert_cmpint(int_of(pinned, "stream_ms"), ==, 20033);
  json_decref(pinned);
  g_assert_cmpint(store_pinned_at(fx->store, show, 20032), ==, 0);
  g_assert_cmpint(store_pinned_at(fx->store, show, 20033), ==, peach);

  /* No frame reports (the output stopped reporting): after 3 s the clock
   * stamps it. */
  fx->stream_ms = 30000;
  say(fx, LEADER, "{\"type\":\"pin\",\"product_id\":null}");
  g_assert_null(take(fx, LI, "pinned"));
  gint64 until = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
  json_t *late = NULL;
  while (late == NULL && g_get_monotonic_time() < until) {
    g_main_context_iteration(NULL, FALSE);
    g_usleep(10000);
    late = take(fx, LI, "pinned");
  }
  g_assert_nonnull(late);
  g_assert_cmpint(int_of(late, "stream_ms"), ==, 30000);
  g_assert_true(json_is_null(json_object_get(late, "product_id")));
  json_decref(late);

  /* A highlight the same way; its question and answer are in the snapshot. */
  say(fx, WANG, "{\"type\":\"ask\",\"text\":\"甜吗？\"}");
  json_t *q = must_take(fx, LEADER, "question");
  gint64 qid = int_of(q, "id");
  json_decref(q);
  char *text =
      g_strdup_printf("{\"type\":\"highlight\",\"question_id\":%" G_GINT64_FORMAT "}", qid);
  say(fx, LEADER, text);
  g_free(text);
  room_overlay_shown(fx->room, fx->overlay_version, 31000);
  json_t *h = must_take(fx, WANG, "highlight");
  g_assert_cmpint(int_of(h, "stream_ms"), ==, 31000);
  json_decref(h);
  changes = fx->overlay_changes;
  text = g_strdup_printf(
      "{\"type\":\"answer\",\"question_id\":%" G_GINT64_FORMAT ",\"text\":\"很甜\"}", qid);
  say(fx, LEADER, text);
  g_free(text);
  g_assert_cmpuint(fx->overlay_changes, ==, changes + 1); /* the answer shows on screen */
  room_overlay_get(fx->room, &o);
  g_assert_true(o.has_question);
  g_assert_cmpstr(o.question_name, ==, "王**");
  g_assert_cmpstr(o.question_text, ==, "甜吗？");
  g_assert_cmpstr(o.answer, ==, "很甜");
  room_overlay_clear(&o);
  /* A question that is not there changes nothing. */
  say(fx, LEADER, "{\"type\":\"highlight\",\"question_id\":999}");
  expect_error(fx, LEADER, "invalid");
}

/* The ticker, the show's title and promise, as the overlay reads them. */
static void test_overlay_state(fx_t *fx, gconstpointer data) {
  (void)data;
  open_room(fx);
  gint64 peach = put_product(fx, 50, 0, TRUE);
  say(fx, LEADER, "{\"type\":\"show.update\",\"title\":\"阳山桃园\",\"promise\":\"坏果包赔\"}");
  json_t *sh = must_take(fx, WANG, "show");
  g_assert_cmpstr(str_of(json_object_get(sh, "show"), "promise"), ==, "坏果包赔");
  json_decref(sh);
  for (int i = 0; i < 7; i++) {
    char key[8];
    g_snprintf(key, sizeof key, "t%d", i);
    json_decref(order(fx, i % 2 ? LI : WANG, peach, 1, key));
  }
  room_overlay_t o;
  room_overlay_get(fx->room, &o);
  g_assert_cmpstr(o.title, ==, "阳山桃园");
  g_assert_cmpstr(o.promise, ==, "坏果包赔");
  g_assert_false(o.has_product); /* nothing pinned */
  g_assert_cmpint(o.n_ticker, ==, ROOM_OVERLAY_TICKER);
  for (int i = 0; i < o.n_ticker; i++) {
    g_assert_cmpuint(o.ticker[i].seq, ==, (guint64)(3 + i)); /* the newest five, oldest first */
    g_assert_cmpstr(o.ticker[i].name, ==, i % 2 ? "李**" : "王**");
    g_assert_cmpstr(o.ticker[i].product, ==, "水蜜桃");
  }
  room_overlay_clear(&o);
  say(fx, LEADER, "{\"type\":\"show.update\",\"promise\":\"\"}");
  room_overlay_get(fx->room, &o);
  g_assert_null(o.promise);
  g_assert_cmpstr(o.title, ==, "阳山桃园");
  room_overlay_clear(&o);
  say(fx, WANG, "{\"type\":\"show.update\",\"title\":\"x\"}");
  expect_error(fx, WANG, "forbidden");
  say(fx, LEADER, "{\"type\":\"show.end\"}");
  room_overlay_get(fx->room, &o);
  g_assert_null(o.title); /* between shows: nothing of the room on screen */
  g_assert_cmpint(o.n_ticker, ==, 0);
  room_overlay_clear(&o);
}

static json_t *show_of(fx_t *fx, ws_conn_id_t id) {
  json_t *m = must_take(fx, id, "show");
  json_t *s = json_incref(json_object_get(m, "show"));
  json_decref(m);
  return s;
}

/* The life cycle: waiting for the phone, live, ended with the phone still
 * connected, the next show on air at once; each show clean. */
static void test_show_life(fx_t *fx, gconstpointer data) {
  (void)data;
  open_room(fx); /* show 1 begun by the leader, no phone yet */
  g_assert_cmpstr(fx->outputs->str, ==, "");
  json_t *w = NULL;
  room_phone(fx->room, TRUE);
  g_assert_cmpstr(fx->outputs->str, ==, "+1 ");
  clear_sent(fx);
  room_show_started(fx->room, 1, 1700000000000);
  room_publisher_at(fx->room, TRUE, 0);
  json_t *s = show_of(fx, WANG);
  g_assert_cmpstr(str_of(s, "state"), ==, "live");
  g_assert_cmpint(int_of(s, "epoch_unix_ms"), ==, 1700000000000);
  json_decref(s);
  say(fx, LEADER, "{\"type\":\"show.update\",\"promise\":\"坏果包赔\"}");
  gint64 peach = put_product(fx, 50, 3, TRUE);
  json_decref(order(fx, WANG, peach, 2, "live-1"));
  room_test_flush_broadcasts(fx->room);
  json_t *on = must_take(fx, LEADER, "order.new");
  json_t *o = json_array_get(json_object_get(on, "orders"), 0);
  g_assert_cmpint(int_of(o, "show_id"), ==, 1);
  g_assert_cmpint(int_of(o, "price_cents"), ==, 1280);
  g_assert_false(json_is_true(json_object_get(o, "replay")));
  g_assert_cmpstr(str_of(o, "product_name"), ==, "水蜜桃");
  json_decref(on);
  char *pin = g_strdup_printf("{\"type\":\"pin\",\"product_id\":%" G_GINT64_FORMAT "}", peach);
  say(fx, LEADER, pin);
  g_free(pin);
  room_test_open(fx->room, 8); /* joins just after: the pin comes with its frame's time */
  say(fx, 8, "{\"type\":\"hello\",\"guest\":true}");
  w = must_take(fx, 8, "welcome");
  json_t *pins = json_object_get(w, "recent_pins");
  g_assert_cmpint(json_array_size(pins), ==, 1);
  g_assert_cmpint(int_of(json_array_get(pins, 0), "product_id"), ==, peach);
  g_assert_cmpint(int_of(json_array_get(pins, 0), "stream_ms"), ==, fx->stream_ms);
  json_decref(w);
  clear_sent(fx);

  say(fx, LEADER, "{\"type\":\"show.end\"}");
  g_assert_cmpstr(fx->outputs->str, ==, "+1 -1 ");
  s = show_of(fx, WANG);
  g_assert_cmpstr(str_of(s, "state"), ==, "ended");
  json_decref(s);
  /* Between shows: nothing to buy, the last show's replay offered. */
  json_t *r = order(fx, WANG, peach, 1, "between");
  g_assert_cmpstr(str_of(r, "reason"), ==, "no_show");
  json_decref(r);
  room_test_open(fx->room, 9);
  say(fx, 9, "{\"type\":\"hello\",\"guest\":true}");
  w = must_take(fx, 9, "welcome");
  g_assert_true(json_is_null(json_object_get(w, "show")));
  g_assert_cmpint(int_of(json_object_get(w, "last_show"), "id"), ==, 1);
  g_assert_true(json_is_true(json_object_get(w, "guest")));
  g_assert_true(json_is_null(json_object_get(w, "viewer_token")));
  json_decref(w);

  /* The phone never hung up: show 2 goes on air at once, carrying over. */
  say(fx, LEADER, "{\"type\":\"show.begin\",\"carry_over\":true}");
  g_assert_cmpstr(fx->outputs->str, ==, "+1 -1 +2 ");
  s = show_of(fx, WANG);
  g_assert_cmpint(int_of(s, "id"), ==, 2);
  g_assert_cmpstr(str_of(s, "title"), ==, "桃园");
  g_assert_cmpstr(str_of(s, "promise"), ==, "坏果包赔");
  g_assert_cmpstr(str_of(s, "state"), ==, "waiting");
  g_assert_true(json_is_null(json_object_get(s, "epoch_unix_ms"))); /* its own, not show 1's */
  json_decref(s);
  room_overlay_t ov;
  room_overlay_get(fx->room, &ov);
  g_assert_cmpint(ov.n_ticker, ==, 0); /* show 1's buyers are not show 2's ticker */
  room_overlay_clear(&ov);

  /* A replay order of show 1 reaches the leader, marked; the limit of 3
   * counts the live order of 2. */
  expect_rejected(fx, WANG,
                  "{\"type\":\"order\",\"product_id\":1,\"qty\":2,\"key\":\"rp\",\"show_id\":1}",
                  "over_limit");
  say(fx, WANG, "{\"type\":\"order\",\"product_id\":1,\"qty\":1,\"key\":\"rp\",\"show_id\":1}");
  room_flush_orders(fx->room);
  json_decref(must_take(fx, WANG, "order.ok"));
  room_test_flush_broadcasts(fx->room);
  on = must_take(fx, LEADER, "order.new");
  o = json_array_get(json_object_get(on, "orders"), 0);
  g_assert_cmpint(int_of(o, "show_id"), ==, 1);
  g_assert_true(json_is_true(json_object_get(o, "replay")));
  json_decref(on);
  g_assert_null(take(fx, WANG, "ordered")); /* not show 2's ticker */
  say(fx, WANG, "{\"type\":\"my_orders\",\"show_id\":1}");
  json_t *mine = must_take(fx, WANG, "my_orders");
  json_t *list = json_object_get(mine, "orders");
  g_assert_cmpint(json_array_size(list), ==, 2);
  g_assert_cmpint(int_of(mine, "orders_total"), ==, 2);
  g_assert_false(json_is_true(json_object_get(json_array_get(list, 0), "replay")));
  g_assert_true(json_is_true(json_object_get(json_array_get(list, 1), "replay")));
  g_assert_cmpint(int_of(json_array_get(list, 1), "price_cents"), ==, 1280);
  json_decref(mine);

  /* A guest watches; ordering asks it to join; join makes it a viewer. */
  say(fx, 9, "{\"type\":\"order\",\"product_id\":1,\"qty\":1,\"key\":\"g\"}");
  expect_error(fx, 9, "join_required");
  say(fx, 9, "{\"type\":\"ask\",\"text\":\"甜吗\"}");
  expect_error(fx, 9, "join_required");
  say(fx, 9, "{\"type\":\"my_orders\",\"show_id\":1}");
  expect_error(fx, 9, "join_required");
  say(fx, 9,
      "{\"type\":\"join\",\"name\":\"赵六\",\"pickup\":\"2号楼\",\"phone\":\"13700000009\"}");
  w = must_take(fx, 9, "welcome");
  g_assert_nonnull(json_string_value(json_object_get(w, "viewer_token")));
  g_assert_null(json_object_get(w, "guest"));
  json_decref(w);
  say(fx, 9,
      "{\"type\":\"join\",\"name\":\"赵六\",\"pickup\":\"2号楼\",\"phone\":\"13700000009\"}");
  expect_error(fx, 9, "invalid");
  room_stats_t st;
  room_get_stats(fx->room, &st);
  g_assert_cmpuint(st.viewers, ==, 4); /* counted once (WANG, LI, 8, 9) */

  /* The next show, announced; viewers may not. */
  say(fx, LEADER,
      "{\"type\":\"show.schedule\",\"title\":\"明早采茶\",\"at_unix_ms\":1800000000000}");
  json_t *sc = must_take(fx, WANG, "schedule");
  g_assert_cmpstr(str_of(json_object_get(sc, "next_show"), "title"), ==, "明早采茶");
  json_decref(sc);
  say(fx, WANG, "{\"type\":\"show.schedule\",\"at_unix_ms\":null}");
  expect_error(fx, WANG, "forbidden");
  clear_sent(fx);
}

/* A room started on a store with a show left open resumes it (or ends it). */
static void test_show_resume(fx_t *fx, gconstpointer data) {
  (void)data;
  open_room(fx);
  room_phone(fx->room, TRUE);
  room_show_started(fx->room, 1, 1700000000000);
  room_publisher_at(fx->room, TRUE, 0);
  room_t *old = fx->room;
  room_config_t cfg = {
      .leader_token = TOKEN, .stream_ms = NULL, .clock_user = fx, .output = fx_output};
  GError *err = NULL;
  fx->room = room_new(&cfg, fx->store, &err); /* the next process */
  g_assert_no_error(err);
  room_free(old);
  g_string_truncate(fx->outputs, 0);
  room_test_set_sink(fx->room, fx_sink, fx);
  g_assert_true(room_show_resume(fx->room, TRUE, 0));
  g_assert_cmpstr(fx->outputs->str, ==, "+1 "); /* on the slate at once */
  room_show_started(fx->room, 1, 1700000100000);
  room_publisher_at(fx->room, FALSE, 5000);
  json_t *s = room_show_json(fx->room, 1, FALSE);
  g_assert_cmpstr(str_of(s, "state"), ==, "slate");
  g_assert_cmpint(int_of(s, "epoch_unix_ms"), ==, 1700000100000); /* the resumed output's */
  json_decref(s);
  g_assert_true(room_show_resume(fx->room, FALSE, 7000)); /* too old after all: ended */
  s = room_show_json(fx->room, 1, TRUE);
  g_assert_cmpstr(str_of(s, "state"), ==, "ended");
  g_assert_cmpint(int_of(s, "ended_stream_ms"), ==, 7000);
  g_assert_cmpint(int_of(s, "gmv_cents"), ==, 0);
  json_decref(s);
  g_assert_cmpstr(fx->outputs->str, ==, "+1 -1 ");
  g_assert_false(room_show_resume(fx->room, TRUE, 0)); /* nothing open */
  clear_sent(fx);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add("/room/" path, fx_t, NULL, fx_setup, fn, fx_teardown)
  ADD("hello", test_hello);
  ADD("viewer-cannot-lead", test_viewer_cannot_lead);
  ADD("orders", test_orders);
  ADD("phones-stay-private", test_phones_stay_private);
  ADD("questions-and-pins", test_questions_and_pins);
  ADD("malformed", test_malformed);
  ADD("replay-orders", test_replay_orders);
  ADD("bounded-lists", test_bounded_lists);
  ADD("person-limit", test_person_limit);
  ADD("worst-welcome", test_worst_welcome);
  ADD("busy-retry", test_busy_retry);
  ADD("show-life", test_show_life);
  ADD("show-resume", test_show_resume);
  g_test_add("/room/overlay-sync", fx_t, "video", fx_setup, test_overlay_sync, fx_teardown);
  g_test_add("/room/overlay-state", fx_t, "video", fx_setup, test_overlay_state, fx_teardown);
  return g_test_run();
}
