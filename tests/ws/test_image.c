/* test_image.c — uploaded pictures: real JPEG and PNG encodings in, checked PNG out. */
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <string.h>

#include "ws/image.h"

/* A w x h picture with a gradient (so encoders have something to do),
 * encoded by gdk-pixbuf's own writer as `type`. */
static GBytes *encode(const char *type, int w, int h) {
  GdkPixbuf *pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, w, h);
  guint8 *px = gdk_pixbuf_get_pixels(pb);
  int stride = gdk_pixbuf_get_rowstride(pb);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      guint8 *p = px + y * stride + 3 * x;
      p[0] = (guint8)(x * 255 / w);
      p[1] = (guint8)(y * 255 / h);
      p[2] = 0x80;
    }
  gchar *buf = NULL;
  gsize len = 0;
  GError *err = NULL;
  g_assert_true(gdk_pixbuf_save_to_buffer(pb, &buf, &len, type, &err, NULL));
  g_assert_no_error(err);
  g_object_unref(pb);
  return g_bytes_new_take(buf, len);
}

static void check_png(GBytes *png, int w, int h) {
  GdkPixbufLoader *l = gdk_pixbuf_loader_new_with_type("png", NULL);
  gsize len;
  const guint8 *d = g_bytes_get_data(png, &len);
  g_assert_true(gdk_pixbuf_loader_write(l, d, len, NULL));
  g_assert_true(gdk_pixbuf_loader_close(l, NULL));
  GdkPixbuf *pb = gdk_pixbuf_loader_get_pixbuf(l);
  g_assert_cmpint(gdk_pixbuf_get_width(pb), ==, w);
  g_assert_cmpint(gdk_pixbuf_get_height(pb), ==, h);
  g_object_unref(l);
}

static void test_valid(void) {
  static const struct {
    const char *type;
    int w, h, out_w, out_h;
  } rows[] = {
      {"png", 100, 50, 100, 50},      /* small: kept as is, never enlarged */
      {"jpeg", 2000, 1000, 512, 256}, /* large: scaled once to fit 512 */
      {"jpeg", 300, 1200, 128, 512},  {"png", 1024, 1024, 512, 512}, {"png", 1, 1, 1, 1},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
    GBytes *in = encode(rows[i].type, rows[i].w, rows[i].h);
    gsize len;
    const guint8 *d = g_bytes_get_data(in, &len);
    int w = 0, h = 0;
    GError *err = NULL;
    GBytes *out = image_normalize(d, len, &w, &h, &err);
    g_assert_no_error(err);
    g_assert_cmpint(w, ==, rows[i].out_w);
    g_assert_cmpint(h, ==, rows[i].out_h);
    check_png(out, w, h);
    g_bytes_unref(out);
    g_bytes_unref(in);
  }
}

static void expect(const guint8 *d, gsize len, image_error_t code) {
  GError *err = NULL;
  GBytes *out = image_normalize(d, len, NULL, NULL, &err);
  g_assert_null(out);
  g_assert_error(err, IMAGE_ERROR, (gint)code);
  g_assert_nonnull(err->message);
  g_error_free(err);
}

static void test_invalid(void) {
  GBytes *png = encode("png", 64, 64), *jpeg = encode("jpeg", 64, 64);
  gsize png_len, jpeg_len;
  const guint8 *p = g_bytes_get_data(png, &png_len), *j = g_bytes_get_data(jpeg, &jpeg_len);

  expect(NULL, 0, IMAGE_ERROR_UNSUPPORTED);
  expect((const guint8 *)"", 0, IMAGE_ERROR_UNSUPPORTED);
  expect((const guint8 *)"GIF89a......", 12, IMAGE_ERROR_UNSUPPORTED);
  expect((const guint8 *)"<svg xmlns='http://www.w3.org/2000/svg'/>", 41, IMAGE_ERROR_UNSUPPORTED);
  /* Truncated at every interesting length: the signature alone, mid-header,
   * mid-data. */
  for (gsize cut = 3; cut < png_len; cut += png_len / 7 + 1)
    expect(p, cut, cut < 8 ? IMAGE_ERROR_UNSUPPORTED : IMAGE_ERROR_CORRUPT);
  expect(p, png_len - 1, IMAGE_ERROR_CORRUPT);
  expect(j, jpeg_len - 1, IMAGE_ERROR_CORRUPT);
  for (gsize cut = 3; cut < jpeg_len; cut += jpeg_len / 7 + 1)
    expect(j, cut, IMAGE_ERROR_CORRUPT);

  /* A JPEG that claims 20000x20000 in its frame header: refused before any
   * pixel is decoded. */
  guint8 *big = g_memdup2(j, jpeg_len);
  gboolean patched = FALSE;
  for (gsize i = 2; i + 9 < jpeg_len && !patched; i++)
    if (big[i] == 0xFF && (big[i + 1] == 0xC0 || big[i + 1] == 0xC2)) {
      big[i + 5] = 20000 >> 8, big[i + 6] = 20000 & 0xFF; /* height */
      big[i + 7] = 20000 >> 8, big[i + 8] = 20000 & 0xFF; /* width */
      patched = TRUE;
    }
  g_assert_true(patched);
  expect(big, jpeg_len, IMAGE_ERROR_TOO_LARGE);
  g_free(big);

  /* More bytes than an upload may have, whatever they are. */
  guint8 *huge = g_malloc0(IMAGE_MAX_BYTES + 1);
  memcpy(huge, p, png_len);
  expect(huge, IMAGE_MAX_BYTES + 1, IMAGE_ERROR_TOO_LARGE);
  g_free(huge);
  g_bytes_unref(png);
  g_bytes_unref(jpeg);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/image/valid", test_valid);
  g_test_add_func("/image/invalid", test_invalid);
  return g_test_run();
}
