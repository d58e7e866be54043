/* rtmp_conn.c — the server side of one RTMP connection: handshake, protocol
 * control, AMF0 commands and media, turned into replies and FLV tags.
 *
 * The handshake and state list are drawn in rtmp_conn.h. Only publishing is
 * served: play, shared objects and AMF3 beyond the trivial wrapper are
 * ignored. Sockets, timers and limits on time live in rtmp_server.c.
 */
#include "stream/rtmp_conn.h"

#include <string.h>

#include <gst/gst.h>

#include "stream/amf0.h"
#include "stream/flv.h"

GST_DEBUG_CATEGORY_STATIC(rtmp_debug);
#define GST_CAT_DEFAULT rtmp_debug

#define CSID_CONTROL 2 /* protocol control and user control messages */
#define CSID_COMMAND 3 /* _result and friends */
#define CSID_STATUS 5  /* onStatus on the media stream */
#define CMD_MAX_ARGS 4 /* arguments after name and transaction id we look at */

enum { UC_STREAM_BEGIN = 0, UC_PING_REQUEST = 6, UC_PING_RESPONSE = 7 };

struct rtmp_conn {
  rtmp_conn_config_t cfg; /* app, stream_key, label owned */
  rtmp_conn_callbacks_t cb;
  void *user; /* borrowed */
  rtmp_conn_state_t state;
  const char *reason; /* static; set on CLOSING and FAILED */

  guint8 hs[1 + RTMP_HANDSHAKE_SIZE]; /* C0+C1, then C2 */
  guint hs_len;

  rtmp_chunk_reader_t *reader;
  GByteArray *out; /* to the peer; bytes before out_off are sent */
  gsize out_off;
  GByteArray *scratch; /* a message payload or an FLV tag being built */
  guint32 out_chunk_size;

  guint64 bytes_in; /* everything received, for acknowledgements */
  guint64 acked_at;
  guint32 ack_window;

  char *app; /* from connect, query and trailing slash stripped */
  gboolean publishing;
  gboolean flv_header_sent;
};

static void debug_init(void) {
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(rtmp_debug, "tourcast-rtmp", 0, "RTMP ingest");
    g_once_init_leave(&once, 1);
  }
}

void rtmp_conn_config_init(rtmp_conn_config_t *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->app = "live";
  rtmp_chunk_limits_init(&cfg->limits);
  cfg->out_chunk_size = 4096;
  cfg->window_ack_size = 2500000;
}

rtmp_conn_t *rtmp_conn_new(const rtmp_conn_config_t *cfg, const rtmp_conn_callbacks_t *cb,
                           void *user) {
  rtmp_conn_t *c = g_new0(rtmp_conn_t, 1);

  debug_init();
  c->cfg = *cfg;
  c->cfg.app = g_strdup(cfg->app ? cfg->app : "");
  c->cfg.stream_key = g_strdup(cfg->stream_key);
  c->cfg.label = g_strdup(cfg->label ? cfg->label : "rtmp");
  c->cfg.out_chunk_size = CLAMP(cfg->out_chunk_size, RTMP_CHUNK_SIZE_DEFAULT, 65536);
  if (c->cfg.window_ack_size == 0)
    c->cfg.window_ack_size = 2500000;
  c->cb = *cb;
  c->user = user;
  c->state = RTMP_CONN_HS_C0C1;
  c->reader = rtmp_chunk_reader_new(&cfg->limits);
  c->out = g_byte_array_new();
  c->scratch = g_byte_array_new();
  c->out_chunk_size = RTMP_CHUNK_SIZE_DEFAULT;
  c->ack_window = c->cfg.window_ack_size;
  return c;
}

static void stop_publish(rtmp_conn_t *c, const char *why) {
  if (!c->publishing)
    return;
  GST_INFO("[%s] publish stopped: %s", c->cfg.label, why);
  c->publishing = FALSE;
  if (c->cb.publish_stop != NULL)
    c->cb.publish_stop(c->user);
}

void rtmp_conn_free(rtmp_conn_t *c) {
  if (c == NULL)
    return;
  stop_publish(c, "connection closed");
  rtmp_chunk_reader_free(c->reader);
  g_byte_array_unref(c->out);
  g_byte_array_unref(c->scratch);
  g_free(c->app);
  g_free((char *)c->cfg.app);
  g_free((char *)c->cfg.stream_key);
  g_free((char *)c->cfg.label);
  g_free(c);
}

