/* test_image_probe.c — image_probe(): the header parsers alone, on real encodings and broken ones.
 *
 * Real files (gdk-pixbuf's writers, libjpeg) must probe to their true size
 * and kind; the same files cut at every length must never probe as whole;
 * and a table of files that are wrong in one place each (built chunk by
 * chunk, or patched) must be refused with the right code.
 */
#include <stdio.h>
#include <string.h>

#include "tests/ws/image_samples.h"
#include "ws/image.h"

static gboolean probe(GBytes *b, image_info_t *info, GError **err) {
  gsize len;
  const guint8 *d = g_bytes_get_data(b, &len);
  return image_probe(d, len, info, err);
}

static void test_real(void) {
  static const struct {
    const char *type; /* "png", "jpeg" (gdk-pixbuf's writers) or "prog", "base" (libjpeg) */
    int w, h;
    gboolean alpha;
    image_format_t format;
    gboolean multi_scan;
  } rows[] = {
      {"png", 100, 50, FALSE, IMAGE_FORMAT_PNG, FALSE},
      {"png", 1, 1, TRUE, IMAGE_FORMAT_PNG, FALSE},
      {"png", 8192, 2, TRUE, IMAGE_FORMAT_PNG, FALSE},
      {"jpeg", 300, 1200, FALSE, IMAGE_FORMAT_JPEG, FALSE},
      {"jpeg", 1, 1, FALSE, IMAGE_FORMAT_JPEG, FALSE},
      {"base", 2000, 1000, FALSE, IMAGE_FORMAT_JPEG, FALSE},
      {"prog", 640, 480, FALSE, IMAGE_FORMAT_JPEG, TRUE},
      {"prog", 1, 8192, FALSE, IMAGE_FORMAT_JPEG, TRUE},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
    const char *t = rows[i].type;
    GBytes *b = g_str_equal(t, "prog") ? sample_jpeg(rows[i].w, rows[i].h, SAMPLE_JPEG_PROGRESSIVE)
                : g_str_equal(t, "base") ? sample_jpeg(rows[i].w, rows[i].h, SAMPLE_JPEG_BASELINE)
                                         : sample_encode(t, rows[i].w, rows[i].h, rows[i].alpha);
    image_info_t info;
    GError *err = NULL;
    g_assert_true(probe(b, &info, &err));
    g_assert_no_error(err);
    g_assert_cmpint(info.format, ==, rows[i].format);
    g_assert_cmpint(info.width, ==, rows[i].w);
    g_assert_cmpint(info.height, ==, rows[i].h);
    g_assert_cmpint(info.multi_scan, ==, rows[i].multi_scan);
    g_assert_cmpuint(info.decode_bytes, >, 0);
    g_assert_cmpuint(info.decode_bytes, <=, IMAGE_MAX_DECODE_BYTES);
    g_bytes_unref(b);
  }
}

/* Every prefix of a whole file is refused: no signature, or corrupt (cut
 * short). Never TRUE, never a read past the cut (ASan builds check that). */
static void test_truncated(void) {
  GBytes *files[] = {
      sample_encode("png", 64, 48, FALSE),
      sample_encode("png", 64, 48, TRUE),
      sample_encode("jpeg", 64, 48, FALSE),
      sample_jpeg(64, 48, SAMPLE_JPEG_PROGRESSIVE),
      sample_jpeg(300, 200, SAMPLE_JPEG_PROGRESSIVE_444),
  };
  for (gsize f = 0; f < G_N_ELEMENTS(files); f++) {
    gsize len;
    const guint8 *d = g_bytes_get_data(files[f], &len);
    for (gsize cut = 0; cut < len; cut++) {
      /* A copy of exactly `cut` bytes, so a read past it is a heap error. */
      guint8 *part = g_memdup2(d, cut);
      image_info_t info;
      GError *err = NULL;
      gboolean ok = image_probe(part, cut, &info, &err);
      g_assert_false(ok);
      gsize sig = d[0] == 0x89 ? 8 : 3;
      image_error_t want = cut < sig ? IMAGE_ERROR_UNSUPPORTED : IMAGE_ERROR_CORRUPT;
      g_assert_error(err, IMAGE_ERROR, (gint)want);
      g_error_free(err);
      g_free(part);
    }
    g_bytes_unref(files[f]);
  }
}

