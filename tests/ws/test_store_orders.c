/* test_store_orders.c — orders through group commit: the decision table
 * (duplicate, invalid, not on sale, over limit, sold out), a flash sale, the
 * per-buyer limit across batches and restarts, the product seen at seen_ms,
 * and reading orders back. Crashes and failing commits: test_store_durability.c.
 */

#include "tests/ws/store_fixture.h"

#define T0 1700000000000LL

/* ---- the decision table ---- */

enum { P_EGGS, P_OFF, P_TINY, P_UNKNOWN, N_P };
#define V_UNKNOWN 9
#define BIG_KEY "<1 MB key>"

typedef struct {
  int batch;   /* consecutive rows with the same number go in one call */
  int viewer;  /* 0..4, or V_UNKNOWN */
  int product; /* P_* */
  gint64 qty;
  const char *key;
  store_order_status_t want;
  int same_as;  /* DUPLICATE: the row whose order comes back; else -1 */
  gint64 stock; /* the product's stock in the result; G_MININT64: not checked */
} order_row_t;

#define ANY G_MININT64
/* eggs: stock 10, limit 3; off: not on sale; tiny: stock 2, no limit. */
static const order_row_t order_rows[] = {
    /* 0 */ {0, 0, P_EGGS, 1, "a", STORE_ORDER_OK, -1, 9},
    /* 1 */ {0, 0, P_EGGS, 1, "a", STORE_ORDER_DUPLICATE, 0, 9}, /* same batch */
    /* 2 */ {0, 0, P_EGGS, 2, "b", STORE_ORDER_OK, -1, 7},       /* v0 at its limit */
    /* 3 */ {0, 0, P_EGGS, 1, "c", STORE_ORDER_OVER_LIMIT, -1, 7},
    /* 4 */ {0, 1, P_EGGS, 0, "d", STORE_ORDER_INVALID, -1, ANY},
    /* 5 */ {0, 1, P_EGGS, 100, "e", STORE_ORDER_INVALID, -1, ANY},
    /* 6 */ {0, 1, P_EGGS, -1, "f", STORE_ORDER_INVALID, -1, ANY},
    /* 7 */ {0, 1, P_EGGS, G_MAXINT64, "g", STORE_ORDER_INVALID, -1, ANY},
    /* 8 */ {0, 1, P_EGGS, G_MININT64, "h", STORE_ORDER_INVALID, -1, ANY},
    /* 9 */ {0, 1, P_EGGS, 1, NULL, STORE_ORDER_INVALID, -1, ANY},
    /* 10 */ {0, 1, P_OFF, 1, "i", STORE_ORDER_NOT_ON_SALE, -1, 10},
    /* 11 */ {0, 1, P_UNKNOWN, 1, "j", STORE_ORDER_NOT_ON_SALE, -1, -1},
    /* 12 */ {0, V_UNKNOWN, P_EGGS, 1, "k", STORE_ORDER_INVALID, -1, ANY},
    /* 13 */ {0, 1, P_EGGS, 4, "l", STORE_ORDER_OVER_LIMIT, -1, 7},
    /* 14 */ {1, 0, P_EGGS, 1, "a", STORE_ORDER_DUPLICATE, 0, 7},   /* across batches */
    /* 15 */ {1, 0, P_TINY, 5, "a", STORE_ORDER_DUPLICATE, 0, 7},   /* the original, not this */
    /* 16 */ {1, 0, P_EGGS, 1, "c", STORE_ORDER_OVER_LIMIT, -1, 7}, /* rejected keys: decided again
                                                                     */
    /* 17 */ {1, 1, P_TINY, 2, "m", STORE_ORDER_OK, -1, 0},
    /* 18 */ {1, 2, P_TINY, 1, "n", STORE_ORDER_SOLD_OUT, -1, 0},
    /* 19 */ {1, 1, P_EGGS, 3, "", STORE_ORDER_OK, -1, 4}, /* "" is a key like any */
    /* 20 */ {1, 1, P_EGGS, 1, "", STORE_ORDER_DUPLICATE, 19, 4},
    /* 21 */ {1, 3, P_EGGS, 1, "a", STORE_ORDER_OK, -1, 3}, /* keys are per viewer */
    /* 22 */ {2, 3, P_TINY, 1, "p", STORE_ORDER_SOLD_OUT, -1, 0},
    /* 23 */ {2, 4, P_EGGS, 1, BIG_KEY, STORE_ORDER_OK, -1, 2},
    /* 24 */ {2, 4, P_EGGS, 1, BIG_KEY, STORE_ORDER_DUPLICATE, 23, 2},
    /* 25 */ {2, 4, P_EGGS, 1, "'; DELETE FROM orders; --", STORE_ORDER_OK, -1, 1},
};