const guint8 *rtmp_conn_output(const rtmp_conn_t *c, gsize *len) {
  *len = c->out->len - c->out_off;
  return *len > 0 ? c->out->data + c->out_off : (const guint8 *)"";
}

void rtmp_conn_output_consume(rtmp_conn_t *c, gsize n) {
  c->out_off += MIN(n, c->out->len - c->out_off);
  if (c->out_off == c->out->len) {
    g_byte_array_set_size(c->out, 0);
    c->out_off = 0;
  } else if (c->out_off >= 65536) { /* don't let a slow reader make us memmove per byte */
    g_byte_array_remove_range(c->out, 0, (guint)c->out_off);
    c->out_off = 0;
  }
}

rtmp_conn_state_t rtmp_conn_state(const rtmp_conn_t *c) {
  return c->state;
}

gboolean rtmp_conn_is_publishing(const rtmp_conn_t *c) {
  return c->publishing;
}

const char *rtmp_conn_reason(const rtmp_conn_t *c) {
  return c->reason;
}

static void fail(rtmp_conn_t *c, const char *why) {
  GST_INFO("[%s] closing: %s", c->cfg.label, why);
  c->reason = why;
  c->state = RTMP_CONN_FAILED;
  stop_publish(c, why);
}

/* ---- output ---- */

static void send_message(rtmp_conn_t *c, guint32 csid, guint8 type, guint32 msid,
                         const guint8 *payload, gsize len) {
  rtmp_message_t m = {csid, type, msid, 0, payload, len};
  rtmp_chunk_write(c->out, c->out_chunk_size, &m);
}

static void put_be32(guint8 *p, guint32 v) {
  p[0] = (guint8)(v >> 24);
  p[1] = (guint8)(v >> 16);
  p[2] = (guint8)(v >> 8);
  p[3] = (guint8)v;
}

static void send_control(rtmp_conn_t *c, guint8 type, guint32 value) {
  guint8 p[4];
  put_be32(p, value);
  send_message(c, CSID_CONTROL, type, 0, p, sizeof p);
}

static void send_user_control(rtmp_conn_t *c, guint16 event, guint32 value) {
  guint8 p[6] = {event >> 8, event & 0xff};
  put_be32(p + 2, value);
  send_message(c, CSID_CONTROL, RTMP_MSG_USER_CONTROL, 0, p, sizeof p);
}

/* Sends the AMF0 command built in c->scratch. */
static void send_scratch_command(rtmp_conn_t *c, guint32 csid, guint32 msid) {
  send_message(c, csid, RTMP_MSG_COMMAND_AMF0, msid, c->scratch->data, c->scratch->len);
}

static void begin_command(rtmp_conn_t *c, const char *name, double txn) {
  g_byte_array_set_size(c->scratch, 0);
  amf0_write_string(c->scratch, name);
  amf0_write_number(c->scratch, txn);
}

static void send_on_status(rtmp_conn_t *c, const char *level, const char *code,
                           const char *description) {
  begin_command(c, "onStatus", 0);
  amf0_write_null(c->scratch);
  amf0_write_object_start(c->scratch);
  amf0_write_prop_string(c->scratch, "level", level);
  amf0_write_prop_string(c->scratch, "code", code);
  amf0_write_prop_string(c->scratch, "description", description);
  amf0_write_object_end(c->scratch);
  send_scratch_command(c, CSID_STATUS, RTMP_STREAM_ID);
}

/* ---- FLV out ---- */

/* Hands one tag downstream, preceded by the FLV header on the first tag of a
 * publish. The header's stream flags come from onMetaData when it comes
 * first; otherwise we cannot know yet and claim both. */
