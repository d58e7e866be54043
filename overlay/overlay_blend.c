/* overlay_blend.c — blending a published composition into I420 frames, cheaply.
 *
 * GStreamer's generic blend converts every overlay pixel from ARGB to the
 * frame's format on every frame (about 1.5 ms for a 672x160 card). A
 * published composition never changes, so each rectangle is converted once,
 * when it is first published (and reused while the box is unchanged), into premultiplied Y, U, V
 * and alpha planes at luma and chroma resolution; blending a frame is then one multiply-add per
 * sample, touching only the rectangles. Not a general compositor: I420, limited range, BT.709 or
 * BT.601; anything else goes through GStreamer's blend.
 */
#include <math.h>
#include <string.h>

#include "overlay/overlay_priv.h"

/* One rectangle's pixels, ready for I420 frames of one colour matrix. All
 * planes hold premultiplied values, so a blend is
 * dst = pm + dst * (255 - a) / 255. Refcounted: kept on the rectangle's pixel
 * buffer (so a box reused or moved in a later composition is not converted
 * again) and by every composition that shows it. Never modified once made. */
typedef struct {
  gint ref;
  int w, h;
  guint8 *luma_pm, *luma_a;       /* w * h */
  guint8 *u_pm, *v_pm, *chroma_a; /* (w / 2) * (h / 2) */
} planes_t;

typedef struct {
  int x, y; /* in frame pixels, even; may be negative (a row sliding in) */
  planes_t *p;
} sprite_t;

typedef struct {
  GstVideoColorMatrix matrix;
  guint n;
  sprite_t *sprites;
} sprite_set_t;

/* Sprite sets for the matrices phones send, attached to the composition. */
typedef struct {
  sprite_set_t sets[2];
} sprite_cache_t;

static const GstVideoColorMatrix matrices[2] = {GST_VIDEO_COLOR_MATRIX_BT709,
                                                GST_VIDEO_COLOR_MATRIX_BT601};

static GQuark cache_quark(void) {
  return g_quark_from_static_string("tourcast-overlay-i420-sprites");
}

static GQuark planes_quark(int set) {
  return g_quark_from_static_string(set ? "tourcast-overlay-i420-bt601"
                                        : "tourcast-overlay-i420-bt709");
}

static planes_t *planes_ref(planes_t *p) {
  g_atomic_int_inc(&p->ref);
  return p;
}

static void planes_unref(gpointer data) {
  planes_t *p = data;
  if (g_atomic_int_dec_and_test(&p->ref))
    overlay_mem_give(p); /* the planes follow the header in the same block */
}

static void cache_free(gpointer data) {
  sprite_cache_t *c = data;
  for (int s = 0; s < 2; s++) {
    for (guint i = 0; i < c->sets[s].n; i++)
      planes_unref(c->sets[s].sprites[i].p);
    g_free(c->sets[s].sprites);
  }
  g_free(c);
}

/* Converts one premultiplied BGRA buffer of w x h for `matrix` (limited range). */
/* Fixed-point (16.16) coefficients of one matrix, limited range, applied
 * to premultiplied B, G, R and A: Y = 16a/255 + 219/255 (kr r + kg g + kb b),
 * U and V likewise around 128a/255. Integers because this runs over every
 * pixel of every new box, on the render thread's 10 ms budget. */
typedef struct {
  gint32 y[4], u[4], v[4]; /* b, g, r, a */
} coefs_t;

static gint32 fix(double v) {
  return (gint32)lround(v * 65536.0);
}

static gboolean coefs_for(GstVideoColorMatrix matrix, coefs_t *c) {
  gdouble kr, kb;
  if (!gst_video_color_matrix_get_Kr_Kb(matrix, &kr, &kb))
    return FALSE;
  double kg = 1.0 - kr - kb, sy = 219.0 / 255.0, su = 224.0 / 255.0 / (2.0 * (1.0 - kb)),
         sv = 224.0 / 255.0 / (2.0 * (1.0 - kr));
  *c = (coefs_t){{fix(sy * kb), fix(sy * kg), fix(sy * kr), fix(16.0 / 255.0)},
                 {fix(su * (1.0 - kb)), fix(-su * kg), fix(-su * kr), fix(128.0 / 255.0)},
                 {fix(-sv * kb), fix(-sv * kg), fix(sv * (1.0 - kr)), fix(128.0 / 255.0)}};
  return TRUE;
}

static inline gint32 dot(const gint32 *k, const guint8 *p) {
  return k[0] * p[0] + k[1] * p[1] + k[2] * p[2] + k[3] * p[3];
}

/* Converts the 2x2 block at chroma position cx, cy, whose top-left BGRA
 * pixel is at `top`. */
