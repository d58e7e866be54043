/* slate.c — draws the standby card once, in ARGB with cairo, and converts it to I420.
 *
 * Not per frame: the output copies this frame and blends the overlay on the
 * copy. The picture is a near-black field with a light grey band and the
 * message centred, so tests can tell it from a phone's picture by pixels.
 */
#include "stream/slate.h"

#include <cairo.h>
#include <pango/pangocairo.h>

static void draw(cairo_t *cr, int width, int height) {
  cairo_set_source_rgb(cr, 0.06, 0.06, 0.08);
  cairo_paint(cr);
  /* A band across the middle that tests find by pixel value. */
  double band_h = height / 6.0;
  cairo_set_source_rgb(cr, 0.2, 0.22, 0.26);
  cairo_rectangle(cr, 0, (height - band_h) / 2, width, band_h);
  cairo_fill(cr);

  /* A font map of our own, freed below: the thread-default one lives (and
   * keeps fontconfig's caches) for the life of the process. */
  PangoFontMap *fm = pango_cairo_font_map_new();
  PangoContext *ctx = pango_font_map_create_context(fm);
  pango_cairo_update_context(cr, ctx);
  PangoLayout *layout = pango_layout_new(ctx);
  char *font = g_strdup_printf("Noto Sans CJK SC Bold %dpx", MAX(12, MIN(width, height) / 14));
  PangoFontDescription *desc = pango_font_description_from_string(font);
  pango_layout_set_font_description(layout, desc);
  pango_layout_set_text(layout, SLATE_TEXT, -1);
  int tw = 0, th = 0;
  pango_layout_get_pixel_size(layout, &tw, &th);
  cairo_set_source_rgb(cr, 0.95, 0.95, 0.95);
  cairo_move_to(cr, (width - tw) / 2.0, (height - th) / 2.0);
  pango_cairo_show_layout(cr, layout);
  pango_font_description_free(desc);
  g_free(font);
  g_object_unref(layout);
  g_object_unref(ctx);
  g_object_unref(fm);
}

GstBuffer *slate_render(int width, int height, GstVideoInfo *info, GError **err) {
  cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
  if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
    g_set_error(err, GST_CORE_ERROR, GST_CORE_ERROR_FAILED, "slate: cannot make a surface");
    cairo_surface_destroy(surf);
    return NULL;
  }
  cairo_t *cr = cairo_create(surf);
  draw(cr, width, height);
  cairo_destroy(cr);
  cairo_surface_flush(surf);

  /* cairo's ARGB32 is native-endian premultiplied; opaque here, so BGRA on
   * little-endian machines. */
  GstVideoInfo src_info;
  gst_video_info_set_format(
      &src_info, G_BYTE_ORDER == G_LITTLE_ENDIAN ? GST_VIDEO_FORMAT_BGRA : GST_VIDEO_FORMAT_ARGB,
      (guint)width, (guint)height);
  GST_VIDEO_INFO_PLANE_STRIDE(&src_info, 0) = cairo_image_surface_get_stride(surf);
  gst_video_info_set_format(info, GST_VIDEO_FORMAT_I420, (guint)width, (guint)height);
  GstBuffer *src = gst_buffer_new_wrapped_full(
      GST_MEMORY_FLAG_READONLY, cairo_image_surface_get_data(surf),
      (gsize)cairo_image_surface_get_stride(surf) * (gsize)height, 0,
      (gsize)cairo_image_surface_get_stride(surf) * (gsize)height, NULL, NULL);
  GstBuffer *out = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(info), NULL);
  GstVideoFrame in_f, out_f;
  gboolean ok = gst_video_frame_map(&in_f, &src_info, src, GST_MAP_READ);
  if (ok && !gst_video_frame_map(&out_f, info, out, GST_MAP_WRITE)) {
    gst_video_frame_unmap(&in_f);
    ok = FALSE;
  }
  if (ok) {
    GstVideoConverter *conv = gst_video_converter_new(&src_info, info, NULL);
    gst_video_converter_frame(conv, &in_f, &out_f);
    gst_video_converter_free(conv);
    gst_video_frame_unmap(&in_f);
    gst_video_frame_unmap(&out_f);
  }
  gst_buffer_unref(src);
  cairo_surface_destroy(surf);
  if (!ok) {
    gst_buffer_unref(out);
    g_set_error(err, GST_CORE_ERROR, GST_CORE_ERROR_FAILED, "slate: cannot convert to I420");
    return NULL;
  }
  return out;
}
