/* flv.c — FLV header and tag framing (FLV spec v10, annex E).
 *
 * The ingest builds each tag here before handing it to the consumer; reading
 * FLV is flvdemux's job, not ours, except for peeking at onMetaData to learn
 * which streams the publisher announces.
 */
#include "stream/flv.h"

#include "stream/amf0.h" /* first: it sets how GstByteReader is compiled */

void flv_write_header(GByteArray *out, guint8 flags) {
  const guint8 header[FLV_HEADER_SIZE] = {
      'F', 'L', 'V', 1, flags & (FLV_FLAG_AUDIO | FLV_FLAG_VIDEO), 0, 0, 0, 9, /* header size */
      0,   0,   0,   0, /* PreviousTagSize0 */
  };
  g_byte_array_append(out, header, sizeof header);
}

gboolean flv_write_tag(GByteArray *out, guint8 type, guint32 timestamp_ms, const guint8 *body,
                       gsize len) {
  guint8 h[FLV_TAG_HEADER_SIZE];
  guint32 prev = (guint32)(FLV_TAG_HEADER_SIZE + len);
  guint8 tail[4] = {prev >> 24, (prev >> 16) & 0xff, (prev >> 8) & 0xff, prev & 0xff};

  if (len > FLV_TAG_BODY_MAX)
    return FALSE;
  h[0] = type;
  h[1] = (guint8)(len >> 16);
  h[2] = (guint8)(len >> 8);
  h[3] = (guint8)len;
  h[4] = (guint8)(timestamp_ms >> 16);
  h[5] = (guint8)(timestamp_ms >> 8);
  h[6] = (guint8)timestamp_ms;
  h[7] = (guint8)(timestamp_ms >> 24); /* TimestampExtended: the upper 8 bits */
  h[8] = h[9] = h[10] = 0;             /* StreamID, always 0 */
  g_byte_array_append(out, h, sizeof h);
  if (len > 0)
    g_byte_array_append(out, body, (guint)len);
  g_byte_array_append(out, tail, sizeof tail);
  return TRUE;
}

guint8 flv_flags_from_metadata(const guint8 *body, gsize len) {
  GstByteReader br;
  amf0_value_t *name = NULL, *meta = NULL;
  guint8 flags = 0;

  gst_byte_reader_init(&br, body, (guint)MIN(len, G_MAXUINT));
  if (amf0_decode(&br, &name) != AMF0_OK ||
      g_strcmp0(amf0_value_get_string(name), "onMetaData") != 0)
    goto out;
  if (amf0_decode(&br, &meta) != AMF0_OK)
    goto out;
  if (amf0_object_get(meta, "audiocodecid") != NULL)
    flags |= FLV_FLAG_AUDIO;
  if (amf0_object_get(meta, "videocodecid") != NULL)
    flags |= FLV_FLAG_VIDEO;
out:
  amf0_value_free(name);
  amf0_value_free(meta);
  return flags;
}
