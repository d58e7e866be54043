/* test_store.c — the store's schema and catalogue: opening files of every
 * kind (new, old, future, foreign, broken), migrations, products, viewers and
 * name masking. Shows and the timeline are in test_store_show.c, orders in
 * test_store_orders.c.
 */
#include <errno.h>

#include "tests/ws/store_fixture.h"

/* ---- opening: a table of files to open ---- */

static void raw_exec(const char *path, const char *sql) {
  sqlite3 *db = sfx_raw(path);
  sfx_exec(db, sql);
  sqlite3_close(db);
}

static void prep_empty_file(const char *path) {
  g_assert_true(g_file_set_contents(path, "", 0, NULL));
}
static void prep_v0_no_tables(const char *path) {
  raw_exec(path, "PRAGMA user_version = 0; VACUUM;");
}
static void prep_future(const char *path) {
  char *sql = g_strdup_printf("PRAGMA user_version = %d;", STORE_SCHEMA_VERSION + 1);
  raw_exec(path, sql);
  g_free(sql);
}
static void prep_far_future(const char *path) {
  raw_exec(path, "PRAGMA user_version = 2147483647;");
}
static void prep_negative(const char *path) {
  raw_exec(path, "PRAGMA user_version = -1;");
}
static void prep_foreign_app(const char *path) {
  raw_exec(path, "PRAGMA application_id = 305419896; CREATE TABLE notes (x);");
}
static void prep_garbage(const char *path) {
  char *junk = g_strnfill(8192, 'x');
  g_assert_true(g_file_set_contents(path, junk, 8192, NULL));
  g_free(junk);
}
static void prep_truncated(const char *path) {
  /* A real header cut short: the magic string and nothing else. */
  g_assert_true(g_file_set_contents(path, "SQLite format 3", 16, NULL));
}
static void prep_conflict(const char *path) {
  raw_exec(path, "CREATE TABLE products (x);");
}
static void prep_directory(const char *path) {
  g_assert_cmpint(g_mkdir(path, 0700), ==, 0);
}

typedef struct {
  const char *name;
  void (*prepare)(const char *path);
  int code;             /* -1: opens */
  const char *message;  /* part of the error message, or NULL */
  gint64 version_after; /* user_version afterwards; G_MININT64: do not look */
  gboolean shows_after; /* the shows table exists afterwards */
} open_row_t;

static const open_row_t open_rows[] = {
    {"new file", NULL, -1, NULL, STORE_SCHEMA_VERSION, TRUE},
    {"empty file", prep_empty_file, -1, NULL, STORE_SCHEMA_VERSION, TRUE},
    {"version 0, no tables", prep_v0_no_tables, -1, NULL, STORE_SCHEMA_VERSION, TRUE},
    {"future version", prep_future, STORE_ERROR_VERSION, "newer", STORE_SCHEMA_VERSION + 1, FALSE},
    {"far future version", prep_far_future, STORE_ERROR_VERSION, "newer", 2147483647, FALSE},
    {"negative version", prep_negative, STORE_ERROR_VERSION, "invalid", -1, FALSE},
    {"other program's file", prep_foreign_app, STORE_ERROR_VERSION, "not a tourcast", 0, FALSE},
    {"not a database", prep_garbage, STORE_ERROR_SQLITE, NULL, G_MININT64, FALSE},
    {"truncated header", prep_truncated, STORE_ERROR_SQLITE, NULL, G_MININT64, FALSE},
    /* the migration fails half way: its transaction leaves nothing behind */
    {"conflicting table", prep_conflict, STORE_ERROR_SQLITE, "products", 0, FALSE},
    {"a directory", prep_directory, STORE_ERROR_SQLITE, NULL, G_MININT64, FALSE},
};

