/* test_hls.c — the live playlist writer: tags, rolling window, files on disk. */
#include <glib/gstdio.h>
#include <string.h>

#include "stream/hls.h"

static char *make_dir(void) {
  GError *err = NULL;
  char *dir = g_dir_make_tmp("tourcast-hls-XXXXXX", &err);
  g_assert_no_error(err);
  return dir;
}

static void touch(const char *dir, const char *name) {
  char *path = g_build_filename(dir, name, NULL);
  g_assert_true(g_file_set_contents(path, "x", 1, NULL));
  g_free(path);
}

static gboolean exists(const char *dir, const char *name) {
  char *path = g_build_filename(dir, name, NULL);
  gboolean ok = g_file_test(path, G_FILE_TEST_EXISTS);
  g_free(path);
  return ok;
}

static void rm_rf(const char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  const char *n;
  while (d && (n = g_dir_read_name(d)) != NULL) {
    char *p = g_build_filename(dir, n, NULL);
    g_unlink(p);
    g_free(p);
  }
  if (d)
    g_dir_close(d);
  g_rmdir(dir);
}

static void test_pdt_format(void) {
  static const struct {
    gint64 ms;
    const char *want;
  } rows[] = {
      {0, "1970-01-01T00:00:00.000Z"},
      {1795762893123, "2026-11-27T07:01:33.123Z"},
      {1795762893005, "2026-11-27T07:01:33.005Z"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
    char buf[32];
    hls_format_pdt(rows[i].ms, buf);
    g_assert_cmpstr(buf, ==, rows[i].want);
  }
}

static void test_tags_and_window(void) {
  char *dir = make_dir();
  hls_playlist_t *pl = hls_playlist_new(dir, 3, 1000);
  GError *err = NULL;
  gint64 epoch = 1795762893000;
  for (int i = 0; i < 5; i++) {
    char name[32];
    g_snprintf(name, sizeof name, "s1-%05d.ts", i);
    touch(dir, name);
    g_assert_true(
        hls_playlist_append(pl, name, i * 1000, 1000000000ull, epoch + i * 1000, FALSE, &err));
    g_assert_no_error(err);
  }
  char *text = hls_playlist_render(pl);
  g_assert_true(g_str_has_prefix(text, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n"));
  g_assert_nonnull(strstr(text, "#EXT-X-MEDIA-SEQUENCE:2\n"));
  g_assert_null(strstr(text, "s1-00001.ts"));
  g_assert_nonnull(strstr(text, "#EXT-X-PROGRAM-DATE-TIME:2026-11-27T07:01:35.000Z\n"
                                "#EXTINF:1.000,\ns1-00002.ts\n"));
  g_assert_null(strstr(text, "DISCONTINUITY"));
  g_assert_null(strstr(text, "ENDLIST")); /* a live playlist never ends */

  /* What is on disk is what render() says. */
  char *path = g_build_filename(dir, "index.m3u8", NULL);
  char *disk = NULL;
  g_assert_true(g_file_get_contents(path, &disk, NULL, NULL));
  g_assert_cmpstr(disk, ==, text);
  /* Left the playlist 3 segments ago or less: still on disk for late readers. */
  g_assert_true(exists(dir, "s1-00000.ts"));
  g_assert_true(exists(dir, "s1-00001.ts"));
  g_assert_cmpuint(hls_playlist_segment_count(pl), ==, 5);
  g_free(disk);
  g_free(path);
  g_free(text);
  hls_playlist_free(pl);
  rm_rf(dir);
  g_free(dir);
}

static void test_old_segments_deleted(void) {
  char *dir = make_dir();
  hls_playlist_t *pl = hls_playlist_new(dir, 2, 1000);
  for (int i = 0; i < 6; i++) {
    char name[32];
    g_snprintf(name, sizeof name, "s1-%05d.ts", i);
    touch(dir, name);
    g_assert_true(hls_playlist_append(pl, name, i * 1000, 1000000000ull, i * 1000, FALSE, NULL));
  }
  /* listed: 4,5; kept for late readers: 2,3; deleted: 0,1 */
  g_assert_false(exists(dir, "s1-00000.ts"));
  g_assert_false(exists(dir, "s1-00001.ts"));
  g_assert_true(exists(dir, "s1-00002.ts"));
  g_assert_true(exists(dir, "s1-00005.ts"));
  hls_playlist_free(pl);
  rm_rf(dir);
  g_free(dir);
}

static void test_discontinuity_sequence(void) {
  char *dir = make_dir();
  hls_playlist_t *pl = hls_playlist_new(dir, 2, 1000);
  /* session 1: a, b; session 2: c (discontinuity), d */
  const struct {
    const char *name;
    gboolean discont;
    const char *want_in, *want_out;
  } rows[] = {
      {"a.ts", TRUE, "a.ts", "DISCONTINUITY"}, /* the very first segment never is one */
      {"b.ts", FALSE, "b.ts", "DISCONTINUITY"},
      {"c.ts", TRUE, "#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME", "DISCONTINUITY-SEQ"},
      {"d.ts", FALSE, "#EXT-X-DISCONTINUITY-SEQUENCE:1\n", "#EXT-X-DISCONTINUITY\n"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
    g_assert_true(hls_playlist_append(pl, rows[i].name, (gint64)i * 1000, 1000000000ull, 0,
                                      rows[i].discont, NULL));
    char *text = hls_playlist_render(pl);
    g_assert_nonnull(strstr(text, rows[i].want_in));
    g_assert_null(strstr(text, rows[i].want_out));
    g_free(text);
  }
  hls_playlist_free(pl);
  rm_rf(dir);
  g_free(dir);
}

static void test_target_duration_grows(void) {
  char *dir = make_dir();
  hls_playlist_t *pl = hls_playlist_new(dir, 3, 1000);
  g_assert_true(hls_playlist_append(pl, "a.ts", 0, 2600000000ull, 0, FALSE, NULL));
  g_assert_true(hls_playlist_append(pl, "b.ts", 2600, 1000000000ull, 0, FALSE, NULL));
  char *text = hls_playlist_render(pl);
  g_assert_nonnull(strstr(text, "#EXT-X-TARGETDURATION:3\n")); /* round(2.6) */
  g_assert_nonnull(strstr(text, "#EXTINF:2.600,\na.ts\n"));
  g_free(text);
  hls_playlist_free(pl);
  rm_rf(dir);
  g_free(dir);
}

static void test_write_failure_reported(void) {
  hls_playlist_t *pl = hls_playlist_new("/nonexistent/tourcast", 3, 1000);
  GError *err = NULL;
  g_assert_false(hls_playlist_append(pl, "a.ts", 0, 1000000000ull, 0, FALSE, &err));
  g_assert_nonnull(err);
  g_clear_error(&err);
  hls_playlist_free(pl);
  hls_playlist_free(NULL);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/hls/pdt-format", test_pdt_format);
  g_test_add_func("/hls/tags-and-window", test_tags_and_window);
  g_test_add_func("/hls/old-segments-deleted", test_old_segments_deleted);
  g_test_add_func("/hls/discontinuity-sequence", test_discontinuity_sequence);
  g_test_add_func("/hls/target-duration-grows", test_target_duration_grows);
  g_test_add_func("/hls/write-failure", test_write_failure_reported);
  return g_test_run();
}
