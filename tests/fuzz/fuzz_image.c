/* fuzz_image.c — libFuzzer target for uploaded pictures: any bytes into image_normalize().
 *
 * Whatever the bytes, the result is either a PNG within IMAGE_STORED_SIDE
 * or an error with a message; never a crash, a leak or a huge allocation
 * (the decoders themselves are not instrumented, our checks around them are).
 */
#include <stdint.h>

#include "ws/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int w = 0, h = 0;
  GError *err = NULL;
  GBytes *png = image_normalize(data, size, &w, &h, &err);
  if (png != NULL) {
    if (w < 1 || h < 1 || w > IMAGE_STORED_SIDE || h > IMAGE_STORED_SIDE)
      __builtin_trap();
    g_bytes_unref(png);
  } else if (err == NULL || err->message == NULL) {
    __builtin_trap();
  }
  g_clear_error(&err);
  return 0;
}
