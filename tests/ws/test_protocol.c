/* test_protocol.c — tourcast.v1 parsing: a table of frames and what they must give. */
#include <string.h>

#include "ws/protocol.h"

typedef struct {
  const char *frame;
  proto_error_t want;
  proto_type_t type; /* when want == PROTO_OK */
  const char *ref;   /* expected echoed ref, or NULL */
} row_t;

static const row_t rows[] = {
    /* hello */
    {"{\"type\":\"hello\",\"role\":\"viewer\",\"name\":\"王小明\",\"pickup\":\"3号楼\","
     "\"phone\":\"13800000000\"}",
     PROTO_OK, PROTO_HELLO_VIEWER, NULL},
    {"{\"type\":\"hello\",\"role\":\"viewer\",\"viewer_token\":\"abc\"}", PROTO_OK,
     PROTO_HELLO_VIEWER, NULL},
    {"{\"type\":\"hello\",\"role\":\"leader\",\"token\":\"t\",\"ref\":\"r1\"}", PROTO_OK,
     PROTO_HELLO_LEADER, "r1"},
    {"{\"type\":\"hello\",\"role\":\"viewer\",\"name\":\"王\",\"pickup\":\"p\"}", PROTO_ERR_INVALID,
     0, NULL},
    {"{\"type\":\"hello\",\"role\":\"viewer\",\"name\":\"王\",\"pickup\":\"p\",\"phone\":\"abc\"}",
     PROTO_ERR_INVALID, 0, NULL},
    {"{\"type\":\"hello\",\"role\":\"admin\",\"token\":\"t\"}", PROTO_ERR_INVALID, 0, NULL},
    /* 33 characters of name: one over */
    {"{\"type\":\"hello\",\"role\":\"viewer\",\"name\":"
     "\"一二三四五六七八九十一二三四五六七八九十一二三"
     "四五六七八九十一二三\",\"pickup\":\"p\",\"phone\":\"12345\"}",
     PROTO_ERR_INVALID, 0, NULL},
    {"{\"type\":\"hello\",\"role\":\"viewer\",\"name\":"
     "\"一二三四五六七八九十一二三四五六七八九十一二三"
     "四五六七八九十一二\",\"pickup\":\"p\",\"phone\":\"12345\"}",
     PROTO_OK, PROTO_HELLO_VIEWER, NULL},
    {"{\"type\":\"hello\",\"role\":\"viewer\",\"name\":\"\",\"pickup\":\"p\",\"phone\":\"12345\"}",
     PROTO_ERR_INVALID, 0, NULL},
    /* guests and join */
    {"{\"type\":\"hello\",\"guest\":true}", PROTO_OK, PROTO_HELLO_VIEWER, NULL},
    {"{\"type\":\"hello\",\"role\":\"viewer\",\"guest\":true}", PROTO_OK, PROTO_HELLO_VIEWER, NULL},
    {"{\"type\":\"hello\",\"guest\":1}", PROTO_ERR_INVALID, 0, NULL},
    {"{\"type\":\"hello\",\"guest\":false}", PROTO_ERR_INVALID, 0, NULL}, /* no role then */
    {"{\"type\":\"hello\",\"role\":\"admin\",\"guest\":true}", PROTO_ERR_INVALID, 0, NULL},
    {"{\"type\":\"join\",\"name\":\"王\",\"pickup\":\"p\",\"phone\":\"12345\"}", PROTO_OK,
     PROTO_JOIN, NULL},
    {"{\"type\":\"join\",\"name\":\"王\",\"pickup\":\"p\"}", PROTO_ERR_INVALID, 0, NULL},
    {"{\"type\":\"join\",\"name\":\"王\",\"pickup\":\"p\",\"phone\":\"abc\"}", PROTO_ERR_INVALID, 0,
     NULL},
    {"{\"type\":\"join\",\"viewer_token\":\"abc\"}", PROTO_ERR_INVALID, 0, NULL},
    {"{\"type\":\"my_orders\",\"show_id\":3}", PROTO_OK, PROTO_MY_ORDERS, NULL},
    {"{\"type\":\"questions.more\",\"before_id\":30}", PROTO_OK, PROTO_QUESTIONS_MORE, NULL},
    {"{\"type\":\"questions.more\",\"before_id\":30,\"limit\":50,\"show_id\":2}", PROTO_OK,
     PROTO_QUESTIONS_MORE, NULL},
    {"{\"type\":\"questions.more\"}", PROTO_ERR_INVALID, PROTO_QUESTIONS_MORE, NULL},
    {"{\"type\":\"questions.more\",\"before_id\":30,\"limit\":51}", PROTO_ERR_INVALID,
     PROTO_QUESTIONS_MORE, NULL},
    {"{\"type\":\"questions.more\",\"before_id\":0}", PROTO_ERR_INVALID, PROTO_QUESTIONS_MORE,
     NULL},
    {"{\"type\":\"ask\",\"text\":\"a\\u0007b\"}", PROTO_ERR_INVALID, PROTO_ASK, NULL},
    {"{\"type\":\"ask\",\"text\":\"a\\nb\"}", PROTO_ERR_INVALID, PROTO_ASK, NULL},
    {"{\"type\":\"ask\",\"text\":\"a\\u0085b\"}", PROTO_ERR_INVALID, PROTO_ASK, NULL},
    {"{\"type\":\"ask\",\"text\":\"\\u202e\u4f60\u597d\"}", PROTO_OK, PROTO_ASK, NULL},
    {"{\"type\":\"my_orders\",\"show_id\":0}", PROTO_ERR_INVALID, 0, NULL},
    {"{\"type\":\"my_orders\"}", PROTO_ERR_INVALID, 0, NULL},
    {"{\"type\":\"my_orders\",\"show_id\":\"3\"}", PROTO_ERR_INVALID, 0, NULL},
    /* orders */
    {"{\"type\":\"order\",\"product_id\":1,\"qty\":2,\"key\":\"k\",\"seen_ms\":1500,\"ref\":7}",
     PROTO_OK, PROTO_ORDER, "7"},
    {"{\"type\":\"order\",\"product_id\":1,\"qty\":-1,\"key\":\"k\"}", PROTO_OK, PROTO_ORDER, NULL},
    {"{\"type\":\"order\",\"product_id\":1,\"qty\":\"2\",\"key\":\"k\"}", PROTO_ERR_INVALID, 0,
     NULL},
    {"{\"type\":\"order\",\"product_id\":1,\"qty\":1.5,\"key\":\"k\"}", PROTO_ERR_INVALID, 0, NULL},
    {"{\"type\":\"order\",\"product_id\":0,\"qty\":1,\"key\":\"k\"}", PROTO_ERR_INVALID, 0, NULL},
    {"{\"type\":\"order\",\"product_id\":1,\"qty\":1}", PROTO_ERR_INVALID, 0, NULL},
    {"{\"type\":\"order\",\"product_id\":99999999999999999999,\"qty\":1,\"key\":\"k\"}",
     PROTO_ERR_BAD_JSON, 0, NULL},
    {"{\"type\":\"order\",\"product_id\":9007199254740992,\"qty\":1,\"key\":\"k\"}",
     PROTO_ERR_INVALID, 0, NULL},
    {"{\"type\":\"order\",\"product_id\":1,\"qty\":1,\"key\":\"k\",\"seen_ms\":-5}",
     PROTO_ERR_INVALID, 0, NULL},
    /* questions */
    {"{\"type\":\"ask\",\"text\":\"<img src=x onerror=alert(1)>\",\"seen_ms\":10}", PROTO_OK,
     PROTO_ASK, NULL},
    {"{\"type\":\"ask\",\"text\":\"\"}", PROTO_ERR_INVALID, 0, NULL},
    {"{\"type\":\"ask\"}", PROTO_ERR_INVALID, 0, NULL},
    /* leader messages */
    {"{\"type\":\"product.put\",\"name\":\"水蜜桃\",\"price_cents\":1280,\"unit\":\"斤\","
     "\"stock\":100,\"limit_per_buyer\":5,\"on_sale\":true}",
     PROTO_OK, PROTO_PRODUCT_PUT, NULL},
    {"{\"type\":\"product.put\",\"id\":3,\"stock\":0}", PROTO_OK, PROTO_PRODUCT_PUT, NULL},
    {"{\"type\":\"product.put\",\"name\":\"x\"}", PROTO_ERR_INVALID, 0, NULL},
    {"{\"type\":\"product.put\",\"id\":3,\"stock\":-1}", PROTO_ERR_INVALID, 0, NULL},
    {"{\"type\":\"product.put\",\"id\":3,\"limit_per_buyer\":0}", PROTO_OK, PROTO_PRODUCT_PUT,
     NULL},
    {"{\"type\":\"product.put\",\"id\":3,\"limit_per_buyer\":100}", PROTO_ERR_INVALID, 0, NULL},
    {"{\"type\":\"product.put\",\"id\":3,\"on_sale\":1}", PROTO_ERR_INVALID, 0, NULL},
    {"{\"type\":\"pin\",\"product_id\":null}", PROTO_OK, PROTO_PIN, NULL},
    {"{\"type\":\"pin\",\"product_id\":4}", PROTO_OK, PROTO_PIN, NULL},
    {"{\"type\":\"pin\"}", PROTO_ERR_INVALID, 0, NULL},
    {"{\"type\":\"answer\",\"question_id\":2,\"text\":\"包邮\"}", PROTO_OK, PROTO_ANSWER, NULL},
    {"{\"type\":\"highlight\",\"question_id\":null}", PROTO_OK, PROTO_HIGHLIGHT, NULL},
    {"{\"type\":\"show.end\"}", PROTO_OK, PROTO_SHOW_END, NULL},
    {"{\"type\":\"show.begin\",\"title\":\"果园直播\"}", PROTO_OK, PROTO_SHOW_BEGIN, NULL},
    {"{\"type\":\"show.begin\",\"promise\":\"坏果包赔\"}", PROTO_OK, PROTO_SHOW_BEGIN, NULL},
    {"{\"type\":\"show.update\",\"title\":\"果园\",\"promise\":\"\"}", PROTO_OK, PROTO_SHOW_UPDATE,
     NULL},
    {"{\"type\":\"show.update\",\"promise\":7}", PROTO_ERR_INVALID, 0, NULL},
    {"{\"type\":\"show.begin\",\"carry_over\":true}", PROTO_OK, PROTO_SHOW_BEGIN, NULL},
    {"{\"type\":\"show.begin\",\"carry_over\":\"yes\"}", PROTO_ERR_INVALID, 0, NULL},
    {"{\"type\":\"show.schedule\",\"title\":\"明早\",\"at_unix_ms\":1800000000000}", PROTO_OK,
     PROTO_SHOW_SCHEDULE, NULL},
    {"{\"type\":\"show.schedule\",\"at_unix_ms\":null}", PROTO_OK, PROTO_SHOW_SCHEDULE, NULL},
    {"{\"type\":\"show.schedule\"}", PROTO_OK, PROTO_SHOW_SCHEDULE, NULL}, /* clears it */
    {"{\"type\":\"show.schedule\",\"at_unix_ms\":1800000000000}", PROTO_ERR_INVALID, 0, NULL},
    {"{\"type\":\"show.schedule\",\"title\":\"x\",\"at_unix_ms\":4102444800001}", PROTO_ERR_INVALID,
     0, NULL},
    {"{\"type\":\"show.schedule\",\"title\":\"x\",\"at_unix_ms\":0}", PROTO_ERR_INVALID, 0, NULL},
    {"{\"type\":\"show.schedule\",\"title\":\"\",\"at_unix_ms\":1800000000000}", PROTO_ERR_INVALID,
     0, NULL},
    {"{\"type\":\"show.update\",\"title\":\"\"}", PROTO_ERR_INVALID, 0, NULL},
    /* 65 characters of promise: one over */
    {"{\"type\":\"show.update\",\"promise\":"
     "\"一二三四五六七八九十一二三四五六七八九十一二三四五六七八"
     "九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五\"}",
     PROTO_ERR_INVALID, 0, NULL},
    {"{\"type\":\"ping\"}", PROTO_OK, PROTO_PING, NULL},
    {"{\"type\":\"restream.add\",\"url\":\"rtmp://a.example/live/k\"}", PROTO_OK,
     PROTO_RESTREAM_ADD, NULL},
    {"{\"type\":\"restream.remove\",\"url\":\"rtmps://a.example/live/k\"}", PROTO_OK,
     PROTO_RESTREAM_REMOVE, NULL},
    {"{\"type\":\"restream.add\",\"url\":\"http://a.example/\"}", PROTO_ERR_INVALID, 0, NULL},
    {"{\"type\":\"restream.add\"}", PROTO_ERR_INVALID, 0, NULL},
    {"{\"type\":\"restream.add\",\"url\":7}", PROTO_ERR_INVALID, 0, NULL},
    /* malformed */
    {"", PROTO_ERR_BAD_JSON, 0, NULL},
    {"{", PROTO_ERR_BAD_JSON, 0, NULL},
    {"[1,2]", PROTO_ERR_BAD_JSON, 0, NULL},
    {"\"hello\"", PROTO_ERR_BAD_JSON, 0, NULL},
    {"{\"type\":\"ask\",\"type\":\"order\"}", PROTO_ERR_BAD_JSON, 0, NULL},
    {"{\"type\":\"ask\",\"text\":\"a\\u0000b\"}", PROTO_ERR_BAD_JSON, 0, NULL},
    {"{\"type\":\"ask\",\"text\":\"\xff\xfe\"}", PROTO_ERR_BAD_JSON, 0, NULL},
    {"{\"text\":\"no type\",\"ref\":\"x\"}", PROTO_ERR_INVALID, 0, "x"},
    {"{\"type\":5}", PROTO_ERR_INVALID, 0, NULL},
    {"{\"type\":\"buy\",\"ref\":\"r\"}", PROTO_ERR_UNKNOWN_TYPE, 0, "r"},
};

