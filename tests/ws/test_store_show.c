/* test_store_show.c — a show's life and timeline in the store: begin/end,
 * the pin history, questions and answers, events (ordering, refusals, and no
 * phone number ever), and the leader's CSV picking list.
 */
#include <stdlib.h>

#include "tests/ws/store_fixture.h"

#define T0 1700000000000LL /* 2023-11-14 22:13:20 UTC */

static gint64 jint(json_t *obj, const char *key) {
  json_t *v = json_object_get(obj, key);
  g_assert_true(json_is_integer(v));
  return json_integer_value(v);
}

static gint64 count_events(sfx_t *fx, gint64 show) {
  json_t *ev = store_events_json(fx->st, show, -1, 0, 100000);
  g_assert_nonnull(ev);
  gint64 n = (gint64)json_array_size(ev);
  json_decref(ev);
  return n;
}

static void expect_error(gboolean ok, GError **err, int code) {
  g_assert_false(ok);
  g_assert_error(*err, STORE_ERROR, code);
  g_clear_error(err);
}

/* ---- shows ---- */

static void test_shows(sfx_t *fx, gconstpointer data) {
  GError *err = NULL;
  g_assert_cmpint(store_show_current(fx->st), ==, 0);
  json_t *list = store_shows_json(fx->st, 0, 1000);
  g_assert_cmpint(json_array_size(list), ==, 0);
  json_decref(list);

  gint64 a = store_show_begin(fx->st, "第一场", 1000, &err);
  g_assert_no_error(err);
  g_assert_cmpint(store_show_current(fx->st), ==, a);
  g_assert_true(store_show_exists(fx->st, a));
  g_assert_false(store_show_exists(fx->st, 999));
  g_assert_false(store_show_exists(fx->st, 0));
  expect_error(store_show_begin(fx->st, "again", 1001, &err) != 0, &err, STORE_ERROR_STATE);
  expect_error(store_show_begin(fx->st, NULL, 1001, &err) != 0, &err, STORE_ERROR_INVALID);

  g_assert_true(store_show_set_epoch(fx->st, a, 1500, &err));
  g_assert_true(store_show_set_promise(fx->st, a, "坏果包赔", &err));
  g_assert_no_error(err);
  expect_error(store_show_set_epoch(fx->st, 999, 1, &err), &err, STORE_ERROR_NOT_FOUND);
  expect_error(store_show_set_promise(fx->st, 999, "x", &err), &err, STORE_ERROR_NOT_FOUND);

  json_t *j = store_show_json(fx->st, a);
  g_assert_cmpstr(json_string_value(json_object_get(j, "title")), ==, "第一场");
  g_assert_cmpint(jint(j, "started_unix_ms"), ==, 1000);
  g_assert_cmpint(jint(j, "epoch_unix_ms"), ==, 1500);
  g_assert_true(json_is_null(json_object_get(j, "ended_unix_ms")));
  g_assert_cmpstr(json_string_value(json_object_get(j, "promise")), ==, "坏果包赔");
  g_assert_cmpint(jint(j, "orders"), ==, 0);
  json_decref(j);

  g_assert_true(store_show_end(fx->st, a, 60000, 61000, &err));
  g_assert_no_error(err);
  g_assert_cmpint(store_show_current(fx->st), ==, 0);
  g_assert_true(store_show_exists(fx->st, a)); /* ended shows still exist */
  expect_error(store_show_end(fx->st, a, 1, 1, &err), &err, STORE_ERROR_STATE);
  expect_error(store_show_end(fx->st, 999, 1, 1, &err), &err, STORE_ERROR_NOT_FOUND);
  j = store_show_json(fx->st, a);
  g_assert_cmpint(jint(j, "ended_unix_ms"), ==, 61000);
  g_assert_cmpint(jint(j, "ended_stream_ms"), ==, 60000);
  json_decref(j);
  g_assert_null(store_show_json(fx->st, 999));

  gint64 b = store_show_begin(fx->st, "第二场", 2000, &err);
  g_assert_no_error(err);
  g_assert_true(store_show_set_epoch(fx->st, b, -1, &err)); /* cleared */
  g_assert_true(store_show_set_promise(fx->st, b, NULL, &err));
  list = store_shows_json(fx->st, 0, 1000);
  g_assert_cmpint(json_array_size(list), ==, 2);
  g_assert_cmpint(jint(json_array_get(list, 0), "id"), ==, b); /* newest first */
  g_assert_cmpint(jint(json_array_get(list, 1), "id"), ==, a);
  g_assert_true(json_is_null(json_object_get(json_array_get(list, 0), "epoch_unix_ms")));
  g_assert_true(json_is_null(json_object_get(json_array_get(list, 0), "promise")));
  json_decref(list);

  json_t *ev = store_events_json(fx->st, a, -1, 0, 100000);
  g_assert_cmpint(json_array_size(ev), ==, 2);
  g_assert_cmpstr(json_string_value(json_object_get(json_array_get(ev, 0), "type")), ==,
                  "show.begin");
  json_t *end = json_array_get(ev, 1);
  g_assert_cmpstr(json_string_value(json_object_get(end, "type")), ==, "show.end");
  g_assert_cmpint(jint(end, "stream_ms"), ==, 60000);
  json_decref(ev);
}