/* Sends the rows, consecutive rows of one batch number in one call. */
static void run_order_rows(sfx_t *fx, gint64 show, const gint64 *pid, const gint64 *vid,
                           store_order_res_t *res) {
  char *big = g_strnfill(1 << 20, 'k');
  gsize n = G_N_ELEMENTS(order_rows);
  for (gsize start = 0; start < n;) {
    gsize end = start;
    store_order_req_t reqs[G_N_ELEMENTS(order_rows)];
    for (; end < n && order_rows[end].batch == order_rows[start].batch; end++) {
      const order_row_t *r = &order_rows[end];
      const char *key = r->key && strcmp(r->key, BIG_KEY) == 0 ? big : r->key;
      gint64 viewer = r->viewer == V_UNKNOWN ? 999 : vid[r->viewer];
      reqs[end - start] =
          (store_order_req_t){show, viewer, pid[r->product], r->qty, key, -1, 100 + end, T0, FALSE};
    }
    GError *err = NULL;
    g_assert_true(store_order_batch(fx->st, reqs, end - start, res + start, &err));
    g_assert_no_error(err);
    start = end;
  }
  g_free(big);
}

static void test_order_table(sfx_t *fx, gconstpointer data) {
  gint64 show = sfx_show(fx->st);
  gint64 pid[N_P] = {sfx_product(fx->st, "土鸡蛋", 1250, 10, 3, TRUE),
                     sfx_product(fx->st, "下架", 100, 10, 0, FALSE),
                     sfx_product(fx->st, "稀有", 5000, 2, 0, TRUE), 424242};
  gint64 vid[5];
  for (int i = 0; i < 5; i++) {
    char phone[16];
    g_snprintf(phone, sizeof phone, "1390000000%d", i); /* five people */
    vid[i] = sfx_viewer(fx->st, "邻居", "A区", phone);
  }
  gsize n = G_N_ELEMENTS(order_rows);
  store_order_res_t res[G_N_ELEMENTS(order_rows)];
  run_order_rows(fx, show, pid, vid, res);
  gint64 ok = 0;
  for (gsize i = 0; i < n; i++) {
    const order_row_t *r = &order_rows[i];
    g_test_message("order row %zu", i);
    g_assert_cmpstr(store_order_status_name(res[i].status), ==, store_order_status_name(r->want));
    if (r->stock != ANY)
      g_assert_cmpint(res[i].stock, ==, r->stock);
    if (r->want == STORE_ORDER_OK) {
      ok++;
      g_assert_cmpint(res[i].order_id, >, 0);
      g_assert_cmpint(res[i].stream_ms, ==, 100 + (gint64)i);
    } else if (r->want == STORE_ORDER_DUPLICATE) {
      const store_order_res_t *orig = &res[r->same_as];
      g_assert_cmpint(res[i].order_id, ==, orig->order_id);
      g_assert_cmpint(res[i].product_id, ==, orig->product_id);
      g_assert_cmpint(res[i].qty, ==, orig->qty);
      g_assert_cmpint(res[i].stream_ms, ==, orig->stream_ms);
    } else {
      g_assert_cmpint(res[i].order_id, ==, 0);
    }
  }
  g_assert_cmpint(sfx_path_int(fx->path, "SELECT count(*) FROM orders"), ==, ok);
  g_assert_cmpint(sfx_path_int(fx->path, "SELECT count(*) FROM events WHERE type = 'order'"), ==,
                  ok);
  store_product_t p = {0};
  g_assert_true(store_product_get(fx->st, pid[P_EGGS], &p));
  g_assert_cmpint(p.stock, ==, 1);
  g_assert_cmpint(p.sold, ==, 9);
  store_product_clear(&p);
  store_stats_t stats;
  store_get_stats(fx->st, &stats);
  g_assert_cmpint(stats.orders[STORE_ORDER_OK], ==, ok);
  g_assert_cmpint(stats.orders[STORE_ORDER_DUPLICATE], ==, 5);
  g_assert_cmpint(stats.orders[STORE_ORDER_INVALID], ==, 7);
  g_assert_cmpint(stats.order_batches, ==, 3);
  g_assert_cmpstr(store_order_status_name(STORE_ORDER_N_STATUS), ==, "error");
  g_assert_cmpstr(store_order_status_name(STORE_ORDER_NOT_ON_SALE), ==, "not_on_sale");
  g_assert_true(store_order_batch(fx->st, NULL, 0, NULL, NULL)); /* nothing to do */
}

