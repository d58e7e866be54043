/* hls.h — the live HLS playlist writer.
 *
 * hlssink2 writes whole-second EXTINF and no EXT-X-PROGRAM-DATE-TIME, so the
 * playlist is ours: splitmuxsink cuts the segments, and every closed fragment
 * is appended here with its exact duration and its place on the show's
 * timeline. The playlist is written with write-then-rename, so a reader never
 * sees half a file. Control loop only.
 */
#ifndef TOURCAST_HLS_H
#define TOURCAST_HLS_H

#include <glib.h>

typedef struct hls_playlist hls_playlist_t;

/* A playlist in `dir` (copied) named index.m3u8, listing the last `window`
 * segments. `target_ms` is the nominal segment length. Segment files that fall
 * more than `window` segments behind the playlist are deleted from `dir`. */
hls_playlist_t *hls_playlist_new(const char *dir, guint window, guint target_ms);
/* NULL is a no-op. Leaves the files on disk. */
void hls_playlist_free(hls_playlist_t *pl);

/* Appends a segment. `name` is the file name inside dir (copied), start_ms its
 * start on the show timeline (stream_ms), duration_ns its exact length, and
 * pdt_unix_ms the wall-clock time to announce for its first frame.
 * `discontinuity` marks a segment that does not continue the previous one
 * (new encoder). Rewrites index.m3u8; returns FALSE with `err` set if that
 * failed (the in-memory playlist still has the segment). */
gboolean hls_playlist_append(hls_playlist_t *pl, const char *name, gint64 start_ms,
                             guint64 duration_ns, gint64 pdt_unix_ms, gboolean discontinuity,
                             GError **err);

/* The playlist text as it is written to disk. Caller frees with g_free. */
char *hls_playlist_render(const hls_playlist_t *pl);

/* Number of segments appended since creation. */
guint64 hls_playlist_segment_count(const hls_playlist_t *pl);

/* Formats unix_ms as an ISO 8601 UTC time with milliseconds into buf
 * ("2026-11-27T07:01:33.123Z"); buf must hold 32 bytes. */
void hls_format_pdt(gint64 unix_ms, char buf[32]);

/* Replaces dir/index.m3u8 with `text` atomically (a temporary file renamed
 * over it), so an HTTP reader sees the old playlist or the new one, never a
 * torn one. No fsync: a playlist is rewritten every segment. */
gboolean hls_write_playlist(const char *dir, const char *text, GError **err);

#endif
