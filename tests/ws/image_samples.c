/* image_samples.c — pictures for the image tests: real encodings and bombs (see image_samples.h).
 *
 * Test code over its own well-formed output: the patching helpers trust the
 * files they are given (they came from gdk-pixbuf or libjpeg just before).
 */
#include "tests/ws/image_samples.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include <jpeglib.h>

static void put32(GByteArray *out, guint32 v) {
  guint8 b[4] = {(guint8)(v >> 24), (guint8)(v >> 16), (guint8)(v >> 8), (guint8)v};
  g_byte_array_append(out, b, 4);
}

void sample_png_chunk(GByteArray *out, const char *type, const guint8 *data, gsize len) {
  put32(out, (guint32)len);
  g_byte_array_append(out, (const guint8 *)type, 4);
  if (len > 0)
    g_byte_array_append(out, data, (guint)len);
  uLong crc = crc32(0L, (const Bytef *)type, 4);
  if (len > 0)
    crc = crc32(crc, data, (uInt)len);
  put32(out, (guint32)crc);
}

static const guint8 png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

GBytes *sample_encode(const char *type, int w, int h, gboolean alpha) {
  GdkPixbuf *pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, alpha, 8, w, h);
  guint8 *px = gdk_pixbuf_get_pixels(pb);
  int stride = gdk_pixbuf_get_rowstride(pb), n = alpha ? 4 : 3;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      guint8 *p = px + (gsize)y * stride + (gsize)n * x;
      p[0] = (guint8)(x * 255 / w);
      p[1] = (guint8)(y * 255 / h);
      p[2] = 0x80;
      if (alpha)
        p[3] = (guint8)(255 - x * 128 / w);
    }
  gchar *buf = NULL;
  gsize len = 0;
  GError *err = NULL;
  if (!gdk_pixbuf_save_to_buffer(pb, &buf, &len, type, &err, NULL))
    g_error("cannot encode %s: %s", type, err->message);
  g_object_unref(pb);
  return g_bytes_new_take(buf, len);
}

