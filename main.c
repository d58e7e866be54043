/* main.c — tourcast's wiring: options, the data dir, and handing modules to each other.
 *
 * Everything here runs on the one GLib control loop. No protocol, media or
 * storage logic lives in this file; it only connects the RTMP ingest to the
 * pipeline, the pipeline and overlay to the HTTP server, and starts the loop.
 */
#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <ifaddrs.h>
#include <malloc.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>

#include "overlay/overlay.h"
#include "stream/archive.h"
#include "stream/pipeline.h"
#include "stream/restream.h"
#include "stream/rtmp_server.h"
#include "ws/http_server.h"
#include "ws/prom.h"
#include "ws/room.h"
#include "ws/store.h"

typedef struct {
  char *data_dir;
  int http_port, rtmp_port;
  char *stream_key, *leader_token;
  char **restream;
  int width, height, fps, bitrate, segment_ms;
  char *bind;
  char *title;
  char *public_url;
  int max_connections;
  int ws_rate;
  int show_timeout_min;
  int retention_days;
  gboolean version;
  gboolean print_layout;
  char *h264_decoder;
  char *aac_decoder;
} options_t;

typedef struct {
  options_t opt;
  GMainLoop *loop;
  overlay_t *overlay;
  pipeline_t *pipeline;
  restream_t *restream;
  rtmp_server_t *rtmp;
  http_server_t *http;
  store_t *store;
  room_t *room;
  char *live_dir;
  char *images_dir; /* product pictures, DATA/images */
  char *viewer_url; /* in the overlay's QR code: --public-url, or this host's */
  guint64 overlay_version;
  char *shows_dir;
  guint show_timer;
} app_t;

/* ---- options ---- */