/* ---- pins ---- */

static void test_pins(sfx_t *fx, gconstpointer data) {
  GError *err = NULL;
  gint64 show = sfx_show(fx->st);
  gint64 a = sfx_product(fx->st, "苹果", 990, 10, 0, TRUE);
  gint64 b = sfx_product(fx->st, "梨", 590, 10, 0, TRUE);
  g_assert_true(store_pin(fx->st, show, a, 1000, T0 + 1000, &err));
  g_assert_true(store_pin(fx->st, show, b, 5000, T0 + 5000, &err));
  g_assert_true(store_pin(fx->st, show, 0, 8000, T0 + 8000, &err));
  g_assert_true(store_pin(fx->st, show, b, 9000, T0 + 9000, &err));
  g_assert_true(store_pin(fx->st, show, a, 9000, T0 + 9001, &err)); /* same ms: the later wins */
  g_assert_no_error(err);

  const struct {
    gint64 at, want;
  } rows[] = {
      {G_MININT64, 0}, {-1, 0},   {0, 0},    {999, 0},  {1000, a}, {3000, a},       {4999, a},
      {5000, b},       {7999, b}, {8000, 0}, {8999, 0}, {9000, a}, {G_MAXINT64, a},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(rows); i++)
    g_assert_cmpint(store_pinned_at(fx->st, show, rows[i].at), ==, rows[i].want);
  g_assert_cmpint(store_pinned_at(fx->st, show + 1, 3000), ==, 0);

  /* The pin event keeps the product as it was on screen. */
  store_product_t p = {.id = a, .name = "改名了", .price_cents = 1, .stock = 1};
  g_assert_true(store_product_put(fx->st, &p, 1, &err));
  json_t *ev = store_events_json(fx->st, show, -1, 0, 100000);
  json_t *first_pin = json_object_get(json_array_get(ev, 1), "data");
  g_assert_cmpstr(json_string_value(json_object_get(first_pin, "name")), ==, "苹果");
  g_assert_cmpint(jint(first_pin, "price_cents"), ==, 990);
  g_assert_true(json_is_null(json_object_get(json_object_get(json_array_get(ev, 3), "data"),
                                             "product_id"))); /* the unpin */
  json_decref(ev);

  gint64 before = count_events(fx, show);
  expect_error(store_pin(fx->st, show, 999, 1, 1, &err), &err, STORE_ERROR_NOT_FOUND);
  expect_error(store_pin(fx->st, show, -1, 1, 1, &err), &err, STORE_ERROR_NOT_FOUND);
  expect_error(store_pin(fx->st, 999, a, 1, 1, &err), &err, STORE_ERROR_NOT_FOUND);
  g_assert_true(store_show_end(fx->st, show, 10000, T0 + 10000, &err));
  expect_error(store_pin(fx->st, show, a, 11000, 1, &err), &err, STORE_ERROR_STATE);
  g_assert_cmpint(count_events(fx, show), ==, before + 1); /* only show.end */
  g_assert_cmpint(sfx_path_int(fx->path, "SELECT count(*) FROM pins"), ==, 5);
}