/* Orders against a show that is missing, ended, or not the one open. */
static void test_order_show_state(sfx_t *fx, gconstpointer data) {
  GError *err = NULL;
  gint64 old = sfx_show(fx->st);
  gint64 p = sfx_product(fx->st, "苹果", 990, 10, 0, TRUE);
  gint64 v = sfx_viewer(fx->st, "邻居", "A区", "1");
  g_assert_true(store_show_end(fx->st, old, 100, T0, &err));
  gint64 now = sfx_show(fx->st);
  store_order_req_t reqs[] = {{old, v, p, 1, "1", -1, 1, T0, FALSE},
                              {now, v, p, 1, "2", -1, 1, T0, FALSE},
                              {9999, v, p, 1, "3", -1, 1, T0, FALSE},
                              {now, v, p, 1, "4", -1, 1, T0, FALSE},
                              {old, v, p, 1, "5", -1, 1, T0, FALSE}};
  store_order_res_t res[G_N_ELEMENTS(reqs)];
  g_assert_true(store_order_batch(fx->st, reqs, G_N_ELEMENTS(reqs), res, &err));
  /* An ended show takes replay orders only: a live order there is told the
   * show is over, not that the product is off sale. */
  store_order_status_t want[] = {STORE_ORDER_NO_SHOW, STORE_ORDER_OK, STORE_ORDER_INVALID,
                                 STORE_ORDER_OK, STORE_ORDER_NO_SHOW};
  for (gsize i = 0; i < G_N_ELEMENTS(reqs); i++)
    g_assert_cmpint(res[i].status, ==, want[i]);
}

/* ---- a flash sale ---- */

static void test_flash_sale(sfx_t *fx, gconstpointer data) {
  enum { BUYERS = 500, STOCK = 100 };
  gint64 show = sfx_show(fx->st);
  gint64 p = sfx_product(fx->st, "秒杀荔枝", 990, STOCK, 1, TRUE);
  gint64 *vid = g_new(gint64, BUYERS);
  for (int i = 0; i < BUYERS; i++)
    vid[i] = sfx_buyer(fx->st, i);
  store_order_req_t reqs[BUYERS];
  char keys[BUYERS][16];
  for (int i = 0; i < BUYERS; i++) {
    g_snprintf(keys[i], sizeof(keys[i]), "buy-%d", i);
    reqs[i] = (store_order_req_t){show, vid[i], p, 1, keys[i], 900, 1000 + i, T0 + i, FALSE};
  }
  store_order_res_t res[BUYERS];
  const gsize sizes[] = {1, 7, 64, 3, 128, 250, 47};
  int batches = 0;
  for (gsize start = 0, k = 0; start < BUYERS; k++) {
    gsize n = MIN(sizes[k % G_N_ELEMENTS(sizes)], BUYERS - start);
    GError *err = NULL;
    g_assert_true(store_order_batch(fx->st, reqs + start, n, res + start, &err));
    g_assert_no_error(err);
    start += n;
    batches++;
  }
  int ok = 0, sold_out = 0;
  gint64 last_stock = STOCK;
  GHashTable *ids = g_hash_table_new(g_int64_hash, g_int64_equal);
  for (int i = 0; i < BUYERS; i++) {
    g_assert_cmpint(res[i].stock, >=, 0);
    if (res[i].status == STORE_ORDER_OK) {
      ok++;
      g_assert_cmpint(res[i].stock, ==, last_stock - 1); /* each OK took exactly one */
      last_stock = res[i].stock;
      g_assert_true(g_hash_table_add(ids, &res[i].order_id));
    } else {
      g_assert_cmpint(res[i].status, ==, STORE_ORDER_SOLD_OUT);
      sold_out++;
    }
  }
  g_assert_cmpint(ok, ==, STOCK);
  g_assert_cmpint(sold_out, ==, BUYERS - STOCK);
  g_assert_cmpint(g_hash_table_size(ids), ==, STOCK);
  g_hash_table_unref(ids);
  store_product_t prod = {0};
  g_assert_true(store_product_get(fx->st, p, &prod));
  g_assert_cmpint(prod.stock, ==, 0);
  g_assert_cmpint(prod.sold, ==, STOCK);
  store_product_clear(&prod);
  g_assert_cmpint(sfx_path_int(fx->path, "SELECT count(*) FROM orders"), ==, STOCK);
  g_assert_cmpint(sfx_path_int(fx->path, "SELECT sum(qty) FROM orders"), ==, STOCK);
  store_stats_t st;
  store_get_stats(fx->st, &st);
  g_assert_cmpint(st.order_batches, ==, batches);
  g_assert_cmpint(st.orders[STORE_ORDER_OK], ==, STOCK);
  g_assert_cmpint(st.orders[STORE_ORDER_SOLD_OUT], ==, BUYERS - STOCK);
  g_assert_cmpint(st.commit_us_last, >, 0);
  g_assert_cmpint(st.commit_us_max, >=, st.commit_us_last);
  g_assert_cmpint(st.commit_us_sum, >=, st.commit_us_max);
  g_free(vid);
}