/* ---- one thing wrong per row ---- */

static void put32(guint8 *p, guint32 v) {
  p[0] = (guint8)(v >> 24), p[1] = (guint8)(v >> 16), p[2] = (guint8)(v >> 8), p[3] = (guint8)v;
}

/* A PNG from a list of chunks: "IHDR:w:h:depth:colour:interlace", or a
 * plain type ("IDAT" gets a real one-pixel-row stream, "PLTE" three colours,
 * others three bytes), after the signature. */
static GBytes *png_of(const char *const *chunks) {
  static const guint8 sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  GByteArray *out = g_byte_array_new();
  g_byte_array_append(out, sig, 8);
  for (; *chunks; chunks++) {
    if (g_str_has_prefix(*chunks, "IHDR:")) {
      guint w, h, depth, colour, interlace;
      g_assert_cmpint(sscanf(*chunks, "IHDR:%u:%u:%u:%u:%u", &w, &h, &depth, &colour, &interlace),
                      ==, 5);
      guint8 d[13] = {0};
      put32(d, w);
      put32(d + 4, h);
      d[8] = (guint8)depth, d[9] = (guint8)colour, d[12] = (guint8)interlace;
      sample_png_chunk(out, "IHDR", d, 13);
    } else if (g_str_equal(*chunks, "IDAT")) {
      /* zlib stream of one filter byte and 3 zero samples: a 1x1 RGB row */
      static const guint8 z[] = {0x78, 0x9C, 0x63, 0x60, 0x00, 0x02, 0x00, 0x00, 0x04, 0x00, 0x01};
      sample_png_chunk(out, "IDAT", z, sizeof z);
    } else if (g_str_equal(*chunks, "IHDR12")) {
      sample_png_chunk(out, "IHDR", (const guint8 *)"\0\0\0\1\0\0\0\1\x08\2\0\0", 12);
    } else if (g_str_equal(*chunks, "IEND")) {
      sample_png_chunk(out, "IEND", NULL, 0);
    } else {
      sample_png_chunk(out, *chunks, (const guint8 *)"\1\2\3", 3);
    }
  }
  return g_byte_array_free_to_bytes(out);
}

#define PNG(...) png_of((const char *const[]){__VA_ARGS__, NULL})

static GBytes *patched(GBytes *src, gsize at, const void *bytes, gsize n) {
  gsize len;
  const guint8 *orig = g_bytes_get_data(src, &len);
  guint8 *d = g_memdup2(orig, len);
  g_assert_cmpuint(at + n, <=, len);
  memcpy(d + at, bytes, n);
  g_bytes_unref(src);
  return g_bytes_new_take(d, len);
}

static GBytes *appended(GBytes *src, const void *bytes, gsize n) {
  GByteArray *a = g_byte_array_new();
  gsize len;
  const guint8 *d = g_bytes_get_data(src, &len);
  g_byte_array_append(a, d, (guint)len);
  g_byte_array_append(a, bytes, (guint)n);
  g_bytes_unref(src);
  return g_byte_array_free_to_bytes(a);
}

/* After SOI, before everything else. */
static GBytes *jpeg_inserted(const void *bytes, gsize n) {
  GBytes *j = sample_jpeg(32, 32, SAMPLE_JPEG_BASELINE);
  gsize len;
  const guint8 *d = g_bytes_get_data(j, &len);
  GByteArray *a = g_byte_array_new();
  g_byte_array_append(a, d, 2);
  g_byte_array_append(a, bytes, (guint)n);
  g_byte_array_append(a, d + 2, (guint)(len - 2));
  g_bytes_unref(j);
  return g_byte_array_free_to_bytes(a);
}