/* ---- questions ---- */

static void test_questions(sfx_t *fx, gconstpointer data) {
  GError *err = NULL;
  gint64 show = sfx_show(fx->st);
  gint64 v = sfx_viewer(fx->st, "王小明", "A区", "13800138000");
  gint64 q = store_question_add(fx->st, show, v, "甜不甜？", 900, 1000, T0 + 2000, &err);
  g_assert_no_error(err);
  g_assert_cmpint(q, >, 0);
  gint64 q2 = store_question_add(fx->st, show, v, "", -1, 1500, T0 + 2500, &err);
  g_assert_cmpint(q2, >, q);

  expect_error(store_question_add(fx->st, show, 999, "x", 1, 1, 1, &err) != 0, &err,
               STORE_ERROR_NOT_FOUND);
  expect_error(store_question_add(fx->st, show, v, NULL, 1, 1, 1, &err) != 0, &err,
               STORE_ERROR_INVALID);
  expect_error(store_question_add(fx->st, 999, v, "x", 1, 1, 1, &err) != 0, &err,
               STORE_ERROR_NOT_FOUND);

  g_assert_true(store_question_answer(fx->st, q, "很甜，包甜", 3000, T0 + 4000, &err));
  g_assert_no_error(err);
  expect_error(store_question_answer(fx->st, 999, "x", 1, 1, &err), &err, STORE_ERROR_NOT_FOUND);
  expect_error(store_question_answer(fx->st, q, NULL, 1, 1, &err), &err, STORE_ERROR_INVALID);

  json_t *qs = store_questions_json(fx->st, show, 0, 1000);
  g_assert_cmpint(json_array_size(qs), ==, 2);
  json_t *j = json_array_get(qs, 0);
  g_assert_cmpint(jint(j, "id"), ==, q);
  g_assert_cmpint(jint(j, "viewer_id"), ==, v);
  g_assert_cmpstr(json_string_value(json_object_get(j, "name")), ==, "王**");
  g_assert_cmpstr(json_string_value(json_object_get(j, "text")), ==, "甜不甜？");
  g_assert_cmpint(jint(j, "seen_ms"), ==, 900);
  g_assert_cmpint(jint(j, "stream_ms"), ==, 1000);
  g_assert_cmpstr(json_string_value(json_object_get(j, "answer")), ==, "很甜，包甜");
  g_assert_cmpint(jint(j, "answered_stream_ms"), ==, 3000);
  j = json_array_get(qs, 1);
  g_assert_true(json_is_null(json_object_get(j, "seen_ms")));
  g_assert_true(json_is_null(json_object_get(j, "answer")));
  g_assert_true(json_is_null(json_object_get(j, "answered_stream_ms")));
  json_decref(qs);

  json_t *ev = store_events_json(fx->st, show, -1, 0, 100000);
  const char *types[] = {"show.begin", "question", "question", "answer"};
  g_assert_cmpint(json_array_size(ev), ==, G_N_ELEMENTS(types));
  for (gsize i = 0; i < G_N_ELEMENTS(types); i++)
    g_assert_cmpstr(json_string_value(json_object_get(json_array_get(ev, i), "type")), ==,
                    types[i]);
  json_decref(ev);
  /* After the show: no new questions. */
  g_assert_true(store_show_end(fx->st, show, 5000, T0 + 5000, &err));
  expect_error(store_question_add(fx->st, show, v, "x", 1, 1, 1, &err) != 0, &err,
               STORE_ERROR_STATE);
}