/* ---- the per-buyer limit holds across batches, retries and restarts ---- */

static store_order_status_t order1(sfx_t *fx, gint64 show, gint64 v, gint64 p, gint64 qty,
                                   const char *key, gint64 *order_id) {
  store_order_req_t r = {show, v, p, qty, key, -1, 0, T0, FALSE};
  store_order_res_t res;
  g_assert_true(store_order_batch(fx->st, &r, 1, &res, NULL));
  if (order_id)
    *order_id = res.order_id;
  return res.status;
}

static void test_limit(sfx_t *fx, gconstpointer data) {
  GError *err = NULL;
  gint64 show = sfx_show(fx->st);
  gint64 p = sfx_product(fx->st, "车厘子", 9900, 100, 5, TRUE);
  gint64 v = sfx_viewer(fx->st, "王小明", "A区", "1");
  gint64 w = sfx_viewer(fx->st, "李四", "A区", "2");
  gint64 first = 0, again = 0;
  g_assert_cmpint(order1(fx, show, v, p, 2, "k1", &first), ==, STORE_ORDER_OK);
  g_assert_cmpint(order1(fx, show, v, p, 2, "k2", NULL), ==, STORE_ORDER_OK);
  store_free(fx->st); /* a restart (or a reconnect: the viewer id is the same) */
  fx->st = store_open(fx->path, &err);
  g_assert_no_error(err);
  g_assert_cmpint(order1(fx, show, v, p, 2, "k3", NULL), ==, STORE_ORDER_OVER_LIMIT);
  g_assert_cmpint(order1(fx, show, v, p, 1, "k4", NULL), ==, STORE_ORDER_OK);
  g_assert_cmpint(order1(fx, show, v, p, 1, "k5", NULL), ==, STORE_ORDER_OVER_LIMIT);
  g_assert_cmpint(order1(fx, show, v, p, 2, "k1", &again), ==, STORE_ORDER_DUPLICATE);
  g_assert_cmpint(again, ==, first);
  g_assert_cmpint(order1(fx, show, w, p, 5, "k1", NULL), ==,
                  STORE_ORDER_OK); /* others unaffected */
  g_assert_cmpint(order1(fx, show, w, p, 1, "k2", NULL), ==, STORE_ORDER_OVER_LIMIT);
  /* The limit is per show: next week's sale starts afresh. */
  g_assert_true(store_show_end(fx->st, show, 1, T0, &err));
  gint64 next = sfx_show(fx->st);
  g_assert_cmpint(order1(fx, next, v, p, 5, "k6", NULL), ==, STORE_ORDER_OK);
  g_assert_cmpint(sfx_path_int(fx->path, "SELECT sum(qty) FROM orders WHERE viewer_id = 1"), ==,
                  10);
}

/* The limit is per person: viewers with the same phone (however written)
 * share it, live and from the replay; a replay sells only what was on sale
 * while its show was open. */
