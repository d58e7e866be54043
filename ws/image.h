/* image.h — product pictures the leader uploads: checked, decoded, scaled once, re-encoded.
 *
 * Outside bytes (an HTTP request body) in, a PNG of bounded size out. Only
 * JPEG and PNG are accepted, recognised by their signatures, never by a name
 * or a Content-Type; each is decoded by its own loader only. Dimensions are
 * checked before any pixel is decoded, so a small file claiming a huge
 * picture costs nothing. The result is what the overlay and the pages use.
 */
#ifndef TOURCAST_IMAGE_H
#define TOURCAST_IMAGE_H

#include <glib.h>

/* Largest upload accepted, in bytes. */
#define IMAGE_MAX_BYTES (2 * 1024 * 1024)
/* Largest side a source picture may claim, and most pixels. */
#define IMAGE_MAX_SIDE 8192
#define IMAGE_MAX_PIXELS (40 * 1000 * 1000)
/* The stored picture fits in this square (aspect kept, never enlarged). */
#define IMAGE_STORED_SIDE 512

typedef enum {
  IMAGE_ERROR_TOO_LARGE,   /* over IMAGE_MAX_BYTES, or dimensions over the limits */
  IMAGE_ERROR_UNSUPPORTED, /* neither a JPEG nor a PNG signature */
  IMAGE_ERROR_CORRUPT,     /* the signature is right but decoding failed */
} image_error_t;
#define IMAGE_ERROR (image_error_quark())
GQuark image_error_quark(void);

/* Decodes `data` (`len` bytes, borrowed), scales it to fit
 * IMAGE_STORED_SIDE and re-encodes it as PNG. Returns the PNG (caller
 * unrefs) and its size in *width, *height (may be NULL), or NULL with `err`
 * set. Thread-safe; does not touch the file system. */
GBytes *image_normalize(const guint8 *data, gsize len, int *width, int *height, GError **err);

#endif
