/* test_rtmp_server.c — the listener with real sockets and real publishers:
 * ffmpeg and GStreamer's rtmp2sink publish into a GMainLoop-driven server,
 * the FLV we hand on is checked with ffprobe and flvdemux; wrong keys and a
 * second publisher are refused while the first stays live; limits and
 * timeouts are checked with raw sockets from a helper thread, among them the
 * room the real publisher always gets: the publish deadline that input does
 * not extend, eviction of the oldest unauthenticated connection when full,
 * the per-address cap, and the authenticated publisher never evicted. */
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/gst.h>

#include "stream/amf0.h"
#include "stream/rtmp_chunk.h"
#include "stream/rtmp_server.h"

#define KEY "k3y-for-tests"

typedef struct {
  GMainLoop *loop;
  rtmp_server_t *srv;
  int starts, stops;
  GByteArray *flv;     /* the session being received */
  GPtrArray *sessions; /* GByteArray * of finished sessions */
  guint accept_calls;
  gboolean throttle; /* can_accept says no every third time */
  guint running;     /* child processes not yet reaped */
  char *port_url;
  /* the concurrent attempts while the first publisher is live */
  int busy_status, wrong_status;
  gboolean busy_while_live, wrong_while_live;
  GThread *garbage;
  gint garbage_done;
  gint limits_done;
  gint takeover_done;
  gboolean spawned_extra;
} ctx_t;

/* ---- server callbacks ---- */

static void spawn_extra(ctx_t *cx);

static void cb_start(void *user, const char *key) {
  ctx_t *cx = user;
  g_assert_cmpstr(key, ==, KEY);
  g_assert_cmpint(cx->starts, ==, cx->stops);
  cx->starts++;
  cx->flv = g_byte_array_new();
  if (!cx->spawned_extra)
    spawn_extra(cx);
}

static void cb_flv(void *user, guint8 type, guint32 ts, const guint8 *data, gsize len) {
  ctx_t *cx = user;
  g_assert_nonnull(cx->flv);
  if (cx->flv->len == 0) { /* the header comes first, alone */
    g_assert_cmpuint(type, ==, 0);
    g_assert_cmpuint(len, ==, 13);
    g_assert_cmpmem(data, 3, "FLV", 3);
  }
  g_byte_array_append(cx->flv, data, (guint)len);
}

static void cb_stop(void *user) {
  ctx_t *cx = user;
  cx->stops++;
  g_assert_cmpint(cx->stops, ==, cx->starts);
  g_ptr_array_add(cx->sessions, cx->flv);
  cx->flv = NULL;
}

static gboolean cb_can_accept(void *user) {
  ctx_t *cx = user;
  return !cx->throttle || ++cx->accept_calls % 3 != 0;
}

static void ctx_init(ctx_t *cx) {
  static const rtmp_server_callbacks_t cb = {cb_start, cb_flv, cb_stop, cb_can_accept};
  GError *err = NULL;

  memset(cx, 0, sizeof *cx);
  cx->loop = g_main_loop_new(NULL, FALSE);
  cx->sessions = g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref);
  cx->srv = rtmp_server_new("127.0.0.1", 0, "live", KEY, &cb, cx, &err);
  g_assert_no_error(err);
  g_assert_cmpuint(rtmp_server_port(cx->srv), >, 0);
  cx->port_url = g_strdup_printf("rtmp://127.0.0.1:%u/live/", rtmp_server_port(cx->srv));
}

static void ctx_clear(ctx_t *cx) {
  rtmp_server_free(cx->srv);
  g_assert_cmpint(cx->starts, ==, cx->stops);
  if (cx->flv)
    g_byte_array_unref(cx->flv);
  g_ptr_array_unref(cx->sessions);
  g_main_loop_unref(cx->loop);
  g_free(cx->port_url);
}

static gboolean on_deadline(gpointer data) {
  g_error("test did not finish in time");
  return G_SOURCE_REMOVE;
}

/* ---- child processes ---- */

typedef struct {
  ctx_t *cx;
  int *status;    /* where the exit status goes */
  gboolean *live; /* whether a publisher was live when it exited */
} child_t;