static void test_highlight(sfx_t *fx, gconstpointer data) {
  GError *err = NULL;
  gint64 show = sfx_show(fx->st);
  gint64 v = sfx_viewer(fx->st, "王小明", "A区", "13800138000");
  gint64 q = store_question_add(fx->st, show, v, "甜不甜？", 900, 1000, T0 + 2000, &err);
  g_assert_no_error(err);
  g_assert_cmpint(store_highlighted(fx->st, show), ==, 0);
  g_assert_true(store_highlight(fx->st, show, q, 3500, T0 + 3500, &err));
  g_assert_cmpint(store_highlighted(fx->st, show), ==, q);
  json_t *sj = store_show_json(fx->st, show);
  g_assert_cmpint(jint(sj, "highlight"), ==, q);
  json_decref(sj);
  g_assert_true(store_highlight(fx->st, show, 0, 3600, T0 + 3600, &err));
  g_assert_no_error(err);
  g_assert_cmpint(store_highlighted(fx->st, show), ==, 0);
  expect_error(store_highlight(fx->st, show, 999, 1, 1, &err), &err, STORE_ERROR_NOT_FOUND);
  g_assert_cmpint(store_highlighted(fx->st, show), ==, 0); /* a refused highlight changes nothing */

  json_t *ev = store_events_json(fx->st, show, -1, 0, 100000);
  const char *types[] = {"show.begin", "question", "highlight", "highlight"};
  g_assert_cmpint(json_array_size(ev), ==, G_N_ELEMENTS(types));
  for (gsize i = 0; i < G_N_ELEMENTS(types); i++)
    g_assert_cmpstr(json_string_value(json_object_get(json_array_get(ev, i), "type")), ==,
                    types[i]);
  json_t *hl = json_object_get(json_array_get(ev, 2), "data");
  g_assert_cmpint(jint(hl, "question_id"), ==, q);
  g_assert_cmpstr(json_string_value(json_object_get(hl, "name")), ==, "王**");
  g_assert_cmpstr(json_string_value(json_object_get(hl, "text")), ==, "甜不甜？");
  g_assert_true(
      json_is_null(json_object_get(json_object_get(json_array_get(ev, 3), "data"), "question_id")));
  json_decref(ev);

  /* A question of another show is not highlighted. */
  g_assert_true(store_show_end(fx->st, show, 5000, T0 + 5000, &err));
  gint64 next = sfx_show(fx->st);
  expect_error(store_highlight(fx->st, next, q, 1, 1, &err), &err, STORE_ERROR_NOT_FOUND);
}

/* ---- events ---- */

static void test_event_order(sfx_t *fx, gconstpointer data) {
  GError *err = NULL;
  gint64 show = sfx_show(fx->st);
  const struct {
    gint64 at;
    const char *type;
  } adds[] = {{500, "a"}, {100, "b"}, {300, "c"}, {100, "d"}, {100, "e"}, {-5, "early"}};
  for (gsize i = 0; i < G_N_ELEMENTS(adds); i++) {
    json_t *d = json_pack("{si}", "i", (int)i);
    g_assert_true(store_event_add(fx->st, show, adds[i].type, adds[i].at, T0 + (gint64)i, d, &err));
    g_assert_no_error(err);
    json_decref(d);
  }
  const char *want[] = {"early", "show.begin", "b", "d", "e", "c", "a"};
  json_t *ev = store_events_json(fx->st, show, -1, 0, 100000);
  g_assert_cmpint(json_array_size(ev), ==, G_N_ELEMENTS(want));
  for (gsize i = 0; i < G_N_ELEMENTS(want); i++) {
    json_t *e = json_array_get(ev, i);
    g_assert_cmpstr(json_string_value(json_object_get(e, "type")), ==, want[i]);
    g_assert_true(json_is_object(json_object_get(e, "data")));
  }
  json_decref(ev);
  json_t *none = store_events_json(fx->st, show + 100, -1, 0, 100000);
  g_assert_cmpint(json_array_size(none), ==, 0);
  json_decref(none);
}

