/* fuzz_image.c — libFuzzer target for uploaded pictures: any bytes into image_probe() and
 * image_normalize().
 *
 * The probe must never read outside the input (ASan) and, when it accepts,
 * must report a picture within every limit; image_normalize() must agree
 * with it (it never decodes what the probe refused, with the same error
 * code), and whatever it decodes is a PNG within IMAGE_STORED_SIDE, or an
 * error with a message; never a crash, a leak or a huge allocation (the
 * decoders themselves are not instrumented, our checks around them are).
 * Inputs the probe accepts but that would take the decoder near
 * IMAGE_MAX_DECODE_BYTES are only probed, so one run stays fast and under
 * libFuzzer's RSS limit; the unit and e2e tests decode those.
 */
#include <stdint.h>

#include "ws/image.h"

/* Decoded in full below this estimate (a 2048x2048 RGBA PNG). */
#define FUZZ_DECODE_BYTES (16 * 1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  image_info_t info;
  GError *perr = NULL;
  gboolean probed = image_probe(data, size, &info, &perr);
  if (probed) {
    if (perr != NULL || info.width < 1 || info.height < 1 || info.width > IMAGE_MAX_SIDE ||
        info.height > IMAGE_MAX_SIDE || (gint64)info.width * info.height > IMAGE_MAX_PIXELS ||
        info.decode_bytes > IMAGE_MAX_DECODE_BYTES)
      __builtin_trap();
    if (info.decode_bytes > FUZZ_DECODE_BYTES)
      return 0;
  } else if (perr == NULL || perr->message == NULL) {
    __builtin_trap();
  }
  int w = 0, h = 0;
  GError *err = NULL;
  GBytes *png = image_normalize(data, size, &w, &h, &err);
  if (png != NULL) {
    if (!probed || w < 1 || h < 1 || w > IMAGE_STORED_SIDE || h > IMAGE_STORED_SIDE)
      __builtin_trap();
    g_bytes_unref(png);
  } else if (err == NULL || err->message == NULL) {
    __builtin_trap();
  } else if (!probed && err->code != perr->code) {
    __builtin_trap(); /* normalize refuses exactly as the probe did */
  }
  g_clear_error(&err);
  g_clear_error(&perr);
  return 0;
}