static void on_child_exit(GObject *obj, GAsyncResult *res, gpointer data) {
  child_t *ch = data;
  GSubprocess *proc = G_SUBPROCESS(obj);
  rtmp_server_stats_t st;

  g_assert_true(g_subprocess_wait_finish(proc, res, NULL));
  rtmp_server_get_stats(ch->cx->srv, &st);
  if (ch->status)
    *ch->status = g_subprocess_get_if_exited(proc) ? g_subprocess_get_exit_status(proc) : -1;
  if (ch->live)
    *ch->live = st.publishing;
  if (--ch->cx->running == 0)
    g_main_loop_quit(ch->cx->loop);
  g_object_unref(proc);
  g_free(ch);
}

static void spawn(ctx_t *cx, const char *const *argv, gboolean quiet, int *status, gboolean *live) {
  GError *err = NULL;
  GSubprocessFlags flags = quiet ? G_SUBPROCESS_FLAGS_STDERR_SILENCE : G_SUBPROCESS_FLAGS_NONE;
  GSubprocess *proc = g_subprocess_newv(argv, flags | G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &err);
  child_t *ch = g_new0(child_t, 1);

  g_assert_no_error(err);
  ch->cx = cx;
  ch->status = status;
  ch->live = live;
  cx->running++;
  g_subprocess_wait_async(proc, NULL, on_child_exit, ch);
}

static void spawn_ffmpeg(ctx_t *cx, const char *key, double seconds, gboolean quiet, int *status,
                         gboolean *live) {
  char *url = g_strconcat(cx->port_url, key, NULL);
  char *t = g_strdup_printf("%g", seconds);
  const char *argv[] = {
      "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error",
      "-re",    "-f",       "lavfi",        "-i",        "testsrc2=size=320x240:rate=30",
      "-f",     "lavfi",    "-i",           "sine",      "-t",
      t,        "-c:v",     "libx264",      "-g",        "30",
      "-c:a",   "aac",      "-f",           "flv",       url,
      NULL};
  spawn(cx, argv, quiet, status, live);
  g_free(url);
  g_free(t);
}

/* ---- checking what we handed on ---- */

static char *write_session(const GByteArray *flv) {
  GError *err = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp("tourcast-rtmp-XXXXXX.flv", &path, &err);
  g_assert_no_error(err);
  close(fd);
  g_assert_true(g_file_set_contents(path, (const char *)flv->data, flv->len, &err));
  return path;
}

/* ffprobe's view: codecs present and duration. */
static void check_ffprobe(const char *path, double min_s, double max_s) {
  const char *argv[] = {
      "ffprobe",      "-v", "error", "-show_entries", "stream=codec_name:format=duration", "-of",
      "default=nw=1", path, NULL};
  char *out = NULL;
  int status = -1;
  GError *err = NULL;
  const char *d;
  double duration;

  g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL,
                             &status, &err));
  g_assert_no_error(err);
  g_assert_true(g_spawn_check_wait_status(status, NULL));
  g_test_message("ffprobe: %s", out);
  g_assert_nonnull(strstr(out, "codec_name=h264"));
  g_assert_nonnull(strstr(out, "codec_name=aac"));
  d = strstr(out, "duration=");
  g_assert_nonnull(d);
  duration = g_ascii_strtod(d + 9, NULL);
  g_assert_cmpfloat(duration, >=, min_s);
  g_assert_cmpfloat(duration, <=, max_s);
  g_free(out);
}

/* flvdemux, what the pipeline will use, reads it to EOS without error. */
static void check_flvdemux(const char *path) {
  GError *err = NULL;
  char *desc = g_strdup_printf("filesrc location=%s ! flvdemux name=d "
                               "d.video ! queue ! h264parse ! fakesink "
                               "d.audio ! queue ! aacparse ! fakesink",
                               path);
  GstElement *p = gst_parse_launch(desc, &err);
  GstBus *bus;
  GstMessage *msg;

  g_assert_no_error(err);
  gst_element_set_state(p, GST_STATE_PLAYING);
  bus = gst_element_get_bus(p);
  msg = gst_bus_timed_pop_filtered(bus, 10 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull(msg);
  g_assert_cmpint(GST_MESSAGE_TYPE(msg), ==, GST_MESSAGE_EOS);
  gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  g_free(desc);
}

static void check_session(const GByteArray *flv, double min_s, double max_s) {
  char *path = write_session(flv);
  check_ffprobe(path, min_s, max_s);
  check_flvdemux(path);
  g_unlink(path);
  g_free(path);
}

/* ---- a hostile client on the side ---- */

/* A connection to the server from `src` (a loopback address such as
 * "127.0.0.2"; NULL: the kernel's pick, 127.0.0.1). */
static GSocket *raw_connect_from(guint16 port, const char *src) {
  GError *err = NULL;
  GSocket *s =
      g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &err);
  GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  GSocketAddress *sa = g_inet_socket_address_new(lo, port);

  g_assert_no_error(err);
  g_socket_set_timeout(s, 5);
  if (src != NULL) {
    GInetAddress *ia = g_inet_address_new_from_string(src);
    GSocketAddress *local = g_inet_socket_address_new(ia, 0);
    g_assert_true(g_socket_bind(s, local, FALSE, &err));
    g_object_unref(local);
    g_object_unref(ia);
  }
  g_assert_true(g_socket_connect(s, sa, NULL, &err));
  g_assert_no_error(err);
  g_object_unref(sa);
  g_object_unref(lo);
  return s;
}