static void test_open_table(void) {
  for (gsize i = 0; i < G_N_ELEMENTS(open_rows); i++) {
    const open_row_t *row = &open_rows[i];
    sfx_t fx = {0};
    GError *err = NULL;
    fx.dir = g_dir_make_tmp("tourcast-store-XXXXXX", &err);
    g_assert_no_error(err);
    fx.path = g_build_filename(fx.dir, "t.db", NULL);
    if (row->prepare)
      row->prepare(fx.path);
    g_test_message("open: %s", row->name);
    fx.st = store_open(fx.path, &err);
    if (row->code < 0) {
      g_assert_no_error(err);
      g_assert_nonnull(fx.st);
    } else {
      g_assert_null(fx.st);
      g_assert_error(err, STORE_ERROR, row->code);
      g_assert_nonnull(strstr(err->message, fx.path)); /* says which file */
      if (row->message)
        g_assert_nonnull(strstr(err->message, row->message));
      g_clear_error(&err);
    }
    store_free(fx.st);
    fx.st = NULL;
    if (row->version_after != G_MININT64) {
      g_assert_cmpint(sfx_path_int(fx.path, "PRAGMA user_version"), ==, row->version_after);
      g_assert_cmpint(sfx_path_int(fx.path, "SELECT count(*) FROM sqlite_schema"
                                            " WHERE name = 'shows'"),
                      ==, row->shows_after);
    }
    if (row->prepare == prep_directory)
      g_rmdir(fx.path);
    sfx_teardown(&fx, NULL);
  }
}