static void emit_tag(rtmp_conn_t *c, guint8 type, guint32 ts, const guint8 *body, gsize len) {
  if (!c->flv_header_sent) {
    guint8 flags = type == FLV_TAG_SCRIPT ? flv_flags_from_metadata(body, len) : 0;
    g_byte_array_set_size(c->scratch, 0);
    flv_write_header(c->scratch, flags != 0 ? flags : FLV_FLAG_AUDIO | FLV_FLAG_VIDEO);
    c->flv_header_sent = TRUE;
    if (c->cb.flv_data != NULL)
      c->cb.flv_data(c->user, 0, 0, c->scratch->data, c->scratch->len);
  }
  g_byte_array_set_size(c->scratch, 0);
  if (!flv_write_tag(c->scratch, type, ts, body, len))
    return; /* cannot happen below the 4 MiB message limit; the limit is configurable */
  if (c->cb.flv_data != NULL)
    c->cb.flv_data(c->user, type, ts, c->scratch->data, c->scratch->len);
}

/* An AMF0 data message: only onMetaData goes on, without @setDataFrame. */
static void handle_data(rtmp_conn_t *c, const rtmp_message_t *msg) {
  GstByteReader br;
  amf0_value_t *name = NULL;
  const char *s;
  guint body_pos = 0;

  gst_byte_reader_init(&br, msg->data, (guint)msg->len);
  if (amf0_decode(&br, &name) != AMF0_OK)
    goto out;
  s = amf0_value_get_string(name);
  if (g_strcmp0(s, "@setDataFrame") == 0) {
    body_pos = gst_byte_reader_get_pos(&br);
    amf0_value_free(name);
    name = NULL;
    if (amf0_decode(&br, &name) != AMF0_OK)
      goto out;
    s = amf0_value_get_string(name);
  }
  if (g_strcmp0(s, "onMetaData") != 0) {
    GST_DEBUG("[%s] data message %s ignored", c->cfg.label, s ? s : "(not a string)");
    goto out;
  }
  emit_tag(c, FLV_TAG_SCRIPT, msg->timestamp, msg->data + body_pos, msg->len - body_pos);
out:
  amf0_value_free(name);
}

/* An aggregate message is FLV tags back to back; their timestamps are
 * rebased so that the first one lands on the message's own timestamp. */
static void handle_aggregate(rtmp_conn_t *c, const rtmp_message_t *msg) {
  GstByteReader br;
  guint32 first_ts = 0;
  gboolean first = TRUE;

  gst_byte_reader_init(&br, msg->data, (guint)msg->len);
  while (gst_byte_reader_get_remaining(&br) > 0) {
    guint8 type, ts_ext;
    guint32 size, ts24, ts;
    const guint8 *body;

    if (!gst_byte_reader_get_uint8(&br, &type) || !gst_byte_reader_get_uint24_be(&br, &size) ||
        !gst_byte_reader_get_uint24_be(&br, &ts24) || !gst_byte_reader_get_uint8(&br, &ts_ext) ||
        !gst_byte_reader_skip(&br, 3) || !gst_byte_reader_get_data(&br, size, &body) ||
        !gst_byte_reader_skip(&br, 4)) {
      GST_DEBUG("[%s] truncated aggregate message, rest dropped", c->cfg.label);
      return;
    }
    ts = ts24 | (guint32)ts_ext << 24;
    if (first)
      first_ts = ts;
    first = FALSE;
    if ((type == FLV_TAG_AUDIO || type == FLV_TAG_VIDEO) && size > 0)
      emit_tag(c, type, msg->timestamp + (ts - first_ts), body, size);
  }
}

/* ---- commands ---- */

/* "live/", "live?token=x" and "live/?x" all name the application "live". */
static char *app_from_connect(const char *s) {
  char *app = g_strndup(s, strcspn(s, "?"));
  gsize n = strlen(app);
  while (n > 0 && app[n - 1] == '/')
    app[--n] = '\0';
  return app;
}