static gboolean parse_options(int argc, char **argv, options_t *o, GError **err) {
  *o = (options_t){
      .http_port = 8080,
      .rtmp_port = 1935,
      .width = 720,
      .height = 1280,
      .fps = 30,
      .bitrate = 2500,
      .segment_ms = 1000,
      .max_connections = 5000,
      .ws_rate = 20,
      .show_timeout_min = 10,
  };
  GOptionEntry entries[] = {
      {"data", 0, 0, G_OPTION_ARG_FILENAME, &o->data_dir,
       "Data directory (default ./tourcast-data)", "DIR"},
      {"http-port", 0, 0, G_OPTION_ARG_INT, &o->http_port, "HTTP/WebSocket port (8080)", "PORT"},
      {"rtmp-port", 0, 0, G_OPTION_ARG_INT, &o->rtmp_port, "RTMP ingest port (1935)", "PORT"},
      {"stream-key", 0, 0, G_OPTION_ARG_STRING, &o->stream_key,
       "Stream key the publisher must use (default: generated once, kept in the data dir)", "KEY"},
      {"leader-token", 0, 0, G_OPTION_ARG_STRING, &o->leader_token,
       "Token for leader-only actions (default: generated once, kept in the data dir)", "TOKEN"},
      {"restream", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->restream,
       "Also push the overlaid output to this RTMP URL (repeatable)", "URL"},
      {"width", 0, 0, G_OPTION_ARG_INT, &o->width, "Output width (720)", "PX"},
      {"height", 0, 0, G_OPTION_ARG_INT, &o->height, "Output height (1280)", "PX"},
      {"fps", 0, 0, G_OPTION_ARG_INT, &o->fps, "Output frame rate (30)", "FPS"},
      {"bitrate", 0, 0, G_OPTION_ARG_INT, &o->bitrate, "Output video bitrate in kbit/s (2500)",
       "KBPS"},
      {"segment-ms", 0, 0, G_OPTION_ARG_INT, &o->segment_ms, "HLS segment length in ms (1000)",
       "MS"},
      {"bind", 0, 0, G_OPTION_ARG_STRING, &o->bind, "Address to listen on (all interfaces)",
       "ADDR"},
      {"title", 0, 0, G_OPTION_ARG_STRING, &o->title, "Show title on the overlay", "TEXT"},
      {"public-url", 0, 0, G_OPTION_ARG_STRING, &o->public_url,
       "Viewer page URL for the overlay's QR code (default http://HOST:HTTP_PORT/)", "URL"},
      {"max-connections", 0, 0, G_OPTION_ARG_INT, &o->max_connections,
       "Most WebSocket connections at once (5000)", "N"},
      {"ws-rate", 0, 0, G_OPTION_ARG_INT, &o->ws_rate,
       "Messages a second per WebSocket connection (20; raise only for load tests)", "N"},
      {"show-timeout-min", 0, 0, G_OPTION_ARG_INT, &o->show_timeout_min,
       "End a show after this many minutes without a publisher (10)", "MIN"},
      {"retention-days", 0, 0, G_OPTION_ARG_INT, &o->retention_days,
       "Delete archived shows' media after this many days; orders are kept (0: keep all)", "DAYS"},
      {"version", 0, 0, G_OPTION_ARG_NONE, &o->version, "Print the version and exit", NULL},
      {"h264-decoder", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &o->h264_decoder,
       "GStreamer H.264 decoder element (avdec_h264; openh264dec runs under valgrind)", "NAME"},
      {"aac-decoder", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &o->aac_decoder,
       "GStreamer AAC decoder element (avdec_aac; faad runs under valgrind)", "NAME"},
      {"print-layout", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &o->print_layout,
       "Print the overlay layout for --width/--height and exit (for tests)", NULL},
      {NULL, 0, 0, 0, NULL, NULL, NULL},
  };
  GOptionContext *ctx =
      g_option_context_new("- livestream companion server for group-buying tours");
  g_option_context_set_summary(ctx,
                               "Relays a phone's RTMP feed with product overlays as live HLS.\n"
                               "Publish to rtmp://HOST:RTMP_PORT/live/STREAM_KEY; viewers open "
                               "http://HOST:HTTP_PORT/.");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_option_context_add_group(ctx, gst_init_get_option_group());
  gboolean ok = g_option_context_parse(ctx, &argc, &argv, err);
  g_option_context_free(ctx);
  if (!ok)
    return FALSE;
  if (o->data_dir == NULL)
    o->data_dir = g_strdup("./tourcast-data");
  if (o->title == NULL)
    o->title = g_strdup("源头好物直播间");

  const char *bad = NULL;
  if (o->http_port < 0 || o->http_port > 65535 || o->rtmp_port < 0 || o->rtmp_port > 65535)
    bad = "ports must be 0..65535";
  else if (o->width < 160 || o->width > 3840 || o->height < 160 || o->height > 3840 ||
           o->width % 2 || o->height % 2)
    bad = "--width/--height must be even and 160..3840";
  else if (o->fps < 1 || o->fps > 60)
    bad = "--fps must be 1..60";
  else if (o->bitrate < 100 || o->bitrate > 20000)
    bad = "--bitrate must be 100..20000 kbit/s";
  else if (o->segment_ms < 500 || o->segment_ms > 10000)
    bad = "--segment-ms must be 500..10000";
  else if (o->max_connections < 1 || o->max_connections > 100000)
    bad = "--max-connections must be 1..100000";
  else if (o->ws_rate < 1 || o->ws_rate > 100000)
    bad = "--ws-rate must be 1..100000";
  else if (o->show_timeout_min < 1 || o->show_timeout_min > 24 * 60)
    bad = "--show-timeout-min must be 1..1440";
  else if (o->retention_days < 0 || o->retention_days > 36500)
    bad = "--retention-days must be 0..36500";
  if (bad != NULL) {
    g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "%s", bad);
    return FALSE;
  }
  return TRUE;
}

static void options_clear(options_t *o) {
  g_free(o->data_dir);
  g_free(o->stream_key);
  g_free(o->leader_token);
  g_strfreev(o->restream);
  g_free(o->bind);
  g_free(o->title);
  g_free(o->public_url);
  g_free(o->h264_decoder);
  g_free(o->aac_decoder);
}

/* ---- secrets kept in the data dir ---- */

/* A secret a person can type on a phone: no 0/o/1/l lookalikes. */
static char *random_secret(int len) {
  static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
  guint8 raw[64];
  g_assert(len <= (int)sizeof raw);
  if (getrandom(raw, (size_t)len, 0) != len)
    g_error("getrandom failed: %s", g_strerror(errno));
  char *s = g_malloc((gsize)len + 1);
  for (int i = 0; i < len; i++)
    s[i] = alphabet[raw[i] % (sizeof alphabet - 1)];
  s[len] = '\0';
  return s;
}

/* Returns the secret stored in data_dir/name, creating it (mode 0600) on
 * first run. An explicit value from the command line wins and is not stored. */