static char *journal_mode(const char *path) {
  sqlite3 *db = sfx_raw(path);
  sqlite3_stmt *s = NULL;
  g_assert_cmpint(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_step(s), ==, SQLITE_ROW);
  char *mode = g_strdup((const char *)sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  sqlite3_close(db);
  return mode;
}

/* Open, write, close, open again: the schema is not re-applied, data stays. */
static void test_open_twice(sfx_t *fx, gconstpointer data) {
  gint64 id = sfx_product(fx->st, "苹果", 990, 5, 0, TRUE);
  store_free(fx->st);
  GError *err = NULL;
  fx->st = store_open(fx->path, &err);
  g_assert_no_error(err);
  store_product_t p = {0};
  g_assert_true(store_product_get(fx->st, id, &p));
  g_assert_cmpstr(p.name, ==, "苹果");
  store_product_clear(&p);
  g_assert_cmpint(sfx_path_int(fx->path, "PRAGMA user_version"), ==, STORE_SCHEMA_VERSION);
  g_assert_cmpint(sfx_path_int(fx->path, "PRAGMA application_id"), ==, STORE_APPLICATION_ID);
  char *mode = journal_mode(fx->path);
  g_assert_cmpstr(mode, ==, "wal"); /* WAL is a property of the file: it persists */
  g_free(mode);
  /* A second store on the same file works (e.g. a restart racing the old process). */
  store_t *second = store_open(fx->path, &err);
  g_assert_no_error(err);
  store_free(second);
}

/* ---- products ---- */

static void test_products(sfx_t *fx, gconstpointer data) {
  store_product_t p = {.name = "土鸡蛋",
                       .price_cents = 1250,
                       .unit = "盒",
                       .stock = 10,
                       .limit_per_buyer = 2,
                       .on_sale = TRUE,
                       .image = "eggs.jpg"};
  GError *err = NULL;
  g_assert_true(store_product_put(fx->st, &p, 2000, &err));
  g_assert_no_error(err);
  g_assert_cmpint(p.id, >, 0);
  g_assert_cmpint(p.sold, ==, 0);
  g_assert_cmpint(p.updated_unix_ms, ==, 2000);
  gint64 id = p.id;

  store_product_t got = {0};
  g_assert_true(store_product_get(fx->st, id, &got));
  g_assert_cmpint(got.id, ==, id);
  g_assert_cmpstr(got.name, ==, "土鸡蛋");
  g_assert_cmpint(got.price_cents, ==, 1250);
  g_assert_cmpstr(got.unit, ==, "盒");
  g_assert_cmpint(got.stock, ==, 10);
  g_assert_cmpint(got.limit_per_buyer, ==, 2);
  g_assert_true(got.on_sale);
  g_assert_cmpstr(got.image, ==, "eggs.jpg");
  store_product_clear(&got);

  /* Update: everything but sold follows the put. */
  p = (store_product_t){.id = id, .name = "土鸡蛋(30枚)", .price_cents = 3600, .stock = 50};
  g_assert_true(store_product_put(fx->st, &p, 3000, &err));
  g_assert_cmpint(p.id, ==, id);
  g_assert_true(store_product_get(fx->st, id, &got));
  g_assert_cmpstr(got.name, ==, "土鸡蛋(30枚)");
  g_assert_cmpstr(got.unit, ==, ""); /* NULL unit is stored as "" */
  g_assert_null(got.image);
  g_assert_false(got.on_sale);
  g_assert_cmpint(got.stock, ==, 50);
  g_assert_cmpint(got.updated_unix_ms, ==, 3000);
  store_product_clear(&got);
  store_product_clear(NULL);

  g_assert_false(store_product_get(fx->st, id + 1, &got));
  g_assert_null(got.name);

  json_t *all = store_products_json(fx->st);
  g_assert_cmpint(json_array_size(all), ==, 1);
  json_t *j = json_array_get(all, 0);
  g_assert_cmpint(json_integer_value(json_object_get(j, "id")), ==, id);
  g_assert_cmpint(json_integer_value(json_object_get(j, "price_cents")), ==, 3600);
  g_assert_true(json_is_false(json_object_get(j, "on_sale")));
  g_assert_true(json_is_null(json_object_get(j, "image")));
  g_assert_cmpint(json_integer_value(json_object_get(j, "sold")), ==, 0);
  json_decref(all);
}

typedef struct {
  const char *what;
  gint64 id;
  const char *name;
  gint64 price, stock, limit;
  int code; /* -1: accepted */
} product_row_t;

static const product_row_t product_rows[] = {
    {"minimal", 0, "", 0, 0, 0, -1},
    {"largest", 0, "x", STORE_PRICE_MAX, STORE_STOCK_MAX, STORE_LIMIT_MAX, -1},
    {"no name", 0, NULL, 100, 1, 0, STORE_ERROR_INVALID},
    {"negative price", 0, "x", -1, 1, 0, STORE_ERROR_INVALID},
    {"oversized price", 0, "x", STORE_PRICE_MAX + 1, 1, 0, STORE_ERROR_INVALID},
    {"huge price", 0, "x", G_MAXINT64, 1, 0, STORE_ERROR_INVALID},
    {"negative stock", 0, "x", 100, -1, 0, STORE_ERROR_INVALID},
    {"most negative stock", 0, "x", 100, G_MININT64, 0, STORE_ERROR_INVALID},
    {"oversized stock", 0, "x", 100, STORE_STOCK_MAX + 1, 0, STORE_ERROR_INVALID},
    {"negative limit", 0, "x", 100, 1, -1, STORE_ERROR_INVALID},
    {"oversized limit", 0, "x", 100, 1, STORE_LIMIT_MAX + 1, STORE_ERROR_INVALID},
    {"negative id", -5, "x", 100, 1, 0, STORE_ERROR_INVALID},
    {"unknown id", 424242, "x", 100, 1, 0, STORE_ERROR_NOT_FOUND},
};

static void test_product_rows(sfx_t *fx, gconstpointer data) {
  gint64 accepted = 0;
  for (gsize i = 0; i < G_N_ELEMENTS(product_rows); i++) {
    const product_row_t *row = &product_rows[i];
    store_product_t p = {.id = row->id,
                         .name = (char *)row->name,
                         .price_cents = row->price,
                         .stock = row->stock,
                         .limit_per_buyer = row->limit};
    GError *err = NULL;
    g_test_message("product: %s", row->what);
    gboolean ok = store_product_put(fx->st, &p, 1, &err);
    if (row->code < 0) {
      g_assert_no_error(err);
      g_assert_true(ok);
      accepted++;
    } else {
      g_assert_false(ok);
      g_assert_error(err, STORE_ERROR, row->code);
      g_assert_cmpint(p.id, ==, row->id); /* a refused create hands out no id */
      g_clear_error(&err);
    }
  }
  json_t *all = store_products_json(fx->st);
  g_assert_cmpint(json_array_size(all), ==, accepted);
  json_decref(all);
}

/* Text is stored byte for byte and comes back unchanged; JSON stays valid. */
static void test_product_text(sfx_t *fx, gconstpointer data) {
  char *big = g_strnfill(100000, 'z');
  const char *names[] = {"'; DROP TABLE products; --",
                         "a\"b,c\nd\\e",
                         "🍎苹果",
                         "\xff\xfe bad",
                         "\xe7\x8e",
                         big,
                         "%s%n%x"};
  for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
    store_product_t p = {.name = (char *)names[i],
                         .unit = (char *)names[i],
                         .image = (char *)names[i],
                         .price_cents = 1,
                         .stock = 1};
    GError *err = NULL;
    g_assert_true(store_product_put(fx->st, &p, 1, &err));
    g_assert_no_error(err);
    store_product_t got = {0};
    g_assert_true(store_product_get(fx->st, p.id, &got));
    g_assert_cmpstr(got.name, ==, names[i]);
    g_assert_cmpstr(got.unit, ==, names[i]);
    g_assert_cmpstr(got.image, ==, names[i]);
    store_product_clear(&got);
  }
  json_t *all = store_products_json(fx->st);
  g_assert_cmpint(json_array_size(all), ==, G_N_ELEMENTS(names));
  char *text = json_dumps(all, 0);
  g_assert_nonnull(text);
  g_assert_true(g_utf8_validate(text, -1, NULL));
  free(text);
  json_decref(all);
  g_free(big);
  g_assert_cmpint(sfx_path_int(fx->path, "SELECT count(*) FROM products"), ==, 7);
}

