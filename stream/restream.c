/* restream.c — one isolated RTMP push pipeline per target, retried with backoff.
 *
 * Target states: CONNECTING ──first sample sent──▶ LIVE ──error──▶ RETRYING
 * ──backoff──▶ CONNECTING. A target's pipeline is torn down in a worker
 * thread (rtmp2sink may wait on its socket), never on the control loop.
 * A new connection starts at a keyframe, with timestamps rebased to 0.
 */
#include "stream/restream.h"

#include <gio/gio.h>
#include <gst/app/gstappsrc.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC(restream_debug);
#define GST_CAT_DEFAULT restream_debug

#define MAX_TARGETS 8
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000
#define QUEUE_BYTES (2u * 1024 * 1024) /* ~6 s at 2500 kbit/s, then drop */

typedef struct {
  restream_t *owner;
  char *url;
  char *shown; /* the URL for logs: restream_url_for_logs() */
  restream_state_t state;
  guint attempts, failures;
  guint backoff_ms;
  guint retry_timer;
  guint bus_watch;
  char *last_error;
  /* guarded by owner->lock: the streaming thread pushes through these */
  GstElement *pipe, *vsrc, *asrc;
  gboolean need_key;
  GstClockTime base; /* pts of the first keyframe sent on this connection */
  guint64 bytes_sent;
  gboolean sent_any;
} target_t;

struct restream {
  GMutex lock;
  GPtrArray *targets; /* of target_t*, control loop adds/removes under lock */
  GThreadPool *teardown;
};

static void teardown_worker(gpointer data, gpointer user) {
  GstElement *pipe = data;
  gst_element_set_state(pipe, GST_STATE_NULL);
  gst_object_unref(pipe);
}

restream_t *restream_new(void) {
  GST_DEBUG_CATEGORY_INIT(restream_debug, "tourcast-restream", 0, "tourcast RTMP restream");
  restream_t *rs = g_new0(restream_t, 1);
  g_mutex_init(&rs->lock);
  rs->targets = g_ptr_array_new();
  rs->teardown = g_thread_pool_new(teardown_worker, NULL, 1, FALSE, NULL);
  return rs;
}

const char *restream_state_name(restream_state_t st) {
  switch (st) {
    case RESTREAM_CONNECTING:
      return "connecting";
    case RESTREAM_LIVE:
      return "live";
    case RESTREAM_RETRYING:
      return "retrying";
  }
  return "unknown";
}

/* Under the lock: detaches the target's pipeline and hands it to the worker. */
static void drop_pipeline(target_t *t) {
  if (t->pipe == NULL)
    return;
  GstElement *pipe = t->pipe;
  t->pipe = t->vsrc = t->asrc = NULL;
  g_thread_pool_push(t->owner->teardown, pipe, NULL);
}

static void start_target(target_t *t);

static gboolean on_retry(gpointer data) {
  target_t *t = data;
  t->retry_timer = 0;
  start_target(t);
  return G_SOURCE_REMOVE;
}

char *restream_url_for_logs(const char *url) {
  const char *host = strstr(url, "://");
  host = host != NULL ? host + 3 : url;
  const char *app = strchr(host, '/');
  if (app == NULL)
    return g_strndup(url, (gsize)(strcspn(url, "?#")));
  const char *key = app + 1 + strcspn(app + 1, "/?#");
  if (*key == '\0')
    return g_strdup(url); /* nothing after the app: no key to hide */
  return g_strdup_printf("%.*s/***", (int)(key - url), url);
}

/* An error text with the target's URL in it (rtmp2sink may quote it), with
 * the URL hidden as in logs. */
static char *redact(const target_t *t, const char *why) {
  GString *s = g_string_new(why);
  g_string_replace(s, t->url, t->shown, 0);
  return g_string_free(s, FALSE);
}

static void fail_target(target_t *t, const char *reason) {
  restream_t *rs = t->owner;
  char *why = redact(t, reason);
  GST_WARNING("restream %s: %s; retrying in %u ms", t->shown, why, t->backoff_ms);
  g_message("restream %s failed (%s): retrying in %u s", t->shown, why, t->backoff_ms / 1000);
  g_free(t->last_error);
  t->last_error = why;
  t->failures++;
  g_mutex_lock(&rs->lock);
  drop_pipeline(t);
  t->state = RESTREAM_RETRYING;
  g_mutex_unlock(&rs->lock);
  t->bus_watch = 0;
  t->retry_timer = g_timeout_add(t->backoff_ms, on_retry, t);
  t->backoff_ms = MIN(t->backoff_ms * 2, BACKOFF_MAX_MS);
}

