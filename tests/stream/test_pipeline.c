/* test_pipeline.c — the media pipeline fed FLV tags directly (no RTMP).
 *
 * Pushes real H.264/AAC FLV clips made by scripts/fake-phone.sh through
 * pipeline_push_flv in real time, as a phone does, then checks the live and
 * archive playlists, the segments on disk, the stream clock and the
 * live/slate switches: a publisher that goes away and comes back at another
 * size and rate continues one timeline with one encoder (no discontinuity).
 */
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <string.h>

#include "overlay/overlay.h"
#include "stream/pipeline.h"

typedef struct {
  guint8 *data;
  gsize len;
} clip_t;

static clip_t make_clip(const char *size, int seconds) {
  const char *src = g_getenv("TOURCAST_SOURCE_DIR");
  g_assert_nonnull(src);
  char *script = g_build_filename(src, "scripts", "fake-phone.sh", NULL);
  char *dur = g_strdup_printf("%d", seconds);
  char *argv[] = {script, "-k", "-d", dur, "-s", (char *)size, NULL};
  char *out = NULL;
  int status = 0;
  GError *err = NULL;
  g_assert_true(
      g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status, &err));
  g_assert_no_error(err);
  g_assert_true(g_spawn_check_wait_status(status, NULL));
  clip_t c = {0};
  g_assert_true(g_file_get_contents(g_strstrip(out), (char **)&c.data, &c.len, NULL));
  g_free(out);
  g_free(dur);
  g_free(script);
  return c;
}

static void run_loop_until(gboolean (*done)(pipeline_t *), pipeline_t *p, int timeout_s) {
  gint64 deadline = g_get_monotonic_time() + timeout_s * G_USEC_PER_SEC;
  while (!done(p)) {
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    if (!g_main_context_iteration(NULL, FALSE))
      g_usleep(2000);
  }
}

static gboolean can_accept(pipeline_t *p) {
  return pipeline_can_accept(p);
}

static gboolean idle(pipeline_t *p) {
  return !pipeline_busy(p);
}

/* The output shows the slate (the publisher's frames have played out). */
static gboolean on_slate(pipeline_t *p) {
  return pipeline_slate_since_us(p) > 0;
}

/* The slate has been on air for 2 s (however busy the machine). */
static gboolean slate_2s(pipeline_t *p) {
  gint64 since = pipeline_slate_since_us(p);
  return since > 0 && g_get_monotonic_time() - since > 2 * G_USEC_PER_SEC;
}

/* Feeds the clip as rtmp_server would: the 13-byte header, then whole tags,
 * each no earlier than its timestamp after the start (a phone's pace). */
static void push_clip(pipeline_t *p, const clip_t *c) {
  g_assert_cmpuint(c->len, >, 13);
  g_assert_true(memcmp(c->data, "FLV", 3) == 0);
  pipeline_push_flv(p, 0, 0, c->data, 13);
  gint64 start = g_get_monotonic_time();
  gsize off = 13;
  while (off + 11 <= c->len) {
    const guint8 *t = c->data + off;
    gsize body = ((gsize)t[1] << 16) | ((gsize)t[2] << 8) | t[3];
    guint32 ts = ((guint32)t[7] << 24) | ((guint32)t[4] << 16) | ((guint32)t[5] << 8) | t[6];
    gsize whole = 11 + body + 4;
    g_assert_cmpuint(off + whole, <=, c->len);
    run_loop_until(can_accept, p, 30);
    while (g_get_monotonic_time() < start + (gint64)ts * 1000) {
      if (!g_main_context_iteration(NULL, FALSE))
        g_usleep(2000);
    }
    pipeline_push_flv(p, t[0], ts, t, whole);
    off += whole;
  }
}

static void run_loop_for(int ms) {
  gint64 until = g_get_monotonic_time() + ms * 1000;
  while (g_get_monotonic_time() < until) {
    if (!g_main_context_iteration(NULL, FALSE))
      g_usleep(2000);
  }
}

/* What feed_changed reported: stream_ms of each switch, live ones positive,
 * slate ones negative (-1 for a slate at 0). */
typedef struct {
  gint64 at[16];
  guint n;
} switches_t;

static void on_switch(void *user, gboolean live, gint64 stream_ms) {
  switches_t *sw = user;
  if (sw->n < G_N_ELEMENTS(sw->at))
    sw->at[sw->n++] = live ? stream_ms : -MAX(stream_ms, 1);
}