static void test_table(void) {
  for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
    proto_msg_t m;
    const char *message = NULL;
    char *ref = NULL;
    proto_error_t err = proto_parse(rows[i].frame, strlen(rows[i].frame), &m, &message, &ref);
    if (err != rows[i].want)
      g_error("row %zu %s: got %s (%s)", i, rows[i].frame, proto_error_code(err),
              message ? message : "");
    if (err == PROTO_OK) {
      g_assert_cmpint(m.type, ==, rows[i].type);
      g_assert_null(message);
      g_assert_null(ref);
      g_assert_cmpstr(m.ref, ==, rows[i].ref);
    } else {
      g_assert_nonnull(message);
      g_assert_null(m.root);
      g_assert_cmpstr(ref, ==, rows[i].ref);
    }
    g_free(ref);
    proto_msg_clear(&m);
  }
}

static void test_fields(void) {
  const char *f = "{\"type\":\"order\",\"product_id\":12,\"qty\":100,\"key\":\"abc\"}";
  proto_msg_t m;
  const char *message;
  char *ref;
  g_assert_cmpint(proto_parse(f, strlen(f), &m, &message, &ref), ==, PROTO_OK);
  g_assert_cmpint(m.u.order.product_id, ==, 12);
  g_assert_cmpint(m.u.order.qty, ==, 0); /* out of 1..99: rejected later as invalid */
  g_assert_cmpstr(m.u.order.key, ==, "abc");
  g_assert_cmpint(m.u.order.seen_ms, ==, -1);
  proto_msg_clear(&m);

  f = "{\"type\":\"product.put\",\"id\":3,\"stock\":7,\"on_sale\":false}";
  g_assert_cmpint(proto_parse(f, strlen(f), &m, &message, &ref), ==, PROTO_OK);
  g_assert_cmpuint(m.u.product.present, ==, PROTO_FIELD_STOCK | PROTO_FIELD_ON_SALE);
  g_assert_false(m.u.product.on_sale);
  g_assert_cmpint(m.u.product.stock, ==, 7);
  proto_msg_clear(&m);
}

