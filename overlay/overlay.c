/* overlay.c — the overlay's life: the latest-wins slot, the render thread, the swap.
 *
 *   control loop ──overlay_update()──▶ [slot: newest state] ──▶ render thread
 *                                         (older unrendered        │ overlay_compose_state()
 *                                          state is dropped)       ▼
 *   streaming threads ◀──overlay_ref_current()── [current composition + version]
 *
 * The slot lock is held only to swap a pointer in or out; the current lock
 * only for a pointer swap or a refcount increment, never across a render or
 * an unref that could free pixels, so neither a blend nor the control loop
 * ever waits behind a render. Published compositions are never modified.
 */
#include <time.h>

#include "overlay/overlay_compose.h"

GST_DEBUG_CATEGORY(overlay_debug);
#define GST_CAT_DEFAULT overlay_debug

struct overlay {
  overlay_compose_t *compose; /* render thread only, after overlay_new() */
  GThread *thread;

  /* The slot, shared by the control loop and the render thread. */
  GMutex slot_lock;
  GCond wake;    /* render thread: a state came in, or quit */
  GCond settled; /* overlay_flush(): the thread went idle */
  overlay_state_t *pending;
  guint64 submitted; /* overlay_update() calls */
  guint64 done;      /* the last submission rendered and settled (animation over) */
  gboolean animate, quit;
  gboolean held; /* overlay_hold(): pending states wait */
  overlay_stats_t stats;

  /* The one thing streaming threads touch. */
  GMutex lock;
  GstVideoOverlayComposition *current;
  guint64 current_version;
};

static void init_debug(void) {
  static gsize once = 0;

  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(overlay_debug, "tourcast-overlay", 0, "tourcast overlay rendering");
    g_once_init_leave(&once, 1);
  }
}

/* Loading fontconfig's configuration and the CJK font takes tens of
 * milliseconds the first time; pay it when the overlay is made, at startup,
 * rather than in the middle of a show when the first product is pinned. */
static void warm_fonts(overlay_compose_t *c) {
  const overlay_geom_t *g = overlay_compose_geom(c);
  for (int which = OVERLAY_CARD_TITLE; which <= OVERLAY_CARD_PRODUCT; which++) {
    PangoLayout *l =
        overlay_card_line_layout(overlay_compose_pango(c), g, which, "直播 ¥0123456789");
    if (l != NULL)
      g_object_unref(l);
  }
}

/* Makes `comp` (ownership taken; NULL hides) what streaming threads get. */
static void publish(overlay_t *ov, GstVideoOverlayComposition *comp, guint64 version) {
  g_mutex_lock(&ov->lock);
  GstVideoOverlayComposition *old = ov->current;
  ov->current = comp;
  ov->current_version = version;
  g_mutex_unlock(&ov->lock);

  /* Outside the lock: if no blend still holds it, this frees its pixels. */
  if (old != NULL)
    gst_video_overlay_composition_unref(old);
}

static gint64 thread_cpu_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (gint64)ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static void render_state(overlay_t *ov, overlay_state_t *st, gboolean animate) {
  gint64 t0 = g_get_monotonic_time(), c0 = thread_cpu_us();
  GstVideoOverlayComposition *comp = overlay_compose_state(ov->compose, st, animate);
  publish(ov, comp, st->version);
  gint64 took = g_get_monotonic_time() - t0, cpu = thread_cpu_us() - c0;

  g_mutex_lock(&ov->slot_lock);
  ov->stats.renders++;
  ov->stats.frames++;
  ov->stats.box_renders = overlay_compose_box_renders(ov->compose);
  ov->stats.last_render_us = took;
  ov->stats.last_render_cpu_us = cpu;
  ov->stats.last_version = st->version;
  g_mutex_unlock(&ov->slot_lock);
  GST_LOG("state %" G_GUINT64_FORMAT " rendered in %" G_GINT64_FORMAT " us", st->version, took);
}

/* Waits for the next thing to do, with the slot lock held. Returns the state
 * to render (ownership passed), or NULL for an animation step (when
 * *step) or quit. */
static overlay_state_t *next_job(overlay_t *ov, gint64 *next_frame, gboolean *step,
                                 guint64 *ticket) {
  *step = FALSE;
  for (;;) {
    if (ov->quit)
      return NULL;
    if (ov->pending != NULL && !ov->held) {
      overlay_state_t *st = ov->pending;
      ov->pending = NULL;
      *ticket = ov->submitted;
      return st;
    }
    if (overlay_compose_animating(ov->compose)) {
      if (g_get_monotonic_time() >= *next_frame) {
        *step = TRUE;
        return NULL;
      }
      g_cond_wait_until(&ov->wake, &ov->slot_lock, *next_frame);
      continue;
    }
    if (ov->pending == NULL) {
      ov->done = *ticket;
      g_cond_broadcast(&ov->settled);
    }
    g_cond_wait(&ov->wake, &ov->slot_lock);
  }
}

