/* test_image.c — uploaded pictures: real JPEG and PNG encodings in, checked PNG out; bombs refused.
 *
 * The bomb table measures each row's peak RSS growth (the kernel's VmHWM,
 * reset before the row through /proc/self/clear_refs) and holds it under a
 * bound: about nothing for what the probe refuses, the decoder's budget for
 * the largest legal pictures.
 */
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <stdio.h>
#include <string.h>

#include "tests/ws/image_samples.h"
#include "ws/image.h"

static GBytes *encode(const char *type, int w, int h) {
  return sample_encode(type, w, h, FALSE);
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

/* ---- bombs, with the memory they cost ---- */

static gint64 status_kb(const char *key) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  gint64 v = -1;
  gsize n = strlen(key);
  while (f != NULL && fgets(line, sizeof line, f) != NULL)
    if (strncmp(line, key, n) == 0)
      v = g_ascii_strtoll(line + n, NULL, 10);
  if (f != NULL)
    fclose(f);
  return v;
}

/* The peak RSS becomes the current RSS (Linux 4.0+). FALSE if refused. */
static gboolean peak_reset(void) {
  FILE *f = fopen("/proc/self/clear_refs", "w");
  if (f == NULL)
    return FALSE;
  gboolean ok = fputs("5", f) >= 0;
  return fclose(f) == 0 && ok;
}

#define OK -1

/* gcc says __SANITIZE_ADDRESS__, clang __has_feature(address_sanitizer). */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#endif

static void test_bombs(void) {
  /* Without a peak reset, or under ASan (its quarantine and shadow memory),
   * RSS means nothing: the rows still run, their memory is not checked. */
  gboolean measure = peak_reset();
#ifdef UNDER_ASAN
  measure = FALSE;
#endif
  if (!measure)
    g_test_message("peak RSS not measured here (ASan, or no /proc/self/clear_refs)");
  static const struct {
    const char *sample; /* image_samples.c */
    int code;           /* OK or an image_error_t */
    int out_w, out_h;
    int max_mb; /* peak RSS growth allowed */
  } rows[] = {
      /* refused by the probe: no decoder ever runs */
      {"png_bomb_30000x20000", IMAGE_ERROR_TOO_LARGE, 0, 0, 2},
      {"png_chunks_5000", IMAGE_ERROR_TOO_LARGE, 0, 0, 2},
      {"png_ihdr_not_first", IMAGE_ERROR_CORRUPT, 0, 0, 2},
      {"png_zero_width", IMAGE_ERROR_CORRUPT, 0, 0, 2},
      {"jpeg_sof_65000x65000", IMAGE_ERROR_TOO_LARGE, 0, 0, 2},
      {"jpeg_app_2000", IMAGE_ERROR_TOO_LARGE, 0, 0, 2},
      {"jpeg_scans_190", IMAGE_ERROR_TOO_LARGE, 0, 0, 2},
      {"jpeg_arithmetic", IMAGE_ERROR_UNSUPPORTED, 0, 0, 2},
      {"jpeg_progressive_8192x4900", IMAGE_ERROR_TOO_LARGE, 0, 0, 2},     /* 40.1 MP */
      {"jpeg_progressive_444_8192x4880", IMAGE_ERROR_TOO_LARGE, 0, 0, 2}, /* 240 MB to decode */
      /* metadata the decoder never sees */
      {"png_text_1900k", OK, 64, 64, 4},
      {"png_ztxt_bomb", OK, 64, 64, 4},
      {"png_iccp_huge", OK, 64, 64, 4},
      /* the largest legal pictures */
      {"jpeg_baseline_8192x4880", OK, 512, 305, 16},
      {"jpeg_progressive_8192x4880", OK, 512, 305, 200},
      {"png_rgba_8192x4882", OK, 512, 305, 200},
  };
  /* gdk-pixbuf reads its loader list once: not a row's cost. */
  GBytes *warm = sample_named("png_small");
  GBytes *out =
      image_normalize(g_bytes_get_data(warm, NULL), g_bytes_get_size(warm), NULL, NULL, NULL);
  g_bytes_unref(out);
  g_bytes_unref(warm);
  for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
    GBytes *in = sample_named(rows[i].sample);
    gsize len;
    const guint8 *d = g_bytes_get_data(in, &len);
    g_assert_cmpuint(len, <=, IMAGE_MAX_BYTES);
    image_info_t info;
    gboolean probed = image_probe(d, len, &info, NULL);
    if (measure)
      g_assert_true(peak_reset());
    gint64 before = status_kb("VmRSS:");
    gint64 t0 = g_get_monotonic_time();
    int w = 0, h = 0;
    GError *err = NULL;
    GBytes *png = image_normalize(d, len, &w, &h, &err);
    gint64 ms = (g_get_monotonic_time() - t0) / 1000;
    gint64 growth_kb = status_kb("VmHWM:") - before;
    g_test_message("%-32s %8" G_GSIZE_FORMAT " bytes: %-8s %4" G_GINT64_FORMAT
                   " ms, peak RSS %+6.1f MB (estimate %.1f MB, bound %d MB)%s%s",
                   rows[i].sample, len, png ? "decoded" : "refused", ms, growth_kb / 1024.0,
                   probed ? info.decode_bytes / 1048576.0 : 0.0, rows[i].max_mb, err ? ": " : "",
                   err ? err->message : "");
    if (rows[i].code == OK) {
      g_assert_no_error(err);
      g_assert_cmpint(w, ==, rows[i].out_w);
      g_assert_cmpint(h, ==, rows[i].out_h);
      /* The header's estimate holds what the decoder took, within slack
       * for libjpeg's and libpng's own buffers. */
      if (measure)
        g_assert_cmpint(growth_kb, <=, (gint64)(info.decode_bytes / 1024) + 16 * 1024);
      g_bytes_unref(png);
    } else {
      g_assert_null(png);
      g_assert_error(err, IMAGE_ERROR, rows[i].code);
      g_error_free(err);
    }
    if (measure)
      g_assert_cmpint(growth_kb, <=, (gint64)rows[i].max_mb * 1024);
    g_bytes_unref(in);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/image/valid", test_valid);
  g_test_add_func("/image/invalid", test_invalid);
  g_test_add_func("/image/bombs", test_bombs);
  return g_test_run();
}
