/* overlay_compose.h — turning an overlay state into compositions, box by box.
 *
 * Internal to overlay/: used by the render thread in overlay.c and by tests.
 * A compositor belongs to one thread at a time (pango and cairo are not
 * shared across threads).
 */
#ifndef TOURCAST_OVERLAY_COMPOSE_H
#define TOURCAST_OVERLAY_COMPOSE_H

#include "overlay/overlay_priv.h"

/* Compositions in one ticker slide, one per output frame at 30 fps. */
#define OVERLAY_ANIM_FRAMES 8
#define OVERLAY_ANIM_FRAME_US (G_USEC_PER_SEC / 30)

typedef struct overlay_compose overlay_compose_t;

overlay_compose_t *overlay_compose_new(int width, int height);
void overlay_compose_free(overlay_compose_t *c); /* NULL is a no-op */

const overlay_geom_t *overlay_compose_geom(const overlay_compose_t *c);
PangoContext *overlay_compose_pango(overlay_compose_t *c);
/* Boxes drawn with cairo so far (a reused box is not drawn). */
guint64 overlay_compose_box_renders(const overlay_compose_t *c);

/* Redraws the boxes of `st` (borrowed) whose inputs changed and returns the
 * first composition showing it, prepared for overlay_blend() (new reference;
 * NULL when every box is hidden). With `animate` and new ticker orders, this
 * is the first frame of the slide: call overlay_compose_step() while
 * overlay_compose_animating(), one frame period apart. */
GstVideoOverlayComposition *overlay_compose_state(overlay_compose_t *c, const overlay_state_t *st,
                                                  gboolean animate);
gboolean overlay_compose_animating(const overlay_compose_t *c);
/* The next frame of the slide (new reference); the last one is the state at
 * rest. Only while overlay_compose_animating(). */
GstVideoOverlayComposition *overlay_compose_step(overlay_compose_t *c);

#endif