static void on_connect(rtmp_conn_t *c, double txn, const amf0_value_t *cmd_obj) {
  const char *app = amf0_value_get_string(amf0_object_get(cmd_obj, "app"));

  g_free(c->app);
  c->app = app_from_connect(app ? app : "");
  GST_INFO("[%s] connect app=\"%s\"", c->cfg.label, c->app);

  send_control(c, RTMP_MSG_WINDOW_ACK_SIZE, c->cfg.window_ack_size);
  {
    guint8 p[5];
    put_be32(p, c->cfg.window_ack_size);
    p[4] = 2; /* limit type: dynamic */
    send_message(c, CSID_CONTROL, RTMP_MSG_SET_PEER_BANDWIDTH, 0, p, sizeof p);
  }
  send_control(c, RTMP_MSG_SET_CHUNK_SIZE, c->cfg.out_chunk_size);
  c->out_chunk_size = c->cfg.out_chunk_size; /* from the next message on */

  begin_command(c, "_result", txn);
  amf0_write_object_start(c->scratch);
  amf0_write_prop_string(c->scratch, "fmsVer", "FMS/3,0,1,123");
  amf0_write_prop_number(c->scratch, "capabilities", 31);
  amf0_write_object_end(c->scratch);
  amf0_write_object_start(c->scratch);
  amf0_write_prop_string(c->scratch, "level", "status");
  amf0_write_prop_string(c->scratch, "code", "NetConnection.Connect.Success");
  amf0_write_prop_string(c->scratch, "description", "Connection succeeded.");
  amf0_write_prop_number(c->scratch, "objectEncoding", 0);
  amf0_write_object_end(c->scratch);
  send_scratch_command(c, CSID_COMMAND, 0);
}

static void send_result(rtmp_conn_t *c, double txn, gboolean with_stream_id) {
  begin_command(c, "_result", txn);
  amf0_write_null(c->scratch);
  if (with_stream_id)
    amf0_write_number(c->scratch, RTMP_STREAM_ID);
  else
    g_byte_array_append(c->scratch, (const guint8[]){AMF0_UNDEFINED}, 1);
  send_scratch_command(c, CSID_COMMAND, 0);
}

static void on_fcpublish(rtmp_conn_t *c, double txn, const char *name) {
  begin_command(c, "onFCPublish", 0);
  amf0_write_null(c->scratch);
  amf0_write_object_start(c->scratch);
  amf0_write_prop_string(c->scratch, "code", "NetStream.Publish.Start");
  amf0_write_prop_string(c->scratch, "description", name ? name : "");
  amf0_write_object_end(c->scratch);
  send_scratch_command(c, CSID_COMMAND, 0);
  send_result(c, txn, FALSE);
}

/* Compares in time independent of where the first difference is. */
static gboolean key_equal(const char *a, const char *b) {
  gsize la = strlen(a), lb = strlen(b);
  guint8 diff = la != lb;
  for (gsize i = 0; i < la; i++)
    diff |= (guint8)(a[i] ^ b[i % (lb ? lb : 1)]);
  return diff == 0 && lb > 0;
}

static void refuse_publish(rtmp_conn_t *c, const char *description) {
  GST_INFO("[%s] publish refused: %s", c->cfg.label, description);
  send_on_status(c, "error", "NetStream.Publish.BadName", description);
  c->reason = description;
  c->state = RTMP_CONN_CLOSING;
}

static void on_publish(rtmp_conn_t *c, const char *name) {
  char *key = g_strndup(name ? name : "", strcspn(name ? name : "", "?"));

  if (c->publishing) {
    GST_DEBUG("[%s] second publish on a live connection ignored", c->cfg.label);
  } else if (c->app == NULL || strcmp(c->app, c->cfg.app) != 0) {
    refuse_publish(c, "BadName: unknown application");
  } else if (c->cfg.stream_key == NULL || !key_equal(key, c->cfg.stream_key)) {
    refuse_publish(c, "BadName: wrong stream key");
  } else if (c->cb.may_publish != NULL && !c->cb.may_publish(c->user)) {
    refuse_publish(c, "BadName: a publisher is already live");
  } else {
    GST_INFO("[%s] publish accepted", c->cfg.label);
    send_user_control(c, UC_STREAM_BEGIN, RTMP_STREAM_ID);
    send_on_status(c, "status", "NetStream.Publish.Start", "Start publishing");
    c->publishing = TRUE;
    c->flv_header_sent = FALSE;
    if (c->cb.publish_start != NULL)
      c->cb.publish_start(c->user, key);
  }
  g_free(key);
}

