/* test_store_durability.c — what an acknowledged order survives: a process
 * SIGKILLed in the middle of an order storm (every acknowledged order is in
 * the file afterwards, stock adds up, retries find the same orders), and
 * transactions made to fail (lock held elsewhere, a statement failing mid
 * batch, COMMIT itself failing): nothing reported OK, nothing changed.
 *
 * SIGKILL leaves the kernel's page cache intact, so this proves the store
 * acknowledges only committed transactions; surviving power loss rests on
 * synchronous=FULL (fsync before COMMIT returns), which a test cannot cut.
 */
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/ws/store_fixture.h"

#define T0 1700000000000LL

/* ---- a process killed in the middle of an order storm ---- */

typedef struct {
  gint64 order_id, viewer_id, seq;
} ack_t;

enum { CRASH_VIEWERS = 200, CRASH_BATCH = 32, CRASH_ROUNDS = 5 };
#define CRASH_STOCK 10000000LL

static void crash_req(gint64 show, gint64 product, const gint64 *vid, gint64 seq, char *key,
                      store_order_req_t *r) {
  g_snprintf(key, 32, "c%" G_GINT64_FORMAT, seq);
  *r = (store_order_req_t){show, vid[seq % CRASH_VIEWERS], product, 1 + seq % 3, key, -1, seq, seq,
                           FALSE};
}

/* The child: batches forever; after each commit, every new order id goes
 * down the pipe (one write per batch, under PIPE_BUF, so never torn). Every
 * eighth request retries an earlier key. */
static G_GNUC_NORETURN void crash_child(const char *path, int fd, gint64 show, gint64 product,
                                        const gint64 *vid, gint64 seq) {
  store_t *st = store_open(path, NULL);
  if (st == NULL)
    _exit(2);
  for (;;) {
    store_order_req_t reqs[CRASH_BATCH];
    store_order_res_t res[CRASH_BATCH];
    char keys[CRASH_BATCH][32];
    gint64 seqs[CRASH_BATCH];
    for (int i = 0; i < CRASH_BATCH; i++) {
      seqs[i] = i % 8 == 7 ? seq - 5 : seq++;
      crash_req(show, product, vid, seqs[i], keys[i], &reqs[i]);
    }
    if (!store_order_batch(st, reqs, CRASH_BATCH, res, NULL))
      continue;
    ack_t acks[CRASH_BATCH];
    int n = 0;
    for (int i = 0; i < CRASH_BATCH; i++)
      if (res[i].status == STORE_ORDER_OK)
        acks[n++] = (ack_t){res[i].order_id, reqs[i].viewer_id, seqs[i]};
    G_STATIC_ASSERT(sizeof(ack_t) * CRASH_BATCH <= PIPE_BUF);
    if (n > 0 && write(fd, acks, sizeof(ack_t) * n) != (ssize_t)(sizeof(ack_t) * n))
      _exit(3);
  }
}

/* Runs a child for ~300 ms, SIGKILLs it, and returns what it acknowledged. */
static void crash_round(sfx_t *fx, gint64 show, gint64 product, const gint64 *vid, gint64 seq,
                        GByteArray *acks) {
  int fds[2];
  g_assert_cmpint(pipe(fds), ==, 0);
  pid_t pid = fork();
  g_assert_cmpint(pid, >=, 0);
  if (pid == 0) {
    close(fds[0]);
    crash_child(fx->path, fds[1], show, product, vid, seq);
  }
  close(fds[1]);
  guint8 buf[4096];
  /* The kill comes 300 ms into the storm, counted from the first
   * acknowledgement: a loaded machine (sanitizers, parallel tests) may take
   * seconds to start the child, and a kill before any order is no test. */
  gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
  gboolean storming = FALSE;
  for (gint64 now; (now = g_get_monotonic_time()) < deadline;) {
    struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
    if (poll(&pfd, 1, (int)((deadline - now) / 1000) + 1) > 0) {
      ssize_t n = read(fds[0], buf, sizeof(buf));
      g_assert_cmpint(n, >, 0); /* EOF here: the child died on its own */
      g_byte_array_append(acks, buf, (guint)n);
      if (!storming) {
        storming = TRUE;
        deadline = g_get_monotonic_time() + 300 * 1000;
      }
    }
  }
  g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
  int status = 0;
  g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
  g_assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  ssize_t n; /* what the child wrote before it died was acknowledged too */
  while ((n = read(fds[0], buf, sizeof(buf))) > 0)
    g_byte_array_append(acks, buf, (guint)n);
  close(fds[0]);
}