static json_t *deep_object(int depth) {
  json_t *j = json_object();
  for (int i = 0; i < depth; i++)
    j = json_pack("{so}", "x", j);
  return j;
}

static void test_event_refused(sfx_t *fx, gconstpointer data) {
  GError *err = NULL;
  gint64 show = sfx_show(fx->st);
  const struct {
    const char *type;
    const char *data; /* JSON text; NULL: no data */
    gint64 show_delta;
    int code; /* -1: accepted */
  } rows[] = {
      {"join", NULL, 0, -1},
      {"publisher.drop", "{\"reason\":\"timeout\",\"名\":\"值\"}", 0, -1},
      {"x", "{\"phones\":1,\"telephone_count\":2}", 0, -1}, /* only the exact names */
      {NULL, "{}", 0, STORE_ERROR_INVALID},
      {"", "{}", 0, STORE_ERROR_INVALID},
      {"x", "[1,2]", 0, STORE_ERROR_INVALID},
      {"x", "\"text\"", 0, STORE_ERROR_INVALID},
      {"x", "42", 0, STORE_ERROR_INVALID},
      {"x", "{\"phone\":\"13800138000\"}", 0, STORE_ERROR_INVALID},
      {"x", "{\"Phone\":\"13800138000\"}", 0, STORE_ERROR_INVALID},
      {"x", "{\"viewer\":{\"phone\":\"1\"}}", 0, STORE_ERROR_INVALID},
      {"x", "{\"list\":[{\"a\":1},{\"viewer_token\":\"t\"}]}", 0, STORE_ERROR_INVALID},
      {"x", "{\"token\":\"t\"}", 0, STORE_ERROR_INVALID},
      {"x", "{}", 1000, STORE_ERROR_NOT_FOUND},
  };
  gint64 accepted = 0;
  for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
    json_t *d = rows[i].data ? json_loads(rows[i].data, JSON_DECODE_ANY, NULL) : NULL;
    g_assert_true(rows[i].data == NULL || d != NULL);
    gboolean ok = store_event_add(fx->st, show + rows[i].show_delta, rows[i].type, 10, 10, d, &err);
    json_decref(d);
    if (rows[i].code < 0) {
      g_assert_no_error(err);
      g_assert_true(ok);
      accepted++;
    } else {
      expect_error(ok, &err, rows[i].code);
    }
  }
  json_t *deep = deep_object(40); /* deeper than the check walks: refused */
  expect_error(store_event_add(fx->st, show, "deep", 1, 1, deep, &err), &err, STORE_ERROR_INVALID);
  json_decref(deep);
  deep = deep_object(20);
  g_assert_true(store_event_add(fx->st, show, "deep", 1, 1, deep, &err));
  json_decref(deep);
  g_assert_cmpint(count_events(fx, show), ==, 1 + accepted + 1);
  /* A late "leave" after the end is still the show's. */
  g_assert_true(store_show_end(fx->st, show, 100, 100, &err));
  g_assert_true(store_event_add(fx->st, show, "leave", 101, 101, NULL, &err));
  g_assert_no_error(err);
}

