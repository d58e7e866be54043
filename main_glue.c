/* main_glue.c — the callbacks that hand each module's events to the others.
 *
 * RTMP ingest to the pipeline, the pipeline's feed and overlay reports to the
 * room, the room's state to the overlay, the HTTP server's /healthz,
 * /metrics, /api and upload bodies to the store and the room, restream
 * requests to the restream module. Wiring only: each callback is a few lines
 * that call a module's API.
 */
#include <gio/gio.h>

#include "stream/archive.h"
#include "ws/prom.h"

#include "main.h"

/* ---- the glue between modules ---- */

/* The phone connected: it is decoded at once; the room's show life cycle
 * decides whether it goes on air (on_show_output). */
void on_publish_start(void *user, const char *key) {
  app_t *app = user;
  GError *err = NULL;
  g_message("publisher connected");
  if (!pipeline_publish_begin(app->pipeline, &err)) {
    g_warning("cannot decode the publisher: %s", err->message);
    g_clear_error(&err);
  }
  room_phone(app->room, TRUE);
}

/* The room's show life cycle: start show `show_id`'s output, or end it. */
void on_show_output(void *user, gint64 show_id, gboolean on) {
  app_t *app = user;
  GError *err = NULL;
  if (on && !pipeline_show_begin(app->pipeline, show_id, &err)) {
    g_warning("cannot start the output of show %" G_GINT64_FORMAT ": %s", show_id, err->message);
    g_clear_error(&err);
  } else if (!on && pipeline_on_air(app->pipeline)) {
    pipeline_show_end(app->pipeline, TRUE);
  } else if (!on && !archive_close_show(app->shows_dir, show_id, &err)) {
    /* Ended with no output in this process (e.g. at start-up). */
    g_warning("archive of show %" G_GINT64_FORMAT ": %s", show_id, err->message);
    g_clear_error(&err);
  }
}

void on_show_started(void *user, gint64 show_id, gint64 epoch_unix_ms) {
  room_show_started(((app_t *)user)->room, show_id, epoch_unix_ms);
}

/* The phone's and the chat group's settings, for the leader's console. */
json_t *leader_settings(void *user) {
  app_t *app = user;
  char *host = public_host(app->opt.bind);
  guint16 port = rtmp_server_port(app->rtmp);
  char *base = g_strdup_printf("rtmp://%s:%u/live", host, port);
  char *full = g_strdup_printf("%s/%s", base, app->opt.stream_key);
  json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "rtmp_url", base, "stream_key", app->opt.stream_key,
                        "publish_url", full, "viewer_url", app->viewer_url);
  g_free(host);
  g_free(base);
  g_free(full);
  return j;
}

/* The output switched between the phone and the standby slate: that is the
 * moment the viewers saw, so the event carries that frame's stream_ms. */
void on_feed_changed(void *user, gboolean live, gint64 stream_ms) {
  app_t *app = user;
  g_message("output %s at stream_ms %" G_GINT64_FORMAT, live ? "live" : "on the slate", stream_ms);
  room_publisher_at(app->room, live, stream_ms);
}

/* Once a second: a show that has shown the slate for --show-timeout-min ends;
 * once an hour, old shows' media are pruned. */