static char *load_secret(const char *data_dir, const char *name, const char *given, int len,
                         GError **err) {
  if (given != NULL && *given != '\0')
    return g_strdup(given);
  char *path = g_build_filename(data_dir, name, NULL);
  char *value = NULL;
  if (g_file_get_contents(path, &value, NULL, NULL)) {
    g_strstrip(value);
    if (*value != '\0')
      goto out;
    g_clear_pointer(&value, g_free);
  }
  value = random_secret(len);
  char *line = g_strconcat(value, "\n", NULL);
  if (!g_file_set_contents_full(path, line, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, err))
    g_clear_pointer(&value, g_free);
  g_free(line);
out:
  g_free(path);
  return value;
}

/* ---- the glue between modules ---- */

static void on_publish_start(void *user, const char *key) {
  app_t *app = user;
  GError *err = NULL;
  g_message("publisher live");
  gint64 show = room_show_ensure(app->room);
  if (show == 0)
    return;
  if (!pipeline_begin(app->pipeline, show, &err)) {
    g_warning("cannot start the pipeline: %s", err->message);
    g_clear_error(&err);
  }
}

/* The output switched between the phone and the standby slate: that is the
 * moment the viewers saw, so the event carries that frame's stream_ms. */
static void on_overlay_shown(void *user, guint64 version, gint64 stream_ms);

static void on_feed_changed(void *user, gboolean live, gint64 stream_ms) {
  app_t *app = user;
  g_message("output %s at stream_ms %" G_GINT64_FORMAT, live ? "live" : "on the slate", stream_ms);
  room_publisher_at(app->room, live, stream_ms);
}

static void on_show_ended(void *user, gint64 show_id) {
  app_t *app = user;
  g_message("show %" G_GINT64_FORMAT " ended", show_id);
  pipeline_finish(app->pipeline, TRUE);
}

/* Once a second: a show that has shown the slate for --show-timeout-min ends;
 * once an hour, old shows' media are pruned. */
static gboolean on_show_tick(gpointer user) {
  app_t *app = user;
  gint64 since = pipeline_slate_since_us(app->pipeline);
  gint64 limit = (gint64)app->opt.show_timeout_min * 60 * G_USEC_PER_SEC;
  if (since >= 0 && g_get_monotonic_time() - since > limit) {
    g_message("no publisher for %d min: ending the show", app->opt.show_timeout_min);
    if (!room_show_end(app->room))
      pipeline_finish(app->pipeline, TRUE);
  }
  static guint ticks;
  if (app->opt.retention_days > 0 && ticks++ % 3600 == 0) {
    gint64 keep = store_show_current(app->store);
    guint n = archive_prune(app->shows_dir, (gint64)app->opt.retention_days * 86400, keep);
    if (n > 0)
      g_message("pruned the media of %u old shows", n);
  }
  return G_SOURCE_CONTINUE;
}

static void on_flv_data(void *user, guint8 tag_type, guint32 ts, const guint8 *data, gsize len) {
  app_t *app = user;
  pipeline_push_flv(app->pipeline, tag_type, ts, data, len);
}

static void on_publish_stop(void *user) {
  app_t *app = user;
  g_message("publisher gone");
  pipeline_end(app->pipeline); /* the slate follows, and with it publisher.drop */
}

static gboolean on_can_accept(void *user) {
  app_t *app = user;
  return pipeline_can_accept(app->pipeline);
}

static char *healthz_json(void *user) {
  app_t *app = user;
  rtmp_server_stats_t rs;
  rtmp_server_get_stats(app->rtmp, &rs);
  return g_strdup_printf("{\"ok\":true,\"version\":\"%s\",\"publisher_live\":%s,"
                         "\"stream_ms\":%" G_GINT64_FORMAT "}\n",
                         TOURCAST_VERSION, rs.publishing ? "true" : "false",
                         MAX(pipeline_stream_ms(app->pipeline), 0));
}

/* The leader's restream.add / restream.remove. */
static gboolean on_restream(void *user, gboolean add, const char *url, const char **why) {
  app_t *app = user;
  if (!add) {
    *why = "not a restream target";
    return restream_remove(app->restream, url);
  }
  GError *err = NULL;
  if (restream_add(app->restream, url, &err))
    return TRUE;
  *why = err->code == G_IO_ERROR_EXISTS     ? "already a restream target"
         : err->code == G_IO_ERROR_NO_SPACE ? "too many restream targets (8)"
                                            : "url must be rtmp:// or rtmps://";
  g_error_free(err);
  return FALSE;
}