/* Everything a show records, then the public JSON: no phone, no token, no full name. */
static void test_events_no_phone(sfx_t *fx, gconstpointer data) {
  GError *err = NULL;
  gint64 show = sfx_show(fx->st);
  store_viewer_t v1 = {0}, v2 = {0};
  g_assert_true(store_viewer_create(fx->st, "王小明", "A区", "13800138000", NULL, 1, &v1, &err));
  g_assert_true(
      store_viewer_create(fx->st, "李四", "B区", "+8613912345678", "王小明", 1, &v2, &err));
  gint64 p = sfx_product(fx->st, "苹果", 990, 10, 0, TRUE);
  g_assert_true(store_event_viewer(fx->st, show, "join", v1.id, 10, T0, &err));
  g_assert_true(store_event_viewer(fx->st, show, "join", v2.id, 20, T0, &err));
  expect_error(store_event_viewer(fx->st, show, "join", 999, 20, T0, &err), &err,
               STORE_ERROR_NOT_FOUND);
  g_assert_true(store_pin(fx->st, show, p, 100, T0, &err));
  store_order_req_t reqs[] = {{show, v1.id, p, 1, "k1", 150, 200, T0, FALSE},
                              {show, v2.id, p, 2, "k2", 150, 210, T0, FALSE}};
  store_order_res_t res[2];
  g_assert_true(store_order_batch(fx->st, reqs, 2, res, &err));
  g_assert_cmpint(res[1].status, ==, STORE_ORDER_OK);
  gint64 q = store_question_add(fx->st, show, v2.id, "几斤一箱?", 250, 300, T0, &err);
  g_assert_true(store_question_answer(fx->st, q, "十斤", 400, T0, &err));
  g_assert_true(store_highlight(fx->st, show, q, 450, T0, &err));
  g_assert_true(store_event_viewer(fx->st, show, "leave", v1.id, 500, T0, &err));
  g_assert_true(store_show_end(fx->st, show, 600, T0, &err));
  g_assert_no_error(err);

  json_t *ev = store_events_json(fx->st, show, -1, 0, 100000);
  json_t *qs = store_questions_json(fx->st, show, 0, 1000);
  char *text = json_dumps(ev, 0), *qtext = json_dumps(qs, 0);
  const char *secrets[] = {"13800138000", "13912345678", v1.token, v2.token, "王小明", "李四"};
  for (gsize i = 0; i < G_N_ELEMENTS(secrets); i++) {
    g_assert_null(strstr(text, secrets[i]));
    g_assert_null(strstr(qtext, secrets[i]));
  }
  g_assert_nonnull(strstr(text, "王**"));
  g_assert_nonnull(strstr(text, "李**"));
  g_assert_cmpint(json_array_size(ev), ==, 11);
  free(text);
  free(qtext);
  json_decref(ev);
  json_decref(qs);
  store_viewer_clear(&v1);
  store_viewer_clear(&v2);
}

/* ---- the CSV picking list ---- */

