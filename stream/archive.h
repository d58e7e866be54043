/* archive.h — a show's replay: every segment kept in DATA/shows/ID/ with a VOD playlist.
 *
 * The output's segments are hard-linked from the live dir as they close, so
 * keeping them costs no copy. index.m3u8 lists all of them with exact
 * durations (EXT-X-PLAYLIST-TYPE:EVENT while the show runs), marks
 * EXT-X-DISCONTINUITY only where the encoder restarted, and gets
 * EXT-X-ENDLIST (and type VOD) when the show ends. Control loop only.
 */
#ifndef TOURCAST_ARCHIVE_H
#define TOURCAST_ARCHIVE_H

#include <glib.h>

typedef struct archive archive_t;

/* Opens (creating it) the archive of show `show_id` under `shows_dir`
 * (copied). A playlist already there without EXT-X-ENDLIST (the process
 * restarted mid-show) is read back and continued; the next segment is marked
 * as a discontinuity. NULL with `err` set on I/O errors. */
archive_t *archive_open(const char *shows_dir, gint64 show_id, guint target_ms, GError **err);
/* NULL is a no-op. Does not end the playlist. */
void archive_free(archive_t *a);

/* Milliseconds of media already listed (where the show's timeline resumes). */
gint64 archive_duration_ms(const archive_t *a);

/* Keeps the segment at `src_path` under `name` (copied; hard link, or a copy
 * across file systems) and lists it. `discontinuity`: the encoder restarted
 * before it. Rewrites index.m3u8 atomically. */
gboolean archive_append(archive_t *a, const char *src_path, const char *name, guint64 duration_ns,
                        gboolean discontinuity, GError **err);

/* The show ended: EXT-X-ENDLIST, playlist type VOD. Idempotent. */
gboolean archive_end(archive_t *a, GError **err);

/* The playlist text as written. Caller frees. */
char *archive_render(const archive_t *a);

/* For a show left open by an earlier process: whether it has an archive,
 * its length and when its playlist was last written (unix ms). */
gboolean archive_probe(const char *shows_dir, gint64 show_id, gint64 *duration_ms,
                       gint64 *written_unix_ms);
/* Ends the archive of a show whose output is not running in this process
 * (e.g. ended at start-up): EXT-X-ENDLIST. TRUE if it has no archive. */
gboolean archive_close_show(const char *shows_dir, gint64 show_id, GError **err);

/* Deletes the media (segments and playlist) of shows under `shows_dir`
 * whose playlist was last written more than `max_age_s` seconds ago, except
 * show `keep_id`. Rows in the database (orders, events) are not touched.
 * Returns how many shows were pruned. */
guint archive_prune(const char *shows_dir, gint64 max_age_s, gint64 keep_id);

#endif