static void crash_check(sfx_t *fx, gint64 show, gint64 product, const gint64 *vid,
                        const ack_t *acks, gsize n) {
  sqlite3 *db = sfx_raw(fx->path);
  sqlite3_stmt *s = NULL;
  g_assert_cmpint(
      sqlite3_prepare_v2(db, "SELECT viewer_id, key FROM orders WHERE id = ?", -1, &s, NULL), ==,
      SQLITE_OK);
  GHashTable *ids = g_hash_table_new(g_int64_hash, g_int64_equal);
  for (gsize i = 0; i < n; i++) {
    g_assert_true(g_hash_table_add(ids, (gpointer)&acks[i].order_id)); /* never acked twice */
    sqlite3_bind_int64(s, 1, acks[i].order_id);
    g_assert_cmpint(sqlite3_step(s), ==, SQLITE_ROW); /* every acknowledged order survived */
    g_assert_cmpint(sqlite3_column_int64(s, 0), ==, acks[i].viewer_id);
    char *key = g_strdup_printf("c%" G_GINT64_FORMAT, acks[i].seq);
    g_assert_cmpstr((const char *)sqlite3_column_text(s, 1), ==, key);
    g_free(key);
    sqlite3_reset(s);
  }
  sqlite3_finalize(s);
  g_hash_table_unref(ids);
  char *sql =
      g_strdup_printf("SELECT (SELECT stock + sold FROM products WHERE id = %" G_GINT64_FORMAT
                      ") = %lld AND (SELECT sold FROM products WHERE id = %" G_GINT64_FORMAT
                      ") = (SELECT coalesce(sum(qty), 0) FROM orders)",
                      product, CRASH_STOCK, product);
  g_assert_cmpint(sfx_int(db, sql), ==, 1);
  g_free(sql);
  g_assert_cmpint(sfx_int(db, "SELECT count(*) FROM orders"), ==,
                  sfx_int(db, "SELECT count(*) FROM events WHERE type = 'order'"));
  sqlite3_close(db);
}

static void test_crash(sfx_t *fx, gconstpointer data) {
  gint64 show = sfx_show(fx->st);
  gint64 product = sfx_product(fx->st, "大米", 5990, CRASH_STOCK, 0, TRUE);
  gint64 vid[CRASH_VIEWERS];
  for (int i = 0; i < CRASH_VIEWERS; i++)
    vid[i] = sfx_buyer(fx->st, i);
  store_free(fx->st);
  fx->st = NULL;
  GByteArray *acks = g_byte_array_new();
  for (int round = 0; round < CRASH_ROUNDS; round++) {
    guint before = acks->len;
    crash_round(fx, show, product, vid, 10 + round * 10000000LL, acks);
    g_assert_cmpint(acks->len % sizeof(ack_t), ==, 0);
    g_assert_cmpint(acks->len, >, before); /* the child got some orders through */
    GError *err = NULL;
    fx->st = store_open(fx->path, &err); /* recovery from the WAL */
    g_assert_no_error(err);
    crash_check(fx, show, product, vid, (const ack_t *)(void *)acks->data,
                acks->len / sizeof(ack_t));
    store_free(fx->st);
    fx->st = NULL;
  }
  g_test_message("acknowledged orders over %d kills: %zu", CRASH_ROUNDS,
                 (size_t)(acks->len / sizeof(ack_t)));
  /* After the restart every acknowledged key, retried, is the same order. */
  fx->st = store_open(fx->path, NULL);
  const ack_t *a = (const ack_t *)(void *)acks->data;
  for (gsize i = 0; i < acks->len / sizeof(ack_t); i++) {
    char key[32];
    store_order_req_t r;
    store_order_res_t res;
    crash_req(show, product, vid, a[i].seq, key, &r);
    g_assert_true(store_order_batch(fx->st, &r, 1, &res, NULL));
    g_assert_cmpint(res.status, ==, STORE_ORDER_DUPLICATE);
    g_assert_cmpint(res.order_id, ==, a[i].order_id);
  }
  g_byte_array_unref(acks);
}

/* ---- failures: nothing is OK, nothing changes ---- */

typedef struct {
  gint64 stock, orders, events;
} snapshot_t;

static snapshot_t snapshot(sfx_t *fx, gint64 product) {
  char *sql = g_strdup_printf("SELECT stock FROM products WHERE id = %" G_GINT64_FORMAT, product);
  snapshot_t s = {sfx_path_int(fx->path, sql),
                  sfx_path_int(fx->path, "SELECT count(*) FROM orders"),
                  sfx_path_int(fx->path, "SELECT count(*) FROM events")};
  g_free(sql);
  return s;
}