static void dispatch_command(rtmp_conn_t *c, const char *name, double txn, amf0_value_t **args,
                             guint n_args) {
  const amf0_value_t *arg0 = n_args > 0 ? args[0] : NULL;
  const char *arg1 = n_args > 1 ? amf0_value_get_string(args[1]) : NULL;

  GST_DEBUG("[%s] command %s txn %.0f", c->cfg.label, name, txn);
  if (strcmp(name, "connect") == 0)
    on_connect(c, txn, arg0);
  else if (strcmp(name, "releaseStream") == 0)
    send_result(c, txn, FALSE);
  else if (strcmp(name, "FCPublish") == 0)
    on_fcpublish(c, txn, arg1);
  else if (strcmp(name, "createStream") == 0)
    send_result(c, txn, TRUE);
  else if (strcmp(name, "publish") == 0)
    on_publish(c, arg1);
  else if (strcmp(name, "FCUnpublish") == 0 || strcmp(name, "deleteStream") == 0 ||
           strcmp(name, "closeStream") == 0)
    stop_publish(c, name);
  else
    GST_DEBUG("[%s] command %s ignored", c->cfg.label, name);
}

/* name, transaction id, then up to CMD_MAX_ARGS arguments; more are ignored. */
static void handle_command(rtmp_conn_t *c, const guint8 *data, gsize len) {
  GstByteReader br;
  amf0_value_t *name = NULL, *txn = NULL, *args[CMD_MAX_ARGS] = {NULL};
  guint n_args = 0;
  amf0_status_t st;

  gst_byte_reader_init(&br, data, (guint)len);
  if ((st = amf0_decode(&br, &name)) != AMF0_OK || (st = amf0_decode(&br, &txn)) != AMF0_OK)
    goto malformed;
  if (amf0_value_get_string(name) == NULL || txn->type != AMF0_NUMBER) {
    st = AMF0_ERR_INVALID;
    goto malformed;
  }
  while (n_args < CMD_MAX_ARGS && gst_byte_reader_get_remaining(&br) > 0) {
    if ((st = amf0_decode(&br, &args[n_args])) != AMF0_OK)
      goto malformed;
    n_args++;
  }
  dispatch_command(c, name->str, txn->number, args, n_args);
  goto out;
malformed:
  fail(c, amf0_status_str(st));
out:
  for (guint i = 0; i < n_args; i++)
    amf0_value_free(args[i]);
  amf0_value_free(name);
  amf0_value_free(txn);
}

/* ---- messages ---- */

static void handle_user_control(rtmp_conn_t *c, const rtmp_message_t *msg) {
  GstByteReader br;
  guint16 event;
  guint32 value;

  gst_byte_reader_init(&br, msg->data, (guint)msg->len);
  if (!gst_byte_reader_get_uint16_be(&br, &event) || !gst_byte_reader_get_uint32_be(&br, &value)) {
    fail(c, "short user control message");
    return;
  }
  if (event == UC_PING_REQUEST)
    send_user_control(c, UC_PING_RESPONSE, value);
}

static void handle_message(rtmp_conn_t *c, const rtmp_message_t *msg) {
  GstByteReader br;
  guint32 v;

  GST_LOG("[%s] message type %u csid %u msid %u ts %u len %" G_GSIZE_FORMAT, c->cfg.label,
          msg->type, msg->csid, msg->stream_id, msg->timestamp, msg->len);
  switch (msg->type) {
    case RTMP_MSG_WINDOW_ACK_SIZE:
      gst_byte_reader_init(&br, msg->data, (guint)msg->len);
      if (gst_byte_reader_get_uint32_be(&br, &v) && v > 0)
        c->ack_window = v;
      break;
    case RTMP_MSG_USER_CONTROL:
      handle_user_control(c, msg);
      break;
    case RTMP_MSG_AUDIO:
    case RTMP_MSG_VIDEO:
      /* Media before publish, or after a refused one, goes nowhere. */
      if (c->publishing && msg->len > 0)
        emit_tag(c, msg->type, msg->timestamp, msg->data, msg->len);
      break;
    case RTMP_MSG_AGGREGATE:
      if (c->publishing)
        handle_aggregate(c, msg);
      break;
    case RTMP_MSG_DATA_AMF0:
      if (c->publishing)
        handle_data(c, msg);
      break;
    case RTMP_MSG_COMMAND_AMF0:
      handle_command(c, msg->data, msg->len);
      break;
    case RTMP_MSG_COMMAND_AMF3:
      /* A leading 0 byte switches back to AMF0: that form we understand. */
      if (msg->len > 0 && msg->data[0] == 0)
        handle_command(c, msg->data + 1, msg->len - 1);
      break;
    default:
      /* Chunk size and abort were applied by the reader; acks, peer
       * bandwidth, shared objects and AMF3 data need nothing from us. */
      break;
  }
}

