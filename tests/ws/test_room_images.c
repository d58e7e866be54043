/* test_room_images.c — picture uploads in the room: decoded by a worker, applied on the loop.
 *
 * A real room over a real SQLite file and a real images dir. An upload's
 * answer arrives through its callback, on this thread's main loop, once the
 * worker has decoded the picture; meanwhile the loop stays free (a timer
 * keeps ticking), the caps answer 503 at once, and a product edited or
 * deleted in between, or the room freed, is handled.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <sqlite3.h>
#include <string.h>

#include "tests/ws/image_samples.h"
#include "ws/room.h"
#include "ws/store.h"

typedef struct {
  char *dir, *images, *db;
  store_t *store;
  room_t *room;
} fx_t;

/* One upload's answer. */
typedef struct {
  gboolean done;
  int status;
  guint retry_after_s;
  json_t *body;
} answer_t;

static void on_done(void *user, int status, guint retry_after_s, char *body) {
  answer_t *a = user;
  g_assert_false(a->done); /* exactly once */
  a->done = TRUE;
  a->status = status;
  a->retry_after_s = retry_after_s;
  a->body = json_loads(body, 0, NULL);
  g_assert_nonnull(a->body);
  g_free(body);
}

static void fx_setup(fx_t *fx, gconstpointer data) {
  GError *err = NULL;
  fx->dir = g_dir_make_tmp("test-room-images-XXXXXX", &err);
  g_assert_no_error(err);
  fx->images = g_build_filename(fx->dir, "images", NULL);
  fx->db = g_build_filename(fx->dir, "tourcast.db", NULL);
  fx->store = store_open(fx->db, &err);
  g_assert_no_error(err);
  room_config_t cfg = {.leader_token = "t", .show_title = "直播", .images_dir = fx->images};
  fx->room = room_new(&cfg, fx->store, &err);
  g_assert_no_error(err);
}

static void rm_rf(const char *path) {
  GDir *d = g_dir_open(path, 0, NULL);
  if (d != NULL) {
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL) {
      char *child = g_build_filename(path, name, NULL);
      rm_rf(child);
      g_free(child);
    }
    g_dir_close(d);
  }
  g_remove(path);
}

static void fx_teardown(fx_t *fx, gconstpointer data) {
  room_free(fx->room);
  store_free(fx->store);
  rm_rf(fx->dir);
  g_free(fx->dir);
  g_free(fx->images);
  g_free(fx->db);
}

static gint64 product(fx_t *fx, const char *name) {
  store_product_t p = {.name = (char *)name, .price_cents = 100, .stock = 10, .on_sale = TRUE};
  GError *err = NULL;
  g_assert_true(store_product_put(fx->store, &p, 1, &err));
  g_assert_no_error(err);
  return p.id;
}

static void upload(fx_t *fx, gint64 id, const char *sample, answer_t *a) {
  memset(a, 0, sizeof *a);
  room_product_image_upload(fx->room, id, sample_named(sample), on_done, a);
}

static gboolean tick(gpointer p) {
  (*(int *)p)++;
  return G_SOURCE_CONTINUE;
}

/* Runs the loop until every answer is in (bounded); returns how often a 10 ms
 * timer fired meanwhile: the loop was free to run it. */
static int wait_for(answer_t *const *answers, int n) {
  int ticks = 0;
  guint timer = g_timeout_add(10, tick, &ticks);
  gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
  for (;;) {
    gboolean all = TRUE;
    for (int i = 0; i < n; i++)
      all = all && answers[i]->done;
    if (all)
      break;
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_main_context_iteration(NULL, TRUE);
  }
  g_source_remove(timer);
  return ticks;
}

static void answer_clear(answer_t *a) {
  json_decref(a->body);
  a->body = NULL;
}

static char *stored_image(fx_t *fx, gint64 id) {
  store_product_t p = {0};
  g_assert_true(store_product_get(fx->store, id, &p));
  char *image = g_strdup(p.image);
  store_product_clear(&p);
  return image;
}

static void test_decoded_off_loop(fx_t *fx, gconstpointer data) {
  gint64 id = product(fx, "桃");
  answer_t a;
  upload(fx, id, "jpeg_progressive_8192x4880", &a);
  g_assert_false(a.done); /* answered later, from the loop */
  int ticks = wait_for((answer_t *[]){&a}, 1);
  g_test_message("a progressive 8192x4880 JPEG decoded while the loop ran a 10 ms timer %d times",
                 ticks);
  g_assert_cmpint(ticks, >, 0);
  g_assert_cmpint(a.status, ==, 200);
  g_assert_cmpint(json_integer_value(json_object_get(a.body, "width")), ==, 512);
  g_assert_cmpint(json_integer_value(json_object_get(a.body, "height")), ==, 305);
  char *image = stored_image(fx, id);
  g_assert_true(g_str_has_prefix(image, "/api/products/"));
  g_free(image);
  char *path = room_product_image_path(fx->room, id);
  g_assert_nonnull(path);
  g_free(path);
  char *part = g_strdup_printf("%s/.product-%" G_GINT64_FORMAT ".png.part", fx->images, id);
  g_assert_false(g_file_test(part, G_FILE_TEST_EXISTS)); /* renamed into place */
  g_free(part);
  answer_clear(&a);
}