static void test_person_limit(sfx_t *fx, gconstpointer data) {
  GError *err = NULL;
  gint64 show = sfx_show(fx->st);
  gint64 p = sfx_product(fx->st, "车厘子", 9900, 100, 3, TRUE);
  gint64 v1 = sfx_viewer(fx->st, "王小明", "A区", "+86 139-1234-5678");
  gint64 v2 = sfx_viewer(fx->st, "小明", "A区", "13912345678");
  gint64 v3 = sfx_viewer(fx->st, "王", "B区", "008613912345678");
  gint64 w = sfx_viewer(fx->st, "李四", "A区", "13900000000");
  g_assert_cmpint(order1(fx, show, v1, p, 2, "a", NULL), ==, STORE_ORDER_OK);
  g_assert_cmpint(order1(fx, show, v2, p, 2, "a", NULL), ==, STORE_ORDER_OVER_LIMIT);
  g_assert_cmpint(order1(fx, show, v2, p, 1, "b", NULL), ==, STORE_ORDER_OK);
  g_assert_cmpint(order1(fx, show, v3, p, 1, "a", NULL), ==, STORE_ORDER_OVER_LIMIT);
  g_assert_cmpint(order1(fx, show, w, p, 3, "a", NULL), ==, STORE_ORDER_OK);
  g_assert_true(store_show_end(fx->st, show, 1000, T0 + 1000, &err));
  /* After the show: a product put on sale later was never sold in it. */
  gint64 later = sfx_product(fx->st, "荔枝", 5000, 100, 0, TRUE);
  store_order_req_t replay[] = {
      {show, v3, p, 1, "r1", 500, 500, T0 + 2000, TRUE},     /* the person is at the limit */
      {show, v1, later, 1, "r2", 500, 500, T0 + 2000, TRUE}, /* not on sale in that show */
      {show, sfx_viewer(fx->st, "赵六", "C区", "13700000000"), p, 3, "r3", 500, 500, T0 + 2000,
       TRUE},
  };
  store_order_res_t res[G_N_ELEMENTS(replay)];
  g_assert_true(store_order_batch(fx->st, replay, G_N_ELEMENTS(replay), res, &err));
  g_assert_cmpint(res[0].status, ==, STORE_ORDER_OVER_LIMIT);
  g_assert_cmpint(res[1].status, ==, STORE_ORDER_NOT_ON_SALE);
  g_assert_cmpint(res[2].status, ==, STORE_ORDER_OK);
  /* The leader sees one person behind v1, v2 and v3. */
  json_t *all = store_orders_json(fx->st, show, 0, 100);
  g_assert_cmpint(json_array_size(all), ==, 4);
  gint64 person = json_integer_value(json_object_get(json_array_get(all, 0), "person_id"));
  g_assert_cmpint(person, ==, v1);
  g_assert_cmpint(json_integer_value(json_object_get(json_array_get(all, 1), "person_id")), ==, v1);
  g_assert_cmpint(json_integer_value(json_object_get(json_array_get(all, 2), "person_id")), ==, w);
  json_decref(all);
  g_assert_cmpint(store_orders_count(fx->st, show, 0), ==, 4);
  g_assert_cmpint(store_orders_count(fx->st, show, v1), ==, 1);
}

static void test_phone_norm(void) {
  static const char *const rows[][2] = {
      {"13912345678", "13912345678"},
      {"+86 139-1234-5678", "13912345678"},
      {"008613912345678", "13912345678"},
      {"86 139 1234 5678", "13912345678"},
      {"8613", "8613"},
      {"(010) 6552-1234", "01065521234"},
      {"abc", NULL},
      {"", NULL},
      {"１３９", NULL}, /* fullwidth digits are not ASCII digits */
  };
  for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
    char *n = store_phone_norm(rows[i][0]);
    g_assert_cmpstr(n, ==, rows[i][1]);
    g_free(n);
  }
  g_assert_null(store_phone_norm(NULL));
}

/* ---- the product on screen at seen_ms ---- */

