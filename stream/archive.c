/* archive.c — the VOD playlist of one show and the segment files behind it.
 *
 * A list of (name, duration, discontinuity) kept in memory and rendered whole
 * on every append: a show of three hours is ~11k short lines, written with
 * write-then-rename once a second. Not the live playlist (hls.c), not a
 * segmenter.
 */
#include "stream/archive.h"
#include "stream/hls.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  char *name;
  guint64 duration_ns;
  gboolean discontinuity;
} entry_t;

struct archive {
  char *dir;
  GArray *entries; /* of entry_t */
  guint target_ms;
  guint target_s;
  guint64 total_ns;
  gboolean ended;
  gboolean resumed; /* the next appended segment follows a restart */
};

static void entry_clear(gpointer p) {
  g_free(((entry_t *)p)->name);
}

static void add_entry(archive_t *a, const char *name, guint64 duration_ns, gboolean discont) {
  entry_t e = {g_strdup(name), duration_ns, discont && a->entries->len > 0};
  g_array_append_val(a->entries, e);
  a->total_ns += duration_ns;
  guint rounded = (guint)llround(duration_ns / 1e9);
  a->target_s = MAX(a->target_s, rounded);
}

/* Reads back a playlist this module wrote: only EXTINF, DISCONTINUITY and
 * file-name lines matter. A name with a '/' or a leading dot is skipped. */
static void read_back(archive_t *a, const char *text) {
  char **lines = g_strsplit(text, "\n", -1);
  double dur = -1;
  gboolean discont = FALSE;
  for (char **l = lines; *l != NULL; l++) {
    g_strstrip(*l);
    if (g_str_has_prefix(*l, "#EXTINF:")) {
      dur = g_ascii_strtod(*l + 8, NULL);
    } else if (strcmp(*l, "#EXT-X-DISCONTINUITY") == 0) {
      discont = TRUE;
    } else if (strcmp(*l, "#EXT-X-ENDLIST") == 0) {
      a->ended = TRUE;
    } else if (**l != '\0' && **l != '#' && **l != '.' && strchr(*l, '/') == NULL && dur >= 0) {
      add_entry(a, *l, (guint64)llround(dur * 1e9), discont);
      dur = -1;
      discont = FALSE;
    }
  }
  g_strfreev(lines);
}

archive_t *archive_open(const char *shows_dir, gint64 show_id, guint target_ms, GError **err) {
  char id[32];
  g_snprintf(id, sizeof id, "%" G_GINT64_FORMAT, show_id);
  char *dir = g_build_filename(shows_dir, id, NULL);
  if (g_mkdir_with_parents(dir, 0755) != 0) {
    g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "cannot create %s: %s", dir,
                g_strerror(errno));
    g_free(dir);
    return NULL;
  }
  archive_t *a = g_new0(archive_t, 1);
  a->dir = dir;
  a->entries = g_array_new(FALSE, FALSE, sizeof(entry_t));
  g_array_set_clear_func(a->entries, entry_clear);
  a->target_ms = target_ms;
  a->target_s = MAX(1u, (target_ms + 999) / 1000);
  char *path = g_build_filename(dir, "index.m3u8", NULL);
  char *text = NULL;
  if (g_file_get_contents(path, &text, NULL, NULL)) {
    read_back(a, text);
    a->resumed = a->entries->len > 0;
    a->ended = FALSE; /* the show goes on: a segment after ENDLIST reopens it */
  }
  g_free(text);
  g_free(path);
  return a;
}

void archive_free(archive_t *a) {
  if (a == NULL)
    return;
  g_array_free(a->entries, TRUE);
  g_free(a->dir);
  g_free(a);
}

gint64 archive_duration_ms(const archive_t *a) {
  return (gint64)(a->total_ns / 1000000);
}

char *archive_render(const archive_t *a) {
  GString *s = g_string_new("#EXTM3U\n#EXT-X-VERSION:3\n");
  g_string_append_printf(s, "#EXT-X-TARGETDURATION:%u\n", a->target_s);
  g_string_append(s, "#EXT-X-MEDIA-SEQUENCE:0\n");
  g_string_append_printf(s, "#EXT-X-PLAYLIST-TYPE:%s\n", a->ended ? "VOD" : "EVENT");
  for (guint i = 0; i < a->entries->len; i++) {
    const entry_t *e = &g_array_index(a->entries, entry_t, i);
    if (e->discontinuity)
      g_string_append(s, "#EXT-X-DISCONTINUITY\n");
    g_string_append_printf(s, "#EXTINF:%.3f,\n%s\n", e->duration_ns / 1e9, e->name);
  }
  if (a->ended)
    g_string_append(s, "#EXT-X-ENDLIST\n");
  return g_string_free(s, FALSE);
}