static char *read_playlist(const char *dir) {
  char *path = g_build_filename(dir, "index.m3u8", NULL);
  char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  g_free(path);
  return text;
}

static double listed_seconds(const char *text, int *count) {
  double total = 0;
  *count = 0;
  for (const char *l = strstr(text, "#EXTINF:"); l != NULL; l = strstr(l + 1, "#EXTINF:")) {
    total += g_ascii_strtod(l + 8, NULL);
    (*count)++;
  }
  return total;
}

/* Frees what a test made and removes its directory. */
static void teardown(pipeline_t *p, overlay_t *ov, char *dir, clip_t *clip) {
  pipeline_free(p);
  overlay_free(ov);
  char *cmd = g_strdup_printf("rm -rf '%s'", dir);
  g_assert_cmpint(system(cmd), ==, 0);
  g_free(cmd);
  g_free(dir);
  g_free(clip->data);
}

static char *read_archive(const char *dir, const char *id) {
  char *sub = g_build_filename(dir, "shows", id, NULL);
  char *text = read_playlist(sub);
  g_free(sub);
  return text;
}

/* A phone publishes, drops, waits, and comes back at another size and rate:
 * the slate fills the gap, one encoder runs throughout, the archive keeps it
 * all and ends when the show does. */
static void test_drop_slate_resume(void) {
  clip_t clip = make_clip("640x360", 3);
  clip_t other = make_clip("320x240", 2);
  char *dir = g_dir_make_tmp("tourcast-pipe-XXXXXX", NULL);
  char *shows = g_build_filename(dir, "shows", NULL);
  overlay_t *ov = overlay_new(720, 1280);
  overlay_state_t card = {.title = "测试", .promise = "坏果包赔"};
  overlay_update(ov, &card);
  overlay_flush(ov);
  switches_t sw = {0};
  pipeline_config_t cfg = {.width = 720,
                           .height = 1280,
                           .fps = 30,
                           .bitrate_kbps = 1500,
                           .segment_ms = 1000,
                           .live_dir = dir,
                           .overlay = ov,
                           .shows_dir = shows,
                           .feed_changed = on_switch,
                           .user = &sw};
  GError *err = NULL;
  pipeline_t *p = pipeline_new(&cfg, &err);
  g_assert_no_error(err);
  g_assert_cmpint(pipeline_stream_ms(p), ==, -1);

  g_assert_true(pipeline_begin(p, 1, &err));
  push_clip(p, &clip);
  pipeline_end(p);
  run_loop_until(slate_2s, p, 30);
  gint64 mid = pipeline_stream_ms(p);
  g_assert_cmpint(mid, >, 4000); /* the clock ran on under the slate */
  g_assert_cmpint(pipeline_slate_since_us(p), >, 0);
  g_assert_true(pipeline_begin(p, 1, &err));
  push_clip(p, &other);
  pipeline_end(p);
  /* What was decoded plays out (up to 0.8 s, or the session's EOS) before
   * the slate: wait for it rather than for a fixed time. */
  run_loop_until(on_slate, p, 30);
  run_loop_for(300);
  gint64 end_ms = pipeline_stream_ms(p);
  pipeline_finish(p, TRUE);
  run_loop_until(idle, p, 30);
  /* Between shows there is no clock and no epoch: the next show's own
   * start at stream_ms 0, never this one's. */
  g_assert_cmpint(pipeline_stream_ms(p), ==, -1);
  g_assert_cmpint(pipeline_epoch_unix_ms(p), ==, -1);

  /* live, slate, live, slate: in order, never going back */
  g_assert_cmpuint(sw.n, ==, 4);
  g_assert_cmpint(sw.at[0], >=, 0);
  g_assert_cmpint(sw.at[0], <, 200);
  g_assert_cmpint(-sw.at[1], >, 2500);
  g_assert_cmpint(-sw.at[1], <, 4000);
  g_assert_cmpint(sw.at[2], >, mid);
  g_assert_cmpint(-sw.at[3], >, sw.at[2] + 1500);

  char *live = read_playlist(dir);
  g_assert_null(strstr(live, "#EXT-X-DISCONTINUITY"));
  g_assert_nonnull(strstr(live, "#EXT-X-PROGRAM-DATE-TIME:"));
  char *arch = read_archive(dir, "1");
  int n = 0;
  double secs = listed_seconds(arch, &n);
  g_assert_cmpfloat(secs, >, end_ms / 1000.0 - 0.1);
  g_assert_cmpfloat(secs, <, end_ms / 1000.0 + 0.1);
  g_assert_cmpfloat(secs, >, 3 + 2.5 + 2);
  g_assert_null(strstr(arch, "#EXT-X-DISCONTINUITY"));
  g_assert_nonnull(strstr(arch, "#EXT-X-ENDLIST\n"));
  g_assert_nonnull(strstr(arch, "#EXT-X-PLAYLIST-TYPE:VOD"));

  pipeline_stats_t st;
  pipeline_get_stats(p, &st);
  g_assert_cmpuint(st.sessions, ==, 2);
  g_assert_cmpuint(st.errors, ==, 0);
  g_assert_cmpuint(st.output_restarts, ==, 0);
  g_assert_false(st.live);
  g_assert_false(st.on_air);
  g_assert_cmpuint(st.segments, >=, (guint64)n);
  g_free(live);
  g_free(arch);
  g_free(shows);
  g_free(other.data);
  teardown(p, ov, dir, &clip);
}

