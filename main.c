/* main.c — tourcast's wiring: options, the data dir, and handing modules to each other.
 *
 * Everything here runs on the one GLib control loop. No protocol, media or
 * storage logic lives in this file; it only connects the RTMP ingest to the
 * pipeline, the pipeline and overlay to the HTTP server, and starts the loop.
 */
#include <errno.h>
#include <glib-unix.h>
#include <malloc.h>
#include <sys/resource.h>

#include "ws/qr_svg.h"

#include "main.h"

static gboolean on_signal(gpointer user) {
  app_t *app = user;
  g_message("stopping");
  g_main_loop_quit(app->loop);
  return G_SOURCE_CONTINUE;
}

/* The address to print in URLs: the bind address, or the first non-loopback
 * IPv4 address when listening on all interfaces. */
static void print_banner(const app_t *app) {
  char *host = public_host(app->opt.bind);
  guint16 rtmp_port = rtmp_server_port(app->rtmp);
  int http_port = http_server_port(app->http);
  printf("tourcast %s is live-ready\n"
         "  publish (phone app): rtmp://%s:%u/live   stream key: %s\n"
         "    one-line URL:      rtmp://%s:%u/live/%s\n"
         "  viewers:             http://%s:%d/\n"
         "  leader console:      http://%s:%d/leader?token=%s\n"
         "  live playlist:       http://%s:%d/live/index.m3u8\n"
         "  data:                %s\n",
         TOURCAST_VERSION, host, rtmp_port, app->opt.stream_key, host, rtmp_port,
         app->opt.stream_key, host, http_port, host, http_port, app->opt.leader_token, host,
         http_port, app->opt.data_dir);
  fflush(stdout);
  g_free(host);
}

/* ---- start and stop ---- */

static gboolean app_start(app_t *app, GError **err) {
  options_t *o = &app->opt;
  if (g_mkdir_with_parents(o->data_dir, 0700) != 0) {
    g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "cannot create %s: %s",
                o->data_dir, g_strerror(errno));
    return FALSE;
  }
  char *key = load_secret(o->data_dir, "stream_key", o->stream_key, 12, err);
  if (key == NULL)
    return FALSE;
  g_free(o->stream_key);
  o->stream_key = key;
  char *token = load_secret(o->data_dir, "leader_token", o->leader_token, 24, err);
  if (token == NULL)
    return FALSE;
  g_free(o->leader_token);
  o->leader_token = token;

  app->live_dir = g_build_filename(o->data_dir, "live", NULL);
  if (g_mkdir_with_parents(app->live_dir, 0755) != 0) {
    g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "cannot create %s",
                app->live_dir);
    return FALSE;
  }
  app->shows_dir = g_build_filename(o->data_dir, "shows", NULL);
  if (g_mkdir_with_parents(app->shows_dir, 0755) != 0) {
    g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "cannot create %s",
                app->shows_dir);
    return FALSE;
  }
  app->restream = restream_new();
  for (char **u = o->restream; u != NULL && *u != NULL; u++) {
    if (!restream_add(app->restream, *u, err)) {
      g_prefix_error(err, "--restream %s: ", *u);
      return FALSE;
    }
  }

  /* Drawn from the room's state once the room exists (on_overlay_changed). */
  app->overlay = overlay_new(o->width, o->height);

  pipeline_config_t pc = {
      .width = o->width,
      .height = o->height,
      .fps = o->fps,
      .bitrate_kbps = o->bitrate,
      .segment_ms = o->segment_ms,
      .live_dir = app->live_dir,
      .overlay = app->overlay,
      .h264_decoder = o->h264_decoder,
      .aac_decoder = o->aac_decoder,
      .shows_dir = app->shows_dir,
      .feed_changed = on_feed_changed,
      .overlay_shown = on_overlay_shown,
      .show_started = on_show_started,
      .user = app,
      .restream = app->restream,
  };
  app->pipeline = pipeline_new(&pc, err);
  if (app->pipeline == NULL)
    return FALSE;

  rtmp_server_callbacks_t rcb = {
      .publish_start = on_publish_start,
      .flv_data = on_flv_data,
      .publish_stop = on_publish_stop,
      .can_accept = on_can_accept,
  };
  char *db = g_build_filename(o->data_dir, "tourcast.db", NULL);
  app->store = store_open(db, err);
  g_free(db);
  if (app->store == NULL)
    return FALSE;
  app->images_dir = g_build_filename(o->data_dir, "images", NULL);
  room_config_t rc = {
      .leader_token = o->leader_token,
      .show_title = o->title,
      .images_dir = app->images_dir,
      .max_connections = (guint)o->max_connections,
      .rate_per_s = (guint)o->ws_rate,
      .max_per_ip = (guint)o->ws_per_ip,
      .stream_ms = clock_stream_ms,
      .shows_dir = app->shows_dir,
      .output = on_show_output,
      .settings = leader_settings,
      .restream = on_restream,
      .stream_status = stream_status,
      .clock_user = app,
      .overlay_changed = on_overlay_changed,
      .overlay_user = app,
  };
  app->room = room_new(&rc, app->store, err);
  if (app->room == NULL)
    return FALSE;

  app->rtmp =
      rtmp_server_new(o->bind, (guint16)o->rtmp_port, "live", o->stream_key, &rcb, app, err);
  if (app->rtmp == NULL)
    return FALSE;

  app->ws_origins = ws_origins_new(o);
  http_server_config_t hc = {
      .bind_addr = o->bind,
      .port = (guint16)o->http_port,
      .live_dir = app->live_dir,
      .shows_dir = app->shows_dir,
      .web_dir = TOURCAST_WEB_DIR,
      .images_dir = app->images_dir,
      .vendor_dir = TOURCAST_VENDOR_DIR,
      .loop = app->loop,
      /* WebSockets plus a margin for page, playlist and segment requests. */
      .max_connections = (guint)o->max_connections + 1000,
      .ws = room_endpoint(app->room),
      .allowed_origins = (const char *const *)app->ws_origins,
      .metrics_token = o->metrics_token,
  };
  http_server_callbacks_t hcb = {
      .healthz_json = healthz_json,
      .metrics_text = metrics_text,
      .api = api_body,
      .leader_ok = leader_ok,
      .upload = upload_body,
  };
  app->http = http_server_new(&hc, &hcb, app, err);
  if (app->http == NULL)
    return FALSE;
  char *host = public_host(o->bind);
  app->viewer_url = o->public_url
                        ? g_strdup(o->public_url)
                        : g_strdup_printf("http://%s:%u/", host, http_server_port(app->http));
  g_free(host);
  app->viewer_qr = qr_svg(app->viewer_url);
  on_overlay_changed(app); /* the first picture: the title, the QR code */
  resume_open_show(app);
  app->show_timer = g_timeout_add_seconds(1, on_show_tick, app);
  return TRUE;
}