/* The leader's view of the stream: the phone's health and each target. */
static json_t *stream_status(void *user) {
  app_t *app = user;
  pipeline_stats_t ps;
  pipeline_get_stats(app->pipeline, &ps);
  json_t *targets = json_array();
  GArray *info = restream_info(app->restream);
  for (guint i = 0; i < info->len; i++) {
    const restream_target_info_t *t = &g_array_index(info, restream_target_info_t, i);
    json_array_append_new(targets, json_pack("{s:s, s:s, s:i, s:s?}", "url", t->url, "state",
                                             restream_state_name(t->state), "failures",
                                             (int)t->failures, "error", t->last_error));
  }
  restream_info_free(info);
  return json_pack("{s:{s:b, s:b, s:f, s:f, s:I, s:I, s:I}, s:o}", "publisher", "live", ps.live,
                   "on_air_live", ps.feed_live, "input_kbps", ps.input_kbps, "input_fps",
                   ps.input_fps, "frames_dropped", (json_int_t)ps.frames_dropped, "frames_late",
                   (json_int_t)ps.frames_late, "reconnects", (json_int_t)ps.reconnects, "restream",
                   targets);
}

/* One series per --restream target, labelled by its position (URLs carry
 * stream keys: they never go into metrics). */
static void restream_metrics(restream_t *rs, GString *s) {
  GArray *info = restream_info(rs);
  g_string_append(s, "# HELP tourcast_restream_live 1 while the target receives the output; "
                     "0 while connecting or retrying.\n# TYPE tourcast_restream_live gauge\n");
  for (guint i = 0; i < info->len; i++) {
    const restream_target_info_t *t = &g_array_index(info, restream_target_info_t, i);
    g_string_append_printf(s, "tourcast_restream_live{target=\"%u\",state=\"%s\"} %d\n", i,
                           restream_state_name(t->state), t->state == RESTREAM_LIVE);
  }
  g_string_append(s, "# HELP tourcast_restream_failures_total Connections to the target that "
                     "failed.\n# TYPE tourcast_restream_failures_total counter\n");
  for (guint i = 0; i < info->len; i++) {
    const restream_target_info_t *t = &g_array_index(info, restream_target_info_t, i);
    g_string_append_printf(s, "tourcast_restream_failures_total{target=\"%u\"} %u\n", i,
                           t->failures);
  }
  g_string_append(s, "# HELP tourcast_restream_bytes Media bytes sent on the target's current "
                     "connection.\n# TYPE tourcast_restream_bytes gauge\n");
  for (guint i = 0; i < info->len; i++) {
    const restream_target_info_t *t = &g_array_index(info, restream_target_info_t, i);
    g_string_append_printf(s, "tourcast_restream_bytes{target=\"%u\"} %" G_GUINT64_FORMAT "\n", i,
                           t->bytes_sent);
  }
  restream_info_free(info);
}