/* Every prefix of a valid frame is bad JSON, never a crash or a message. */
static void test_truncated(void) {
  const char *f = "{\"type\":\"order\",\"product_id\":1,\"qty\":1,\"key\":\"k\",\"seen_ms\":5}";
  for (gsize n = 0; n < strlen(f); n++) {
    proto_msg_t m;
    const char *message;
    char *ref;
    g_assert_cmpint(proto_parse(f, n, &m, &message, &ref), ==, PROTO_ERR_BAD_JSON);
    g_free(ref);
  }
}

static void test_oversized(void) {
  gsize len = PROTO_MAX_FRAME_BYTES + 1;
  char *big = g_malloc(len);
  memset(big, ' ', len);
  proto_msg_t m;
  const char *message;
  char *ref;
  g_assert_cmpint(proto_parse(big, len, &m, &message, &ref), ==, PROTO_ERR_TOO_LARGE);
  g_assert_null(ref);
  g_free(big);
  g_assert_true(proto_is_leader_only(PROTO_PIN));
  g_assert_false(proto_is_leader_only(PROTO_ORDER));
  g_assert_true(proto_is_leader_only(PROTO_RESTREAM_ADD));
  g_assert_true(proto_is_leader_only(PROTO_RESTREAM_REMOVE));
  g_assert_cmpstr(proto_error_code(PROTO_ERR_RATE_LIMITED), ==, "rate_limited");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/protocol/table", test_table);
  g_test_add_func("/protocol/fields", test_fields);
  g_test_add_func("/protocol/truncated", test_truncated);
  g_test_add_func("/protocol/oversized", test_oversized);
  return g_test_run();
}
