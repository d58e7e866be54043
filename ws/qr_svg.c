/* qr_svg.c — renders a QR code as SVG for the leader console's "post this in the group" card.
 *
 * One path of 1x1 squares on a white background, scaled by the page; no
 * fonts, no raster. The overlay draws its own QR into the video (overlay/).
 */
#include "ws/qr_svg.h"

#include <qrencode.h>
#include <string.h>

#define QR_TEXT_MAX 512
#define QUIET 4

char *qr_svg(const char *text) {
  if (text == NULL || strlen(text) > QR_TEXT_MAX)
    return NULL;
  QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  if (q == NULL)
    return NULL;
  int size = q->width + 2 * QUIET;
  GString *s = g_string_new(NULL);
  g_string_append_printf(s,
                         "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                         "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" "
                         "fill=\"#fff\"/><path fill=\"#000\" d=\"",
                         size, size, size, size);
  for (int y = 0; y < q->width; y++)
    for (int x = 0; x < q->width; x++)
      if (q->data[y * q->width + x] & 1)
        g_string_append_printf(s, "M%d %dh1v1h-1z", x + QUIET, y + QUIET);
  g_string_append(s, "\"/></svg>\n");
  QRcode_free(q);
  return g_string_free(s, FALSE);
}
