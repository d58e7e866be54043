/* bench_overlay.c — what the overlay costs at 720x1280 with every box shown.
 *
 * Prints, for scripts/bench-overlay.sh: per-frame blend time of
 * overlay_blend() against GStreamer's gst_video_overlay_composition_blend()
 * on the same composition (and their ratio); per-change render time for one
 * box changing (stock) and for every box changing, measured on the
 * compositor the render thread runs (cairo, pango, composition, blend
 * preparation) and end to end through overlay_update() + overlay_flush().
 * Blend and render figures are CPU time of the thread doing the work (the
 * machine is shared); the end-to-end figure is wall time, so it includes
 * waiting for a core. Figures only: nothing here asserts on time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "overlay/overlay_compose.h"
#include "tests/overlay/overlay_fixture.h"

static double now_ms(void) {
  return g_get_monotonic_time() / 1000.0;
}

/* CPU time of the calling thread: what a figure costs, whatever else the
 * (shared) machine is doing meanwhile. */
static double cpu_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Median of `n` samples (sorted in place). */
static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return v[n / 2];
}

static void bench_blend(int w, int h, int frames) {
  overlay_state_t st;
  fixture_full_state(&st);
  GstVideoOverlayComposition *comp = fixture_render(w, h, &st);
  i420_t f;
  i420_init(&f, w, h, 100, 128, 128);
  double t0 = cpu_ms();
  for (int i = 0; i < frames; i++)
    overlay_blend(comp, &f.frame);
  double ours = (cpu_ms() - t0) / frames;
  gst_video_overlay_composition_blend(comp, &f.frame); /* warm GStreamer's caches */
  t0 = cpu_ms();
  for (int i = 0; i < frames; i++)
    gst_video_overlay_composition_blend(comp, &f.frame);
  double theirs = (cpu_ms() - t0) / frames;
  printf("blend %dx%d, %u rectangles, %d frames, CPU time: overlay_blend %.3f ms/frame, "
         "gst_video_overlay_composition_blend %.3f ms/frame, ratio %.3f\n",
         w, h, gst_video_overlay_composition_n_rectangles(comp), frames, ours, theirs,
         ours / theirs);
  i420_clear(&f);
  gst_video_overlay_composition_unref(comp);
}

/* Every box's inputs changed, step `i`: new title, question, QR, product and
 * five new orders. */
static void change_all(overlay_state_t *st, int i, char bufs[4][128]) {
  g_snprintf(bufs[0], 128, "阳山水蜜桃果园直播 第 %d 场", i);
  g_snprintf(bufs[1], 128, "桃子甜不甜？能放几天？第 %d 问", i);
  g_snprintf(bufs[2], 128, "http://192.168.1.20:8080/?s=%d", i);
  g_snprintf(bufs[3], 128, "阳山水蜜桃 %d 号", i);
  st->title = bufs[0];
  st->question.text = bufs[1];
  st->qr_text = bufs[2];
  st->product.name = bufs[3];
  st->product.stock = 1000 - i;
  for (int k = 0; k < OVERLAY_TICKER_MAX; k++)
    st->ticker[k].seq = 1000 + (guint64)i * OVERLAY_TICKER_MAX + (guint64)k;
}

static void bench_render(int w, int h, int n) {
  overlay_compose_t *c = overlay_compose_new(w, h);
  overlay_state_t st;
  char bufs[4][128];
  double *one = g_new(double, n), *all = g_new(double, n);
  fixture_full_state(&st);
  gst_video_overlay_composition_unref(overlay_compose_state(c, &st, FALSE)); /* warm */

  for (int i = 0; i < n; i++) {
    st.product.stock = 500 - i;
    double t0 = cpu_ms();
    gst_video_overlay_composition_unref(overlay_compose_state(c, &st, FALSE));
    one[i] = cpu_ms() - t0;
  }
  guint64 boxes0 = overlay_compose_box_renders(c);
  for (int i = 0; i < n; i++) {
    change_all(&st, i, bufs);
    double t0 = cpu_ms();
    gst_video_overlay_composition_unref(overlay_compose_state(c, &st, FALSE));
    all[i] = cpu_ms() - t0;
  }
  guint64 boxes = (overlay_compose_box_renders(c) - boxes0) / (guint64)n;
  double one_max = 0, all_max = 0;
  for (int i = 0; i < n; i++)
    one_max = MAX(one_max, one[i]), all_max = MAX(all_max, all[i]);
  printf("render %dx%d on the compositor, %d changes each, CPU time: one box (stock) median "
         "%.2f ms max %.2f ms; every box (%" G_GUINT64_FORMAT
         " boxes) median %.2f ms max %.2f ms\n",
         w, h, n, median(one, n), one_max, boxes, median(all, n), all_max);
  g_free(one);
  g_free(all);
  overlay_compose_free(c);
}

/* The same through the render thread: what a state change costs from
 * overlay_update() until it is current (includes the thread wake-up). */
static void bench_thread(int w, int h, int n) {
  overlay_t *ov = overlay_new(w, h);
  overlay_state_t st;
  char bufs[4][128];
  double *one = g_new(double, n), *all = g_new(double, n);
  overlay_set_animate(ov, FALSE);
  fixture_full_state(&st);
  overlay_update(ov, &st);
  overlay_flush(ov);
  for (int i = 0; i < n; i++) {
    st.product.stock = 500 - i;
    double t0 = now_ms();
    overlay_update(ov, &st);
    overlay_flush(ov);
    one[i] = now_ms() - t0;
  }
  double *inside = g_new(double, n), *cpu = g_new(double, n);
  for (int i = 0; i < n; i++) {
    change_all(&st, i, bufs);
    double t0 = now_ms();
    overlay_update(ov, &st);
    overlay_flush(ov);
    all[i] = now_ms() - t0;
    overlay_stats_t s;
    overlay_get_stats(ov, &s);
    inside[i] = s.last_render_us / 1000.0;
    cpu[i] = s.last_render_cpu_us / 1000.0;
  }
  printf("update-to-current %dx%d through the render thread, wall time: one box median "
         "%.2f ms, every box median %.2f ms (of which rendering %.2f ms wall, %.2f ms CPU)\n",
         w, h, median(one, n), median(all, n), median(inside, n), median(cpu, n));
  g_free(inside);
  g_free(cpu);
  g_free(one);
  g_free(all);
  overlay_free(ov);
}

int main(int argc, char **argv) {
  int frames = argc > 1 ? atoi(argv[1]) : 2000, changes = argc > 2 ? atoi(argv[2]) : 100;
  gst_init(&argc, &argv);
  if (frames <= 0 || changes <= 0) {
    fprintf(stderr, "usage: bench_overlay [FRAMES] [CHANGES]\n");
    return 2;
  }
  bench_blend(720, 1280, frames);
  bench_render(720, 1280, changes);
  bench_thread(720, 1280, changes);
  return 0;
}