static gboolean write_playlist(const archive_t *a, GError **err) {
  char *text = archive_render(a);
  gboolean ok = hls_write_playlist(a->dir, text, err);
  g_free(text);
  return ok;
}

/* A hard link shares the live file's blocks: the live dir may delete its
 * name later and the archive keeps the data. */
static gboolean keep_file(const char *src, const char *dst, GError **err) {
  if (link(src, dst) == 0 || errno == EEXIST)
    return TRUE;
  char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(src, &data, &len, err))
    return FALSE;
  gboolean ok = g_file_set_contents(dst, data, (gssize)len, err);
  g_free(data);
  return ok;
}

gboolean archive_append(archive_t *a, const char *src_path, const char *name, guint64 duration_ns,
                        gboolean discontinuity, GError **err) {
  char *dst = g_build_filename(a->dir, name, NULL);
  gboolean ok = keep_file(src_path, dst, err);
  g_free(dst);
  if (!ok)
    return FALSE;
  add_entry(a, name, duration_ns, discontinuity || a->resumed);
  a->resumed = FALSE;
  a->ended = FALSE;
  return write_playlist(a, err);
}

gboolean archive_end(archive_t *a, GError **err) {
  if (a->ended)
    return TRUE;
  a->ended = TRUE;
  return write_playlist(a, err);
}

static gboolean all_digits(const char *s) {
  if (*s == '\0')
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isdigit(*s))
      return FALSE;
  return TRUE;
}

/* Removes the files of one show dir (no subdirectories are made there). */
static void remove_show_dir(const char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  if (d == NULL)
    return;
  const char *name;
  while ((name = g_dir_read_name(d)) != NULL) {
    char *path = g_build_filename(dir, name, NULL);
    g_unlink(path);
    g_free(path);
  }
  g_dir_close(d);
  g_rmdir(dir);
}

guint archive_prune(const char *shows_dir, gint64 max_age_s, gint64 keep_id) {
  GDir *d = g_dir_open(shows_dir, 0, NULL);
  if (d == NULL)
    return 0;
  guint pruned = 0;
  gint64 now = g_get_real_time() / G_USEC_PER_SEC;
  const char *name;
  while ((name = g_dir_read_name(d)) != NULL) {
    if (!all_digits(name) || g_ascii_strtoll(name, NULL, 10) == keep_id)
      continue;
    char *dir = g_build_filename(shows_dir, name, NULL);
    char *pl = g_build_filename(dir, "index.m3u8", NULL);
    GStatBuf st;
    const char *probe = g_stat(pl, &st) == 0 ? pl : dir;
    if (g_stat(probe, &st) == 0 && now - (gint64)st.st_mtime > max_age_s) {
      remove_show_dir(dir);
      pruned++;
    }
    g_free(pl);
    g_free(dir);
  }
  g_dir_close(d);
  return pruned;
}

/* The playlist of show `show_id`, NULL if it has none. */
static char *playlist_path(const char *shows_dir, gint64 show_id) {
  char id[32];
  g_snprintf(id, sizeof id, "%" G_GINT64_FORMAT, show_id);
  char *path = g_build_filename(shows_dir, id, "index.m3u8", NULL);
  if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
    return path;
  g_free(path);
  return NULL;
}

gboolean archive_probe(const char *shows_dir, gint64 show_id, gint64 *duration_ms,
                       gint64 *written_unix_ms) {
  char *path = playlist_path(shows_dir, show_id);
  GStatBuf st;
  if (path == NULL || g_stat(path, &st) != 0) {
    g_free(path);
    return FALSE;
  }
  *written_unix_ms = (gint64)st.st_mtime * 1000;
  g_free(path);
  archive_t *a = archive_open(shows_dir, show_id, 1000, NULL);
  *duration_ms = a ? archive_duration_ms(a) : 0;
  archive_free(a);
  return TRUE;
}

gboolean archive_close_show(const char *shows_dir, gint64 show_id, GError **err) {
  char *path = playlist_path(shows_dir, show_id);
  if (path == NULL)
    return TRUE; /* never on air: no archive to close */
  g_free(path);
  archive_t *a = archive_open(shows_dir, show_id, 1000, err);
  gboolean ok = a != NULL && archive_end(a, err);
  archive_free(a);
  return ok;
}