static GSocket *raw_connect(guint16 port) {
  return raw_connect_from(port, NULL);
}

static void raw_send(GSocket *s, const void *p, gsize len) {
  g_assert_cmpint(g_socket_send(s, p, len, NULL, NULL), ==, (gssize)len);
}

/* Reads until the server closes; returns the seconds that took. */
static double wait_closed(GSocket *s) {
  gint64 t0 = g_get_monotonic_time();
  char buf[4096];
  for (;;) {
    GError *err = NULL;
    gssize n = g_socket_receive(s, buf, sizeof buf, NULL, &err);
    if (n <= 0) {
      g_assert_false(g_error_matches(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT));
      g_clear_error(&err);
      break;
    }
  }
  g_socket_close(s, NULL);
  g_object_unref(s);
  return (g_get_monotonic_time() - t0) / 1e6;
}

/* A handshake, then the S0+S1+S2 reply read in full. */
static void raw_handshake(GSocket *s) {
  guint8 c0c1[1537] = {3}, buf[3073];
  gsize got = 0;
  raw_send(s, c0c1, sizeof c0c1);
  while (got < sizeof buf) {
    gssize n = g_socket_receive(s, (char *)buf + got, sizeof buf - got, NULL, NULL);
    g_assert_cmpint(n, >, 0);
    got += (gsize)n;
  }
  g_assert_cmpuint(buf[0], ==, 3);
  raw_send(s, c0c1 + 1, 1536); /* C2 */
}

static void put_command(GByteArray *out, guint32 msid, const char *name, double txn,
                        const char *arg) {
  GByteArray *p = g_byte_array_new();
  rtmp_message_t m = {3, RTMP_MSG_COMMAND_AMF0, msid, 0, NULL, 0};

  amf0_write_string(p, name);
  amf0_write_number(p, txn);
  if (arg == NULL) { /* connect */
    amf0_write_object_start(p);
    amf0_write_prop_string(p, "app", "live");
    amf0_write_object_end(p);
  } else {
    amf0_write_null(p);
    amf0_write_string(p, arg);
  }
  m.data = p->data;
  m.len = p->len;
  rtmp_chunk_write(out, RTMP_CHUNK_SIZE_DEFAULT, &m);
  g_byte_array_unref(p);
}

/* A bare publisher: handshake, connect, createStream, publish; replies
 * are left unread in the socket. */
static void raw_publish(GSocket *s) {
  GByteArray *out = g_byte_array_new();

  raw_handshake(s);
  put_command(out, 0, "connect", 1, NULL);
  put_command(out, 0, "createStream", 2, "");
  put_command(out, 1, "publish", 3, KEY);
  raw_send(s, out->data, out->len);
  g_byte_array_unref(out);
}