static void convert_block(planes_t *out, const coefs_t *k, const guint8 *top, int stride, int cx,
                          int cy) {
  int w = out->w, cw = w / 2;
  gint32 su = 0, sv = 0, sa = 0;
  for (int q = 0; q < 4; q++) {
    const guint8 *p = top + (q >> 1) * stride + (q & 1) * 4; /* B, G, R, A */
    int at = (2 * cy + (q >> 1)) * w + 2 * cx + (q & 1);
    out->luma_pm[at] = (guint8)CLAMP((dot(k->y, p) + 32768) >> 16, 0, 255);
    out->luma_a[at] = p[3];
    su += dot(k->u, p);
    sv += dot(k->v, p);
    sa += p[3];
  }
  /* The mean of the four, rounded: divide by 4 * 65536. */
  out->u_pm[cy * cw + cx] = (guint8)CLAMP((su + (1 << 17)) >> 18, 0, 255);
  out->v_pm[cy * cw + cx] = (guint8)CLAMP((sv + (1 << 17)) >> 18, 0, 255);
  out->chroma_a[cy * cw + cx] = (guint8)((sa + 2) / 4);
}

/* The block at cx, cy gets the results of the block at cx - 1. */
static void repeat_block(planes_t *out, int cx, int cy) {
  int w = out->w, cw = w / 2;
  for (int r = 0; r < 2; r++) {
    int at = (2 * cy + r) * w + 2 * cx;
    memcpy(out->luma_pm + at, out->luma_pm + at - 2, 2);
    memcpy(out->luma_a + at, out->luma_a + at - 2, 2);
  }
  int c = cy * cw + cx;
  out->u_pm[c] = out->u_pm[c - 1];
  out->v_pm[c] = out->v_pm[c - 1];
  out->chroma_a[c] = out->chroma_a[c - 1];
}

/* Converts one premultiplied BGRA buffer of w x h for `matrix`. */
static planes_t *planes_make(const GstMapInfo *map, int stride, int w, int h,
                             GstVideoColorMatrix matrix) {
  coefs_t k;
  if (!coefs_for(matrix, &k))
    return NULL;
  int cw = w / 2, ch = h / 2;
  gsize luma = (gsize)w * h, chroma = (gsize)cw * ch;
  planes_t *out = overlay_mem_take(sizeof(planes_t) + 2 * luma + 3 * chroma);
  guint8 *mem = (guint8 *)(out + 1);
  *out = (planes_t){1,
                    w,
                    h,
                    mem,
                    mem + luma,
                    mem + 2 * luma,
                    mem + 2 * luma + chroma,
                    mem + 2 * luma + 2 * chroma};
  for (int cy = 0; cy < ch; cy++) {
    guint64 prev[2] = {0, 0};
    for (int cx = 0; cx < cw; cx++) {
      /* Panels are mostly one colour: a 2x2 block equal to the one before
       * it copies that one's results instead of converting again. */
      const guint8 *top = map->data + (gsize)(2 * cy) * stride + (gsize)cx * 8;
      guint64 cur[2];
      memcpy(&cur[0], top, 8);
      memcpy(&cur[1], top + stride, 8);
      if (cx > 0 && cur[0] == prev[0] && cur[1] == prev[1]) {
        repeat_block(out, cx, cy);
        continue;
      }
      prev[0] = cur[0];
      prev[1] = cur[1];
      convert_block(out, &k, top, stride, cx, cy);
    }
  }
  return out;
}

/* The sprite of `rect` for matrix set `s`: its planes from the pixel
 * buffer's cache, converted now if this buffer was never shown before. */
static gboolean sprite_make(GstVideoOverlayRectangle *rect, int s, sprite_t *out) {
  gint x, y;
  guint w, h;
  gst_video_overlay_rectangle_get_render_rectangle(rect, &x, &y, &w, &h);
  GstBuffer *pix = gst_video_overlay_rectangle_get_pixels_unscaled_argb(
      rect, GST_VIDEO_OVERLAY_FORMAT_FLAG_PREMULTIPLIED_ALPHA);
  GstVideoMeta *meta = pix ? gst_buffer_get_video_meta(pix) : NULL;
  if (meta == NULL || meta->width != w || meta->height != h || (x | y | (int)w | (int)h) & 1 ||
      w < 2 || h < 2)
    return FALSE;

  planes_t *p = gst_mini_object_get_qdata(GST_MINI_OBJECT(pix), planes_quark(s));
  if (p == NULL) {
    GstMapInfo map;
    if (!gst_buffer_map(pix, &map, GST_MAP_READ))
      return FALSE;
    p = planes_make(&map, meta->stride[0], (int)w, (int)h, matrices[s]);
    gst_buffer_unmap(pix, &map);
    if (p == NULL)
      return FALSE;
    gst_mini_object_set_qdata(GST_MINI_OBJECT(pix), planes_quark(s), p, planes_unref);
  }
  *out = (sprite_t){x, y, planes_ref(p)};
  return TRUE;
}

