/* image.c — decode and scale an uploaded product picture with gdk-pixbuf, after image_probe().
 *
 * Nothing reaches a decoder before image_probe() (image_probe.c) has walked
 * the whole file and found it within every limit. The loader is then created
 * for that one type, so no other of gdk-pixbuf's loaders ever sees outside
 * bytes, and is given a PNG's needed chunks only. Its "size-prepared" signal
 * is the second guard: a size other than the header's, or over the limits,
 * stops the loader before it allocates the picture (a 0x0 size tells
 * gdk-pixbuf's modules to give up); otherwise it asks for the final size at
 * once (libjpeg then decodes at a reduced scale instead of decoding full size
 * and scaling down).
 */
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <string.h>

#include "ws/image_priv.h"

G_DEFINE_QUARK(tourcast - image - error - quark, image_error)

typedef struct {
  int want_width, want_height; /* from the header */
  gboolean refused;
  int src_width, src_height;
} prepare_t;

static void on_size_prepared(GdkPixbufLoader *loader, int w, int h, gpointer data) {
  prepare_t *p = data;
  p->src_width = w;
  p->src_height = h;
  if (w != p->want_width || h != p->want_height || w <= 0 || h <= 0 || w > IMAGE_MAX_SIDE ||
      h > IMAGE_MAX_SIDE || (gint64)w * h > IMAGE_MAX_PIXELS) {
    p->refused = TRUE;
    gdk_pixbuf_loader_set_size(loader, 0, 0); /* allocate nothing, stop */
    return;
  }
  int ow, oh;
  image_fit(w, h, IMAGE_STORED_SIDE, &ow, &oh);
  gdk_pixbuf_loader_set_size(loader, ow, oh);
}

/* Gives the loader the signature and the chunks image_png_chunk_kept()
 * names, in order; image_probe() has checked the framing. */
static gboolean write_png(GdkPixbufLoader *loader, const guint8 *data, gsize len, GError **err) {
  GstByteReader br;
  gst_byte_reader_init(&br, data, (guint)len);
  const guint8 *sig;
  if (!gst_byte_reader_get_data(&br, IMAGE_PNG_SIGNATURE_BYTES, &sig) ||
      !gdk_pixbuf_loader_write(loader, sig, IMAGE_PNG_SIGNATURE_BYTES, err))
    return FALSE;
  image_png_chunk_t c;
  while (image_png_chunk_read(&br, &c))
    if (image_png_chunk_kept(c.type) && !gdk_pixbuf_loader_write(loader, c.whole, c.whole_len, err))
      return FALSE;
  return TRUE;
}

static GdkPixbuf *decode(const image_info_t *info, const guint8 *data, gsize len, GError **err) {
  const char *type = info->format == IMAGE_FORMAT_PNG ? "png" : "jpeg";
  GError *local = NULL;
  GdkPixbufLoader *loader = gdk_pixbuf_loader_new_with_type(type, &local);
  if (loader == NULL) {
    g_set_error(err, IMAGE_ERROR, IMAGE_ERROR_UNSUPPORTED, "no %s decoder: %s", type,
                local->message);
    g_error_free(local);
    return NULL;
  }
  prepare_t prep = {.want_width = info->width, .want_height = info->height};
  g_signal_connect(loader, "size-prepared", G_CALLBACK(on_size_prepared), &prep);
  gboolean ok = info->format == IMAGE_FORMAT_PNG
                    ? write_png(loader, data, len, &local)
                    : gdk_pixbuf_loader_write(loader, data, len, &local);
  /* close() always, even after a failed write: the loader insists. */
  gboolean closed = gdk_pixbuf_loader_close(loader, ok ? &local : NULL);
  GdkPixbuf *pb = NULL;
  if (prep.refused) {
    g_set_error(err, IMAGE_ERROR, IMAGE_ERROR_TOO_LARGE,
                "the %s decoder saw %dx%d, the header %dx%d; at most %d pixels a side and %d "
                "pixels in all",
                type, prep.src_width, prep.src_height, info->width, info->height, IMAGE_MAX_SIDE,
                IMAGE_MAX_PIXELS);
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
  /* The probe also refuses what is cut short: gdk-pixbuf shows a PNG cut
   * off inside its pixel data as complete, the missing rows blank, and
   * libjpeg fills a cut-off JPEG with grey. */
  image_info_t info;
  if (!image_probe(data, len, &info, err))
    return NULL;
  GdkPixbuf *pb = decode(&info, data, len, err);
  if (pb == NULL)
    return NULL;
  /* Loaders without scaled decoding hand back the full size: scale here. */
  int w = gdk_pixbuf_get_width(pb), h = gdk_pixbuf_get_height(pb), ow, oh;
  image_fit(w, h, IMAGE_STORED_SIDE, &ow, &oh);
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
