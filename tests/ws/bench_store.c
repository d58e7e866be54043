/* bench_store.c — what group commit buys: durable orders per second through
 * the store with one transaction per order against batches of 100 and 1,000.
 *
 * Not a test: it prints figures. The database is a real file (synchronous=FULL,
 * WAL) in a temp dir on the disk under test: pass --dir to choose it (tmpfs
 * would measure nothing, its fsync is free).
 *   bench_store [--orders N] [--dir DIR]
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>

#include "ws/store.h"

#define VIEWERS 1000

typedef struct {
  const char *name;
  gsize batch;
  double orders_per_s;
} run_t;

static gint64 key_seq = 0;

/* Orders n units, `batch` per store_order_batch(), every one must be OK. */
static void run(store_t *st, gint64 show, gint64 product, const gint64 *vid, gsize n, run_t *r) {
  store_order_req_t *reqs = g_new0(store_order_req_t, r->batch);
  store_order_res_t *res = g_new0(store_order_res_t, r->batch);
  char(*keys)[24] = g_malloc(r->batch * sizeof(*keys));
  store_stats_t before, after;
  store_get_stats(st, &before);
  gint64 t0 = g_get_monotonic_time();
  for (gsize done = 0; done < n;) {
    gsize m = MIN(r->batch, n - done);
    for (gsize i = 0; i < m; i++, key_seq++) {
      g_snprintf(keys[i], sizeof(keys[i]), "k%" G_GINT64_FORMAT, key_seq);
      reqs[i] = (store_order_req_t){
          show, vid[key_seq % VIEWERS], product, 1, keys[i], -1, key_seq, key_seq, FALSE};
    }
    GError *err = NULL;
    if (!store_order_batch(st, reqs, m, res, &err))
      g_error("batch failed: %s", err->message);
    for (gsize i = 0; i < m; i++)
      if (res[i].status != STORE_ORDER_OK)
        g_error("order %s: %s", keys[i], store_order_status_name(res[i].status));
    done += m;
  }
  double secs = (double)(g_get_monotonic_time() - t0) / 1e6;
  store_get_stats(st, &after);
  guint64 commits = after.commits - before.commits;
  double mean_us = (double)(after.commit_us_sum - before.commit_us_sum) / (double)commits;
  r->orders_per_s = (double)n / secs;
  printf("%-32s %8zu orders %7.2f s %10.0f orders/s  %6" G_GUINT64_FORMAT
         " commits  mean commit %8.1f us  max %8" G_GUINT64_FORMAT " us\n",
         r->name, n, secs, r->orders_per_s, commits, mean_us, after.commit_us_max);
  g_free(keys);
  g_free(reqs);
  g_free(res);
}

typedef struct {
  char *path;
  store_t *st;
  gint64 show, product;
  gint64 vid[VIEWERS];
} db_t;

/* A fresh database per run, so that no run pays for another's rows. */
static void db_open(db_t *db, const char *dir, const char *name, gint64 stock) {
  GError *err = NULL;
  db->path = g_build_filename(dir, name, NULL);
  db->st = store_open(db->path, &err);
  if (db->st == NULL)
    g_error("%s", err->message);
  db->show = store_show_begin(db->st, "bench", g_get_real_time() / 1000, &err);
  store_product_t p = {.name = "大米",
                       .price_cents = 5990,
                       .unit = "袋",
                       .stock = MIN(stock, STORE_STOCK_MAX),
                       .on_sale = TRUE};
  if (db->show == 0 || !store_product_put(db->st, &p, 0, &err))
    g_error("%s", err->message);
  db->product = p.id;
  for (int i = 0; i < VIEWERS; i++) {
    store_viewer_t v = {0};
    if (!store_viewer_create(db->st, "邻居", "A区", "13800000000", NULL, 0, &v, &err))
      g_error("%s", err->message);
    db->vid[i] = v.id;
    store_viewer_clear(&v);
  }
}

static void db_remove(db_t *db) {
  store_free(db->st);
  const char *suffixes[] = {"", "-wal", "-shm"};
  for (gsize i = 0; i < G_N_ELEMENTS(suffixes); i++) {
    char *f = g_strconcat(db->path, suffixes[i], NULL);
    g_remove(f);
    g_free(f);
  }
  g_free(db->path);
}

int main(int argc, char **argv) {
  gint64 orders = 20000;
  char *dir_arg = NULL;
  GOptionEntry entries[] = {
      {"orders", 'n', 0, G_OPTION_ARG_INT64, &orders, "orders per run (default 20000)", "N"},
      {"dir", 'd', 0, G_OPTION_ARG_FILENAME, &dir_arg, "where to make the temp dir", "DIR"},
      G_OPTION_ENTRY_NULL};
  GOptionContext *ctx = g_option_context_new("- store group-commit benchmark");
  g_option_context_add_main_entries(ctx, entries, NULL);
  GError *err = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &err) || orders <= 0) {
    fprintf(stderr, "%s\n", err ? err->message : "--orders must be positive");
    return 2;
  }
  g_option_context_free(ctx);
  if (dir_arg)
    g_setenv("TMPDIR", dir_arg, TRUE);
  char *dir = g_dir_make_tmp("tourcast-bench-XXXXXX", &err);
  if (dir == NULL)
    g_error("%s", err->message);
  printf("store benchmark in %s: synchronous=FULL, WAL, a fresh database per run, %d viewers, "
         "%" G_GINT64_FORMAT " orders per run\n",
         dir, VIEWERS, orders);
  run_t runs[] = {{"one transaction per order", 1, 0},
                  {"group commit, batches of 100", 100, 0},
                  {"group commit, batches of 1000", 1000, 0}};
  for (gsize i = 0; i < G_N_ELEMENTS(runs); i++) {
    db_t *db = g_new0(db_t, 1);
    char *name = g_strdup_printf("run%zu.db", i);
    db_open(db, dir, name, orders * 4);
    run(db->st, db->show, db->product, db->vid, (gsize)orders, &runs[i]);
    db_remove(db);
    g_free(name);
    g_free(db);
  }
  for (gsize i = 1; i < G_N_ELEMENTS(runs); i++)
    printf("%s: %.1fx one transaction per order\n", runs[i].name,
           runs[i].orders_per_s / runs[0].orders_per_s);
  g_rmdir(dir);
  g_free(dir);
  g_free(dir_arg);
  return 0;
}