static char *metrics_text(void *user) {
  app_t *app = user;
  rtmp_server_stats_t rs;
  pipeline_stats_t ps;
  rtmp_server_get_stats(app->rtmp, &rs);
  pipeline_get_stats(app->pipeline, &ps);
  GString *s = g_string_new(NULL);
  prom_metric(s, "tourcast_publisher_live", "gauge", "1 while a publisher is live.", NULL,
              rs.publishing);
  prom_metric(s, "tourcast_stream_ms", "gauge",
              "The stream clock: ms of output video in this show.", NULL,
              (double)MAX(ps.stream_ms, 0));
  prom_metric(s, "tourcast_rtmp_connections_open", "gauge", "Open RTMP connections.", NULL,
              rs.connections_open);
  prom_metric(s, "tourcast_rtmp_connections_accepted_total", "counter",
              "RTMP connections accepted.", NULL, (double)rs.connections_accepted);
  prom_metric(s, "tourcast_rtmp_connections_rejected_total", "counter",
              "RTMP connections refused or closed on bad input.", NULL,
              (double)rs.connections_rejected);
  prom_metric(s, "tourcast_rtmp_bytes_in_total", "counter", "Bytes read from RTMP sockets.", NULL,
              (double)rs.bytes_in);
  prom_metric(s, "tourcast_pipeline_sessions_total", "counter", "Publishes handled.", NULL,
              (double)ps.sessions);
  prom_metric(s, "tourcast_pipeline_errors_total", "counter",
              "Publishes that ended on a media error.", NULL, (double)ps.errors);
  prom_metric(s, "tourcast_frames_out_total", "counter", "Frames sent to the encoder.", NULL,
              (double)ps.frames_out);
  prom_metric(s, "tourcast_hls_segments_total", "counter", "Segments added to the live playlist.",
              NULL, (double)ps.segments);
  prom_metric(s, "tourcast_output_on_air", "gauge", "1 while a show's output runs.", NULL,
              ps.on_air);
  prom_metric(s, "tourcast_output_live", "gauge",
              "1 while the output shows the publisher, 0 on the standby slate.", NULL,
              ps.feed_live);
  prom_metric(s, "tourcast_output_slate_frames", "gauge",
              "Standby slate frames sent in this show's output.", NULL, (double)ps.frames_slate);
  prom_metric(s, "tourcast_output_restarts_total", "counter",
              "Outputs started after the first (encoder restarts).", NULL,
              (double)ps.output_restarts);
  prom_metric(s, "tourcast_publisher_input_kbps", "gauge",
              "Publisher's FLV bitrate over the last second.", NULL, ps.input_kbps);
  prom_metric(s, "tourcast_publisher_input_fps", "gauge",
              "Publisher's video frames over the last second.", NULL, ps.input_fps);
  prom_metric(s, "tourcast_publisher_frames_dropped", "gauge",
              "Live frames dropped in this show: the publisher ran ahead of the output.", NULL,
              (double)ps.frames_dropped);
  prom_metric(s, "tourcast_publisher_frames_late", "gauge",
              "Output ticks in this show with no new live frame (the last one repeated).", NULL,
              (double)ps.frames_late);
  prom_metric(s, "tourcast_publisher_reconnects", "gauge",
              "Publishes after the first in this show.", NULL, (double)ps.reconnects);
  double n = ps.latency_count ? (double)ps.latency_count : 1.0;
  g_string_append(s, "# HELP tourcast_hls_added_latency_ms From a frame's arrival over RTMP to "
                     "the playlist listing its segment, for the first and last frame of a "
                     "segment.\n# TYPE tourcast_hls_added_latency_ms gauge\n");
  g_string_append_printf(
      s,
      "tourcast_hls_added_latency_ms{frame=\"first\",stat=\"last\"} %" G_GINT64_FORMAT "\n"
      "tourcast_hls_added_latency_ms{frame=\"first\",stat=\"max\"} %" G_GINT64_FORMAT "\n"
      "tourcast_hls_added_latency_ms{frame=\"first\",stat=\"mean\"} %.1f\n"
      "tourcast_hls_added_latency_ms{frame=\"last\",stat=\"last\"} %" G_GINT64_FORMAT "\n"
      "tourcast_hls_added_latency_ms{frame=\"last\",stat=\"max\"} %" G_GINT64_FORMAT "\n"
      "tourcast_hls_added_latency_ms{frame=\"last\",stat=\"mean\"} %.1f\n",
      ps.latency_first_ms, ps.latency_first_max_ms, ps.latency_first_sum_ms / n, ps.latency_last_ms,
      ps.latency_last_max_ms, ps.latency_last_sum_ms / n);
  restream_metrics(app->restream, s);
  room_metrics(app->room, s);
  return g_string_free(s, FALSE);
}

static gint64 clock_stream_ms(void *user) {
  return pipeline_stream_ms(((app_t *)user)->pipeline);
}

static gint64 clock_epoch(void *user) {
  return pipeline_epoch_unix_ms(((app_t *)user)->pipeline);
}

static char *json_body(json_t *j, int *status) {
  if (j == NULL) {
    *status = 404;
    return g_strdup("{\"error\":\"not found\"}\n");
  }
  char *text = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  char *body = g_strconcat(text ? text : "null", "\n", NULL);
  free(text);
  return body;
}

/* /api/shows, /api/shows/ID/events (public: no phone numbers), and the
 * leader's picking list /api/shows/ID/orders.csv. */
