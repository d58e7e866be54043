/* main.h — what main.c, main_options.c and main_glue.c share: the app and its options.
 *
 * Internal to the tourcast binary (not a module): main.c starts and stops
 * the app, main_options.c reads the command line and the data dir's
 * secrets, main_glue.c holds the callbacks that hand the modules' events to
 * one another. Everything runs on the one GLib control loop.
 */
#ifndef TOURCAST_MAIN_H
#define TOURCAST_MAIN_H

#include <glib.h>
#include <jansson.h>

#include "overlay/overlay.h"
#include "stream/pipeline.h"
#include "stream/restream.h"
#include "stream/rtmp_server.h"
#include "ws/http_server.h"
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
  char **allowed_origins; /* --allowed-origin, as given */
  char *metrics_token;
  int max_connections;
  int ws_rate;
  int ws_per_ip;
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
  char *images_dir;  /* product pictures, DATA/images */
  char *viewer_url;  /* in the overlay's QR code: --public-url, or this host's */
  char *viewer_qr;   /* /api/qr.svg: the viewer link as SVG, made once; NULL if too long */
  char **ws_origins; /* origins allowed to open /ws besides the server's own (normalised) */
  guint64 overlay_version;
  char *shows_dir;
  guint show_timer;
} app_t;

/* main_options.c */
gboolean parse_options(int argc, char **argv, options_t *o, GError **err);
void options_clear(options_t *o);
/* The origins besides the server's own that may open /ws: each
 * --allowed-origin and --public-url's, normalised (http_policy.h).
 * NULL-terminated, g_strfreev. */
char **ws_origins_new(const options_t *o);
char *load_secret(const char *data_dir, const char *name, const char *given, int len, GError **err);
/* The address to print in URLs and the QR code: the bind address, or the
 * first non-loopback IPv4 address when listening on all interfaces (g_free). */
char *public_host(const char *bind);

/* main_glue.c: callbacks handed to the modules (user = the app_t). */
gint64 clock_stream_ms(void *user);
void on_publish_start(void *user, const char *key);
void on_feed_changed(void *user, gboolean live, gint64 stream_ms);
void on_show_output(void *user, gint64 show_id, gboolean on);
void on_show_started(void *user, gint64 show_id, gint64 epoch_unix_ms);
json_t *leader_settings(void *user);
void resume_open_show(app_t *app);
gboolean on_show_tick(gpointer user);
void on_flv_data(void *user, guint8 tag_type, guint32 ts, const guint8 *data, gsize len);
void on_publish_stop(void *user);
gboolean on_can_accept(void *user);
char *healthz_json(void *user);
gboolean on_restream(void *user, gboolean add, const char *url, const char **why);
json_t *stream_status(void *user);
char *metrics_text(void *user);
char *api_body(void *user, const http_route_t *route, const char *token, int *status);
guint64 on_overlay_changed(void *user);
void on_overlay_shown(void *user, guint64 version, gint64 stream_ms);
gboolean leader_ok(void *user, const char *token);
void upload_body(void *user, const http_route_t *route, GBytes *body, http_reply_t *reply);

#endif