gboolean on_show_tick(gpointer user) {
  app_t *app = user;
  gint64 since = pipeline_slate_since_us(app->pipeline);
  gint64 limit = (gint64)app->opt.show_timeout_min * 60 * G_USEC_PER_SEC;
  if (since >= 0 && g_get_monotonic_time() - since > limit) {
    g_message("no publisher for %d min: ending the show", app->opt.show_timeout_min);
    if (!room_show_end(app->room))
      pipeline_show_end(app->pipeline, TRUE);
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

void on_flv_data(void *user, guint8 tag_type, guint32 ts, const guint8 *data, gsize len) {
  app_t *app = user;
  pipeline_push_flv(app->pipeline, tag_type, ts, data, len);
}

void on_publish_stop(void *user) {
  app_t *app = user;
  g_message("publisher gone");
  pipeline_end(app->pipeline); /* the slate follows, and with it publisher.drop */
  room_phone(app->room, FALSE);
}

gboolean on_can_accept(void *user) {
  app_t *app = user;
  return pipeline_can_accept(app->pipeline);
}

char *healthz_json(void *user) {
  app_t *app = user;
  rtmp_server_stats_t rs;
  rtmp_server_get_stats(app->rtmp, &rs);
  return g_strdup_printf("{\"ok\":true,\"version\":\"%s\",\"publisher_live\":%s,"
                         "\"stream_ms\":%" G_GINT64_FORMAT "}\n",
                         TOURCAST_VERSION, rs.publishing ? "true" : "false",
                         MAX(pipeline_stream_ms(app->pipeline), 0));
}

/* The leader's restream.add / restream.remove. */
gboolean on_restream(void *user, gboolean add, const char *url, const char **why) {
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
json_t *stream_status(void *user) {
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

char *metrics_text(void *user) {
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
  prom_metric(s, "tourcast_rtmp_connections_evicted_total", "counter",
              "Unauthenticated RTMP connections closed to make room for a newer one.", NULL,
              (double)rs.connections_evicted);
  prom_metric(s, "tourcast_rtmp_auth_timeouts_total", "counter",
              "RTMP connections closed for no accepted publish within the deadline.", NULL,
              (double)rs.auth_timeouts);
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
              "Outputs started again for the same show (encoder restarts).", NULL,
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

gint64 clock_stream_ms(void *user) {
  return pipeline_stream_ms(((app_t *)user)->pipeline);
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
/* Most entries in one page of an /api list (ws/PROTOCOL.md, "Limits"); a
 * full page means there may be more: ask again with the cursor of its last
 * (events: after_ms/after_id) or first (orders, shows: before_id) entry. */
#define API_PAGE_SHOWS 100
#define API_PAGE_EVENTS 1000
#define API_PAGE_ORDERS 1000

/* The page size of an /api list: the query's limit, at most `max`. */
static int page_limit(const http_route_t *route, int max) {
  return route->limit > 0 ? MIN(route->limit, max) : max;
}

char *api_body(void *user, const http_route_t *route, const char *token, int *status) {
  app_t *app = user;
  switch (route->kind) {
    case HTTP_ROUTE_API_SHOWS: /* only the leader sees what each show sold */
      return json_body(room_shows_json(app->room, room_leader_token_ok(app->room, token),
                                       route->before_id, page_limit(route, API_PAGE_SHOWS)),
                       status);
    case HTTP_ROUTE_API_QR: /* the same link every time: encoded once at start */
      return app->viewer_qr ? g_strdup(app->viewer_qr) : json_body(NULL, status);
    case HTTP_ROUTE_API_EVENTS:
      if (!store_show_exists(app->store, route->show_id))
        return json_body(NULL, status);
      return json_body(store_events_json(app->store, route->show_id, route->after_ms,
                                         route->after_id, page_limit(route, API_PAGE_EVENTS)),
                       status);
    case HTTP_ROUTE_API_ORDERS:
    case HTTP_ROUTE_API_ORDERS_CSV: {
      if (!room_leader_token_ok(app->room, token)) {
        *status = 403;
        return g_strdup("{\"error\":\"the leader token is required\"}\n");
      }
      if (!store_show_exists(app->store, route->show_id))
        return json_body(NULL, status);
      if (route->kind == HTTP_ROUTE_API_ORDERS) /* live and replay orders, oldest first */
        return json_body(store_orders_json(app->store, route->show_id, route->before_id,
                                           page_limit(route, API_PAGE_ORDERS)),
                         status);
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

/* The room's state as the overlay draws it. Returns the version that the
 * first frame showing it will report (pin and highlight are stamped with
 * that frame's stream_ms), or 0 when no frame will (nothing is encoding). */
guint64 on_overlay_changed(void *user) {
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
void on_overlay_shown(void *user, guint64 version, gint64 stream_ms) {
  app_t *app = user;
  if (app->room != NULL)
    room_overlay_shown(app->room, version, stream_ms);
}

gboolean leader_ok(void *user, const char *token) {
  return room_leader_token_ok(((app_t *)user)->room, token);
}

static void upload_answered(void *user, int status, guint retry_after_s, char *body) {
  if (retry_after_s > 0)
    http_reply_set_retry_after(user, retry_after_s);
  http_reply_finish(user, status, body);
}

/* POST /api/products/ID/image, the token already checked: the room answers
 * once the picture is decoded (off the loop). */
void upload_body(void *user, const http_route_t *route, GBytes *body, http_reply_t *reply) {
  room_product_image_upload(((app_t *)user)->room, route->product_id, body, upload_answered, reply);
}

/* At start-up: a show the last process left open (a crash, a power cut, a
 * restart) resumes on the slate, its timeline continuing after its
 * archive, unless it has been silent for --show-timeout-min: then it ends,
 * as long as its archive. */
void resume_open_show(app_t *app) {
  gint64 show = store_show_current(app->store);
  if (show == 0)
    return;
  gint64 length = 0, written = 0;
  if (!archive_probe(app->shows_dir, show, &length, &written)) {
    json_t *j = store_show_json(app->store, show);
    written = j ? json_integer_value(json_object_get(j, "started_unix_ms")) : 0;
    json_decref(j);
  }
  gint64 silent_ms = g_get_real_time() / 1000 - written;
  gboolean resume = silent_ms <= (gint64)app->opt.show_timeout_min * 60 * 1000;
  g_message("show %" G_GINT64_FORMAT " was left open %" G_GINT64_FORMAT " s ago: %s", show,
            silent_ms / 1000, resume ? "resuming it on the slate" : "ending it");
  room_show_resume(app->room, resume, length);
}