/* Garbage instead of H.264 ends the session with an error, not a crash: the
 * slate shows, and the next publish is live again. */
static void test_garbage_then_recovery(void) {
  clip_t clip = make_clip("640x360", 2);
  char *dir = g_dir_make_tmp("tourcast-pipe-XXXXXX", NULL);
  overlay_t *ov = overlay_new(720, 1280);
  switches_t sw = {0};
  pipeline_config_t cfg = {.width = 720,
                           .height = 1280,
                           .fps = 30,
                           .bitrate_kbps = 1000,
                           .segment_ms = 1000,
                           .live_dir = dir,
                           .overlay = ov,
                           .feed_changed = on_switch,
                           .user = &sw};
  pipeline_t *p = pipeline_new(&cfg, NULL);
  g_assert_true(pipeline_begin(p, 1, NULL));
  /* Well-framed FLV video tags (keyframe, AVC NALU) whose payload is junk. */
  guint8 tag[11 + 4096 + 4] = {9};
  gsize body = 4096;
  tag[1] = (guint8)(body >> 16), tag[2] = (guint8)(body >> 8), tag[3] = (guint8)body;
  tag[11] = 0x17, tag[12] = 0x01;
  for (gsize i = 16; i < 11 + body; i++)
    tag[i] = (guint8)(i * 131 + 7);
  tag[11 + body + 3] = (guint8)(11 + body), tag[11 + body + 2] = (guint8)((11 + body) >> 8);
  pipeline_push_flv(p, 0, 0, (const guint8 *)"FLV\x01\x05\0\0\0\x09\0\0\0\0", 13);
  for (guint32 ts = 0; ts < 1000; ts += 33) {
    tag[4] = (guint8)(ts >> 16), tag[5] = (guint8)(ts >> 8), tag[6] = (guint8)ts;
    pipeline_push_flv(p, 9, ts, tag, sizeof tag);
  }
  pipeline_end(p);
  run_loop_for(2000);
  g_assert_cmpuint(sw.n, ==, 0); /* the output still waits for a first live frame */
  run_loop_for(3500);
  g_assert_cmpuint(sw.n, ==, 1); /* none came: the show starts on the slate */
  g_assert_cmpint(sw.at[0], <, 0);

  g_assert_true(pipeline_begin(p, 1, NULL));
  push_clip(p, &clip);
  pipeline_end(p);
  run_loop_for(300);
  pipeline_finish(p, TRUE);
  run_loop_until(idle, p, 30);
  g_assert_cmpuint(sw.n, >=, 2);
  g_assert_cmpint(sw.at[1], >, 300); /* live after the slate, which began at 0 */
  char *text = read_playlist(dir);
  int n = 0;
  g_assert_cmpfloat(listed_seconds(text, &n), >, 2.5);
  g_free(text);
  teardown(p, ov, dir, &clip);
}

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/pipeline/drop-slate-resume", test_drop_slate_resume);
  g_test_add_func("/pipeline/garbage-then-recovery", test_garbage_then_recovery);
  int rc = g_test_run();
  gst_deinit();
  return rc;
}