static void expect_batch_fails_code(sfx_t *fx, const store_order_req_t *reqs, gsize n,
                                    gint64 product, int code, const char *message) {
  snapshot_t before = snapshot(fx, product);
  store_stats_t st0, st1;
  store_get_stats(fx->st, &st0);
  store_order_res_t res[8];
  GError *err = NULL;
  g_assert_false(store_order_batch(fx->st, reqs, n, res, &err));
  g_assert_error(err, STORE_ERROR, code);
  g_assert_nonnull(strstr(err->message, message));
  g_clear_error(&err);
  for (gsize i = 0; i < n; i++) {
    g_assert_cmpint(res[i].status, ==, STORE_ORDER_ERROR);
    g_assert_cmpint(res[i].order_id, ==, 0);
  }
  snapshot_t after = snapshot(fx, product);
  g_assert_cmpint(after.stock, ==, before.stock);
  g_assert_cmpint(after.orders, ==, before.orders);
  g_assert_cmpint(after.events, ==, before.events);
  store_get_stats(fx->st, &st1);
  g_assert_cmpint(st1.orders[STORE_ORDER_OK], ==, st0.orders[STORE_ORDER_OK]);
  g_assert_cmpint(st1.order_batches, ==, st0.order_batches);
  g_assert_cmpint(st1.rollbacks, ==, st0.rollbacks + 1);
}

static void expect_batch_fails(sfx_t *fx, const store_order_req_t *reqs, gsize n, gint64 product,
                               const char *message) {
  expect_batch_fails_code(fx, reqs, n, product, STORE_ERROR_SQLITE, message);
}

static void expect_batch_ok(sfx_t *fx, const store_order_req_t *reqs, gsize n) {
  store_order_res_t res[8];
  GError *err = NULL;
  g_assert_true(store_order_batch(fx->st, reqs, n, res, &err));
  g_assert_no_error(err);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpint(res[i].status, ==, STORE_ORDER_OK);
}

static void test_failures(sfx_t *fx, gconstpointer data) {
  gint64 show = sfx_show(fx->st);
  gint64 p = sfx_product(fx->st, "苹果", 990, 100, 0, TRUE);
  gint64 v = sfx_viewer(fx->st, "邻居", "A区", "1");
  sqlite3 *other = sfx_raw(fx->path);

  /* 1. Another connection holds the write lock: BEGIN fails after the timeout. */
  store_order_req_t locked[] = {{show, v, p, 1, "l1", -1, 1, T0, FALSE},
                                {show, v, p, 1, "l2", -1, 1, T0, FALSE}};
  store_set_busy_timeout(fx->st, 20);
  sfx_exec(other, "BEGIN IMMEDIATE");
  expect_batch_fails_code(fx, locked, 2, p, STORE_ERROR_BUSY, "begin");
  sfx_exec(other, "COMMIT");
  expect_batch_ok(fx, locked, 2); /* the same keys, retried */

  /* 2. A statement fails in the middle: the orders before it are undone too. */
  sfx_exec(other, "CREATE TRIGGER boom AFTER INSERT ON orders WHEN NEW.key = 'boom'"
                  " BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
  store_order_req_t mid[] = {{show, v, p, 1, "m1", -1, 1, T0, FALSE},
                             {show, v, p, 2, "m2", -1, 1, T0, FALSE},
                             {show, v, p, 1, "boom", -1, 1, T0, FALSE},
                             {show, v, p, 1, "m3", -1, 1, T0, FALSE}};
  expect_batch_fails(fx, mid, 4, p, "injected failure");
  sfx_exec(other, "DROP TRIGGER boom");
  expect_batch_ok(fx, mid, 4);

  /* 3. COMMIT itself fails (a deferred foreign key checked at commit). */
  sfx_exec(other, "CREATE TABLE trap (x INTEGER REFERENCES shows (id) DEFERRABLE INITIALLY "
                  "DEFERRED);"
                  "CREATE TRIGGER trap_t AFTER INSERT ON orders WHEN NEW.key = 'trap'"
                  " BEGIN INSERT INTO trap VALUES (-1); END");
  store_order_req_t at_commit[] = {{show, v, p, 1, "c1", -1, 1, T0, FALSE},
                                   {show, v, p, 1, "trap", -1, 1, T0, FALSE},
                                   {show, v, p, 1, "c2", -1, 1, T0, FALSE}};
  expect_batch_fails(fx, at_commit, 3, p, "commit");
  sfx_exec(other, "DROP TRIGGER trap_t");
  expect_batch_ok(fx, at_commit, 3);
  sqlite3_close(other);

  /* Everything retried landed once. */
  g_assert_cmpint(snapshot(fx, p).stock, ==, 100 - 2 - 5 - 3);
  g_assert_cmpint(snapshot(fx, p).orders, ==, 9);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
#define ADD(path, fn)                                                                              \
  g_test_add("/store_durability/" path, sfx_t, NULL, sfx_setup, fn, sfx_teardown)
  ADD("crash", test_crash);
  ADD("failures", test_failures);
  return g_test_run();
}
