/* fuzz_amf0.c — libFuzzer target: AMF0 values decoded from arbitrary bytes
 * one after another, each encoded again and decoded back to an equal value;
 * plus the onMetaData peek the FLV header relies on. */
#include <stdlib.h>

#include "stream/amf0.h"
#include "stream/flv.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size) {
  GstByteReader br;
  amf0_value_t *v;

  gst_byte_reader_init(&br, data, (guint)size);
  while (amf0_decode(&br, &v) == AMF0_OK) {
    GByteArray *buf = g_byte_array_new();
    GstByteReader again;
    amf0_value_t *back = NULL;

    if (!amf0_encode(buf, v))
      abort(); /* whatever decodes must encode */
    gst_byte_reader_init(&again, buf->data, buf->len);
    if (amf0_decode(&again, &back) != AMF0_OK || !amf0_value_equal(v, back) ||
        gst_byte_reader_get_remaining(&again) != 0)
      abort();
    amf0_value_free(back);
    amf0_value_free(v);
    g_byte_array_unref(buf);
  }
  (void)flv_flags_from_metadata(data, size);
  return 0;
}