static gboolean on_bus(GstBus *bus, GstMessage *msg, gpointer data) {
  target_t *t = data;
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError *err = NULL;
    gst_message_parse_error(msg, &err, NULL);
    fail_target(t, err->message);
    g_clear_error(&err);
    return G_SOURCE_REMOVE;
  }
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS) {
    fail_target(t, "the connection ended");
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

static GstElement *make_src(const char *name) {
  GstElement *src = gst_element_factory_make("appsrc", name);
  /* Not live: the output already paces what arrives, and a non-live muxer
   * simply interleaves by timestamp. */
  g_object_set(src, "format", GST_FORMAT_TIME, "is-live", FALSE, "block", FALSE, "max-bytes",
               (guint64)QUEUE_BYTES, NULL);
  gst_util_set_object_arg(G_OBJECT(src), "leaky-type", "downstream");
  return src;
}

static void start_target(target_t *t) {
  restream_t *rs = t->owner;
  GstElement *pipe = gst_pipeline_new(NULL);
  GstElement *vsrc = make_src("v"), *asrc = make_src("a");
  GstElement *vparse = gst_element_factory_make("h264parse", NULL);
  GstElement *aparse = gst_element_factory_make("aacparse", NULL);
  GstElement *mux = gst_element_factory_make("flvmux", NULL);
  GstElement *sink = gst_element_factory_make("rtmp2sink", NULL);
  g_object_set(mux, "streamable", TRUE, NULL);
  /* Connect on the first sample, not before: a platform may drop a
   * connection that sits idle until a show starts. */
  g_object_set(sink, "location", t->url, "sync", FALSE, "async", FALSE, "async-connect", FALSE,
               NULL);
  gst_bin_add_many(GST_BIN(pipe), vsrc, vparse, asrc, aparse, mux, sink, NULL);
  t->attempts++;
  if (!gst_element_link_many(vsrc, vparse, mux, sink, NULL) ||
      !gst_element_link_many(asrc, aparse, mux, NULL)) {
    gst_object_unref(pipe);
    fail_target(t, "cannot link the push pipeline");
    return;
  }
  GstBus *bus = gst_element_get_bus(pipe);
  t->bus_watch = gst_bus_add_watch(bus, on_bus, t);
  gst_object_unref(bus);
  g_mutex_lock(&rs->lock);
  t->pipe = pipe;
  t->vsrc = vsrc;
  t->asrc = asrc;
  t->need_key = TRUE;
  t->sent_any = FALSE;
  t->bytes_sent = 0;
  t->state = RESTREAM_CONNECTING;
  g_mutex_unlock(&rs->lock);
  if (gst_element_set_state(pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_source_remove(t->bus_watch);
    fail_target(t, "the push pipeline will not start");
  }
}

gboolean restream_add(restream_t *rs, const char *url, GError **err) {
  if (url == NULL || !(g_str_has_prefix(url, "rtmp://") || g_str_has_prefix(url, "rtmps://")) ||
      strlen(url) > 1024) {
    g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "not an rtmp:// URL");
    return FALSE;
  }
  for (guint i = 0; i < rs->targets->len; i++) {
    if (g_str_equal(((target_t *)rs->targets->pdata[i])->url, url)) {
      g_set_error(err, G_IO_ERROR, G_IO_ERROR_EXISTS, "already a target");
      return FALSE;
    }
  }
  if (rs->targets->len >= MAX_TARGETS) {
    g_set_error(err, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "at most %d targets", MAX_TARGETS);
    return FALSE;
  }
  target_t *t = g_new0(target_t, 1);
  t->owner = rs;
  t->url = g_strdup(url);
  t->shown = restream_url_for_logs(url);
  t->backoff_ms = BACKOFF_MIN_MS;
  g_mutex_lock(&rs->lock);
  g_ptr_array_add(rs->targets, t);
  g_mutex_unlock(&rs->lock);
  start_target(t);
  return TRUE;
}

static void target_free(target_t *t) {
  restream_t *rs = t->owner;
  if (t->retry_timer)
    g_source_remove(t->retry_timer);
  if (t->bus_watch)
    g_source_remove(t->bus_watch);
  g_mutex_lock(&rs->lock);
  drop_pipeline(t);
  g_mutex_unlock(&rs->lock);
  g_free(t->url);
  g_free(t->shown);
  g_free(t->last_error);
  g_free(t);
}

gboolean restream_remove(restream_t *rs, const char *url) {
  for (guint i = 0; i < rs->targets->len; i++) {
    target_t *t = rs->targets->pdata[i];
    if (url != NULL && g_str_equal(t->url, url)) {
      g_mutex_lock(&rs->lock);
      g_ptr_array_remove_index(rs->targets, i);
      g_mutex_unlock(&rs->lock);
      target_free(t);
      return TRUE;
    }
  }
  return FALSE;
}

void restream_free(restream_t *rs) {
  if (rs == NULL)
    return;
  while (rs->targets->len > 0)
    restream_remove(rs, ((target_t *)rs->targets->pdata[0])->url);
  g_thread_pool_free(rs->teardown, FALSE, TRUE);
  g_ptr_array_free(rs->targets, TRUE);
  g_mutex_clear(&rs->lock);
  g_free(rs);
}

/* Under the lock: one sample to one target, rebased to its connection. */
static void push_one(target_t *t, gboolean video, GstSample *sample) {
  GstBuffer *buf = gst_sample_get_buffer(sample);
  if (t->pipe == NULL || buf == NULL || !GST_BUFFER_PTS_IS_VALID(buf))
    return;
  if (t->need_key) {
    if (!video || GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT))
      return; /* a connection starts at a keyframe, audio with it */
    t->need_key = FALSE;
    t->base = GST_BUFFER_PTS(buf);
  }
  if (GST_BUFFER_PTS(buf) < t->base) {
    GST_LOG("%s: %s before the connection's start", t->shown, video ? "video" : "audio");
    return;
  }
  GstBuffer *copy = gst_buffer_copy(buf); /* metadata only; the memory is shared */
  GST_BUFFER_PTS(copy) -= t->base;
  if (GST_BUFFER_DTS_IS_VALID(copy))
    GST_BUFFER_DTS(copy) = GST_BUFFER_DTS(copy) > t->base ? GST_BUFFER_DTS(copy) - t->base : 0;
  GstAppSrc *src = GST_APP_SRC(video ? t->vsrc : t->asrc);
  GstCaps *caps = gst_sample_get_caps(sample);
  GstCaps *have = gst_app_src_get_caps(src);
  if (caps && (have == NULL || !gst_caps_is_equal(have, caps)))
    gst_app_src_set_caps(src, caps);
  if (have)
    gst_caps_unref(have);
  GST_LOG("%s: %s %" GST_TIME_FORMAT, t->shown, video ? "video" : "audio",
          GST_TIME_ARGS(GST_BUFFER_PTS(copy)));
  t->bytes_sent += gst_buffer_get_size(copy);
  t->sent_any = TRUE;
  gst_app_src_push_buffer(src, copy);
}

