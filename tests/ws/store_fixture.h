/* store_fixture.h — what the store tests share: a store on a real file in a
 * fresh temp dir (never :memory:: durability is the point), a raw SQLite
 * connection to look behind the API, and makers of products and viewers.
 */
#ifndef TOURCAST_TEST_STORE_FIXTURE_H
#define TOURCAST_TEST_STORE_FIXTURE_H

#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "ws/store.h"

typedef struct {
  char *dir;
  char *path;
  store_t *st;
} sfx_t;

static inline void sfx_setup(sfx_t *fx, gconstpointer data) {
  GError *err = NULL;
  fx->dir = g_dir_make_tmp("tourcast-store-XXXXXX", &err);
  g_assert_no_error(err);
  fx->path = g_build_filename(fx->dir, "tourcast.db", NULL);
  fx->st = store_open(fx->path, &err);
  g_assert_no_error(err);
  g_assert_nonnull(fx->st);
}

/* Removes every file in the temp dir (db, -wal, -shm, anything a test made). */
static inline void sfx_teardown(sfx_t *fx, gconstpointer data) {
  store_free(fx->st);
  GDir *d = g_dir_open(fx->dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d)) != NULL) {
    char *p = g_build_filename(fx->dir, name, NULL);
    g_remove(p);
    g_free(p);
  }
  if (d)
    g_dir_close(d);
  g_rmdir(fx->dir);
  g_free(fx->path);
  g_free(fx->dir);
}

static inline gint64 sfx_product(store_t *st, const char *name, gint64 price, gint64 stock,
                                 gint64 limit, gboolean on_sale) {
  store_product_t p = {.name = (char *)name,
                       .price_cents = price,
                       .unit = (char *)"斤",
                       .stock = stock,
                       .limit_per_buyer = limit,
                       .on_sale = on_sale};
  GError *err = NULL;
  g_assert_true(store_product_put(st, &p, 1000, &err));
  g_assert_no_error(err);
  g_assert_cmpint(p.id, >, 0);
  return p.id;
}

static inline gint64 sfx_viewer(store_t *st, const char *name, const char *pickup,
                                const char *phone) {
  store_viewer_t v = {0};
  GError *err = NULL;
  g_assert_true(store_viewer_create(st, name, pickup, phone, NULL, 1000, &v, &err));
  g_assert_no_error(err);
  gint64 id = v.id;
  store_viewer_clear(&v);
  return id;
}

/* Buyer `i` of a crowd: a person of their own (a phone of their own). */
static inline gint64 sfx_buyer(store_t *st, int i) {
  char phone[16];
  g_snprintf(phone, sizeof phone, "139%08d", i);
  return sfx_viewer(st, "邻居", "A区", phone);
}

static inline gint64 sfx_show(store_t *st) {
  GError *err = NULL;
  gint64 id = store_show_begin(st, "源头直播", 1700000000000, &err);
  g_assert_no_error(err);
  g_assert_cmpint(id, >, 0);
  return id;
}

/* A second connection, as another process would have. */
static inline sqlite3 *sfx_raw(const char *path) {
  sqlite3 *db = NULL;
  g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout(db, 2000);
  return db;
}

/* First column of the first row of `sql` as an integer (-1 if no row). */
static inline gint64 sfx_int(sqlite3 *db, const char *sql) {
  sqlite3_stmt *s = NULL;
  g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &s, NULL), ==, SQLITE_OK);
  gint64 v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
  sqlite3_finalize(s);
  return v;
}

static inline gint64 sfx_path_int(const char *path, const char *sql) {
  sqlite3 *db = sfx_raw(path);
  gint64 v = sfx_int(db, sql);
  sqlite3_close(db);
  return v;
}

static inline void sfx_exec(sqlite3 *db, const char *sql) {
  char *msg = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
    g_error("%s: %s", sql, msg);
}

#endif