static char *api_body(void *user, const http_route_t *route, const char *token, int *status) {
  app_t *app = user;
  switch (route->kind) {
    case HTTP_ROUTE_API_SHOWS:
      return json_body(store_shows_json(app->store), status);
    case HTTP_ROUTE_API_EVENTS:
      if (!store_show_exists(app->store, route->show_id))
        return json_body(NULL, status);
      return json_body(store_events_json(app->store, route->show_id), status);
    case HTTP_ROUTE_API_ORDERS_CSV: {
      if (!room_leader_token_ok(app->room, token)) {
        *status = 403;
        return g_strdup("{\"error\":\"the leader token is required\"}\n");
      }
      if (!store_show_exists(app->store, route->show_id))
        return json_body(NULL, status);
      GString *csv = g_string_new(NULL);
      if (!store_orders_csv(app->store, route->show_id, csv)) {
        g_string_free(csv, TRUE);
        return NULL;
      }
      return g_string_free(csv, FALSE);
    }
    default:
      *status = 404;
      return g_strdup("{\"error\":\"not found\"}\n");
  }
}

static char *public_host(const char *bind);

/* The room's state as the overlay draws it. Returns the version that the
 * first frame showing it will report (pin and highlight are stamped with
 * that frame's stream_ms), or 0 when no frame will (nothing is encoding). */
static guint64 on_overlay_changed(void *user) {
  app_t *app = user;
  room_overlay_t ro;
  room_overlay_get(app->room, &ro);
  overlay_state_t st = {
      .title = ro.title ? ro.title : app->opt.title,
      .promise = ro.promise,
      .qr_text = app->viewer_url,
      .version = ++app->overlay_version,
  };
  if (ro.has_product) {
    st.product.shown = TRUE;
    st.product.id = ro.product_id;
    st.product.name = ro.product_name;
    st.product.price_cents = ro.price_cents;
    st.product.unit = ro.unit;
    st.product.stock = ro.stock;
    st.product.sold = ro.sold;
    st.product.image_path = ro.image_path;
  }
  st.n_ticker = MIN(ro.n_ticker, OVERLAY_TICKER_MAX);
  for (int i = 0; i < st.n_ticker; i++)
    st.ticker[i] = (overlay_ticker_entry_t){ro.ticker[i].seq, ro.ticker[i].name,
                                            ro.ticker[i].product, ro.ticker[i].qty};
  if (ro.has_question) {
    st.question.shown = TRUE;
    st.question.id = ro.question_id;
    st.question.name = ro.question_name;
    st.question.text = ro.question_text;
    st.question.answer = ro.answer;
  }
  overlay_update(app->overlay, &st);
  room_overlay_clear(&ro);
  return pipeline_on_air(app->pipeline) ? st.version : 0;
}

/* The first frame showing overlay state `version` went out: pins and
 * highlights waiting for it get its stream_ms. */
static void on_overlay_shown(void *user, guint64 version, gint64 stream_ms) {
  app_t *app = user;
  if (app->room != NULL)
    room_overlay_shown(app->room, version, stream_ms);
}

static gboolean leader_ok(void *user, const char *token) {
  return room_leader_token_ok(((app_t *)user)->room, token);
}

/* POST /api/products/ID/image, the token already checked. */
static char *upload_body(void *user, const http_route_t *route, const guint8 *body, gsize len,
                         int *status) {
  return room_product_image_upload(((app_t *)user)->room, route->product_id, body, len, status);
}

static gboolean on_signal(gpointer user) {
  app_t *app = user;
  g_message("stopping");
  g_main_loop_quit(app->loop);
  return G_SOURCE_CONTINUE;
}

/* The address to print in URLs: the bind address, or the first non-loopback
 * IPv4 address when listening on all interfaces. */
static char *public_host(const char *bind) {
  if (bind != NULL && *bind != '\0' && strcmp(bind, "0.0.0.0") != 0)
    return g_strdup(bind);
  struct ifaddrs *ifs = NULL;
  char *host = NULL;
  if (getifaddrs(&ifs) == 0) {
    for (struct ifaddrs *i = ifs; i != NULL && host == NULL; i = i->ifa_next) {
      if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
        continue;
      char buf[INET_ADDRSTRLEN];
      const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)i->ifa_addr;
      if (inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf) && !g_str_has_prefix(buf, "127."))
        host = g_strdup(buf);
    }
    freeifaddrs(ifs);
  }
  return host ? host : g_strdup("127.0.0.1");
}

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
      .stream_ms = clock_stream_ms,
      .epoch_unix_ms = clock_epoch,
      .show_ended = on_show_ended,
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
  on_overlay_changed(app); /* the first picture: the title, the QR code */
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
