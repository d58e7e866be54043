/* hls.c — rolling live playlist with exact durations and program date-times.
 *
 * Keeps the last `window` segments in a ring and renders an HLS v3 media
 * playlist from it on every append. Not a segmenter (splitmuxsink cuts) and
 * not the archive (the show's VOD playlist is a separate concern).
 */
#include "stream/hls.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

typedef struct {
  char *name;
  gint64 start_ms;
  guint64 duration_ns;
  gint64 pdt_unix_ms;
  gboolean discontinuity;
} hls_segment_t;

struct hls_playlist {
  char *dir;
  guint window;
  guint target_ms;
  GQueue segments;        /* of hls_segment_t*, oldest first, at most `window` */
  GQueue expired;         /* names that left the playlist, deleted once stale */
  guint64 media_sequence; /* sequence number of the first listed segment */
  guint64 appended;
  guint64 discontinuity_sequence;
  guint target_duration_s; /* never decreases: players may cache it */
};

static void segment_free(hls_segment_t *s) {
  if (s == NULL)
    return;
  g_free(s->name);
  g_free(s);
}

hls_playlist_t *hls_playlist_new(const char *dir, guint window, guint target_ms) {
  g_return_val_if_fail(dir != NULL && window > 0 && target_ms > 0, NULL);
  hls_playlist_t *pl = g_new0(hls_playlist_t, 1);
  pl->dir = g_strdup(dir);
  pl->window = window;
  pl->target_ms = target_ms;
  g_queue_init(&pl->segments);
  g_queue_init(&pl->expired);
  pl->target_duration_s = (target_ms + 999) / 1000;
  return pl;
}

void hls_playlist_free(hls_playlist_t *pl) {
  if (pl == NULL)
    return;
  g_queue_clear_full(&pl->segments, (GDestroyNotify)segment_free);
  g_queue_clear_full(&pl->expired, g_free);
  g_free(pl->dir);
  g_free(pl);
}

void hls_format_pdt(gint64 unix_ms, char buf[32]) {
  GDateTime *dt = g_date_time_new_from_unix_utc(unix_ms / 1000);
  if (dt == NULL) {
    g_strlcpy(buf, "1970-01-01T00:00:00.000Z", 32);
    return;
  }
  char *base = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S");
  g_snprintf(buf, 32, "%s.%03dZ", base, (int)(unix_ms % 1000));
  g_free(base);
  g_date_time_unref(dt);
}

char *hls_playlist_render(const hls_playlist_t *pl) {
  GString *s = g_string_new("#EXTM3U\n#EXT-X-VERSION:3\n");
  g_string_append_printf(s, "#EXT-X-TARGETDURATION:%u\n", pl->target_duration_s);
  g_string_append_printf(s, "#EXT-X-MEDIA-SEQUENCE:%" G_GUINT64_FORMAT "\n", pl->media_sequence);
  if (pl->discontinuity_sequence > 0)
    g_string_append_printf(s, "#EXT-X-DISCONTINUITY-SEQUENCE:%" G_GUINT64_FORMAT "\n",
                           pl->discontinuity_sequence);
  for (GList *l = pl->segments.head; l != NULL; l = l->next) {
    const hls_segment_t *seg = l->data;
    char pdt[32];
    /* The first listed segment never carries its discontinuity tag: that
     * boundary is already counted in EXT-X-DISCONTINUITY-SEQUENCE. */
    if (seg->discontinuity && l != pl->segments.head)
      g_string_append(s, "#EXT-X-DISCONTINUITY\n");
    hls_format_pdt(seg->pdt_unix_ms, pdt);
    g_string_append_printf(s, "#EXT-X-PROGRAM-DATE-TIME:%s\n", pdt);
    g_string_append_printf(s, "#EXTINF:%.3f,\n%s\n", seg->duration_ns / 1e9, seg->name);
  }
  return g_string_free(s, FALSE);
}

gboolean hls_write_playlist(const char *dir, const char *text, GError **err) {
  char *path = g_build_filename(dir, "index.m3u8", NULL);
  gboolean ok = g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0666, err);
  g_free(path);
  return ok;
}

static gboolean write_atomically(const hls_playlist_t *pl, GError **err) {
  char *text = hls_playlist_render(pl);
  gboolean ok = hls_write_playlist(pl->dir, text, err);
  g_free(text);
  return ok;
}

/* Segments stay on disk for another `window` segments after they leave the
 * playlist: a player that fetched the previous playlist may still ask. */
static void expire(hls_playlist_t *pl, hls_segment_t *old) {
  g_queue_push_tail(&pl->expired, g_strdup(old->name));
  while (g_queue_get_length(&pl->expired) > pl->window) {
    char *name = g_queue_pop_head(&pl->expired);
    char *path = g_build_filename(pl->dir, name, NULL);
    g_unlink(path);
    g_free(path);
    g_free(name);
  }
}

gboolean hls_playlist_append(hls_playlist_t *pl, const char *name, gint64 start_ms,
                             guint64 duration_ns, gint64 pdt_unix_ms, gboolean discontinuity,
                             GError **err) {
  hls_segment_t *seg = g_new0(hls_segment_t, 1);
  seg->name = g_strdup(name);
  seg->start_ms = start_ms;
  seg->duration_ns = duration_ns;
  seg->pdt_unix_ms = pdt_unix_ms;
  seg->discontinuity = discontinuity && pl->appended > 0;
  g_queue_push_tail(&pl->segments, seg);
  pl->appended++;

  /* EXTINF rounded to the nearest integer must not exceed the target. */
  guint rounded = (guint)llround(duration_ns / 1e9);
  if (rounded > pl->target_duration_s)
    pl->target_duration_s = rounded;

  while (g_queue_get_length(&pl->segments) > pl->window) {
    hls_segment_t *old = g_queue_pop_head(&pl->segments);
    pl->media_sequence++;
    hls_segment_t *head = g_queue_peek_head(&pl->segments);
    if (head->discontinuity)
      pl->discontinuity_sequence++;
    expire(pl, old);
    segment_free(old);
  }
  return write_atomically(pl, err);
}

guint64 hls_playlist_segment_count(const hls_playlist_t *pl) {
  return pl->appended;
}
