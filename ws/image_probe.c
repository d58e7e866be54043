/* image_probe.c — a picture's structure and dimensions, read before any decoder runs.
 *
 * Two bounded parsers over the upload (a GstByteReader, never a read past
 * its end, no allocation): the PNG chunk sequence from the signature to IEND
 * and the JPEG marker sequence from SOI to EOI. They decide whether a decoder
 * may see the bytes at all; decoding is image.c's. What they walk is counted
 * (IMAGE_MAX_CHUNKS, IMAGE_MAX_MARKERS, IMAGE_MAX_SCANS), and the decoder's
 * memory is estimated from the header against IMAGE_MAX_DECODE_BYTES.
 *
 * JPEG walk states (ITU T.81 B.2), advanced in probe_jpeg():
 *
 *   SOI ─▶ TABLES ──SOF0/1/2──▶ FRAME ──SOS──▶ SCAN (entropy-coded data)
 *          ▲ DQT DHT DAC DRI     ▲ tables, APPn  │ ends at the first marker
 *          │ APPn COM            └───────────────┤ that is not RSTn or FF00
 *                                                └──EOI──▶ zero padding, end
 */
#include <stdarg.h>
#include <string.h>
#include <zlib.h>

#include "ws/image_priv.h"

static const guint8 png_sig[IMAGE_PNG_SIGNATURE_BYTES] = {0x89, 'P',  'N',  'G',
                                                          '\r', '\n', 0x1A, '\n'};
static const guint8 jpeg_sig[3] = {0xFF, 0xD8, 0xFF};

#define PNG_IHDR IMAGE_PNG_TYPE('I', 'H', 'D', 'R')
#define PNG_PLTE IMAGE_PNG_TYPE('P', 'L', 'T', 'E')
#define PNG_TRNS IMAGE_PNG_TYPE('t', 'R', 'N', 'S')
#define PNG_IDAT IMAGE_PNG_TYPE('I', 'D', 'A', 'T')
#define PNG_IEND IMAGE_PNG_TYPE('I', 'E', 'N', 'D')

/* libjpeg keeps one JBLOCK (64 coefficients of 2 bytes) per 8x8 block. */
#define JPEG_BLOCK_BYTES 128