void restream_push(restream_t *rs, gboolean video, GstSample *sample) {
  g_mutex_lock(&rs->lock);
  for (guint i = 0; i < rs->targets->len; i++)
    push_one(rs->targets->pdata[i], video, sample);
  g_mutex_unlock(&rs->lock);
}

GArray *restream_info(restream_t *rs) {
  GArray *a = g_array_new(FALSE, TRUE, sizeof(restream_target_info_t));
  g_mutex_lock(&rs->lock);
  for (guint i = 0; i < rs->targets->len; i++) {
    target_t *t = rs->targets->pdata[i];
    /* CONNECTING becomes LIVE once media has gone out and no error came. */
    if (t->state == RESTREAM_CONNECTING && t->sent_any && t->bytes_sent > 64 * 1024) {
      t->state = RESTREAM_LIVE;
      t->backoff_ms = BACKOFF_MIN_MS;
    }
    restream_target_info_t info = {g_strdup(t->url), t->state,      t->attempts,
                                   t->failures,      t->bytes_sent, g_strdup(t->last_error)};
    g_array_append_val(a, info);
  }
  g_mutex_unlock(&rs->lock);
  return a;
}

void restream_info_free(GArray *info) {
  if (info == NULL)
    return;
  for (guint i = 0; i < info->len; i++) {
    restream_target_info_t *t = &g_array_index(info, restream_target_info_t, i);
    g_free(t->url);
    g_free(t->last_error);
  }
  g_array_free(info, TRUE);
}
