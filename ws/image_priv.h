/* image_priv.h — what image_probe.c and image.c share (internal to ws/). */
#ifndef TOURCAST_IMAGE_PRIV_H
#define TOURCAST_IMAGE_PRIV_H

#include <gst/base/gstbytereader.h>

#include "ws/image.h"

#define IMAGE_PNG_SIGNATURE_BYTES 8

/* One PNG chunk as it sits in the file. */
typedef struct {
  guint32 type;        /* the four type letters, big-endian */
  const guint8 *whole; /* the chunk from its length field to its CRC */
  gsize whole_len;     /* 12 + len */
  const guint8 *typed; /* its type and data (len + 4 bytes): what the CRC covers */
  const guint8 *data;  /* len bytes; all three borrowed from the file */
  guint32 len;
  guint32 crc; /* as stored */
} image_png_chunk_t;

#define IMAGE_PNG_TYPE(a, b, c, d)                                                                 \
  (((guint32)(a) << 24) | ((guint32)(b) << 16) | ((guint32)(c) << 8) | (guint32)(d))

/* Reads the chunk at `br` into *c and moves past it. FALSE, with `br` where
 * it was, when no whole chunk is left (length, type, data and CRC must all
 * fit) or the length is over 2^31-1. Checks nothing else. */
gboolean image_png_chunk_read(GstByteReader *br, image_png_chunk_t *c);

/* TRUE for the chunks the decoder is given: those its pixels need. */
gboolean image_png_chunk_kept(guint32 type);

/* Fits w x h into side x side, never enlarging; at least 1 pixel. */
static inline void image_fit(int w, int h, int side, int *ow, int *oh) {
  double s = MIN(1.0, MIN((double)side / w, (double)side / h));
  *ow = MAX(1, (int)(w * s + 0.5));
  *oh = MAX(1, (int)(h * s + 0.5));
}

#endif