static gboolean fail(GError **err, image_error_t code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static gboolean fail(GError **err, image_error_t code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error_literal(err, IMAGE_ERROR, code, msg);
  g_free(msg);
  return FALSE;
}

static gboolean check_size(const image_info_t *info, GError **err) {
  if (info->width > IMAGE_MAX_SIDE || info->height > IMAGE_MAX_SIDE ||
      (gint64)info->width * info->height > IMAGE_MAX_PIXELS)
    return fail(err, IMAGE_ERROR_TOO_LARGE,
                "picture is %dx%d; at most %d pixels a side and %d pixels in all", info->width,
                info->height, IMAGE_MAX_SIDE, IMAGE_MAX_PIXELS);
  return TRUE;
}

static gboolean check_decode_bytes(const image_info_t *info, GError **err) {
  if (info->decode_bytes > IMAGE_MAX_DECODE_BYTES)
    return fail(err, IMAGE_ERROR_TOO_LARGE,
                "a %dx%d %s%s needs about %" G_GUINT64_FORMAT " MB to decode; at most %d MB",
                info->width, info->height, info->multi_scan ? "progressive " : "",
                info->format == IMAGE_FORMAT_PNG ? "PNG" : "JPEG", info->decode_bytes >> 20,
                IMAGE_MAX_DECODE_BYTES >> 20);
  return TRUE;
}

/* Big-endian reads a byte at a time: GStreamer's own get_uint16/32 load
 * through a cast where the CPU allows unaligned access, which UBSan (and
 * the C standard) count as undefined for an odd offset. */
static gboolean get_be16(GstByteReader *br, guint16 *v) {
  const guint8 *p;
  if (!gst_byte_reader_get_data(br, 2, &p))
    return FALSE;
  *v = (guint16)(p[0] << 8 | p[1]);
  return TRUE;
}

static gboolean get_be32(GstByteReader *br, guint32 *v) {
  const guint8 *p;
  if (!gst_byte_reader_get_data(br, 4, &p))
    return FALSE;
  *v = (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
  return TRUE;
}

/* ---- PNG ---- */

gboolean image_png_chunk_read(GstByteReader *br, image_png_chunk_t *c) {
  GstByteReader r = *br;
  if (!get_be32(&r, &c->len) || c->len > G_MAXINT32 ||
      !gst_byte_reader_peek_data(&r, c->len + 4, &c->typed) || !get_be32(&r, &c->type) ||
      !gst_byte_reader_get_data(&r, c->len, &c->data) || !get_be32(&r, &c->crc))
    return FALSE;
  c->whole_len = (gsize)c->len + 12;
  if (!gst_byte_reader_peek_data(br, (guint)c->whole_len, &c->whole))
    return FALSE;
  *br = r;
  return TRUE;
}

static gboolean png_crc_ok(const image_png_chunk_t *c) {
  return (guint32)crc32(0L, c->typed, c->len + 4) == c->crc;
}

gboolean image_png_chunk_kept(guint32 type) {
  return type == PNG_IHDR || type == PNG_PLTE || type == PNG_TRNS || type == PNG_IDAT ||
         type == PNG_IEND;
}

static void png_type_name(guint32 type, char out[5]) {
  for (int i = 0; i < 4; i++) {
    char ch = (char)(type >> (24 - 8 * i));
    out[i] = g_ascii_isalpha(ch) ? ch : '?';
  }
  out[4] = 0;
}

static gboolean png_type_ok(guint32 type) {
  for (int i = 0; i < 4; i++)
    if (!g_ascii_isalpha((char)(type >> (24 - 8 * i))))
      return FALSE;
  return TRUE;
}

/* Bit depths the PNG spec allows for each colour type. */
static gboolean png_depth_ok(guint8 colour, guint8 depth) {
  switch (colour) {
    case 0: /* grey */
      return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
    case 3: /* palette */
      return depth == 1 || depth == 2 || depth == 4 || depth == 8;
    case 2: /* RGB */
    case 4: /* grey + alpha */
    case 6: /* RGBA */
      return depth == 8 || depth == 16;
    default:
      return FALSE;
  }
}

static gboolean png_corrupt(GError **err, const char *why) {
  return fail(err, IMAGE_ERROR_CORRUPT, "not a valid png picture: %s", why);
}

static gboolean png_ihdr(const image_png_chunk_t *c, image_info_t *info, guint8 *colour,
                         GError **err) {
  if (c->type != PNG_IHDR)
    return png_corrupt(err, "the first chunk is not IHDR");
  if (c->len != 13)
    return png_corrupt(err, "IHDR is not 13 bytes");
  GstByteReader r;
  gst_byte_reader_init(&r, c->data, c->len);
  guint32 w = 0, h = 0;
  get_be32(&r, &w); /* 13 bytes: these reads cannot fail */
  get_be32(&r, &h);
  guint8 depth = gst_byte_reader_get_uint8_unchecked(&r);
  *colour = gst_byte_reader_get_uint8_unchecked(&r);
  guint8 method = gst_byte_reader_get_uint8_unchecked(&r);
  guint8 filter = gst_byte_reader_get_uint8_unchecked(&r);
  guint8 interlace = gst_byte_reader_get_uint8_unchecked(&r);
  if (w == 0 || h == 0 || w > G_MAXINT32 || h > G_MAXINT32)
    return png_corrupt(err, "zero or negative width or height");
  if (!png_depth_ok(*colour, depth))
    return png_corrupt(err, "bad bit depth or colour type");
  if (method != 0 || filter != 0 || interlace > 1)
    return png_corrupt(err, "unknown compression, filter or interlace method");
  info->width = (int)w;
  info->height = (int)h;
  return check_size(info, err);
}

/* Where the walk is relative to the IDAT run. */
typedef enum { PNG_BEFORE_IDAT, PNG_IN_IDAT, PNG_AFTER_IDAT } png_at_t;

typedef struct {
  guint8 colour;
  gboolean plte, trns;
  png_at_t at;
} png_walk_t;

/* One chunk after IHDR; *end is set at IEND. */
static gboolean png_chunk(png_walk_t *w, const image_png_chunk_t *c, GstByteReader *br,
                          gboolean *end, GError **err) {
  if (w->at == PNG_IN_IDAT && c->type != PNG_IDAT)
    w->at = PNG_AFTER_IDAT;
  switch (c->type) {
    case PNG_IHDR:
      return png_corrupt(err, "a second IHDR");
    case PNG_PLTE:
      if (w->at != PNG_BEFORE_IDAT || w->plte || w->trns || w->colour == 0 || w->colour == 4 ||
          c->len == 0 || c->len % 3 != 0 || c->len > 3 * 256)
        return png_corrupt(err, "a misplaced or malformed PLTE");
      w->plte = TRUE;
      return TRUE;
    case PNG_TRNS:
      if (w->at != PNG_BEFORE_IDAT || w->trns || w->colour == 4 || w->colour == 6 ||
          (w->colour == 3 && !w->plte))
        return png_corrupt(err, "a misplaced tRNS");
      w->trns = TRUE;
      return TRUE;
    case PNG_IDAT:
      if (w->at == PNG_AFTER_IDAT)
        return png_corrupt(err, "IDAT chunks not consecutive");
      if (w->colour == 3 && !w->plte)
        return png_corrupt(err, "a palette picture without PLTE");
      w->at = PNG_IN_IDAT;
      return TRUE;
    case PNG_IEND:
      if (w->at == PNG_BEFORE_IDAT)
        return png_corrupt(err, "no IDAT");
      if (c->len != 0 || gst_byte_reader_get_remaining(br) != 0)
        return png_corrupt(err, "data after IEND");
      *end = TRUE;
      return TRUE;
    default:
      /* An ancillary chunk (lower-case first letter) is skipped here and
       * never reaches the decoder; an unknown critical one cannot be. */
      if (!(c->type & 0x20000000u)) {
        char name[5];
        png_type_name(c->type, name);
        return fail(err, IMAGE_ERROR_CORRUPT, "not a valid png picture: unknown chunk %s", name);
      }
      return TRUE;
  }
}

static gboolean probe_png(GstByteReader *br, image_info_t *info, GError **err) {
  info->format = IMAGE_FORMAT_PNG;
  gst_byte_reader_skip_unchecked(br, IMAGE_PNG_SIGNATURE_BYTES);
  png_walk_t w = {0};
  gboolean end = FALSE;
  for (guint n = 0; !end; n++) {
    if (n == IMAGE_MAX_CHUNKS)
      return fail(err, IMAGE_ERROR_TOO_LARGE, "more than %d PNG chunks", IMAGE_MAX_CHUNKS);
    image_png_chunk_t c;
    if (!image_png_chunk_read(br, &c))
      return png_corrupt(err, "truncated");
    if (!png_type_ok(c.type))
      return png_corrupt(err, "a chunk type that is not four letters");
    if (!png_crc_ok(&c)) {
      char name[5];
      png_type_name(c.type, name);
      return fail(err, IMAGE_ERROR_CORRUPT, "not a valid png picture: bad CRC in %s", name);
    }
    if (n == 0) {
      if (!png_ihdr(&c, info, &w.colour, err))
        return FALSE;
      continue;
    }
    if (!png_chunk(&w, &c, br, &end, err))
      return FALSE;
  }
  /* gdk-pixbuf expands every PNG to 8-bit RGB, or RGBA when it has alpha,
   * at full size, rows padded to 4 bytes. */
  guint64 channels = (w.colour == 4 || w.colour == 6 || w.trns) ? 4 : 3;
  guint64 stride = ((guint64)info->width * channels + 3) & ~(guint64)3;
  info->decode_bytes = stride * (guint64)info->height;
  return check_decode_bytes(info, err);
}

/* ---- JPEG ---- */

typedef enum {
  JPEG_TABLES, /* after SOI, before the frame header */
  JPEG_FRAME,  /* after SOF: tables, or the next scan */
  JPEG_SCAN,   /* in entropy-coded data */
} jpeg_state_t;

typedef struct {
  jpeg_state_t state;
  guint markers, scans;
  guint8 code; /* the marker being handled */
  int nf;      /* frame components */
  guint8 h[4], v[4];
  gboolean progressive;
  int first_scan_ns; /* components in the first scan */
} jpeg_walk_t;

static gboolean jpeg_corrupt(GError **err, const char *why) {
  return fail(err, IMAGE_ERROR_CORRUPT, "not a valid jpeg picture: %s", why);
}

/* The next marker between segments: 0xFF, any fill 0xFFs, the code. */
static gboolean jpeg_marker(GstByteReader *br, guint8 *code, GError **err) {
  guint8 b;
  if (!gst_byte_reader_get_uint8(br, &b))
    return jpeg_corrupt(err, "truncated");
  if (b != 0xFF)
    return jpeg_corrupt(err, "bytes where a marker should be");
  do
    if (!gst_byte_reader_get_uint8(br, &b))
      return jpeg_corrupt(err, "truncated");
  while (b == 0xFF);
  *code = b;
  return TRUE;
}

/* Moves past entropy-coded data to the marker that ends it: FF00 is a
 * stuffed byte and RSTn a restart inside the scan, not an end. */
static gboolean jpeg_skip_entropy(GstByteReader *br, guint8 *code, GError **err) {
  for (;;) {
    guint left = gst_byte_reader_get_remaining(br);
    const guint8 *p;
    if (left == 0 || !gst_byte_reader_peek_data(br, left, &p))
      return jpeg_corrupt(err, "truncated");
    const guint8 *ff = memchr(p, 0xFF, left);
    if (ff == NULL)
      return jpeg_corrupt(err, "truncated");
    gst_byte_reader_skip_unchecked(br, (guint)(ff - p) + 1);
    guint8 b;
    do
      if (!gst_byte_reader_get_uint8(br, &b))
        return jpeg_corrupt(err, "truncated");
    while (b == 0xFF);
    if (b != 0x00 && (b < 0xD0 || b > 0xD7)) {
      *code = b;
      return TRUE;
    }
  }
}

/* The segment after a marker: its 2-byte length counts itself. */
static gboolean jpeg_segment(GstByteReader *br, GstByteReader *seg, GError **err) {
  guint16 len;
  const guint8 *d;
  if (!get_be16(br, &len))
    return jpeg_corrupt(err, "truncated");
  if (len < 2)
    return jpeg_corrupt(err, "a segment shorter than its length field");
  if (!gst_byte_reader_get_data(br, len - 2u, &d))
    return jpeg_corrupt(err, "truncated");
  gst_byte_reader_init(seg, d, len - 2u);
  return TRUE;
}

static gboolean jpeg_sof(jpeg_walk_t *w, GstByteReader *seg, image_info_t *info, GError **err) {
  if (w->state != JPEG_TABLES)
    return jpeg_corrupt(err, "a second frame header");
  guint8 precision = 0, nf = 0;
  guint16 y = 0, x = 0;
  if (!gst_byte_reader_get_uint8(seg, &precision) || !get_be16(seg, &y) || !get_be16(seg, &x) ||
      !gst_byte_reader_get_uint8(seg, &nf))
    return jpeg_corrupt(err, "a short frame header");
  if (precision != 8)
    return fail(err, IMAGE_ERROR_UNSUPPORTED, "%u-bit JPEG samples; only 8-bit", precision);
  if (x == 0 || y == 0)
    return jpeg_corrupt(err, "zero width or height");
  if (nf != 1 && nf != 3 && nf != 4)
    return fail(err, IMAGE_ERROR_UNSUPPORTED, "a JPEG of %u colour components; 1, 3 or 4", nf);
  if (gst_byte_reader_get_remaining(seg) != 3u * nf)
    return jpeg_corrupt(err, "a frame header of the wrong length");
  for (int i = 0; i < nf; i++) {
    gst_byte_reader_skip_unchecked(seg, 1); /* component id */
    guint8 hv = gst_byte_reader_get_uint8_unchecked(seg);
    guint8 tq = gst_byte_reader_get_uint8_unchecked(seg);
    w->h[i] = hv >> 4;
    w->v[i] = hv & 0x0F;
    if (w->h[i] < 1 || w->h[i] > 4 || w->v[i] < 1 || w->v[i] > 4 || tq > 3)
      return jpeg_corrupt(err, "bad sampling factors or table number");
  }
  w->nf = nf;
  w->progressive = w->code == 0xC2;
  w->state = JPEG_FRAME;
  info->width = x;
  info->height = y;
  return check_size(info, err);
}

static gboolean jpeg_sos(jpeg_walk_t *w, GstByteReader *seg, GError **err) {
  if (w->state == JPEG_TABLES)
    return jpeg_corrupt(err, "a scan before the frame header");
  if (++w->scans > IMAGE_MAX_SCANS)
    return fail(err, IMAGE_ERROR_TOO_LARGE, "more than %d JPEG scans", IMAGE_MAX_SCANS);
  guint8 ns = 0;
  if (!gst_byte_reader_get_uint8(seg, &ns) || ns < 1 || ns > w->nf ||
      gst_byte_reader_get_remaining(seg) != 2u * ns + 3)
    return jpeg_corrupt(err, "a malformed scan header");
  if (w->scans == 1)
    w->first_scan_ns = ns;
  w->state = JPEG_SCAN;
  return TRUE;
}

/* After EOI only zero bytes (some writers pad). */
static gboolean jpeg_tail(GstByteReader *br, GError **err) {
  guint8 b;
  while (gst_byte_reader_get_uint8(br, &b))
    if (b != 0)
      return jpeg_corrupt(err, "data after EOI");
  return TRUE;
}

/* One marker (w->code) and its segment; *end is set at EOI. */
static gboolean jpeg_step(jpeg_walk_t *w, GstByteReader *br, image_info_t *info, gboolean *end,
                          GError **err) {
  guint8 c = w->code;
  GstByteReader seg;
  gst_byte_reader_init(&seg, NULL, 0);
  if (c == 0xD9) { /* EOI */
    if (w->scans == 0)
      return jpeg_corrupt(err, "no scan before EOI");
    *end = TRUE;
    return jpeg_tail(br, err);
  }
  if (c == 0x01 || (c >= 0xD0 && c <= 0xD7)) /* TEM, RSTn: no segment */
    return TRUE;
  if (c == 0xC9 || c == 0xCA)
    return fail(err, IMAGE_ERROR_UNSUPPORTED, "arithmetic-coded JPEG");
  if (c == 0xC3 || (c >= 0xC5 && c <= 0xC7) || c == 0xCB || (c >= 0xCD && c <= 0xCF))
    return fail(err, IMAGE_ERROR_UNSUPPORTED, "lossless or hierarchical JPEG");
  gboolean known = c == 0xC0 || c == 0xC1 || c == 0xC2 || c == 0xC4 || c == 0xCC || c == 0xDA ||
                   (c >= 0xDB && c <= 0xDD) || (c >= 0xE0 && c <= 0xEF) || c == 0xFE;
  if (!known)
    return fail(err, IMAGE_ERROR_CORRUPT, "not a valid jpeg picture: unknown marker 0x%02X", c);
  if (!jpeg_segment(br, &seg, err))
    return FALSE;
  if (c == 0xC0 || c == 0xC1 || c == 0xC2)
    return jpeg_sof(w, &seg, info, err);
  if (c == 0xDA)
    return jpeg_sos(w, &seg, err);
  return TRUE; /* DQT, DHT, DAC, DRI, DNL, APPn, COM: the decoder's business */
}

/* What libjpeg and gdk-pixbuf hold: the output at the scale gdk-pixbuf asks
 * for (the largest of 1/2, 1/4, 1/8 that still covers the stored size), and
 * for a multi-scan picture every coefficient, each component's blocks padded
 * to whole MCUs as libjpeg allocates them. */
static guint64 jpeg_decode_bytes(const jpeg_walk_t *w, const image_info_t *info) {
  int sw, sh;
  image_fit(info->width, info->height, IMAGE_STORED_SIDE, &sw, &sh);
  guint64 s = 1;
  while (s < 8 && (guint64)info->width / (2 * s) >= (guint64)sw &&
         (guint64)info->height / (2 * s) >= (guint64)sh)
    s *= 2;
  guint64 bytes = ((guint64)info->width / s + 1) * ((guint64)info->height / s + 1) * 4;
  if (!w->progressive && w->first_scan_ns == w->nf)
    return bytes;
  guint64 hmax = 1, vmax = 1;
  for (int i = 0; i < w->nf; i++) {
    hmax = MAX(hmax, w->h[i]);
    vmax = MAX(vmax, w->v[i]);
  }
  for (int i = 0; i < w->nf; i++) {
    guint64 bw = ((guint64)info->width * w->h[i] + hmax * 8 - 1) / (hmax * 8);
    guint64 bh = ((guint64)info->height * w->v[i] + vmax * 8 - 1) / (vmax * 8);
    bw = (bw + w->h[i] - 1) / w->h[i] * w->h[i];
    bh = (bh + w->v[i] - 1) / w->v[i] * w->v[i];
    bytes += bw * bh * JPEG_BLOCK_BYTES;
  }
  return bytes;
}

static gboolean probe_jpeg(GstByteReader *br, image_info_t *info, GError **err) {
  info->format = IMAGE_FORMAT_JPEG;
  gst_byte_reader_skip_unchecked(br, 2); /* SOI */
  jpeg_walk_t w = {.state = JPEG_TABLES};
  gboolean end = FALSE;
  while (!end) {
    gboolean ok =
        w.state == JPEG_SCAN ? jpeg_skip_entropy(br, &w.code, err) : jpeg_marker(br, &w.code, err);
    if (!ok)
      return FALSE;
    if (w.state == JPEG_SCAN)
      w.state = JPEG_FRAME;
    if (++w.markers > IMAGE_MAX_MARKERS)
      return fail(err, IMAGE_ERROR_TOO_LARGE, "more than %d JPEG markers", IMAGE_MAX_MARKERS);
    if (!jpeg_step(&w, br, info, &end, err))
      return FALSE;
  }
  info->multi_scan = w.progressive || w.first_scan_ns < w.nf;
  info->decode_bytes = jpeg_decode_bytes(&w, info);
  return check_decode_bytes(info, err);
}

gboolean image_probe(const guint8 *data, gsize len, image_info_t *info, GError **err) {
  memset(info, 0, sizeof *info);
  if (len > IMAGE_MAX_BYTES)
    return fail(err, IMAGE_ERROR_TOO_LARGE, "%" G_GSIZE_FORMAT " bytes; at most %d", len,
                IMAGE_MAX_BYTES);
  GstByteReader br;
  gst_byte_reader_init(&br, data, (guint)len);
  if (data != NULL && len >= sizeof png_sig && memcmp(data, png_sig, sizeof png_sig) == 0)
    return probe_png(&br, info, err);
  if (data != NULL && len >= sizeof jpeg_sig && memcmp(data, jpeg_sig, sizeof jpeg_sig) == 0)
    return probe_jpeg(&br, info, err);
  return fail(err, IMAGE_ERROR_UNSUPPORTED, "only JPEG and PNG pictures");
}