GBytes *sample_png_flat(int w, int h, int colour, gboolean all_rows) {
  int channels = colour == 6 ? 4 : 3;
  gsize row_len = 1 + (gsize)w * channels;
  guint8 *row = g_malloc(row_len);
  memset(row, 0x80, row_len);
  row[0] = 0; /* filter: none */
  GByteArray *idat = g_byte_array_new();
  z_stream z;
  memset(&z, 0, sizeof z);
  deflateInit(&z, 6);
  guint8 buf[64 * 1024];
  int rows = all_rows ? h : 1;
  for (int y = 0; y < rows; y++) {
    z.next_in = row;
    z.avail_in = (uInt)row_len;
    int flush = y == rows - 1 ? Z_FINISH : Z_NO_FLUSH;
    int rc;
    do {
      z.next_out = buf;
      z.avail_out = sizeof buf;
      rc = deflate(&z, flush);
      g_byte_array_append(idat, buf, (guint)(sizeof buf - z.avail_out));
    } while (z.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
  }
  deflateEnd(&z);
  g_free(row);

  GByteArray *out = g_byte_array_new();
  g_byte_array_append(out, png_sig, sizeof png_sig);
  guint32 uw = (guint32)w, uh = (guint32)h;
  guint8 ihdr[13] = {(guint8)(uw >> 24),
                     (guint8)(uw >> 16),
                     (guint8)(uw >> 8),
                     (guint8)uw,
                     (guint8)(uh >> 24),
                     (guint8)(uh >> 16),
                     (guint8)(uh >> 8),
                     (guint8)uh,
                     8,
                     (guint8)colour,
                     0,
                     0,
                     0};
  sample_png_chunk(out, "IHDR", ihdr, sizeof ihdr);
  sample_png_chunk(out, "IDAT", idat->data, idat->len);
  sample_png_chunk(out, "IEND", NULL, 0);
  g_byte_array_unref(idat);
  return g_byte_array_free_to_bytes(out);
}

GBytes *sample_png_insert(GBytes *png, const char *type, const guint8 *data, gsize len,
                          gboolean before_ihdr) {
  gsize n;
  const guint8 *d = g_bytes_get_data(png, &n);
  gsize at = before_ihdr ? 8 : 8 + 25; /* IHDR: 4 length, 4 type, 13 data, 4 CRC */
  GByteArray *out = g_byte_array_new();
  g_byte_array_append(out, d, (guint)at);
  sample_png_chunk(out, type, data, len);
  g_byte_array_append(out, d + at, (guint)(n - at));
  return g_byte_array_free_to_bytes(out);
}

/* ---- JPEG ---- */

GBytes *sample_jpeg(int w, int h, sample_jpeg_kind_t kind) {
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr e;
  c.err = jpeg_std_error(&e);
  jpeg_create_compress(&c);
  unsigned char *buf = NULL;
  unsigned long len = 0;
  jpeg_mem_dest(&c, &buf, &len);
  c.image_width = (JDIMENSION)w;
  c.image_height = (JDIMENSION)h;
  c.input_components = 3;
  c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 50, TRUE);
  static jpeg_scan_info scans[1 + 63 * 3];
  switch (kind) {
    case SAMPLE_JPEG_BASELINE:
      break;
    case SAMPLE_JPEG_PROGRESSIVE_444:
      c.comp_info[0].h_samp_factor = c.comp_info[0].v_samp_factor = 1;
      jpeg_simple_progression(&c);
      break;
    case SAMPLE_JPEG_PROGRESSIVE:
      jpeg_simple_progression(&c);
      break;
    case SAMPLE_JPEG_MANY_SCANS: {
      int n = 0;
      scans[n++] = (jpeg_scan_info){3, {0, 1, 2, 0}, 0, 0, 0, 0};
      for (int k = 1; k < 64; k++)
        for (int ci = 0; ci < 3; ci++)
          scans[n++] = (jpeg_scan_info){1, {ci, 0, 0, 0}, k, k, 0, 0};
      c.scan_info = scans;
      c.num_scans = n;
      break;
    }
    case SAMPLE_JPEG_ARITHMETIC:
      c.arith_code = TRUE;
      break;
  }
  jpeg_start_compress(&c, TRUE);
  guint8 *row = g_malloc((gsize)w * 3);
  while (c.next_scanline < c.image_height) {
    guint y = c.next_scanline;
    for (int x = 0; x < w; x++) {
      row[3 * x] = (guint8)(x * 255 / w);
      row[3 * x + 1] = (guint8)(y * 255 / (guint)h);
      row[3 * x + 2] = (guint8)((x ^ y) & 0x3F);
    }
    JSAMPROW r = row;
    jpeg_write_scanlines(&c, &r, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  g_free(row);
  GBytes *out = g_bytes_new(buf, len);
  free(buf);
  return out;
}

/* Offset of the first SOFn marker (FF C0..CF but C4, C8, CC) in a
 * well-formed JPEG, walking segments from SOI. */
static gsize find_sof(const guint8 *d, gsize n) {
  gsize i = 2;
  while (i + 4 <= n && d[i] == 0xFF) {
    guint8 m = d[i + 1];
    if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC)
      return i;
    i += 2 + ((gsize)d[i + 2] << 8 | d[i + 3]);
  }
  g_error("no SOF in the sample");
  return 0;
}

GBytes *sample_jpeg_patch_sof(GBytes *jpeg, guint8 marker, guint8 precision, int w, int h) {
  gsize n;
  const guint8 *src = g_bytes_get_data(jpeg, &n);
  guint8 *d = g_memdup2(src, n);
  gsize at = find_sof(d, n);
  if (marker)
    d[at + 1] = marker;
  if (precision)
    d[at + 4] = precision;
  if (h >= 0) {
    d[at + 5] = (guint8)(h >> 8);
    d[at + 6] = (guint8)h;
  }
  if (w >= 0) {
    d[at + 7] = (guint8)(w >> 8);
    d[at + 8] = (guint8)w;
  }
  return g_bytes_new_take(d, n);
}

GBytes *sample_jpeg_with_app(GBytes *jpeg, int n, gsize each) {
  gsize len;
  const guint8 *d = g_bytes_get_data(jpeg, &len);
  GByteArray *out = g_byte_array_sized_new((guint)(len + (gsize)n * (4 + each)));
  g_byte_array_append(out, d, 2);
  guint8 *payload = g_malloc0(each + 1);
  for (int i = 0; i < n; i++) {
    guint8 head[4] = {0xFF, (guint8)(0xE0 + 3 + i % 12), (guint8)((each + 2) >> 8),
                      (guint8)(each + 2)};
    g_byte_array_append(out, head, 4);
    g_byte_array_append(out, payload, (guint)each);
  }
  g_free(payload);
  g_byte_array_append(out, d + 2, (guint)(len - 2));
  return g_byte_array_free_to_bytes(out);
}

/* ---- named samples ---- */

/* A zTXt whose text inflates to `inflated` zero bytes. */
static GBytes *png_ztxt_bomb(gsize inflated) {
  GByteArray *z = g_byte_array_new();
  g_byte_array_append(z, (const guint8 *)"Comment\0\0", 9); /* keyword, NUL, method 0 */
  z_stream s;
  memset(&s, 0, sizeof s);
  deflateInit(&s, 9);
  static const guint8 zeros[64 * 1024];
  guint8 buf[64 * 1024];
  for (gsize done = 0; done < inflated; done += sizeof zeros) {
    s.next_in = (Bytef *)zeros;
    s.avail_in = sizeof zeros;
    int flush = done + sizeof zeros >= inflated ? Z_FINISH : Z_NO_FLUSH;
    int rc;
    do {
      s.next_out = buf;
      s.avail_out = sizeof buf;
      rc = deflate(&s, flush);
      g_byte_array_append(z, buf, (guint)(sizeof buf - s.avail_out));
    } while (s.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
  }
  deflateEnd(&s);
  GBytes *small = sample_encode("png", 64, 64, FALSE);
  GBytes *out = sample_png_insert(small, "zTXt", z->data, z->len, FALSE);
  g_bytes_unref(small);
  g_byte_array_unref(z);
  return out;
}

/* An iCCP whose profile header claims 4 GB (the compressed profile is tiny). */
static GBytes *png_iccp_huge(void) {
  guint8 profile[132] = {0xFF, 0xFF, 0xFF, 0xF0}; /* size field of the ICC header */
  guint8 chunk[256] = "icc";                      /* name, NUL, method 0 */
  uLongf zlen = sizeof chunk - 5;
  compress2(chunk + 5, &zlen, profile, sizeof profile, 9);
  GBytes *small = sample_encode("png", 64, 64, FALSE);
  GBytes *out = sample_png_insert(small, "iCCP", chunk, 5 + zlen, FALSE);
  g_bytes_unref(small);
  return out;
}

static GBytes *png_text(gsize len) {
  guint8 *text = g_malloc(len);
  memcpy(text, "Comment", 8); /* keyword and its NUL */
  memset(text + 8, 'A', len - 8);
  GBytes *small = sample_encode("png", 64, 64, FALSE);
  GBytes *out = sample_png_insert(small, "tEXt", text, len, FALSE);
  g_bytes_unref(small);
  g_free(text);
  return out;
}

static GBytes *png_many_chunks(int n) {
  GBytes *small = sample_encode("png", 64, 64, FALSE);
  gsize len;
  const guint8 *d = g_bytes_get_data(small, &len);
  GByteArray *out = g_byte_array_new();
  g_byte_array_append(out, d, 33); /* signature and IHDR */
  for (int i = 0; i < n; i++)
    sample_png_chunk(out, "tEXt", (const guint8 *)"k\0v", 3);
  g_byte_array_append(out, d + 33, (guint)(len - 33));
  g_bytes_unref(small);
  return g_byte_array_free_to_bytes(out);
}

static GBytes *png_ihdr_not_first(void) {
  GBytes *small = sample_encode("png", 64, 64, FALSE);
  GBytes *out = sample_png_insert(small, "tEXt", (const guint8 *)"k\0v", 3, TRUE);
  g_bytes_unref(small);
  return out;
}

/* A grown-up-looking PNG with width 0 in a valid IHDR. */
static GBytes *png_zero_width(void) {
  return sample_png_flat(0, 64, 2, FALSE);
}

static GBytes *jpeg_sized(int w, int h, int to_w, int to_h) {
  GBytes *j = sample_jpeg(w, h, SAMPLE_JPEG_BASELINE);
  GBytes *out = sample_jpeg_patch_sof(j, 0, 0, to_w, to_h);
  g_bytes_unref(j);
  return out;
}

static GBytes *jpeg_app(int n) {
  GBytes *j = sample_jpeg(64, 64, SAMPLE_JPEG_BASELINE);
  GBytes *out = sample_jpeg_with_app(j, n, 0);
  g_bytes_unref(j);
  return out;
}

const char *const sample_names[] = {
    "png_small",
    "jpeg_small",
    "jpeg_progressive_small",
    "png_bomb_30000x20000",
    "png_text_1900k",
    "png_ztxt_bomb",
    "png_ztxt_small_bomb",
    "png_iccp_huge",
    "png_chunks_5000",
    "png_ihdr_not_first",
    "png_zero_width",
    "png_rgba_8192x4882",
    "jpeg_sof_65000x65000",
    "jpeg_progressive_8192x4880",
    "jpeg_progressive_8192x4900",
    "jpeg_progressive_444_8192x4880",
    "jpeg_baseline_8192x4880",
    "jpeg_scans_190",
    "jpeg_scans_190_small",
    "jpeg_app_2000",
    "jpeg_arithmetic",
    NULL,
};

GBytes *sample_named(const char *name) {
  if (g_str_equal(name, "png_small"))
    return sample_encode("png", 64, 48, TRUE);
  if (g_str_equal(name, "jpeg_small"))
    return sample_jpeg(64, 48, SAMPLE_JPEG_BASELINE);
  if (g_str_equal(name, "jpeg_progressive_small"))
    return sample_jpeg(64, 48, SAMPLE_JPEG_PROGRESSIVE);
  if (g_str_equal(name, "png_bomb_30000x20000"))
    return sample_png_flat(30000, 20000, 2, FALSE);
  if (g_str_equal(name, "png_text_1900k"))
    return png_text(1900 * 1000);
  if (g_str_equal(name, "png_ztxt_bomb"))
    return png_ztxt_bomb((gsize)1 << 30);
  if (g_str_equal(name, "png_ztxt_small_bomb"))
    return png_ztxt_bomb((gsize)16 << 20);
  if (g_str_equal(name, "png_iccp_huge"))
    return png_iccp_huge();
  if (g_str_equal(name, "png_chunks_5000"))
    return png_many_chunks(5000);
  if (g_str_equal(name, "png_ihdr_not_first"))
    return png_ihdr_not_first();
  if (g_str_equal(name, "png_zero_width"))
    return png_zero_width();
  if (g_str_equal(name, "png_rgba_8192x4882"))
    return sample_png_flat(8192, 4882, 6, TRUE);
  if (g_str_equal(name, "jpeg_sof_65000x65000"))
    return jpeg_sized(64, 64, 65000, 65000);
  if (g_str_equal(name, "jpeg_progressive_8192x4880"))
    return sample_jpeg(8192, 4880, SAMPLE_JPEG_PROGRESSIVE);
  if (g_str_equal(name, "jpeg_progressive_8192x4900"))
    return sample_jpeg(8192, 4900, SAMPLE_JPEG_PROGRESSIVE);
  if (g_str_equal(name, "jpeg_progressive_444_8192x4880"))
    return sample_jpeg(8192, 4880, SAMPLE_JPEG_PROGRESSIVE_444);
  if (g_str_equal(name, "jpeg_baseline_8192x4880"))
    return sample_jpeg(8192, 4880, SAMPLE_JPEG_BASELINE);
  if (g_str_equal(name, "jpeg_scans_190"))
    return sample_jpeg(2048, 1536, SAMPLE_JPEG_MANY_SCANS);
  if (g_str_equal(name, "jpeg_scans_190_small"))
    return sample_jpeg(32, 32, SAMPLE_JPEG_MANY_SCANS);
  if (g_str_equal(name, "jpeg_app_2000"))
    return jpeg_app(2000);
  if (g_str_equal(name, "jpeg_arithmetic"))
    return sample_jpeg(64, 48, SAMPLE_JPEG_ARITHMETIC);
  return NULL;
}