/* ---- viewers ---- */

static gboolean token_ok(const char *t) {
  if (t == NULL || strlen(t) != STORE_TOKEN_LEN)
    return FALSE;
  for (const char *p = t; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

static void test_viewers(sfx_t *fx, gconstpointer data) {
  store_viewer_t v = {0}, w = {0};
  GError *err = NULL;
  g_assert_true(store_viewer_create(fx->st, "王小明", "幸福里3栋", "13800138000", "leader-7", 5000,
                                    &v, &err));
  g_assert_no_error(err);
  g_assert_cmpint(v.id, >, 0);
  g_assert_true(token_ok(v.token));
  g_assert_cmpstr(v.name, ==, "王小明");
  g_assert_cmpstr(v.pickup, ==, "幸福里3栋");
  g_assert_cmpstr(v.phone, ==, "13800138000");
  g_assert_cmpstr(v.ref, ==, "leader-7");
  g_assert_cmpint(v.created_unix_ms, ==, 5000);

  /* A returning viewer, after a restart too. */
  store_free(fx->st);
  fx->st = store_open(fx->path, &err);
  g_assert_no_error(err);
  g_assert_true(store_viewer_by_token(fx->st, v.token, &w));
  g_assert_cmpint(w.id, ==, v.id);
  g_assert_cmpstr(w.phone, ==, v.phone);
  store_viewer_clear(&w);
  g_assert_true(store_viewer_by_id(fx->st, v.id, &w));
  g_assert_cmpstr(w.token, ==, v.token);
  store_viewer_clear(&w);

  /* Moving to another pickup point. */
  g_assert_true(store_viewer_update(fx->st, v.id, "王小明", "和平路驿站", "13900000000", &err));
  g_assert_no_error(err);
  g_assert_true(store_viewer_by_token(fx->st, v.token, &w));
  g_assert_cmpstr(w.pickup, ==, "和平路驿站");
  g_assert_cmpstr(w.phone, ==, "13900000000");
  store_viewer_clear(&w);
  g_assert_false(store_viewer_update(fx->st, 9999, "a", "b", "c", &err));
  g_assert_error(err, STORE_ERROR, STORE_ERROR_NOT_FOUND);
  g_clear_error(&err);
  g_assert_false(store_viewer_update(fx->st, v.id, NULL, "b", "c", &err));
  g_assert_error(err, STORE_ERROR, STORE_ERROR_INVALID);
  g_clear_error(&err);

  /* Tokens that are not v's: truncated, oversized, altered, empty, huge. */
  char *truncated = g_strndup(v.token, STORE_TOKEN_LEN - 1);
  char *oversized = g_strconcat(v.token, "A", NULL);
  char *altered = g_strdup(v.token);
  altered[0] = altered[0] == 'A' ? 'B' : 'A';
  char *huge = g_strnfill(1 << 20, 'A');
  const char *bad[] = {NULL, "", truncated, oversized, altered, huge, "' OR 1=1 --"};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_assert_false(store_viewer_by_token(fx->st, bad[i], &w));
    g_assert_cmpint(w.id, ==, 0);
    g_assert_null(w.token);
  }
  g_free(truncated);
  g_free(oversized);
  g_free(altered);
  g_free(huge);
  g_assert_false(store_viewer_by_id(fx->st, v.id + 1000, &w));
  store_viewer_clear(&v);
  store_viewer_clear(NULL);
}

static void test_viewer_invalid(sfx_t *fx, gconstpointer data) {
  const char *args[][3] = {{NULL, "p", "1"}, {"n", NULL, "1"}, {"n", "p", NULL}};
  for (gsize i = 0; i < G_N_ELEMENTS(args); i++) {
    store_viewer_t v = {0};
    GError *err = NULL;
    g_assert_false(
        store_viewer_create(fx->st, args[i][0], args[i][1], args[i][2], NULL, 1, &v, &err));
    g_assert_error(err, STORE_ERROR, STORE_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_cmpint(v.id, ==, 0);
  }
  /* Empty strings are not missing ones. */
  gint64 id = sfx_viewer(fx->st, "", "", "");
  g_assert_cmpint(id, >, 0);
  g_assert_cmpint(sfx_path_int(fx->path, "SELECT count(*) FROM viewers"), ==, 1);
}

static void test_viewer_tokens_unique(sfx_t *fx, gconstpointer data) {
  GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (int i = 0; i < 1000; i++) {
    store_viewer_t v = {0};
    g_assert_true(store_viewer_create(fx->st, "邻居", "A区", "1", NULL, i, &v, NULL));
    g_assert_true(token_ok(v.token));
    g_assert_true(g_hash_table_add(seen, g_strdup(v.token)));
    store_viewer_clear(&v);
  }
  g_assert_cmpint(g_hash_table_size(seen), ==, 1000);
  g_hash_table_unref(seen);
}

/* ---- name masking ---- */

static const struct {
  const char *in, *out;
} mask_rows[] = {
    {"王小明", "王**"},
    {"王", "王**"},
    {"Alice", "A**"},
    {"😀 smile", "😀**"},
    {" \t李四", "李**"},  /* leading blanks skipped */
    {"\n\x01赵", "赵**"}, /* and control characters */
    {"", "**"},
    {"   ", "**"},
    {NULL, "**"},
    {"\xff\xfe"
     "abc",
     "\xef\xbf\xbd**"},             /* invalid UTF-8: U+FFFD */
    {"\xe7\x8e", "\xef\xbf\xbd**"}, /* truncated 王 */
    {"=cmd|' /C calc'!A0", "=**"},
    {"王\xe5", "王**"},
};

static void test_mask_name(void) {
  for (gsize i = 0; i < G_N_ELEMENTS(mask_rows); i++) {
    char *m = store_mask_name(mask_rows[i].in);
    g_assert_cmpstr(m, ==, mask_rows[i].out);
    g_free(m);
  }
  char *big = g_strnfill(1 << 20, 'x');
  char *m = store_mask_name(big);
  g_assert_cmpstr(m, ==, "x**");
  g_free(m);
  g_free(big);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add("/store/" path, sfx_t, NULL, sfx_setup, fn, sfx_teardown)
  g_test_add_func("/store/open_table", test_open_table);
  ADD("open_twice", test_open_twice);
  ADD("products", test_products);
  ADD("product_rows", test_product_rows);
  ADD("product_text", test_product_text);
  ADD("viewers", test_viewers);
  ADD("viewer_invalid", test_viewer_invalid);
  ADD("viewer_tokens_unique", test_viewer_tokens_unique);
  g_test_add_func("/store/mask_name", test_mask_name);
  return g_test_run();
}