static gpointer render_main(gpointer data) {
  overlay_t *ov = data;
  gint64 next_frame = 0;
  guint64 ticket = 0, version = 0;
  gboolean step;

  g_mutex_lock(&ov->slot_lock);
  for (;;) {
    overlay_state_t *st = next_job(ov, &next_frame, &step, &ticket);
    if (st == NULL && !step)
      break;
    gboolean animate = ov->animate;
    g_mutex_unlock(&ov->slot_lock);
    if (st != NULL) {
      render_state(ov, st, animate);
      version = st->version;
      overlay_state_free(st);
    } else {
      publish(ov, overlay_compose_step(ov->compose), version);
    }
    next_frame = g_get_monotonic_time() + OVERLAY_ANIM_FRAME_US;
    g_mutex_lock(&ov->slot_lock);
    if (step)
      ov->stats.frames++;
  }
  g_mutex_unlock(&ov->slot_lock);
  return NULL;
}

overlay_t *overlay_new(int width, int height) {
  g_return_val_if_fail(width >= OVERLAY_MIN_DIM && width <= OVERLAY_MAX_DIM, NULL);
  g_return_val_if_fail(height >= OVERLAY_MIN_DIM && height <= OVERLAY_MAX_DIM, NULL);
  init_debug();

  overlay_t *ov = g_new0(overlay_t, 1);
  ov->compose = overlay_compose_new(width, height);
  ov->animate = TRUE;
  g_mutex_init(&ov->slot_lock);
  g_cond_init(&ov->wake);
  g_cond_init(&ov->settled);
  g_mutex_init(&ov->lock);
  warm_fonts(ov->compose); /* before the thread: from then on the compositor is its alone */
  ov->thread = g_thread_new("tc-overlay", render_main, ov);
  const overlay_layout_t *l = &overlay_compose_geom(ov->compose)->box;
  GST_DEBUG("overlay %dx%d, card %dx%d at %d,%d", width, height, l->width, l->height, l->x, l->y);
  return ov;
}

void overlay_free(overlay_t *ov) {
  if (ov == NULL)
    return;
  g_mutex_lock(&ov->slot_lock);
  ov->quit = TRUE;
  g_cond_signal(&ov->wake);
  g_mutex_unlock(&ov->slot_lock);
  g_thread_join(ov->thread);

  overlay_state_free(ov->pending);
  overlay_compose_free(ov->compose);
  /* Streaming threads keep their own references; only ours goes here. */
  if (ov->current != NULL)
    gst_video_overlay_composition_unref(ov->current);
  g_mutex_clear(&ov->lock);
  g_cond_clear(&ov->settled);
  g_cond_clear(&ov->wake);
  g_mutex_clear(&ov->slot_lock);
  g_free(ov);
}

void overlay_update(overlay_t *ov, const overlay_state_t *st) {
  g_return_if_fail(ov != NULL);
  g_return_if_fail(st != NULL);

  overlay_state_t *copy = overlay_state_dup(st); /* outside the lock */
  g_mutex_lock(&ov->slot_lock);
  overlay_state_t *dropped = ov->pending;
  ov->pending = copy;
  ov->submitted++;
  g_cond_signal(&ov->wake);
  g_mutex_unlock(&ov->slot_lock);
  overlay_state_free(dropped); /* latest wins: never rendered */
}

void overlay_flush(overlay_t *ov) {
  g_return_if_fail(ov != NULL);
  g_mutex_lock(&ov->slot_lock);
  while (ov->done != ov->submitted)
    g_cond_wait(&ov->settled, &ov->slot_lock);
  g_mutex_unlock(&ov->slot_lock);
}

void overlay_hold(overlay_t *ov, gboolean hold) {
  g_return_if_fail(ov != NULL);
  g_mutex_lock(&ov->slot_lock);
  ov->held = hold;
  g_cond_signal(&ov->wake);
  g_mutex_unlock(&ov->slot_lock);
}

void overlay_set_animate(overlay_t *ov, gboolean animate) {
  g_return_if_fail(ov != NULL);
  g_mutex_lock(&ov->slot_lock);
  ov->animate = animate;
  g_mutex_unlock(&ov->slot_lock);
}

GstVideoOverlayComposition *overlay_ref_current_versioned(overlay_t *ov, guint64 *version_out) {
  GstVideoOverlayComposition *comp = NULL;

  g_return_val_if_fail(ov != NULL, NULL);
  g_mutex_lock(&ov->lock);
  /* The ref must happen under the lock: a publish in between could drop
   * the last reference to the pointer we just read. */
  if (ov->current != NULL)
    comp = gst_video_overlay_composition_ref(ov->current);
  if (version_out != NULL)
    *version_out = ov->current_version;
  g_mutex_unlock(&ov->lock);
  return comp;
}

GstVideoOverlayComposition *overlay_ref_current(overlay_t *ov) {
  return overlay_ref_current_versioned(ov, NULL);
}

void overlay_get_stats(overlay_t *ov, overlay_stats_t *out) {
  g_return_if_fail(ov != NULL && out != NULL);
  g_mutex_lock(&ov->slot_lock);
  *out = ov->stats;
  g_mutex_unlock(&ov->slot_lock);
}

guint64 overlay_render_count(overlay_t *ov) {
  overlay_stats_t s = {0};
  overlay_get_stats(ov, &s);
  return s.renders;
}
