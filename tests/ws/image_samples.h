/* image_samples.h — pictures for the image tests, made at run time: real encodings and bombs.
 *
 * Real encodings come from gdk-pixbuf's writers and libjpeg (gdk-pixbuf
 * writes only baseline JPEG); bombs are built chunk by chunk or patched into
 * a real file, always with valid CRCs and lengths, so that only the claim
 * (the size, the count, the metadata) is the attack. Used by test_image.c,
 * and by tests/tools/image_sample.c for the e2e abuse suite and the fuzz
 * seeds.
 */
#ifndef TOURCAST_TESTS_IMAGE_SAMPLES_H
#define TOURCAST_TESTS_IMAGE_SAMPLES_H

#include <glib.h>

/* A w x h gradient encoded by gdk-pixbuf's own writer as `type` ("png" or
 * "jpeg"), with an alpha channel if `alpha` (PNG only). */
GBytes *sample_encode(const char *type, int w, int h, gboolean alpha);

/* A PNG of w x h with 8-bit `colour` (2 RGB, 6 RGBA) built by hand: IHDR as
 * given, then IDAT holding every row (flat grey, deflated row by row so no
 * w x h buffer is ever made) or, if !all_rows, a single row: the header
 * then claims far more than the data holds. */
GBytes *sample_png_flat(int w, int h, int colour, gboolean all_rows);

/* Appends a PNG chunk of `type` (4 letters) and `data` with its CRC. */
void sample_png_chunk(GByteArray *out, const char *type, const guint8 *data, gsize len);

/* `png` with a chunk of `type` and `data` inserted right after IHDR, or
 * before it if `before_ihdr`; a valid CRC. New bytes; `png` is borrowed. */
GBytes *sample_png_insert(GBytes *png, const char *type, const guint8 *data, gsize len,
                          gboolean before_ihdr);

typedef enum {
  SAMPLE_JPEG_BASELINE,        /* one interleaved scan, 4:2:0 */
  SAMPLE_JPEG_PROGRESSIVE,     /* libjpeg's simple progression (10 scans), 4:2:0 */
  SAMPLE_JPEG_PROGRESSIVE_444, /* the same without chroma subsampling */
  SAMPLE_JPEG_MANY_SCANS,      /* progressive, one scan per coefficient and component (190) */
  SAMPLE_JPEG_ARITHMETIC,      /* SOF9 */
} sample_jpeg_kind_t;

/* A w x h gradient encoded by libjpeg as `kind`. */
GBytes *sample_jpeg(int w, int h, sample_jpeg_kind_t kind);

/* `jpeg` with its frame header patched: the marker code (0: keep), the
 * sample precision (0: keep) and the size (-1: keep). New bytes. */
GBytes *sample_jpeg_patch_sof(GBytes *jpeg, guint8 marker, guint8 precision, int w, int h);

/* `jpeg` with `n` APPn segments of `each` bytes of payload right after SOI. */
GBytes *sample_jpeg_with_app(GBytes *jpeg, int n, gsize each);

/* The named samples of the abuse suite and the fuzz seeds (see
 * sample_names), or NULL for an unknown name. */
GBytes *sample_named(const char *name);
extern const char *const sample_names[];

#endif
