/* qr_svg.h — a QR code as a small SVG document (libqrencode), for the console's viewer link. */
#ifndef TOURCAST_QR_SVG_H
#define TOURCAST_QR_SVG_H

#include <glib.h>

/* The SVG of `text` (UTF-8, at most 512 bytes) with a four-module quiet
 * zone, one path of unit squares. NULL if the text is too long or cannot be
 * encoded. g_free. */
char *qr_svg(const char *text);

#endif
