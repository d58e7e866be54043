/* overlay_fixture.h — states, frames and pixel helpers shared by the overlay
 * tests and the overlay benchmark. */
#ifndef TOURCAST_OVERLAY_FIXTURE_H
#define TOURCAST_OVERLAY_FIXTURE_H

#include "overlay/overlay_priv.h"

/* A state with every box shown: title and promise, a pinned product (no
 * image), five orders, a question with its answer, and the QR code. */
void fixture_full_state(overlay_state_t *st);

/* Renders `st` on a fresh width x height overlay without animation and
 * returns the resulting composition (new reference, NULL if nothing shown). */
GstVideoOverlayComposition *fixture_render(int width, int height, const overlay_state_t *st);

/* Every rectangle of `comp` painted (OVER) onto a transparent width x
 * height ARGB32 surface. Caller destroys. */
cairo_surface_t *fixture_flatten(GstVideoOverlayComposition *comp, int width, int height);

/* Writes a 400x300 test picture (sky, field, a peach) as PNG to `path`. */
void fixture_write_picture(const char *path);

typedef struct {
  GstBuffer *buf;
  GstVideoInfo info;
  GstVideoFrame frame;
} i420_t;

void i420_init(i420_t *f, int w, int h, guint8 y, guint8 u, guint8 v);
void i420_clear(i420_t *f);
/* Sample of plane `p` (0 Y, 1 U, 2 V) covering frame pixel x, y. */
guint8 i420_at(i420_t *f, guint p, int x, int y);

/* 0xAARRGGBB (premultiplied) of a cairo ARGB32 surface. */
guint32 surface_at(cairo_surface_t *s, int x, int y);

#endif