void overlay_blend_prepare(GstVideoOverlayComposition *comp) {
  guint n = gst_video_overlay_composition_n_rectangles(comp);
  sprite_cache_t *cache = g_new0(sprite_cache_t, 1);
  for (int s = 0; s < 2; s++) {
    sprite_set_t *set = &cache->sets[s];
    set->matrix = matrices[s];
    set->sprites = g_new0(sprite_t, MAX(n, 1));
    for (guint i = 0; i < n; i++) {
      if (!sprite_make(gst_video_overlay_composition_get_rectangle(comp, i), s, &set->sprites[i])) {
        cache_free(cache); /* an odd rectangle: GStreamer's blend handles it */
        return;
      }
      set->n++;
    }
  }
  gst_mini_object_set_qdata(GST_MINI_OBJECT(comp), cache_quark(), cache, cache_free);
}

/* dst = pm + dst * (255 - a) / 255, rounded, over one row. */
/* Sixteen samples at a time in 16-bit lanes (255 * 255 + 128 + 255 fits),
 * written with the compilers' generic vector types: gcc at -O2 does not
 * vectorize the scalar loop, and this is the one per-frame loop. */
typedef guint8 u8x16 __attribute__((vector_size(16)));
typedef guint16 u16x16 __attribute__((vector_size(32)));

/* dst = pm + dst * (255 - a) / 255, rounded, over one row. */
static inline void blend_row(guint8 *dst, const guint8 *pm, const guint8 *a, int n) {
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    u8x16 d, p, al;
    memcpy(&d, dst + i, 16);
    memcpy(&p, pm + i, 16);
    memcpy(&al, a + i, 16);
    u16x16 v =
        __builtin_convertvector(d, u16x16) * (255 - __builtin_convertvector(al, u16x16)) + 128;
    v = (v + (v >> 8)) >> 8;
    u8x16 r = __builtin_convertvector(v, u8x16) + p;
    memcpy(dst + i, &r, 16);
  }
  for (; i < n; i++) {
    unsigned v = (unsigned)dst[i] * (255u - a[i]) + 128u;
    dst[i] = (guint8)(pm[i] + ((v + (v >> 8)) >> 8));
  }
}

/* Blends the part of `s` that lies inside the frame. */
static void sprite_blend(const sprite_t *s, GstVideoFrame *frame) {
  const planes_t *p = s->p;
  int fw = GST_VIDEO_FRAME_WIDTH(frame), fh = GST_VIDEO_FRAME_HEIGHT(frame);
  int x0 = MAX(s->x, 0), y0 = MAX(s->y, 0);
  int x1 = MIN(s->x + p->w, fw & ~1), y1 = MIN(s->y + p->h, fh & ~1);
  if (x0 >= x1 || y0 >= y1)
    return;
  int n = x1 - x0, sx = x0 - s->x;
  guint8 *yp = GST_VIDEO_FRAME_COMP_DATA(frame, 0);
  int ys = GST_VIDEO_FRAME_COMP_STRIDE(frame, 0);
  for (int y = y0; y < y1; y++) {
    int row = (y - s->y) * p->w + sx;
    blend_row(yp + (gsize)y * ys + x0, p->luma_pm + row, p->luma_a + row, n);
  }
  int cw = p->w / 2;
  for (int c = 1; c <= 2; c++) {
    guint8 *cp = GST_VIDEO_FRAME_COMP_DATA(frame, c);
    int cs = GST_VIDEO_FRAME_COMP_STRIDE(frame, c);
    const guint8 *pm = c == 1 ? p->u_pm : p->v_pm;
    for (int y = y0 / 2; y < y1 / 2; y++) {
      int row = (y - s->y / 2) * cw + sx / 2;
      blend_row(cp + (gsize)y * cs + x0 / 2, pm + row, p->chroma_a + row, n / 2);
    }
  }
}

gboolean overlay_blend(GstVideoOverlayComposition *comp, GstVideoFrame *frame) {
  const GstVideoInfo *info = &frame->info;
  sprite_cache_t *cache = gst_mini_object_get_qdata(GST_MINI_OBJECT(comp), cache_quark());
  const sprite_set_t *set = NULL;
  if (cache != NULL && GST_VIDEO_INFO_FORMAT(info) == GST_VIDEO_FORMAT_I420 &&
      info->colorimetry.range != GST_VIDEO_COLOR_RANGE_0_255) {
    for (int s = 0; s < 2; s++)
      if (cache->sets[s].matrix == info->colorimetry.matrix)
        set = &cache->sets[s];
  }
  if (set == NULL)
    return gst_video_overlay_composition_blend(comp, frame);
  for (guint i = 0; i < set->n; i++)
    sprite_blend(&set->sprites[i], frame);
  return TRUE;
}