static void test_refused(fx_t *fx, gconstpointer data) {
  gint64 id = product(fx, "梨");
  static const struct {
    const char *sample;
    int status;
  } rows[] = {
      {"png_bomb_30000x20000", 413},
      {"jpeg_sof_65000x65000", 413},
      {"png_ihdr_not_first", 400},
      {"jpeg_arithmetic", 415},
      {"png_small", 200},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
    answer_t a;
    upload(fx, id, rows[i].sample, &a);
    wait_for((answer_t *[]){&a}, 1);
    g_assert_cmpint(a.status, ==, rows[i].status);
    if (a.status != 200) {
      g_assert_cmpstr(json_string_value(json_object_get(a.body, "error")), ==, "invalid");
      g_assert_null(stored_image(fx, id)); /* nothing changed */
    }
    answer_clear(&a);
  }
  /* Unknown product and uploads off: answered at once. */
  answer_t a;
  upload(fx, 999, "png_small", &a);
  g_assert_true(a.done);
  g_assert_cmpint(a.status, ==, 404);
  answer_clear(&a);
}

static void test_caps(fx_t *fx, gconstpointer data) {
  gint64 p1 = product(fx, "一"), p2 = product(fx, "二"), p3 = product(fx, "三");
  answer_t a1, a2, same, third;
  upload(fx, p1, "jpeg_progressive_8192x4880", &a1);
  /* One decode per product: the second for p1 is refused at once. */
  upload(fx, p1, "png_small", &same);
  g_assert_true(same.done);
  g_assert_cmpint(same.status, ==, 503);
  g_assert_cmpuint(same.retry_after_s, ==, 1);
  g_assert_cmpstr(json_string_value(json_object_get(same.body, "error")), ==, "busy");
  upload(fx, p2, "png_rgba_8192x4882", &a2);
  g_assert_false(a2.done);
  /* Two decodes overall: a third product waits its turn outside. */
  upload(fx, p3, "png_small", &third);
  g_assert_true(third.done);
  g_assert_cmpint(third.status, ==, 503);
  wait_for((answer_t *[]){&a1, &a2}, 2);
  g_assert_cmpint(a1.status, ==, 200);
  g_assert_cmpint(a2.status, ==, 200);
  /* Free again. */
  answer_t again;
  upload(fx, p3, "png_small", &again);
  wait_for((answer_t *[]){&again}, 1);
  g_assert_cmpint(again.status, ==, 200);
  answer_t *all[] = {&a1, &a2, &same, &third, &again};
  for (gsize i = 0; i < G_N_ELEMENTS(all); i++)
    answer_clear(all[i]);
}

/* Applied on the loop from the product as it is then: an edit made during
 * the decode is kept, and a product deleted meanwhile gets 404. */
static void test_changed_meanwhile(fx_t *fx, gconstpointer data) {
  gint64 id = product(fx, "枣"), gone = product(fx, "栗");
  answer_t a, b;
  upload(fx, id, "png_small", &a);
  upload(fx, gone, "png_small", &b);
  store_product_t p = {0};
  g_assert_true(store_product_get(fx->store, id, &p));
  p.stock = 3;
  g_assert_true(store_product_put(fx->store, &p, 2, NULL));
  store_product_clear(&p);
  sqlite3 *db;
  g_assert_cmpint(sqlite3_open(fx->db, &db), ==, SQLITE_OK);
  char *sql = g_strdup_printf("DELETE FROM products WHERE id = %" G_GINT64_FORMAT, gone);
  g_assert_cmpint(sqlite3_exec(db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  g_free(sql);
  sqlite3_close(db);

  wait_for((answer_t *[]){&a, &b}, 2);
  g_assert_cmpint(a.status, ==, 200);
  g_assert_true(store_product_get(fx->store, id, &p));
  g_assert_cmpint(p.stock, ==, 3);
  g_assert_nonnull(p.image);
  store_product_clear(&p);
  g_assert_cmpint(b.status, ==, 404);
  char *path = room_product_image_path(fx->room, gone);
  g_assert_null(path);
  char *part = g_strdup_printf("%s/.product-%" G_GINT64_FORMAT ".png.part", fx->images, gone);
  g_assert_false(g_file_test(part, G_FILE_TEST_EXISTS));
  g_free(part);
  answer_clear(&a);
  answer_clear(&b);
}

/* The room goes while a worker decodes: the upload is answered 503 at once,
 * and the worker's result, when it comes, touches nothing of the room. */
static void test_room_freed(fx_t *fx, gconstpointer data) {
  gint64 id = product(fx, "柿");
  answer_t a;
  upload(fx, id, "jpeg_progressive_8192x4880", &a);
  room_free(fx->room);
  fx->room = NULL;
  g_assert_true(a.done);
  g_assert_cmpint(a.status, ==, 503);
  /* Let the worker finish and its callback run on this loop. */
  gint64 until = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;
  while (g_get_monotonic_time() < until)
    if (!g_main_context_iteration(NULL, FALSE))
      g_usleep(10000);
  char *part = g_strdup_printf("%s/.product-%" G_GINT64_FORMAT ".png.part", fx->images, id);
  g_assert_false(g_file_test(part, G_FILE_TEST_EXISTS));
  g_free(part);
  answer_clear(&a);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add("/room_images/" path, fx_t, NULL, fx_setup, fn, fx_teardown)
  ADD("decoded-off-loop", test_decoded_off_loop);
  ADD("refused", test_refused);
  ADD("caps", test_caps);
  ADD("changed-meanwhile", test_changed_meanwhile);
  ADD("room-freed", test_room_freed);
  return g_test_run();
}
