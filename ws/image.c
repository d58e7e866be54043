/* image.c — decode and scale an uploaded product picture with gdk-pixbuf.
 *
 * The loader is chosen by the file's signature and created for that one
 * type, so no other of gdk-pixbuf's loaders ever sees outside bytes. The
 * "size-prepared" signal refuses oversized pictures before decoding and asks
 * the loader for the final size at once (libjpeg then decodes at a reduced
 * scale instead of decoding full size and scaling down).
 */
#include "ws/image.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <string.h>

G_DEFINE_QUARK(tourcast - image - error - quark, image_error)

static const guint8 png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
static const guint8 jpeg_sig[3] = {0xFF, 0xD8, 0xFF};
/* The last 8 bytes of every whole PNG: the IEND chunk's type and its CRC. */
static const guint8 png_iend[8] = {'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};

static const char *loader_type(const guint8 *data, gsize len) {
  if (len >= sizeof png_sig && memcmp(data, png_sig, sizeof png_sig) == 0)
    return "png";
  if (len >= sizeof jpeg_sig && memcmp(data, jpeg_sig, sizeof jpeg_sig) == 0)
    return "jpeg";
  return NULL;
}

typedef struct {
  gboolean too_large;
  int src_width, src_height;
} prepare_t;

/* Fits w x h into side x side, never enlarging; at least 1 pixel. */
static void fit(int w, int h, int side, int *ow, int *oh) {
  double s = MIN(1.0, MIN((double)side / w, (double)side / h));
  *ow = MAX(1, (int)(w * s + 0.5));
  *oh = MAX(1, (int)(h * s + 0.5));
}

static void on_size_prepared(GdkPixbufLoader *loader, int w, int h, gpointer data) {
  prepare_t *p = data;
  p->src_width = w;
  p->src_height = h;
  if (w <= 0 || h <= 0 || w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE ||
      (gint64)w * h > IMAGE_MAX_PIXELS) {
    p->too_large = TRUE;
    /* Decode nothing worth having; the result is thrown away below. */
    gdk_pixbuf_loader_set_size(loader, 1, 1);
    return;
  }
  int ow, oh;
  fit(w, h, IMAGE_STORED_SIDE, &ow, &oh);
  gdk_pixbuf_loader_set_size(loader, ow, oh);
}

static GdkPixbuf *decode(const char *type, const guint8 *data, gsize len, GError **err) {
  GError *local = NULL;
  GdkPixbufLoader *loader = gdk_pixbuf_loader_new_with_type(type, &local);
  if (loader == NULL) {
    g_set_error(err, IMAGE_ERROR, IMAGE_ERROR_UNSUPPORTED, "no %s decoder: %s", type,
                local->message);
    g_error_free(local);
    return NULL;
  }
  prepare_t prep = {0};
  g_signal_connect(loader, "size-prepared", G_CALLBACK(on_size_prepared), &prep);
  gboolean ok = gdk_pixbuf_loader_write(loader, data, len, &local);
  /* close() always, even after a failed write: the loader insists. */
  gboolean closed = gdk_pixbuf_loader_close(loader, ok ? &local : NULL);
  GdkPixbuf *pb = NULL;
  if (prep.too_large) {
    g_set_error(err, IMAGE_ERROR, IMAGE_ERROR_TOO_LARGE,
                "picture is %dx%d; at most %d pixels a side and %d pixels in all", prep.src_width,
                prep.src_height, IMAGE_MAX_SIDE, IMAGE_MAX_PIXELS);
  } else if (!ok || !closed || (pb = gdk_pixbuf_loader_get_pixbuf(loader)) == NULL) {
    g_set_error(err, IMAGE_ERROR, IMAGE_ERROR_CORRUPT, "not a valid %s picture: %s", type,
                local ? local->message : "no image data");
  } else {
    g_object_ref(pb);
  }
  g_clear_error(&local);
  g_object_unref(loader);
  return pb;
}

GBytes *image_normalize(const guint8 *data, gsize len, int *width, int *height, GError **err) {
  if (len > IMAGE_MAX_BYTES) {
    g_set_error(err, IMAGE_ERROR, IMAGE_ERROR_TOO_LARGE, "%" G_GSIZE_FORMAT " bytes; at most %d",
                len, IMAGE_MAX_BYTES);
    return NULL;
  }
  const char *type = data ? loader_type(data, len) : NULL;
  if (type == NULL) {
    g_set_error(err, IMAGE_ERROR, IMAGE_ERROR_UNSUPPORTED, "only JPEG and PNG pictures");
    return NULL;
  }
  /* gdk-pixbuf's PNG loader shows a picture cut off inside its pixel data
   * as complete, the missing rows blank: a PNG must end with its IEND. */
  if (strcmp(type, "png") == 0 &&
      (len < sizeof png_sig + sizeof png_iend ||
       memcmp(data + len - sizeof png_iend, png_iend, sizeof png_iend) != 0)) {
    g_set_error(err, IMAGE_ERROR, IMAGE_ERROR_CORRUPT, "not a valid png picture: truncated");
    return NULL;
  }
  /* Likewise libjpeg fills a cut-off JPEG with grey: it must end with its
   * EOI marker (some writers pad with zero bytes after it). */
  gsize end = len;
  while (end > 0 && data[end - 1] == 0)
    end--;
  if (strcmp(type, "jpeg") == 0 && (end < 4 || data[end - 2] != 0xFF || data[end - 1] != 0xD9)) {
    g_set_error(err, IMAGE_ERROR, IMAGE_ERROR_CORRUPT, "not a valid jpeg picture: truncated");
    return NULL;
  }
  GdkPixbuf *pb = decode(type, data, len, err);
  if (pb == NULL)
    return NULL;
  /* Loaders without scaled decoding hand back the full size: scale here. */
  int w = gdk_pixbuf_get_width(pb), h = gdk_pixbuf_get_height(pb), ow, oh;
  fit(w, h, IMAGE_STORED_SIDE, &ow, &oh);
  if (ow != w || oh != h) {
    GdkPixbuf *scaled = gdk_pixbuf_scale_simple(pb, ow, oh, GDK_INTERP_BILINEAR);
    g_object_unref(pb);
    pb = scaled;
    if (pb == NULL) {
      g_set_error(err, IMAGE_ERROR, IMAGE_ERROR_TOO_LARGE, "out of memory scaling the picture");
      return NULL;
    }
  }
  gchar *png = NULL;
  gsize png_len = 0;
  GError *local = NULL;
  gboolean saved = gdk_pixbuf_save_to_buffer(pb, &png, &png_len, "png", &local, NULL);
  if (width)
    *width = gdk_pixbuf_get_width(pb);
  if (height)
    *height = gdk_pixbuf_get_height(pb);
  g_object_unref(pb);
  if (!saved) {
    g_set_error(err, IMAGE_ERROR, IMAGE_ERROR_CORRUPT, "cannot encode PNG: %s", local->message);
    g_error_free(local);
    return NULL;
  }
  return g_bytes_new_take(png, png_len);
}