static void test_csv(sfx_t *fx, gconstpointer data) {
  GError *err = NULL;
  gint64 show = sfx_show(fx->st);
  gint64 eggs = sfx_product(fx->st, "土鸡蛋", 1250, 100, 0, TRUE);
  gint64 apples = sfx_product(fx->st, "苹果, 红富士", 990, 100, 0, TRUE);
  store_product_t cheap = {
      .name = "糖", .price_cents = 1, .unit = "颗", .stock = 1000, .on_sale = TRUE};
  g_assert_true(store_product_put(fx->st, &cheap, 1, &err));
  gint64 v1 = sfx_viewer(fx->st, "张三", "B区驿站", "13800000001");
  gint64 v2 = sfx_viewer(fx->st, "=HYPERLINK(\"http://x\")", "A区", "+8613800000002");
  gint64 v3 = sfx_viewer(fx->st, "李\"四\"", "A区", "13800000003");
  gint64 v4 = sfx_viewer(fx->st, "王五\n换行", "B区驿站", "-1");
  gint64 v5 = sfx_viewer(fx->st, "@赵六", "A区", "13800000005");
  gint64 v6 = sfx_viewer(fx->st, "Ω", "C\r点", "138");
  store_order_req_t reqs[] = {
      {show, v1, eggs, 2, "a", -1, 10, T0, FALSE},
      {show, v2, apples, 1, "b", -1, 10, T0, FALSE},
      {show, v3, eggs, 1, "c", -1, 10, T0, FALSE},
      {show, v4, apples, 3, "d", -1, 10, T0, FALSE},
      {show, v5, eggs, 1, "e", -1, 10, T0, FALSE},
      {show, v1, apples, 1, "f", -1, 10, T0, FALSE},
      {show, v6, cheap.id, 99, "g", -1, 10, T0, FALSE},
  };
  store_order_res_t res[G_N_ELEMENTS(reqs)];
  g_assert_true(store_order_batch(fx->st, reqs, G_N_ELEMENTS(reqs), res, &err));
  gint64 id[G_N_ELEMENTS(reqs)];
  for (gsize i = 0; i < G_N_ELEMENTS(reqs); i++) {
    g_assert_cmpint(res[i].status, ==, STORE_ORDER_OK);
    id[i] = res[i].order_id;
  }
  GString *csv = g_string_new(NULL);
  g_assert_true(store_orders_csv(fx->st, show, csv));
  char *want = g_strdup_printf(
      "\xEF\xBB\xBF自提点,姓名,电话,商品,数量,单位,金额(元),订单号,下单时间\r\n"
      "A区,\"'=HYPERLINK(\"\"http://x\"\")\",'+8613800000002,\"苹果, 红富士\",1,斤,9.90,"
      "%" G_GINT64_FORMAT ",2023-11-14 22:13:20\r\n"
      "A区,'@赵六,13800000005,土鸡蛋,1,斤,12.50,%" G_GINT64_FORMAT ",2023-11-14 22:13:20\r\n"
      "A区,\"李\"\"四\"\"\",13800000003,土鸡蛋,1,斤,12.50,%" G_GINT64_FORMAT
      ",2023-11-14 22:13:20\r\n"
      "B区驿站,张三,13800000001,土鸡蛋,2,斤,25.00,%" G_GINT64_FORMAT ",2023-11-14 22:13:20\r\n"
      "B区驿站,张三,13800000001,\"苹果, 红富士\",1,斤,9.90,%" G_GINT64_FORMAT
      ",2023-11-14 22:13:20\r\n"
      "B区驿站,\"王五\n换行\",'-1,\"苹果, 红富士\",3,斤,29.70,%" G_GINT64_FORMAT
      ",2023-11-14 22:13:20\r\n"
      "\"C\r点\",Ω,138,糖,99,颗,0.99,%" G_GINT64_FORMAT ",2023-11-14 22:13:20\r\n",
      id[1], id[4], id[2], id[0], id[5], id[3], id[6]);
  g_assert_cmpstr(csv->str, ==, want);
  g_free(want);

  /* Another show's list: the header alone. */
  g_assert_true(store_show_end(fx->st, show, 100, T0, &err));
  gint64 next = sfx_show(fx->st);
  g_string_truncate(csv, 0);
  g_assert_true(store_orders_csv(fx->st, next, csv));
  g_assert_cmpstr(csv->str, ==,
                  "\xEF\xBB\xBF自提点,姓名,电话,商品,数量,单位,金额(元),订单号,下单时间\r\n");
  g_string_free(csv, TRUE);
}

int main(int argc, char **argv) {
  /* CSV times are local: pin the zone before GLib caches it. */
  g_setenv("TZ", "UTC", TRUE);
  g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add("/store_show/" path, sfx_t, NULL, sfx_setup, fn, sfx_teardown)
  ADD("shows", test_shows);
  ADD("pins", test_pins);
  ADD("questions", test_questions);
  ADD("highlight", test_highlight);
  ADD("event_order", test_event_order);
  ADD("event_refused", test_event_refused);
  ADD("events_no_phone", test_events_no_phone);
  ADD("csv", test_csv);
  return g_test_run();
}
