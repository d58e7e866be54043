/* room_images.c — product pictures: an upload decoded off the loop, stored on disk, announced.
 *
 * The HTTP server hands over the body of POST /api/products/ID/image once the
 * leader token checked out. The picture is probed, decoded and re-encoded by
 * image.c (never stored as sent) in a worker thread (GTask), which also
 * writes the result next to where it goes (".product-ID.png.part", synced);
 * back on the control loop the result is applied: the part file renamed over
 * product-ID.png (a reader sees the old file or the new one), the product
 * read again (an edit made meanwhile is kept, a product gone meanwhile gets
 * 404) and its "image" set to a URL that changes with every upload, so pages
 * and caches never show the previous picture. At most ROOM_IMAGE_DECODES
 * decodes at once and one per product, so results for a product are applied
 * in the order they were sent; more get 503 at once rather than a queue.
 */
#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "ws/image.h"
#include "ws/room_priv.h"

typedef struct {
  room_t *room; /* NULL once the room is freed: the result is dropped */
  gint64 product_id;
  GBytes *body;
  char *images_dir, *part_path; /* copies: the worker reads them */
  room_upload_done_fn done;     /* NULL once called */
  void *done_user;
  gint64 started_us;
  /* Written by the worker, read back on the loop once it returned. */
  GError *err;
  int width, height;
} room_image_job_t;

static char *answer_json(const char *error, const char *message) {
  json_t *j = json_pack("{s:s, s:s}", "error", error, "message", message);
  char *text = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  char *body = g_strdup(text ? text : "{}");
  free(text);
  return body;
}

static void answer(room_upload_done_fn done, void *user, int code, guint retry_after_s,
                   const char *error, const char *message) {
  done(user, code, retry_after_s, answer_json(error, message));
}

static void job_answer(room_image_job_t *job, int code, char *body) {
  if (job->done != NULL)
    job->done(job->done_user, code, 0, body);
  else
    g_free(body);
  job->done = NULL;
}

static char *image_file(room_t *r, gint64 product_id) {
  char name[48];
  g_snprintf(name, sizeof name, "product-%" G_GINT64_FORMAT ".png", product_id);
  return g_build_filename(r->cfg.images_dir, name, NULL);
}

char *room_product_image_path(room_t *r, gint64 product_id) {
  if (r->cfg.images_dir == NULL || product_id <= 0)
    return NULL;
  char *path = image_file(r, product_id);
  if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
    g_free(path);
    return NULL;
  }
  return path;
}

static int status_for(const GError *err) {
  if (err->domain != IMAGE_ERROR)
    return 500;
  switch ((image_error_t)err->code) {
    case IMAGE_ERROR_TOO_LARGE:
      return 413;
    case IMAGE_ERROR_UNSUPPORTED:
      return 415;
    case IMAGE_ERROR_CORRUPT:
      return 400;
  }
  return 400;
}

/* Worker thread: the file is written and synced under its part name
 * (g_file_set_contents: a temporary file, fsync, rename), so the loop only
 * has a rename left to do. */
static gboolean save_part(const room_image_job_t *job, GBytes *png, GError **err) {
  if (g_mkdir_with_parents(job->images_dir, 0755) != 0) {
    g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "cannot create %s",
                job->images_dir);
    return FALSE;
  }
  gsize len;
  const char *data = g_bytes_get_data(png, &len);
  return g_file_set_contents(job->part_path, data, (gssize)len, err);
}

static void job_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel) {
  room_image_job_t *job = data;
  gsize len;
  const guint8 *d = g_bytes_get_data(job->body, &len);
  GBytes *png = image_normalize(d, len, &job->width, &job->height, &job->err);
  if (png != NULL) {
    save_part(job, png, &job->err);
    g_bytes_unref(png);
  }
  g_task_return_boolean(task, TRUE);
}

static void job_free(room_image_job_t *job) {
  g_bytes_unref(job->body);
  g_clear_error(&job->err);
  g_free(job->images_dir);
  g_free(job->part_path);
  g_free(job);
}