/* Stops ingest first, then gives the pipeline up to two seconds to close and
 * list its last segment before everything is torn down. */
static void app_stop(app_t *app) {
  rtmp_server_free(app->rtmp);
  app->rtmp = NULL;
  if (app->show_timer)
    g_source_remove(app->show_timer);
  if (app->pipeline != NULL) {
    /* Mid-show: the last segment is listed, the archive stays open. */
    pipeline_finish(app->pipeline, FALSE);
    gint64 deadline = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
    while (pipeline_busy(app->pipeline) && g_get_monotonic_time() < deadline) {
      if (!g_main_context_iteration(NULL, FALSE))
        g_usleep(10000);
    }
  }
  http_server_free(app->http);
  room_free(app->room);
  store_free(app->store);
  pipeline_free(app->pipeline);
  restream_free(app->restream); /* after the pipeline: it pushes into the targets */
  overlay_free(app->overlay);
  g_free(app->live_dir);
  g_free(app->images_dir);
  g_free(app->viewer_url);
  g_free(app->viewer_qr);
  g_strfreev(app->ws_origins);
  g_free(app->shows_dir);
}

/* Every viewer holds a socket and, while downloading, a file: take all the
 * descriptors the hard limit allows. */
static void raise_fd_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
      g_message("cannot raise the open file limit: %s", g_strerror(errno));
  }
}

int main(int argc, char **argv) {
  app_t app = {0};
  GError *err = NULL;
  signal(SIGPIPE, SIG_IGN);
  raise_fd_limit();
  /* Every publish brings new streaming threads, and glibc gives threads
   * their own malloc arenas (up to 8 per core) whose freed memory stays
   * fragmented: RSS crept up 7% over 20 reconnects. Two arenas keep it flat
   * (scripts/soak-drops.sh: +0.5%). */
  mallopt(M_ARENA_MAX, 2);
  if (!parse_options(argc, argv, &app.opt, &err)) {
    fprintf(stderr, "tourcast: %s\nTry 'tourcast --help'.\n", err->message);
    g_error_free(err);
    options_clear(&app.opt);
    return 2;
  }
  if (app.opt.version) {
    printf("tourcast %s\n", TOURCAST_VERSION);
    options_clear(&app.opt);
    return 0;
  }
  if (app.opt.print_layout) {
    overlay_layout_t l;
    overlay_layout_for(app.opt.width, app.opt.height, &l);
    printf("x=%d y=%d width=%d height=%d accent_x=%d accent_y=%d accent_width=%d "
           "accent_height=%d title_accent_x=%d title_accent_y=%d title_accent_width=%d "
           "title_accent_height=%d\n",
           l.x, l.y, l.width, l.height, l.accent_x, l.accent_y, l.accent_width, l.accent_height,
           l.title_accent.x, l.title_accent.y, l.title_accent.width, l.title_accent.height);
    options_clear(&app.opt);
    return 0;
  }
  gst_init(NULL, NULL);
  app.loop = g_main_loop_new(NULL, FALSE);
  int rc = 0;
  if (app_start(&app, &err)) {
    g_unix_signal_add(SIGINT, on_signal, &app);
    g_unix_signal_add(SIGTERM, on_signal, &app);
    print_banner(&app);
    g_main_loop_run(app.loop);
  } else {
    fprintf(stderr, "tourcast: %s\n", err->message);
    g_error_free(err);
    rc = 1;
  }
  app_stop(&app);
  g_main_loop_unref(app.loop);
  options_clear(&app.opt);
  return rc;
}
