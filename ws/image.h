/* image.h — product pictures the leader uploads: checked, decoded, scaled once, re-encoded.
 *
 * Outside bytes (an HTTP request body) in, a PNG of bounded size out. Only
 * JPEG and PNG are accepted, recognised by their signatures, never by a name
 * or a Content-Type; each is decoded by its own loader only. Before any
 * decoder runs, image_probe() walks the file's structure with a bounded
 * parser (PNG chunks, JPEG markers) and reads the dimensions from the header
 * (PNG IHDR, JPEG SOFn): a small file claiming a huge picture, too many
 * chunks, markers or scans, or a picture whose decoding would hold more than
 * IMAGE_MAX_DECODE_BYTES is refused without a loader ever being created.
 * The decoder then runs under a size cap of its own (gdk-pixbuf's
 * "size-prepared"), so what it decodes is what the header said.
 *
 * What the decoder sees: a JPEG as sent; a PNG with only the chunks its
 * pixels need (IHDR, PLTE, tRNS, IDAT, IEND): text, zTXt, iCCP and every
 * other ancillary chunk are checked for framing and CRC, then dropped, so
 * metadata costs no memory and no decompression (the stored picture carries
 * none anyway).
 *
 * JPEG frames accepted: SOF0 (baseline), SOF1 (extended sequential, 8-bit)
 * and SOF2 (progressive), Huffman-coded, 1, 3 or 4 components. Arithmetic
 * coding (SOF9-11), lossless (SOF3) and hierarchical (SOF5-7, 13-15) frames
 * and 12-bit samples are refused as unsupported: no phone or browser writes
 * them, and refusing them keeps rarely exercised decoder code away from
 * outside bytes.
 *
 * Memory while decoding, the largest legal picture: a PNG is decoded at full
 * size (gdk-pixbuf's PNG loader cannot decode smaller), 4 bytes a pixel with
 * alpha; a single-scan JPEG at 1/2 to 1/8 scale (libjpeg's scaled decoding),
 * a few MB at most; a progressive (or multi-scan) JPEG holds every DCT
 * coefficient of the picture, 2 bytes per sample (about 120 MB at
 * 8192x4880 with 4:2:0 chroma). IMAGE_MAX_DECODE_BYTES bounds the estimate.
 */
#ifndef TOURCAST_IMAGE_H
#define TOURCAST_IMAGE_H

#include <glib.h>

/* Largest upload accepted, in bytes. */
#define IMAGE_MAX_BYTES (2 * 1024 * 1024)
/* Largest side a source picture may claim, and most pixels. */
#define IMAGE_MAX_SIDE 8192
#define IMAGE_MAX_PIXELS (40 * 1000 * 1000)
/* Most memory the decoder may need for a picture, estimated from its header
 * (see above): a 40-megapixel PNG with alpha fits, a progressive 4:4:4 JPEG
 * of as many pixels (240 MB of coefficients) does not. */
#define IMAGE_MAX_DECODE_BYTES (160 * 1024 * 1024)
/* Most PNG chunks, JPEG marker segments and JPEG scans in one file: far
 * above any encoder's (libpng writes 8 KiB IDATs: 256 in a 2 MiB file; a
 * progressive JPEG has about 10 scans and 40 markers), and each scan of a
 * progressive JPEG costs a pass over the whole picture. */
#define IMAGE_MAX_CHUNKS 4096
#define IMAGE_MAX_MARKERS 1024
#define IMAGE_MAX_SCANS 64
/* The stored picture fits in this square (aspect kept, never enlarged). */
#define IMAGE_STORED_SIDE 512

typedef enum {
  IMAGE_ERROR_TOO_LARGE,   /* over IMAGE_MAX_BYTES, over a dimension, memory or count limit */
  IMAGE_ERROR_UNSUPPORTED, /* neither a JPEG nor a PNG signature, or a JPEG kind refused above */
  IMAGE_ERROR_CORRUPT,     /* the signature is right but the structure or the decoding fails,
                            * or the file is cut short */
} image_error_t;
#define IMAGE_ERROR (image_error_quark())
GQuark image_error_quark(void);

typedef enum { IMAGE_FORMAT_PNG = 1, IMAGE_FORMAT_JPEG } image_format_t;

typedef struct {
  image_format_t format;
  int width, height; /* as the header declares them */
  /* JPEG: progressive, or sequential in several scans (libjpeg then keeps
   * the whole picture's coefficients). */
  gboolean multi_scan;
  /* What the decoder will hold at most, in bytes, estimated from the header. */
  guint64 decode_bytes;
} image_info_t;

/* Reads the structure and header of `data` (`len` bytes, borrowed) without
 * decoding anything: for a PNG, every chunk (framing, CRC, order: IHDR
 * first, PLTE and tRNS before IDAT, IDATs consecutive, IEND last and at the
 * very end); for a JPEG, every marker from SOI to EOI (segments skipped by
 * their lengths, entropy-coded data scanned for the next marker, only zero
 * padding after EOI). Reads no byte outside data[0, len) and allocates
 * nothing. Returns TRUE with *info filled when the picture is within every
 * limit above; FALSE with `err` set otherwise (*info then holds what was read
 * before the failure, e.g. the dimensions of a picture refused for its size).
 * Pure and thread-safe. */
gboolean image_probe(const guint8 *data, gsize len, image_info_t *info, GError **err);

/* Probes `data` (`len` bytes, borrowed) as above, then decodes it under the
 * same limits, scales it to fit IMAGE_STORED_SIDE and re-encodes it as PNG.
 * Returns the PNG (caller unrefs) and its size in *width, *height (may be
 * NULL), or NULL with `err` set. Takes CPU time (up to about a second for
 * the largest pictures): call it off the control loop. Thread-safe; does
 * not touch the file system. */
GBytes *image_normalize(const guint8 *data, gsize len, int *width, int *height, GError **err);

#endif