/* ---- handshake and input ---- */

/* Collects up to `need` bytes into c->hs; TRUE once they are all there. */
static gboolean collect(rtmp_conn_t *c, GstByteReader *in, guint need) {
  guint n = MIN(need - c->hs_len, gst_byte_reader_get_remaining(in));
  const guint8 *data;

  if (n > 0 && gst_byte_reader_get_data(in, n, &data)) {
    memcpy(c->hs + c->hs_len, data, n);
    c->hs_len += n;
  }
  return c->hs_len == need;
}

static void handshake_c0c1(rtmp_conn_t *c, GstByteReader *in) {
  guint8 s1[RTMP_HANDSHAKE_SIZE];

  if (!collect(c, in, 1 + RTMP_HANDSHAKE_SIZE)) {
    if (c->hs_len > 0 && c->hs[0] != 3)
      fail(c, "not RTMP: C0 version is not 3");
    return;
  }
  if (c->hs[0] != 3) {
    fail(c, "not RTMP: C0 version is not 3");
    return;
  }
  /* S1: time and zero fields 0, then random bytes; the simple handshake
   * asks nothing more of them. */
  memset(s1, 0, 8);
  for (guint i = 8; i < RTMP_HANDSHAKE_SIZE; i += 4) {
    guint32 r = g_random_int();
    memcpy(s1 + i, &r, 4);
  }
  g_byte_array_append(c->out, (const guint8[]){3}, 1);
  g_byte_array_append(c->out, s1, sizeof s1);
  g_byte_array_append(c->out, c->hs + 1, RTMP_HANDSHAKE_SIZE); /* S2 = C1 */
  c->hs_len = 0;
  c->state = RTMP_CONN_HS_C2;
  GST_DEBUG("[%s] C0+C1 read, S0+S1+S2 queued", c->cfg.label);
}

static void read_messages(rtmp_conn_t *c, GstByteReader *in) {
  while (c->state == RTMP_CONN_CHUNKS) {
    rtmp_message_t msg;
    const char *why = NULL;
    rtmp_chunk_status_t st = rtmp_chunk_reader_feed(c->reader, in, &msg, &why);

    if (st == RTMP_CHUNK_NEED_MORE)
      return;
    if (st == RTMP_CHUNK_ERROR) {
      fail(c, why);
      return;
    }
    handle_message(c, &msg);
  }
}

static void maybe_ack(rtmp_conn_t *c) {
  if (c->state != RTMP_CONN_CHUNKS || c->bytes_in - c->acked_at < c->ack_window)
    return;
  send_control(c, RTMP_MSG_ACK, (guint32)c->bytes_in); /* the count wraps at 2^32 */
  c->acked_at = c->bytes_in;
}

rtmp_conn_status_t rtmp_conn_feed(rtmp_conn_t *c, const guint8 *data, gsize len) {
  GstByteReader in;

  g_return_val_if_fail(len <= G_MAXUINT32, RTMP_CONN_ERROR);
  gst_byte_reader_init(&in, data, (guint)len);
  c->bytes_in += len;
  for (;;) {
    switch (c->state) {
      case RTMP_CONN_HS_C0C1:
        handshake_c0c1(c, &in);
        break;
      case RTMP_CONN_HS_C2:
        if (collect(c, &in, RTMP_HANDSHAKE_SIZE)) {
          c->state = RTMP_CONN_CHUNKS; /* C2 is not checked, see the header */
          GST_DEBUG("[%s] handshake done", c->cfg.label);
        }
        break;
      case RTMP_CONN_CHUNKS:
        read_messages(c, &in);
        break;
      case RTMP_CONN_CLOSING:
        return RTMP_CONN_CLOSE; /* the rest of the input is not read */
      case RTMP_CONN_FAILED:
        return RTMP_CONN_ERROR;
    }
    if (gst_byte_reader_get_remaining(&in) == 0 &&
        (c->state == RTMP_CONN_HS_C0C1 || c->state == RTMP_CONN_HS_C2 ||
         c->state == RTMP_CONN_CHUNKS))
      break;
  }
  maybe_ack(c);
  return RTMP_CONN_OK;
}
