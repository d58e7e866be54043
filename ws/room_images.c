/* room_images.c — product pictures: an upload checked, stored on disk, announced to the room.
 *
 * The HTTP server hands over the body of POST /api/products/ID/image once the
 * leader token checked out. The picture is decoded and re-encoded by
 * image.c (never stored as sent), written next to the database by rename so
 * a reader sees the old file or the new one, and the product's "image"
 * becomes a URL that changes with every upload, so pages and caches never
 * show the previous picture.
 */
#include <errno.h>
#include <glib/gstdio.h>

#include "ws/image.h"
#include "ws/room_priv.h"

static char *answer(int *status, int code, const char *error, const char *message) {
  *status = code;
  json_t *j = json_pack("{s:s, s:s}", "error", error, "message", message);
  char *text = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  char *body = g_strdup(text ? text : "{}");
  free(text);
  return body;
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

/* Writes the PNG by rename (g_file_set_contents syncs before it renames). */
static gboolean save(room_t *r, gint64 product_id, GBytes *png, GError **err) {
  if (g_mkdir_with_parents(r->cfg.images_dir, 0755) != 0) {
    g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "cannot create %s",
                r->cfg.images_dir);
    return FALSE;
  }
  char *path = image_file(r, product_id);
  gsize len;
  const char *data = g_bytes_get_data(png, &len);
  gboolean ok = g_file_set_contents(path, data, (gssize)len, err);
  g_free(path);
  return ok;
}

char *room_product_image_upload(room_t *r, gint64 product_id, const guint8 *body, gsize len,
                                int *status) {
  if (r->cfg.images_dir == NULL)
    return answer(status, 404, "not_found", "uploads are off");
  store_product_t p = {0};
  if (!store_product_get(r->store, product_id, &p))
    return answer(status, 404, "not_found", "no such product");

  GError *err = NULL;
  int w = 0, h = 0;
  GBytes *png = image_normalize(body, len, &w, &h, &err);
  char *out = NULL;
  if (png == NULL || !save(r, product_id, png, &err)) {
    int code = status_for(err);
    out = answer(status, code, code == 500 ? "unavailable" : "invalid", err->message);
    g_message("product %" G_GINT64_FORMAT " picture refused: %s", product_id, err->message);
    g_error_free(err);
  } else {
    /* A new URL per upload: the version is the upload's wall clock. */
    g_free(p.image);
    p.image = g_strdup_printf("/api/products/%" G_GINT64_FORMAT "/image?v=%" G_GINT64_FORMAT,
                              product_id, g_get_real_time() / 1000);
    if (!store_product_put(r->store, &p, g_get_real_time() / 1000, &err)) {
      out = answer(status, 500, "unavailable", err->message);
      g_error_free(err);
    } else {
      json_t *pj = store_product_json(&p);
      room_broadcast_json(r, json_pack("{s:s, s:O}", "type", "product", "product", pj), FALSE);
      if (product_id == r->pinned)
        room_overlay_changed(r); /* the card on screen gets the picture */
      json_t *j = json_pack("{s:o, s:i, s:i}", "product", pj, "width", w, "height", h);
      char *text = json_dumps(j, JSON_COMPACT);
      json_decref(j);
      out = g_strdup(text ? text : "{}");
      free(text);
      *status = 200;
    }
  }
  if (png != NULL)
    g_bytes_unref(png);
  store_product_clear(&p);
  return out;
}