/* Control loop: the part file becomes the product's picture. */
static void job_apply(room_t *r, room_image_job_t *job) {
  store_product_t p = {0};
  GError *err = NULL;
  char *final = image_file(r, job->product_id);
  if (!store_product_get(r->store, job->product_id, &p)) {
    g_unlink(job->part_path);
    job_answer(job, 404, answer_json("not_found", "no such product"));
  } else if (g_rename(job->part_path, final) != 0) {
    int e = errno;
    g_unlink(job->part_path);
    g_warning("product %" G_GINT64_FORMAT " picture: rename: %s", job->product_id, g_strerror(e));
    job_answer(job, 500, answer_json("unavailable", g_strerror(e)));
  } else {
    /* A new URL per upload: the version is the upload's wall clock. */
    g_free(p.image);
    p.image = g_strdup_printf("/api/products/%" G_GINT64_FORMAT "/image?v=%" G_GINT64_FORMAT,
                              job->product_id, g_get_real_time() / 1000);
    if (!store_product_put(r->store, &p, g_get_real_time() / 1000, &err)) {
      job_answer(job, 500, answer_json("unavailable", err->message));
      g_error_free(err);
    } else {
      json_t *pj = store_product_json(&p);
      room_broadcast_json(r, json_pack("{s:s, s:O}", "type", "product", "product", pj), FALSE);
      if (job->product_id == r->pinned)
        room_overlay_changed(r); /* the card on screen gets the picture */
      json_t *j =
          json_pack("{s:o, s:i, s:i}", "product", pj, "width", job->width, "height", job->height);
      char *text = json_dumps(j, JSON_COMPACT);
      json_decref(j);
      job_answer(job, 200, g_strdup(text ? text : "{}"));
      free(text);
    }
  }
  g_free(final);
  store_product_clear(&p);
}

/* Control loop, once the worker returned. */
static void job_done(GObject *source, GAsyncResult *res, gpointer data) {
  room_image_job_t *job = data;
  room_t *r = job->room;
  if (r != NULL) /* first: whoever gets the answer may upload again at once */
    g_hash_table_remove(r->image_jobs, &job->product_id);
  if (r == NULL) {
    g_unlink(job->part_path); /* the room was freed meanwhile */
  } else if (job->err != NULL) {
    int code = status_for(job->err);
    g_message("product %" G_GINT64_FORMAT " picture refused: %s", job->product_id,
              job->err->message);
    job_answer(job, code, answer_json(code == 500 ? "unavailable" : "invalid", job->err->message));
  } else {
    g_debug("product %" G_GINT64_FORMAT " picture %dx%d in %" G_GINT64_FORMAT " ms",
            job->product_id, job->width, job->height,
            (g_get_monotonic_time() - job->started_us) / 1000);
    job_apply(r, job);
  }
  job_free(job);
}

void room_product_image_upload(room_t *r, gint64 product_id, GBytes *body, room_upload_done_fn done,
                               void *user) {
  store_product_t p = {0};
  if (r->cfg.images_dir == NULL) {
    answer(done, user, 404, 0, "not_found", "uploads are off");
  } else if (!store_product_get(r->store, product_id, &p)) {
    answer(done, user, 404, 0, "not_found", "no such product");
  } else if (g_hash_table_contains(r->image_jobs, &product_id)) {
    answer(done, user, 503, ROOM_IMAGE_RETRY_S, "busy",
           "a picture for this product is being processed");
  } else if (g_hash_table_size(r->image_jobs) >= ROOM_IMAGE_DECODES) {
    answer(done, user, 503, ROOM_IMAGE_RETRY_S, "busy", "other pictures are being processed");
  } else {
    room_image_job_t *job = g_new0(room_image_job_t, 1);
    char name[64];
    g_snprintf(name, sizeof name, ".product-%" G_GINT64_FORMAT ".png.part", product_id);
    *job = (room_image_job_t){.room = r,
                              .product_id = product_id,
                              .body = body,
                              .images_dir = g_strdup(r->cfg.images_dir),
                              .part_path = g_build_filename(r->cfg.images_dir, name, NULL),
                              .done = done,
                              .done_user = user,
                              .started_us = g_get_monotonic_time()};
    body = NULL;
    g_hash_table_insert(r->image_jobs, &job->product_id, job);
    GTask *task = g_task_new(NULL, NULL, job_done, job);
    g_task_set_task_data(task, job, NULL);
    g_task_run_in_thread(task, job_thread);
    g_object_unref(task);
  }
  if (body != NULL)
    g_bytes_unref(body);
  store_product_clear(&p);
}

void room_images_init(room_t *r) {
  r->image_jobs = g_hash_table_new(g_int64_hash, g_int64_equal);
}

void room_images_fini(room_t *r) {
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, r->image_jobs);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    room_image_job_t *job = value;
    job_answer(job, 503, answer_json("unavailable", "the server is stopping"));
    job->room = NULL; /* job_done() frees it when its worker returns */
  }
  g_hash_table_destroy(r->image_jobs);
}