static GBytes *jpeg_sof(guint8 marker, guint8 precision, int w, int h) {
  GBytes *j = sample_jpeg(32, 32, SAMPLE_JPEG_BASELINE);
  GBytes *out = sample_jpeg_patch_sof(j, marker, precision, w, h);
  g_bytes_unref(j);
  return out;
}

#define OK -1

static void test_table(void) {
  GBytes *good_png = sample_encode("png", 16, 16, FALSE);
  gsize good_len;
  g_bytes_get_data(good_png, &good_len);
  const struct {
    const char *what;
    GBytes *bytes;
    int code; /* OK or an image_error_t */
    int w, h; /* for OK and TOO_LARGE rows: what the header said */
  } rows[] = {
      {"png built by hand", PNG("IHDR:1:1:8:2:0", "IDAT", "IEND"), OK, 1, 1},
      {"png with text before IDAT", PNG("IHDR:1:1:8:2:0", "tEXt", "zTXt", "IDAT", "IEND"), OK, 1,
       1},
      {"png palette", PNG("IHDR:1:1:8:3:0", "PLTE", "tRNS", "IDAT", "IEND"), OK, 1, 1},
      {"png interlaced", PNG("IHDR:1:1:8:2:1", "IDAT", "IDAT", "IEND"), OK, 1, 1},
      {"png 16-bit grey", PNG("IHDR:3:2:16:0:0", "IDAT", "IEND"), OK, 3, 2},
      {"png side 8193", PNG("IHDR:8193:1:8:2:0", "IDAT", "IEND"), IMAGE_ERROR_TOO_LARGE, 8193, 1},
      {"png 8192x4883 (pixels)", PNG("IHDR:8192:4883:8:2:0", "IDAT", "IEND"), IMAGE_ERROR_TOO_LARGE,
       8192, 4883},
      {"png 30000x20000", PNG("IHDR:30000:20000:8:2:0", "IDAT", "IEND"), IMAGE_ERROR_TOO_LARGE,
       30000, 20000},
      {"png 2^31 wide", PNG("IHDR:2147483648:1:8:2:0", "IDAT", "IEND"), IMAGE_ERROR_CORRUPT, 0, 0},
      {"png zero width", PNG("IHDR:0:1:8:2:0", "IDAT", "IEND"), IMAGE_ERROR_CORRUPT, 0, 0},
      {"png zero height", PNG("IHDR:1:0:8:2:0", "IDAT", "IEND"), IMAGE_ERROR_CORRUPT, 0, 0},
      {"png IHDR not first", PNG("tEXt", "IHDR:1:1:8:2:0", "IDAT", "IEND"), IMAGE_ERROR_CORRUPT, 0,
       0},
      {"png second IHDR", PNG("IHDR:1:1:8:2:0", "IHDR:1:1:8:2:0", "IDAT", "IEND"),
       IMAGE_ERROR_CORRUPT, 0, 0},
      {"png RGB depth 4", PNG("IHDR:1:1:4:2:0", "IDAT", "IEND"), IMAGE_ERROR_CORRUPT, 0, 0},
      {"png colour type 5", PNG("IHDR:1:1:8:5:0", "IDAT", "IEND"), IMAGE_ERROR_CORRUPT, 0, 0},
      {"png interlace 2", PNG("IHDR:1:1:8:2:2", "IDAT", "IEND"), IMAGE_ERROR_CORRUPT, 0, 0},
      {"png no IDAT", PNG("IHDR:1:1:8:2:0", "IEND"), IMAGE_ERROR_CORRUPT, 0, 0},
      {"png no IEND", PNG("IHDR:1:1:8:2:0", "IDAT"), IMAGE_ERROR_CORRUPT, 0, 0},
      {"png split IDAT", PNG("IHDR:1:1:8:2:0", "IDAT", "tEXt", "IDAT", "IEND"), IMAGE_ERROR_CORRUPT,
       0, 0},
      {"png palette without PLTE", PNG("IHDR:1:1:8:3:0", "IDAT", "IEND"), IMAGE_ERROR_CORRUPT, 0,
       0},
      {"png PLTE after IDAT", PNG("IHDR:1:1:8:2:0", "IDAT", "PLTE", "IEND"), IMAGE_ERROR_CORRUPT, 0,
       0},
      {"png PLTE in grey", PNG("IHDR:1:1:8:0:0", "PLTE", "IDAT", "IEND"), IMAGE_ERROR_CORRUPT, 0,
       0},
      {"png tRNS with alpha", PNG("IHDR:1:1:8:6:0", "tRNS", "IDAT", "IEND"), IMAGE_ERROR_CORRUPT, 0,
       0},
      {"png unknown critical", PNG("IHDR:1:1:8:2:0", "ABCD", "IDAT", "IEND"), IMAGE_ERROR_CORRUPT,
       0, 0},
      {"png chunk type not letters", PNG("IHDR:1:1:8:2:0", "t3XT", "IDAT", "IEND"),
       IMAGE_ERROR_CORRUPT, 0, 0},
      {"png after IEND", appended(PNG("IHDR:1:1:8:2:0", "IDAT", "IEND"), "\0", 1),
       IMAGE_ERROR_CORRUPT, 0, 0},
      {"png IHDR CRC", patched(PNG("IHDR:1:1:8:2:0", "IDAT", "IEND"), 29, "\0\0\0\0", 4),
       IMAGE_ERROR_CORRUPT, 0, 0},
      {"png IDAT CRC", patched(sample_encode("png", 16, 16, FALSE), good_len - 16, "\0", 1),
       IMAGE_ERROR_CORRUPT, 0, 0},
      {"png IHDR of 12 bytes", PNG("IHDR12", "IDAT", "IEND"), IMAGE_ERROR_CORRUPT, 0, 0},
      {"png chunk length 2^31", patched(PNG("IHDR:1:1:8:2:0", "IDAT", "IEND"), 33, "\x80\0\0\0", 4),
       IMAGE_ERROR_CORRUPT, 0, 0},
      {"png 5000 chunks", sample_named("png_chunks_5000"), IMAGE_ERROR_TOO_LARGE, 64, 64},

      {"jpeg zero padding after EOI",
       appended(sample_jpeg(32, 32, SAMPLE_JPEG_BASELINE), "\0\0\0", 3), OK, 32, 32},
      {"jpeg data after EOI", appended(sample_jpeg(32, 32, SAMPLE_JPEG_BASELINE), "\0x", 2),
       IMAGE_ERROR_CORRUPT, 0, 0},
      {"jpeg fill bytes before a marker", jpeg_inserted("\xff\xff\xff\xfe\0\4hi", 8), OK, 32, 32},
      {"jpeg 1000 markers",
       sample_jpeg_with_app(sample_jpeg(32, 32, SAMPLE_JPEG_BASELINE), 1000 - 12, 1), OK, 32, 32},
      {"jpeg 2000 APPn", sample_named("jpeg_app_2000"), IMAGE_ERROR_TOO_LARGE, 0, 0},
      {"jpeg 65000x65000", jpeg_sof(0, 0, 65000, 65000), IMAGE_ERROR_TOO_LARGE, 65000, 65000},
      {"jpeg 8192x4883", jpeg_sof(0, 0, 8192, 4883), IMAGE_ERROR_TOO_LARGE, 8192, 4883},
      {"jpeg zero height (DNL)", jpeg_sof(0, 0, 32, 0), IMAGE_ERROR_CORRUPT, 0, 0},
      {"jpeg zero width", jpeg_sof(0, 0, 0, 32), IMAGE_ERROR_CORRUPT, 0, 0},
      {"jpeg 12-bit", jpeg_sof(0, 12, -1, -1), IMAGE_ERROR_UNSUPPORTED, 0, 0},
      {"jpeg lossless SOF3", jpeg_sof(0xC3, 0, -1, -1), IMAGE_ERROR_UNSUPPORTED, 0, 0},
      {"jpeg hierarchical SOF5", jpeg_sof(0xC5, 0, -1, -1), IMAGE_ERROR_UNSUPPORTED, 0, 0},
      {"jpeg arithmetic", sample_named("jpeg_arithmetic"), IMAGE_ERROR_UNSUPPORTED, 0, 0},
      {"jpeg SOF made a comment", jpeg_sof(0xFE, 0, -1, -1), IMAGE_ERROR_CORRUPT, 0, 0},
      {"jpeg two SOF", jpeg_inserted("\xff\xc0\0\x0b\x08\0\x10\0\x10\1\1\x11\0", 13),
       IMAGE_ERROR_CORRUPT, 0, 0},
      {"jpeg 2 components", jpeg_inserted("\xff\xc0\0\x0e\x08\0\x10\0\x10\2\1\x11\0\2\x11\0", 16),
       IMAGE_ERROR_UNSUPPORTED, 0, 0},
      {"jpeg sampling 5", jpeg_inserted("\xff\xc0\0\x0b\x08\0\x10\0\x10\1\1\x51\0", 13),
       IMAGE_ERROR_CORRUPT, 0, 0},
      {"jpeg unknown marker", jpeg_inserted("\xff\xc8\0\2", 4), IMAGE_ERROR_CORRUPT, 0, 0},
      {"jpeg second SOI", jpeg_inserted("\xff\xd8", 2), IMAGE_ERROR_CORRUPT, 0, 0},
      {"jpeg garbage between segments", jpeg_inserted("\xff\xfe\0\2x", 5), IMAGE_ERROR_CORRUPT, 0,
       0},
      {"jpeg segment length 1", jpeg_inserted("\xff\xe1\0\1", 4), IMAGE_ERROR_CORRUPT, 0, 0},
      {"jpeg segment past the end", jpeg_inserted("\xff\xe1\xff\xff", 4), IMAGE_ERROR_CORRUPT, 0,
       0},
      {"jpeg EOI first", jpeg_inserted("\xff\xd9", 2), IMAGE_ERROR_CORRUPT, 0, 0},
      {"jpeg 190 scans", sample_named("jpeg_scans_190_small"), IMAGE_ERROR_TOO_LARGE, 32, 32},
      {"jpeg progressive 4:4:4 over the decode budget",
       sample_jpeg_patch_sof(sample_jpeg(64, 48, SAMPLE_JPEG_PROGRESSIVE_444), 0, 0, 8192, 4880),
       IMAGE_ERROR_TOO_LARGE, 8192, 4880},
      {"jpeg progressive 4:2:0 within it",
       sample_jpeg_patch_sof(sample_jpeg(64, 48, SAMPLE_JPEG_PROGRESSIVE), 0, 0, 8192, 4880), OK,
       8192, 4880},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
    image_info_t info;
    GError *err = NULL;
    gboolean ok = probe(rows[i].bytes, &info, &err);
    g_test_message("%s: %s", rows[i].what, ok ? "ok" : err->message);
    if (rows[i].code == OK) {
      g_assert_no_error(err);
      g_assert_true(ok);
    } else {
      g_assert_false(ok);
      g_assert_error(err, IMAGE_ERROR, rows[i].code);
      g_error_free(err);
    }
    if (rows[i].w != 0) {
      g_assert_cmpint(info.width, ==, rows[i].w);
      g_assert_cmpint(info.height, ==, rows[i].h);
    }
    g_bytes_unref(rows[i].bytes);
  }
  g_bytes_unref(good_png);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/image_probe/real", test_real);
  g_test_add_func("/image_probe/truncated", test_truncated);
  g_test_add_func("/image_probe/table", test_table);
  return g_test_run();
}