static void test_seen_product(sfx_t *fx, gconstpointer data) {
  GError *err = NULL;
  gint64 show = sfx_show(fx->st);
  gint64 a = sfx_product(fx->st, "A", 100, 100, 0, TRUE);
  gint64 b = sfx_product(fx->st, "B", 100, 100, 0, TRUE);
  gint64 v = sfx_viewer(fx->st, "邻居", "A区", "1");
  g_assert_true(store_pin(fx->st, show, a, 1000, T0, &err));
  g_assert_true(store_pin(fx->st, show, b, 5000, T0, &err));
  const struct {
    gint64 seen_ms, want; /* want 0: NULL */
  } rows[] = {{3000, a}, {1000, a}, {4999, a}, {5000, b}, {6000, b}, {500, 0}, {-1, 0}};
  for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
    char key[8];
    g_snprintf(key, sizeof(key), "s%zu", i);
    store_order_req_t r = {show, v, b, 1, key, rows[i].seen_ms, 6000, T0, FALSE};
    store_order_res_t res;
    g_assert_true(store_order_batch(fx->st, &r, 1, &res, &err));
    g_assert_cmpint(res.status, ==, STORE_ORDER_OK);
    char *sql = g_strdup_printf(
        "SELECT coalesce(seen_product_id, 0) FROM orders WHERE id = %" G_GINT64_FORMAT,
        res.order_id);
    g_assert_cmpint(sfx_path_int(fx->path, sql), ==, rows[i].want);
    g_free(sql);
  }
  g_assert_cmpint(sfx_path_int(fx->path, "SELECT count(*) FROM orders WHERE seen_ms IS NULL"), ==,
                  1);
  json_t *ev = store_events_json(fx->st, show, -1, 0, 100000);
  json_t *first = json_object_get(json_array_get(ev, 3), "data"); /* begin, pin, pin, order */
  g_assert_cmpint(json_integer_value(json_object_get(first, "seen_product_id")), ==, a);
  g_assert_cmpint(json_integer_value(json_object_get(first, "seen_ms")), ==, 3000);
  json_decref(ev);
}

/* ---- reading orders back: the viewer's own, and the leader's list ---- */

static void test_order_lists(sfx_t *fx, gconstpointer data) {
  GError *err = NULL;
  gint64 show = sfx_show(fx->st);
  gint64 p = sfx_product(fx->st, "苹果", 990, 100, 0, TRUE);
  gint64 v = sfx_viewer(fx->st, "王小明", "A区", "13800138000");
  gint64 w = sfx_viewer(fx->st, "李四", "B区", "13900000000");
  gint64 a = 0, b = 0;
  g_assert_cmpint(order1(fx, show, v, p, 2, "k1", &a), ==, STORE_ORDER_OK);
  g_assert_cmpint(order1(fx, show, w, p, 1, "k1", NULL), ==, STORE_ORDER_OK);
  g_assert_cmpint(order1(fx, show, v, p, 3, "k2", &b), ==, STORE_ORDER_OK);
  json_t *mine = store_viewer_orders_json(fx->st, show, v, 100000);
  g_assert_cmpint(json_array_size(mine), ==, 2);
  json_t *o = json_array_get(mine, 1);
  g_assert_cmpint(json_integer_value(json_object_get(o, "order_id")), ==, b);
  g_assert_cmpint(json_integer_value(json_object_get(o, "qty")), ==, 3);
  g_assert_cmpstr(json_string_value(json_object_get(o, "key")), ==, "k2");
  g_assert_null(json_object_get(o, "phone")); /* a viewer's own list has no phone */
  json_decref(mine);
  json_t *all = store_orders_json(fx->st, show, 0, 100000);
  g_assert_cmpint(json_array_size(all), ==, 3);
  o = json_array_get(all, 0);
  g_assert_cmpint(json_integer_value(json_object_get(o, "order_id")), ==, a);
  g_assert_cmpstr(json_string_value(json_object_get(o, "name")), ==, "王小明");
  g_assert_cmpstr(json_string_value(json_object_get(o, "phone")), ==, "13800138000");
  g_assert_cmpstr(json_string_value(json_object_get(o, "pickup")), ==, "A区");
  g_assert_cmpint(json_integer_value(json_object_get(o, "price_cents")), ==, 990);
  g_assert_true(json_is_null(json_object_get(o, "seen_ms")));
  json_decref(all);
  g_assert_true(store_show_end(fx->st, show, 1, T0, &err));
  gint64 next = sfx_show(fx->st);
  mine = store_viewer_orders_json(fx->st, next, v, 100000);
  g_assert_cmpint(json_array_size(mine), ==, 0);
  json_decref(mine);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add("/store_orders/" path, sfx_t, NULL, sfx_setup, fn, sfx_teardown)
  ADD("table", test_order_table);
  ADD("show_state", test_order_show_state);
  ADD("flash_sale", test_flash_sale);
  ADD("limit", test_limit);
  ADD("person_limit", test_person_limit);
  g_test_add_func("/store_orders/phone_norm", test_phone_norm);
  ADD("seen_product", test_seen_product);
  ADD("order_lists", test_order_lists);
  return g_test_run();
}
