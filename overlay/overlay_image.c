/* overlay_image.c — the product's picture, loaded once and kept as a thumbnail.
 *
 * One entry: the card shows one product at a time, and re-pinning the same
 * product must not reread its file. The file is checked (size, PNG header,
 * dimensions) before cairo decodes it, and scaled to cover the square
 * thumbnail (centre-cropped) once, here, not on every render.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "overlay/overlay_priv.h"

#define IMAGE_MAX_BYTES (8 * 1024 * 1024)
#define IMAGE_MAX_SIDE 4096

struct overlay_image_cache {
  char *path;
  gint64 mtime_ns, size;
  int side;
  cairo_surface_t *thumb; /* NULL: the file was not usable */
};

overlay_image_cache_t *overlay_image_cache_new(void) {
  return g_new0(overlay_image_cache_t, 1);
}

static void forget(overlay_image_cache_t *c) {
  g_clear_pointer(&c->path, g_free);
  g_clear_pointer(&c->thumb, cairo_surface_destroy);
}

void overlay_image_cache_free(overlay_image_cache_t *c) {
  if (c == NULL)
    return;
  forget(c);
  g_free(c);
}

/* `src` scaled to cover side x side, centre-cropped. */
static cairo_surface_t *thumbnail(cairo_surface_t *src, int side) {
  int w = cairo_image_surface_get_width(src), h = cairo_image_surface_get_height(src);
  cairo_surface_t *dst = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, side, side);
  cairo_t *cr = cairo_create(dst);
  double s = (double)side / MIN(w, h);
  cairo_translate(cr, (side - w * s) / 2, (side - h * s) / 2);
  cairo_scale(cr, s, s);
  cairo_set_source_surface(cr, src, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
  cairo_paint(cr);
  cairo_destroy(cr);
  return dst;
}

static cairo_surface_t *load(const char *path, gint64 size, int side) {
  static const guint8 png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  guint8 head[24];

  if (size < (gint64)sizeof head || size > IMAGE_MAX_BYTES)
    return NULL;
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return NULL;
  size_t n = fread(head, 1, sizeof head, f);
  fclose(f);
  /* IHDR width and height, big-endian, right after the signature. */
  if (n != sizeof head || memcmp(head, png_magic, 8) != 0)
    return NULL;
  guint32 w = GST_READ_UINT32_BE(head + 16), h = GST_READ_UINT32_BE(head + 20);
  if (w == 0 || h == 0 || w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE)
    return NULL;

  cairo_surface_t *src = cairo_image_surface_create_from_png(path);
  cairo_surface_t *out = NULL;
  if (cairo_surface_status(src) == CAIRO_STATUS_SUCCESS)
    out = thumbnail(src, side);
  cairo_surface_destroy(src);
  return out;
}

cairo_surface_t *overlay_image_get(overlay_image_cache_t *c, const char *path, int side,
                                   char **stamp) {
  struct stat sb;

  *stamp = NULL;
  if (path == NULL || path[0] == '\0' || side <= 0 || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
    return NULL;
  gint64 mtime_ns = (gint64)sb.st_mtim.tv_sec * G_GINT64_CONSTANT(1000000000) + sb.st_mtim.tv_nsec;
  if (c->path == NULL || strcmp(c->path, path) != 0 || c->mtime_ns != mtime_ns ||
      c->size != (gint64)sb.st_size || c->side != side) {
    forget(c);
    c->path = g_strdup(path);
    c->mtime_ns = mtime_ns;
    c->size = (gint64)sb.st_size;
    c->side = side;
    c->thumb = load(path, c->size, side);
  }
  if (c->thumb != NULL)
    *stamp = g_strdup_printf("%s@%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT, path, mtime_ns, c->size);
  return c->thumb;
}