static gpointer garbage_thread(gpointer data) {
  guint16 port = GPOINTER_TO_UINT(data);
  GSocket *s = raw_connect(port);
  /* A handshake, then a chunk announcing a 5 MiB message. */
  static const guint8 oversized[] = {0x06, 0, 0, 0, 0x50, 0, 0, 9, 1, 0, 0, 0};

  raw_handshake(s);
  raw_send(s, oversized, sizeof oversized);
  g_assert_cmpfloat(wait_closed(s), <, 2);
  s = raw_connect(port);
  raw_send(s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
  g_assert_cmpfloat(wait_closed(s), <, 2);
  return NULL;
}

static gpointer garbage_runner(gpointer data) {
  ctx_t *cx = data;
  garbage_thread(GUINT_TO_POINTER((guint)rtmp_server_port(cx->srv)));
  g_atomic_int_set(&cx->garbage_done, 1);
  return NULL;
}

/* Once the first publisher is live: a second one with the right key, one
 * with a wrong key, and garbage on the side. None may disturb the first. */
static void spawn_extra(ctx_t *cx) {
  cx->spawned_extra = TRUE;
  spawn_ffmpeg(cx, KEY, 1, TRUE, &cx->busy_status, &cx->busy_while_live);
  spawn_ffmpeg(cx, "wrong-key", 1, TRUE, &cx->wrong_status, &cx->wrong_while_live);
  cx->garbage = g_thread_new("garbage", garbage_runner, cx);
}

/* ---- tests ---- */

static void test_ffmpeg(void) {
  ctx_t cx;
  int status = -1;
  rtmp_server_stats_t st;
  guint deadline;

  ctx_init(&cx);
  cx.throttle = TRUE;
  cx.busy_status = cx.wrong_status = -1;
  spawn_ffmpeg(&cx, KEY "?via=test", 3, FALSE, &status, NULL);
  deadline = g_timeout_add_seconds(25, on_deadline, NULL);
  g_main_loop_run(cx.loop);
  /* The server sees the publisher's socket close a moment after ffmpeg
   * exits, and the garbage thread needs the loop until it is done. */
  while (cx.stops < cx.starts || !g_atomic_int_get(&cx.garbage_done))
    g_main_context_iteration(NULL, TRUE);
  g_source_remove(deadline);
  g_thread_join(cx.garbage);

  g_assert_cmpint(status, ==, 0);
  g_assert_cmpint(cx.busy_status, >, 0); /* refused: "a publisher is already live" */
  g_assert_true(cx.busy_while_live);
  g_assert_cmpint(cx.wrong_status, >, 0);
  g_assert_true(cx.wrong_while_live);
  g_assert_cmpint(cx.starts, ==, 1);
  g_assert_cmpint(cx.stops, ==, 1);
  g_assert_cmpuint(cx.accept_calls, >, 3); /* back-pressure was exercised */
  rtmp_server_get_stats(cx.srv, &st);
  g_assert_cmpuint(st.connections_accepted, ==, 5);
  g_assert_cmpuint(st.connections_rejected, ==, 4);
  g_assert_cmpuint(st.media_messages, >, 150);
  g_assert_false(st.publishing);
  check_session(g_ptr_array_index(cx.sessions, 0), 2.5, 3.5);
  ctx_clear(&cx);
}

static void test_rtmp2sink(void) {
  ctx_t cx;
  int status = -1;
  char *loc;
  guint deadline;

  ctx_init(&cx);
  cx.spawned_extra = TRUE; /* nothing on the side this time */
  loc = g_strdup_printf("location=%s%s", cx.port_url, KEY);
  {
    const char *argv[] = {"gst-launch-1.0",
                          "-q",
                          "videotestsrc",
                          "num-buffers=90",
                          "!",
                          "video/x-raw,width=320,height=240,framerate=30/1",
                          "!",
                          "x264enc",
                          "key-int-max=30",
                          "speed-preset=ultrafast",
                          "!",
                          "h264parse",
                          "!",
                          "flvmux",
                          "name=m",
                          "streamable=true",
                          "!",
                          "rtmp2sink",
                          loc,
                          "audiotestsrc",
                          "num-buffers=130",
                          "!",
                          "audioconvert",
                          "!",
                          "avenc_aac",
                          "!",
                          "aacparse",
                          "!",
                          "m.",
                          NULL};
    spawn(&cx, argv, FALSE, &status, NULL);
  }
  deadline = g_timeout_add_seconds(25, on_deadline, NULL);
  g_main_loop_run(cx.loop);
  /* rtmp2sink may close its socket just after it exits: let the server see it. */
  while (cx.stops < cx.starts)
    g_main_context_iteration(NULL, TRUE);
  g_source_remove(deadline);
  g_assert_cmpint(status, ==, 0);
  g_assert_cmpint(cx.starts, ==, 1);
  check_session(g_ptr_array_index(cx.sessions, 0), 2.5, 3.5);
  g_free(loc);
  ctx_clear(&cx);
}

/* Seconds since `t0` at which the server closes `s`. */
static double closed_at(GSocket *s, gint64 t0) {
  wait_closed(s);
  return (g_get_monotonic_time() - t0) / 1e6;
}

/* ---- limits, timeouts and room, scripted from a helper thread ---- */

typedef void (*script_fn)(guint16 port);

typedef struct {
  ctx_t *cx;
  script_fn fn;
} script_t;

static gpointer script_runner(gpointer data) {
  script_t *sc = data;
  sc->fn(rtmp_server_port(sc->cx->srv));
  g_atomic_int_set(&sc->cx->limits_done, 1);
  return NULL;
}

static gboolean poll_thread_done(gpointer data) {
  ctx_t *cx = data;
  if (g_atomic_int_get(&cx->limits_done))
    g_main_loop_quit(cx->loop);
  return G_SOURCE_CONTINUE;
}

/* Sets `l` on a fresh server in `cx` and runs `fn` against it from a thread
 * while the loop turns; the caller checks stats and ctx_clear()s. */
static void run_script(ctx_t *cx, const rtmp_server_limits_t *l, script_fn fn) {
  script_t sc = {cx, fn};
  GThread *t;
  guint poll, deadline;

  ctx_init(cx);
  cx->spawned_extra = TRUE; /* raw publishers only */
  rtmp_server_set_limits(cx->srv, l);
  t = g_thread_new("script", script_runner, &sc);
  poll = g_timeout_add(20, poll_thread_done, cx);
  deadline = g_timeout_add_seconds(15, on_deadline, NULL);
  g_main_loop_run(cx->loop);
  g_thread_join(t);
  g_source_remove(poll);
  g_source_remove(deadline);
}

/* TRUE if the server has not closed `s` within `ms` (nothing may be left to
 * read on it: any readable byte counts as closing). */
static gboolean still_open(GSocket *s, guint ms) {
  GError *err = NULL;
  gboolean ready =
      g_socket_condition_timed_wait(s, G_IO_IN | G_IO_HUP, (gint64)ms * 1000, NULL, &err);
  g_clear_error(&err);
  return !ready;
}

static void close_sock(GSocket *s) {
  g_socket_close(s, NULL);
  g_object_unref(s);
}

static gboolean bytes_contain(const GByteArray *a, const char *needle) {
  gsize n = strlen(needle);
  for (gsize i = 0; i + n <= a->len; i++)
    if (memcmp(a->data + i, needle, n) == 0)
      return TRUE;
  return FALSE;
}

/* Reads the server's replies until `needle` is among them. */
static void read_until(GSocket *s, const char *needle) {
  GByteArray *got = g_byte_array_new();
  guint8 buf[4096];

  while (got->len < (1u << 20) && !bytes_contain(got, needle)) {
    gssize n = g_socket_receive(s, (gchar *)buf, sizeof buf, NULL, NULL);
    g_assert_cmpint(n, >, 0);
    g_byte_array_append(got, buf, (guint)n);
  }
  g_assert_true(bytes_contain(got, needle));
  g_byte_array_unref(got);
}

/* One small valid message of those a squatter sends to look alive: Set
 * Chunk Size, a ping request, Window Ack Size, Acknowledgement. FALSE once
 * the server has closed the connection. */
static gboolean send_keepalive(GSocket *s, guint i) {
  static const struct {
    guint8 type;
    guint8 len;
    guint8 payload[6];
  } msgs[] = {
      {RTMP_MSG_SET_CHUNK_SIZE, 4, {0, 0, 0x10, 0}},
      {RTMP_MSG_USER_CONTROL, 6, {0, 6, 0, 0, 0x04, 0xd2}},
      {RTMP_MSG_WINDOW_ACK_SIZE, 4, {0, 0x26, 0x25, 0xa0}},
      {RTMP_MSG_ACK, 4, {0, 0, 0x0c, 0x01}},
  };
  GByteArray *out = g_byte_array_new();
  rtmp_message_t m = {2, msgs[i % 4].type, 0, 0, msgs[i % 4].payload, msgs[i % 4].len};
  gssize n;

  rtmp_chunk_write(out, RTMP_CHUNK_SIZE_DEFAULT, &m);
  n = g_socket_send(s, (const gchar *)out->data, out->len, NULL, NULL);
  g_byte_array_unref(out);
  return n == (gssize)m.len + 12;
}

static void limits_script(guint16 port) {
  gint64 t0 = g_get_monotonic_time();
  GSocket *a, *b;
  double ta, tb;

  a = raw_connect(port); /* silent: handshake timeout (300 ms) */
  g_usleep(50000);
  b = raw_connect(port);
  raw_handshake(b); /* then silent: idle timeout (800 ms after its last byte) */
  /* Lower bounds are hard (the server may not close earlier); upper bounds
   * leave room for a loaded machine. */
  ta = closed_at(a, t0);
  tb = closed_at(b, t0);
  g_assert_cmpfloat(ta, >=, 0.3);
  g_assert_cmpfloat(ta, <, 2.0);
  g_assert_cmpfloat(tb, >=, 0.85);
  g_assert_cmpfloat(tb, <, 3.0);
}

static void test_limits(void) {
  ctx_t cx;
  rtmp_server_limits_t l;
  rtmp_server_stats_t st;

  rtmp_server_limits_init(&l);
  l.handshake_timeout_ms = 300;
  l.idle_timeout_ms = 800;
  l.auth_timeout_ms = 10000; /* out of the way: the other timeouts are tested */
  run_script(&cx, &l, limits_script);
  rtmp_server_get_stats(cx.srv, &st);
  g_assert_cmpuint(st.connections_accepted, ==, 2);
  g_assert_cmpuint(st.connections_rejected, ==, 0);
  g_assert_cmpuint(st.auth_timeouts, ==, 0);
  g_assert_cmpuint(st.connections_open, ==, 0);
  ctx_clear(&cx);
}

/* A handshaken squatter sends something every 100 ms, a silent one nothing:
 * both are closed at the 600 ms publish deadline, counted from accept. */
static void deadline_script(guint16 port) {
  gint64 t0 = g_get_monotonic_time();
  GSocket *silent = raw_connect(port), *pinger = raw_connect(port);
  double t_pinger, t_silent;

  raw_handshake(pinger);
  for (guint i = 0;; i++) {
    guint8 buf[4096];
    gssize n;
    GError *err = NULL;

    if (!send_keepalive(pinger, i))
      break;
    if (!g_socket_condition_timed_wait(pinger, G_IO_IN, 100000, NULL, &err)) {
      g_clear_error(&err);
      continue;
    }
    n = g_socket_receive(pinger, (gchar *)buf, sizeof buf, NULL, NULL);
    if (n <= 0) /* a ping response is n > 0; the close ends it */
      break;
    g_assert_cmpfloat((g_get_monotonic_time() - t0) / 1e6, <, 3.0);
  }
  t_pinger = (g_get_monotonic_time() - t0) / 1e6;
  close_sock(pinger);
  t_silent = closed_at(silent, t0);
  g_assert_cmpfloat(t_pinger, >=, 0.6);
  g_assert_cmpfloat(t_pinger, <, 2.5);
  g_assert_cmpfloat(t_silent, >=, 0.6);
  g_assert_cmpfloat(t_silent, <, 2.5);
}

static void test_auth_deadline(void) {
  ctx_t cx;
  rtmp_server_limits_t l;
  rtmp_server_stats_t st;

  rtmp_server_limits_init(&l);
  l.auth_timeout_ms = 600;
  run_script(&cx, &l, deadline_script);
  rtmp_server_get_stats(cx.srv, &st);
  g_assert_cmpuint(st.auth_timeouts, ==, 2);
  g_assert_cmpuint(st.connections_evicted, ==, 0);
  g_assert_cmpuint(st.connections_open, ==, 0);
  ctx_clear(&cx);
}

/* Full at 3: the fourth connection evicts the oldest, the fifth the next. */
static void evict_script(guint16 port) {
  GSocket *a = raw_connect(port), *b = raw_connect(port), *c = raw_connect(port), *d, *e;

  g_assert_true(still_open(a, 100));
  d = raw_connect(port);
  g_assert_cmpfloat(wait_closed(a), <, 0.5);
  g_assert_true(still_open(b, 100));
  g_assert_true(still_open(c, 0));
  g_assert_true(still_open(d, 0));
  e = raw_connect(port);
  g_assert_cmpfloat(wait_closed(b), <, 0.5);
  g_assert_true(still_open(c, 100));
  g_assert_true(still_open(d, 0));
  g_assert_true(still_open(e, 0));
  close_sock(c);
  close_sock(d);
  close_sock(e);
}

static void test_evict_oldest(void) {
  ctx_t cx;
  rtmp_server_limits_t l;
  rtmp_server_stats_t st;

  rtmp_server_limits_init(&l);
  l.max_connections = 3;
  l.max_unauth_per_ip = 0; /* no per-address cap: the total one is tested */
  run_script(&cx, &l, evict_script);
  rtmp_server_get_stats(cx.srv, &st);
  g_assert_cmpuint(st.connections_accepted, ==, 5);
  g_assert_cmpuint(st.connections_evicted, ==, 2);
  g_assert_cmpuint(st.connections_rejected, ==, 0);
  ctx_clear(&cx);
}

/* Two unauthenticated connections per address: a third from 127.0.0.1
 * evicts 127.0.0.1's oldest and leaves 127.0.0.2's alone, and back. */
static void per_ip_script(guint16 port) {
  GSocket *a1 = raw_connect(port), *a2 = raw_connect(port);
  GSocket *b1 = raw_connect_from(port, "127.0.0.2"), *a3, *b2, *b3;

  g_assert_true(still_open(a1, 100));
  a3 = raw_connect(port);
  g_assert_cmpfloat(wait_closed(a1), <, 0.5);
  b2 = raw_connect_from(port, "127.0.0.2");
  g_assert_true(still_open(b1, 100));
  g_assert_true(still_open(a2, 0));
  b3 = raw_connect_from(port, "127.0.0.2");
  g_assert_cmpfloat(wait_closed(b1), <, 0.5);
  g_assert_true(still_open(a2, 100));
  g_assert_true(still_open(a3, 0));
  g_assert_true(still_open(b2, 0));
  g_assert_true(still_open(b3, 0));
  close_sock(a2);
  close_sock(a3);
  close_sock(b2);
  close_sock(b3);
}

static void test_per_ip_cap(void) {
  ctx_t cx;
  rtmp_server_limits_t l;
  rtmp_server_stats_t st;

  rtmp_server_limits_init(&l);
  l.max_unauth_per_ip = 2;
  run_script(&cx, &l, per_ip_script);
  rtmp_server_get_stats(cx.srv, &st);
  g_assert_cmpuint(st.connections_accepted, ==, 6);
  g_assert_cmpuint(st.connections_evicted, ==, 2);
  ctx_clear(&cx);
}

/* The publisher is authenticated: it is not counted against its address's
 * cap, never evicted to make room, and outlives the publish deadline. */
static void authenticated_script(guint16 port) {
  GSocket *p = raw_connect(port), *a, *b, *c;

  raw_publish(p);
  read_until(p, "NetStream.Publish.Start");
  a = raw_connect(port); /* the cap of 1 from 127.0.0.1 is not the publisher's */
  g_assert_true(still_open(a, 100));
  b = raw_connect(port); /* over the cap: a goes, not p */
  g_assert_cmpfloat(wait_closed(a), <, 0.5);
  c = raw_connect_from(port, "127.0.0.2"); /* full at 2: b goes, not p */
  g_assert_cmpfloat(wait_closed(b), <, 0.5);
  g_assert_cmpfloat(wait_closed(c), <, 2.0); /* the 300 ms deadline */
  g_usleep(300000);
  g_assert_true(still_open(p, 100));
  close_sock(p);
}

static void test_authenticated_kept(void) {
  ctx_t cx;
  rtmp_server_limits_t l;
  rtmp_server_stats_t st;

  rtmp_server_limits_init(&l);
  l.max_connections = 2;
  l.max_unauth_per_ip = 1;
  l.auth_timeout_ms = 300;
  run_script(&cx, &l, authenticated_script);
  while (cx.stops < cx.starts) /* the server sees p's close */
    g_main_context_iteration(NULL, TRUE);
  rtmp_server_get_stats(cx.srv, &st);
  g_assert_cmpint(cx.starts, ==, 1);
  g_assert_cmpuint(st.connections_evicted, ==, 2);
  g_assert_cmpuint(st.auth_timeouts, ==, 1);
  g_assert_cmpuint(st.connections_rejected, ==, 0);
  ctx_clear(&cx);
}

/* Full of authenticated connections (one, the publisher): a newcomer is
 * the one closed. */
static void full_script(guint16 port) {
  GSocket *p = raw_connect(port), *a;

  raw_publish(p);
  read_until(p, "NetStream.Publish.Start");
  a = raw_connect(port);
  g_assert_cmpfloat(wait_closed(a), <, 0.5);
  g_assert_true(still_open(p, 100));
  close_sock(p);
}

static void test_full_of_publishers(void) {
  ctx_t cx;
  rtmp_server_limits_t l;
  rtmp_server_stats_t st;

  rtmp_server_limits_init(&l);
  l.max_connections = 1;
  run_script(&cx, &l, full_script);
  while (cx.stops < cx.starts)
    g_main_context_iteration(NULL, TRUE);
  rtmp_server_get_stats(cx.srv, &st);
  g_assert_cmpint(cx.starts, ==, 1);
  g_assert_cmpuint(st.connections_accepted, ==, 1);
  g_assert_cmpuint(st.connections_rejected, ==, 1);
  g_assert_cmpuint(st.connections_evicted, ==, 0);
  ctx_clear(&cx);
}

/* A publisher goes silent (a phone whose network changed); the same key
 * publishing again takes over once the silence is long enough. */
static gpointer takeover_runner(gpointer data) {
  ctx_t *cx = data;
  guint16 port = rtmp_server_port(cx->srv);
  GSocket *a = raw_connect(port), *b;

  raw_publish(a);
  g_usleep(400000); /* over publisher_takeover_ms */
  b = raw_connect(port);
  raw_publish(b);
  g_assert_cmpfloat(wait_closed(a), <, 2); /* the silent one is dropped */
  g_socket_close(b, NULL);
  g_object_unref(b);
  g_atomic_int_set(&cx->takeover_done, 1);
  return NULL;
}

static void test_takeover(void) {
  ctx_t cx;
  rtmp_server_limits_t l;
  GThread *t;
  guint deadline;

  ctx_init(&cx);
  cx.spawned_extra = TRUE;
  rtmp_server_limits_init(&l);
  l.publisher_takeover_ms = 200;
  rtmp_server_set_limits(cx.srv, &l);
  t = g_thread_new("takeover", takeover_runner, &cx);
  deadline = g_timeout_add_seconds(10, on_deadline, NULL);
  while (!g_atomic_int_get(&cx.takeover_done) || cx.stops < 2)
    g_main_context_iteration(NULL, TRUE);
  g_thread_join(t);
  g_source_remove(deadline);
  g_assert_cmpint(cx.starts, ==, 2);
  g_assert_cmpint(cx.stops, ==, 2);
  ctx_clear(&cx);
}

static void test_bind_errors(void) {
  static const rtmp_server_callbacks_t cb = {NULL, NULL, NULL, NULL};
  GError *err = NULL;
  rtmp_server_t *a, *b;

  g_assert_null(rtmp_server_new("not-an-address", 0, "live", KEY, &cb, NULL, &err));
  g_assert_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error(&err);
  a = rtmp_server_new("127.0.0.1", 0, "live", KEY, &cb, NULL, &err);
  g_assert_no_error(err);
  b = rtmp_server_new("127.0.0.1", rtmp_server_port(a), "live", KEY, &cb, NULL, &err);
  g_assert_null(b);
  g_assert_nonnull(err);
  g_clear_error(&err);
  rtmp_server_free(a);
  rtmp_server_free(NULL);
}

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/rtmp-server/ffmpeg", test_ffmpeg);
  g_test_add_func("/rtmp-server/rtmp2sink", test_rtmp2sink);
  g_test_add_func("/rtmp-server/limits", test_limits);
  g_test_add_func("/rtmp-server/auth-deadline", test_auth_deadline);
  g_test_add_func("/rtmp-server/evict-oldest", test_evict_oldest);
  g_test_add_func("/rtmp-server/per-ip-cap", test_per_ip_cap);
  g_test_add_func("/rtmp-server/authenticated-kept", test_authenticated_kept);
  g_test_add_func("/rtmp-server/full-of-publishers", test_full_of_publishers);
  g_test_add_func("/rtmp-server/takeover", test_takeover);
  g_test_add_func("/rtmp-server/bind-errors", test_bind_errors);
  return g_test_run();
}
