/* overlay_qr.c — the QR box: the viewer URL as a QR code, with a caption.
 *
 * Modules are whole pixels, drawn without antialiasing on white with at
 * least the standard four-module quiet zone, so a phone camera reads the code
 * even after x264 and a player's scaling. Text too long for a legible code
 * (modules under two pixels) hides the box rather than show noise.
 */
#include <string.h>

#include <qrencode.h>

#include "overlay/overlay_priv.h"

#define QR_QUIET_MODULES 4
#define QR_MIN_MODULE_PX 2
#define QR_TEXT_MAX_BYTES 512 /* a URL; anything longer is not one */
#define QR_CAPTION "扫码下单"

static void draw_modules(cairo_t *cr, const QRcode *qr, int x0, int y0, int m) {
  cairo_save(cr);
  cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
  overlay_set_source(cr, 0x000000, 1.0);
  for (int y = 0; y < qr->width; y++)
    for (int x = 0; x < qr->width; x++)
      if (qr->data[y * qr->width + x] & 1)
        cairo_rectangle(cr, x0 + x * m, y0 + y * m, m, m);
  cairo_fill(cr);
  cairo_restore(cr);
}

static void draw_caption(cairo_t *cr, PangoContext *ctx, const overlay_geom_t *g) {
  const overlay_rect_t *b = &g->box.qr;
  int top = g->qr_side + g->line_gap, h = b->height - top;
  PangoLayout *l =
      overlay_text_line_new(ctx, QR_CAPTION, g->caption_px, OVERLAY_TEXT_BOLD, b->width - g->pad);
  if (l == NULL || h <= 0) {
    if (l != NULL)
      g_object_unref(l);
    return;
  }
  PangoRectangle lr;
  pango_layout_get_pixel_extents(l, NULL, &lr);
  overlay_panel(cr, 0, top, b->width, h, g->radius, FALSE, 0x000000, 0.6);
  cairo_save(cr);
  cairo_rectangle(cr, 0, top, b->width, h);
  cairo_clip(cr);
  overlay_show(cr, l, (b->width - lr.width) / 2.0, top + MAX((h - lr.height) / 2.0, 0), top + h,
               0xFFFFFF, 1.0);
  cairo_restore(cr);
  g_object_unref(l);
}

gboolean overlay_qr_draw(cairo_t *cr, PangoContext *ctx, const overlay_geom_t *g,
                         const char *text) {
  if (text == NULL || text[0] == '\0' || strlen(text) > QR_TEXT_MAX_BYTES || g->qr_side <= 0)
    return FALSE;
  QRcode *qr = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
  if (qr == NULL)
    return FALSE;
  int m = g->qr_side / (qr->width + 2 * QR_QUIET_MODULES);
  if (m < QR_MIN_MODULE_PX) {
    QRcode_free(qr);
    return FALSE;
  }
  const overlay_rect_t *b = &g->box.qr;
  int side = g->qr_side, x = (b->width - side) / 2;
  overlay_panel(cr, x, 0, side, side, g->radius / 2.0, FALSE, 0xFFFFFF, 1.0);
  int off = (side - qr->width * m) / 2;
  draw_modules(cr, qr, x + off, off, m);
  QRcode_free(qr);
  draw_caption(cr, ctx, g);
  return TRUE;
}
