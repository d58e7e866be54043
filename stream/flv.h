/* flv.h — FLV framing for what the RTMP ingest hands downstream: the file
 * header and tags (11-byte tag header, body, 4-byte PreviousTagSize), as
 * flvdemux expects them. Only framing: payloads are passed through untouched.
 */
#ifndef TOURCAST_FLV_H
#define TOURCAST_FLV_H

#include <glib.h>

#define FLV_HEADER_SIZE 13 /* 9-byte header + PreviousTagSize0 */
#define FLV_TAG_HEADER_SIZE 11
#define FLV_TAG_BODY_MAX 0xFFFFFF /* the tag's DataSize field is 24 bits */

enum {
  FLV_FLAG_VIDEO = 0x01,
  FLV_FLAG_AUDIO = 0x04,
};

enum {
  FLV_TAG_AUDIO = 8,
  FLV_TAG_VIDEO = 9,
  FLV_TAG_SCRIPT = 18,
};

/* Appends the 13-byte FLV header with the given FLV_FLAG_* bits. */
void flv_write_header(GByteArray *out, guint8 flags);
/* Appends one tag: header, `len` bytes of `body` (copied), PreviousTagSize.
 * The 32-bit timestamp is split into the 24-bit field and its extension byte.
 * Returns FALSE, appending nothing, if len > FLV_TAG_BODY_MAX. */
gboolean flv_write_tag(GByteArray *out, guint8 type, guint32 timestamp_ms, const guint8 *body,
                       gsize len);
/* The FLV_FLAG_* bits an onMetaData script body announces (the string
 * "onMetaData" then an object or ECMA array): audio if it has audiocodecid,
 * video if it has videocodecid. 0 if it is not such a body or has neither. */
guint8 flv_flags_from_metadata(const guint8 *body, gsize len);

#endif
