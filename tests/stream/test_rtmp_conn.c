/* test_rtmp_conn.c — the connection state machine driven like a publisher
 * would: handshake, connect/releaseStream/FCPublish/createStream/publish,
 * metadata and media, with our replies decoded by the chunk reader and
 * checked by name and code. Refusals, pings, acks, AMF3 wrapping, aggregates
 * and malformed input as table rows. */
#include <string.h>

#include <glib.h>

#include "stream/amf0.h"
#include "stream/flv.h"
#include "stream/rtmp_conn.h"

#define KEY "s3cret-key"

typedef struct {
  guint8 type;
  guint32 ts;
  GBytes *bytes;
} tag_t;

typedef struct {
  rtmp_conn_t *conn;
  rtmp_chunk_reader_t *client; /* reads what the server sends */
  gboolean handshake_checked;
  GByteArray *c1;
  GPtrArray *replies; /* reply_t * */
  GArray *tags;       /* tag_t, tag 0 is the FLV header */
  int starts, stops;
  char *key;
  gboolean busy;
  rtmp_conn_status_t last;
} fixture_t;

typedef struct {
  guint8 type;
  guint32 msid;
  GBytes *data;
  amf0_value_t *args[6]; /* for commands: name, txn, then arguments */
  guint n_args;
} reply_t;

static void reply_free(gpointer p) {
  reply_t *r = p;
  for (guint i = 0; i < r->n_args; i++)
    amf0_value_free(r->args[i]);
  g_bytes_unref(r->data);
  g_free(r);
}

static void tag_clear(gpointer p) {
  g_bytes_unref(((tag_t *)p)->bytes);
}

/* ---- callbacks ---- */

static gboolean cb_may_publish(void *user) {
  return !((fixture_t *)user)->busy;
}
static void cb_start(void *user, const char *key) {
  fixture_t *fx = user;
  fx->starts++;
  g_free(fx->key);
  fx->key = g_strdup(key);
}
static void cb_flv(void *user, guint8 type, guint32 ts, const guint8 *data, gsize len) {
  fixture_t *fx = user;
  tag_t t = {type, ts, g_bytes_new(data, len)};
  g_array_append_val(fx->tags, t);
}
static void cb_stop(void *user) {
  fixture_t *fx = user;
  fx->stops++;
  g_assert_cmpint(fx->stops, <=, fx->starts);
}

static void fx_init(fixture_t *fx, const char *app) {
  rtmp_conn_config_t cfg;
  rtmp_conn_callbacks_t cb = {cb_may_publish, cb_start, cb_flv, cb_stop};

  memset(fx, 0, sizeof *fx);
  rtmp_conn_config_init(&cfg);
  cfg.app = app;
  cfg.stream_key = KEY;
  cfg.label = "test";
  fx->conn = rtmp_conn_new(&cfg, &cb, fx);
  fx->client = rtmp_chunk_reader_new(NULL);
  fx->replies = g_ptr_array_new_with_free_func(reply_free);
  fx->tags = g_array_new(FALSE, TRUE, sizeof(tag_t));
  g_array_set_clear_func(fx->tags, tag_clear);
}

static void fx_clear(fixture_t *fx) {
  rtmp_conn_free(fx->conn);
  g_assert_cmpint(fx->starts, ==, fx->stops);
  rtmp_chunk_reader_free(fx->client);
  g_ptr_array_unref(fx->replies);
  g_array_unref(fx->tags);
  if (fx->c1)
    g_byte_array_unref(fx->c1);
  g_free(fx->key);
}

/* ---- the server's output, decoded ---- */

static void decode_reply(reply_t *r) {
  GstByteReader br;
  gsize len;
  const guint8 *p = g_bytes_get_data(r->data, &len);

  if (r->type != RTMP_MSG_COMMAND_AMF0)
    return;
  gst_byte_reader_init(&br, p, (guint)len);
  while (r->n_args < G_N_ELEMENTS(r->args) && gst_byte_reader_get_remaining(&br) > 0)
    g_assert_cmpint(amf0_decode(&br, &r->args[r->n_args++]), ==, AMF0_OK);
}

static void fx_drain(fixture_t *fx) {
  gsize len;
  const guint8 *out = rtmp_conn_output(fx->conn, &len);
  GstByteReader in;

  if (len == 0)
    return;
  if (!fx->handshake_checked) {
    /* S0 S1 S2 come first and whole, as soon as C0 C1 are in. */
    g_assert_cmpuint(len, >=, 1 + 2 * RTMP_HANDSHAKE_SIZE);
    g_assert_cmpuint(out[0], ==, 3);
    g_assert_cmpmem(out + 1 + RTMP_HANDSHAKE_SIZE, RTMP_HANDSHAKE_SIZE, fx->c1->data,
                    RTMP_HANDSHAKE_SIZE);
    fx->handshake_checked = TRUE;
    rtmp_conn_output_consume(fx->conn, 1 + 2 * RTMP_HANDSHAKE_SIZE);
    out = rtmp_conn_output(fx->conn, &len);
  }
  gst_byte_reader_init(&in, out, (guint)len);
  for (;;) {
    rtmp_message_t m;
    rtmp_chunk_status_t st = rtmp_chunk_reader_feed(fx->client, &in, &m, NULL);
    reply_t *r;
    g_assert_cmpint(st, !=, RTMP_CHUNK_ERROR);
    if (st == RTMP_CHUNK_NEED_MORE)
      break;
    r = g_new0(reply_t, 1);
    r->type = m.type;
    r->msid = m.stream_id;
    r->data = g_bytes_new(m.data, m.len);
    decode_reply(r);
    g_ptr_array_add(fx->replies, r);
  }
  rtmp_conn_output_consume(fx->conn, len);
}

static void fx_feed(fixture_t *fx, const GByteArray *b, gsize step) {
  for (gsize off = 0; off < b->len; off += step) {
    fx->last = rtmp_conn_feed(fx->conn, b->data + off, MIN(step, b->len - off));
    fx_drain(fx);
  }
}

/* The first reply at or after *from that is the command `name`; *from moves
 * past it. */
static reply_t *fx_find(fixture_t *fx, guint *from, const char *name) {
  for (guint i = *from; i < fx->replies->len; i++) {
    reply_t *r = g_ptr_array_index(fx->replies, i);
    if (r->n_args > 0 && g_strcmp0(amf0_value_get_string(r->args[0]), name) == 0) {
      *from = i + 1;
      return r;
    }
  }
  g_error("no %s reply", name);
  return NULL;
}

static const char *info_field(const reply_t *r, const char *field) {
  /* _result: name txn props info; onStatus/onFCPublish: name 0 null info */
  return amf0_value_get_string(amf0_object_get(r->args[r->n_args - 1], field));
}

static reply_t *find_type(fixture_t *fx, guint8 type) {
  for (guint i = 0; i < fx->replies->len; i++) {
    reply_t *r = g_ptr_array_index(fx->replies, i);
    if (r->type == type)
      return r;
  }
  return NULL;
}

static guint32 be32_at(GBytes *b, gsize off) {
  gsize len;
  const guint8 *p = g_bytes_get_data(b, &len);
  g_assert_cmpuint(len, >=, off + 4);
  return (guint32)p[off] << 24 | (guint32)p[off + 1] << 16 | (guint32)p[off + 2] << 8 | p[off + 3];
}

/* ---- building the client's side ---- */

static void put_handshake(fixture_t *fx, GByteArray *b) {
  fx->c1 = g_byte_array_new();
  for (guint i = 0; i < RTMP_HANDSHAKE_SIZE; i++) {
    guint8 c = (guint8)(i * 31 + 5);
    g_byte_array_append(fx->c1, &c, 1);
  }
  g_byte_array_append(b, (const guint8 *)"\x03", 1);
  g_byte_array_append(b, fx->c1->data, fx->c1->len);
  g_byte_array_append(b, fx->c1->data, fx->c1->len); /* C2: content unchecked */
}

static void put_msg(GByteArray *b, guint32 csid, guint8 type, guint32 msid, guint32 ts,
                    const GByteArray *payload) {
  rtmp_message_t m = {csid, type, msid, ts, payload->data, payload->len};
  rtmp_chunk_write(b, RTMP_CHUNK_SIZE_DEFAULT, &m);
}

/* A command: name, txn, then a null (or the connect object), then an
 * optional string argument and a second one. */
static void put_command(GByteArray *b, guint8 type, guint32 msid, const char *name, double txn,
                        const char *app, const char *s1, const char *s2) {
  GByteArray *p = g_byte_array_new();
  if (type == RTMP_MSG_COMMAND_AMF3)
    g_byte_array_append(p, (const guint8 *)"\0", 1);
  amf0_write_string(p, name);
  amf0_write_number(p, txn);
  if (app != NULL) {
    amf0_write_object_start(p);
    amf0_write_prop_string(p, "app", app);
    amf0_write_prop_string(p, "tcUrl", "rtmp://127.0.0.1/live");
    amf0_write_object_end(p);
  } else {
    amf0_write_null(p);
  }
  if (s1)
    amf0_write_string(p, s1);
  if (s2)
    amf0_write_string(p, s2);
  put_msg(b, 3, type, msid, 0, p);
  g_byte_array_unref(p);
}

static void put_publish_session(GByteArray *b, const char *app, const char *key) {
  put_command(b, RTMP_MSG_COMMAND_AMF0, 0, "connect", 1, app, NULL, NULL);
  put_command(b, RTMP_MSG_COMMAND_AMF0, 0, "releaseStream", 2, NULL, key, NULL);
  put_command(b, RTMP_MSG_COMMAND_AMF0, 0, "FCPublish", 3, NULL, key, NULL);
  put_command(b, RTMP_MSG_COMMAND_AMF0, 0, "createStream", 4, NULL, NULL, NULL);
  put_command(b, RTMP_MSG_COMMAND_AMF0, 1, "publish", 5, NULL, key, "live");
}

static void put_media(GByteArray *b, guint8 type, guint32 ts, gsize len) {
  GByteArray *p = g_byte_array_new();
  g_byte_array_set_size(p, (guint)len);
  for (gsize i = 0; i < len; i++)
    p->data[i] = (guint8)(i ^ type);
  put_msg(b, type == RTMP_MSG_AUDIO ? 4 : 6, type, 1, ts, p);
  g_byte_array_unref(p);
}

static void put_metadata(GByteArray *b, gboolean set_data_frame, gboolean audio, gboolean video) {
  GByteArray *p = g_byte_array_new();
  if (set_data_frame)
    amf0_write_string(p, "@setDataFrame");
  amf0_write_string(p, "onMetaData");
  g_byte_array_append(p, (const guint8 *)"\x08\0\0\0\x02", 5);
  if (audio)
    amf0_write_prop_number(p, "audiocodecid", 10);
  if (video)
    amf0_write_prop_number(p, "videocodecid", 7);
  amf0_write_prop_number(p, "width", 320);
  amf0_write_object_end(p);
  put_msg(b, 4, RTMP_MSG_DATA_AMF0, 1, 0, p);
  g_byte_array_unref(p);
}

/* Checks one FLV tag's framing and returns its body. */
static const guint8 *check_tag(const tag_t *t, guint8 type, guint32 ts, gsize *body_len) {
  gsize len;
  const guint8 *p = g_bytes_get_data(t->bytes, &len);
  gsize size;

  g_assert_cmpuint(t->type, ==, type);
  g_assert_cmpuint(t->ts, ==, ts);
  g_assert_cmpuint(len, >=, FLV_TAG_HEADER_SIZE + 4);
  size = (gsize)p[1] << 16 | (gsize)p[2] << 8 | p[3];
  g_assert_cmpuint(p[0], ==, type);
  g_assert_cmpuint(size + FLV_TAG_HEADER_SIZE + 4, ==, len);
  g_assert_cmpuint((guint32)p[4] << 16 | (guint32)p[5] << 8 | p[6] | (guint32)p[7] << 24, ==, ts);
  g_assert_cmpuint(be32_at(t->bytes, len - 4), ==, size + FLV_TAG_HEADER_SIZE);
  *body_len = size;
  return p + FLV_TAG_HEADER_SIZE;
}

/* ---- the publish flow ---- */

static void check_flow(gsize step) {
  fixture_t fx;
  GByteArray *b = g_byte_array_new();
  guint at = 0;
  reply_t *r;
  gsize blen;
  const guint8 *body;

  fx_init(&fx, "live");
  put_handshake(&fx, b);
  put_publish_session(b, "live/", KEY "?token=1");
  put_metadata(b, TRUE, FALSE, TRUE);
  put_media(b, RTMP_MSG_VIDEO, 0, 1000);
  put_media(b, RTMP_MSG_AUDIO, 23, 10);
  put_media(b, RTMP_MSG_VIDEO, 0x01000033, 5); /* extended, and the FLV ext byte */
  put_command(b, RTMP_MSG_COMMAND_AMF0, 1, "FCUnpublish", 6, NULL, KEY, NULL);
  put_media(b, RTMP_MSG_VIDEO, 99, 5); /* after unpublish: dropped */
  put_command(b, RTMP_MSG_COMMAND_AMF0, 1, "deleteStream", 7, NULL, NULL, NULL);
  fx_feed(&fx, b, step);
  g_assert_cmpint(fx.last, ==, RTMP_CONN_OK);

  /* connect: window, bandwidth, chunk size, then _result */
  r = find_type(&fx, RTMP_MSG_WINDOW_ACK_SIZE);
  g_assert_nonnull(r);
  g_assert_cmpuint(be32_at(r->data, 0), ==, 2500000);
  g_assert_nonnull(find_type(&fx, RTMP_MSG_SET_PEER_BANDWIDTH));
  r = find_type(&fx, RTMP_MSG_SET_CHUNK_SIZE);
  g_assert_cmpuint(be32_at(r->data, 0), ==, 4096);
  g_assert_cmpuint(rtmp_chunk_reader_chunk_size(fx.client), ==, 4096);
  r = fx_find(&fx, &at, "_result");
  g_assert_cmpfloat(r->args[1]->number, ==, 1);
  g_assert_cmpstr(info_field(r, "code"), ==, "NetConnection.Connect.Success");
  r = fx_find(&fx, &at, "_result"); /* releaseStream */
  g_assert_cmpfloat(r->args[1]->number, ==, 2);
  g_assert_cmpstr(info_field(fx_find(&fx, &at, "onFCPublish"), "code"), ==,
                  "NetStream.Publish.Start");
  r = fx_find(&fx, &at, "_result"); /* FCPublish */
  g_assert_cmpfloat(r->args[1]->number, ==, 3);
  r = fx_find(&fx, &at, "_result"); /* createStream */
  g_assert_cmpfloat(r->args[1]->number, ==, 4);
  g_assert_cmpint(r->args[3]->type, ==, AMF0_NUMBER);
  g_assert_cmpfloat(r->args[3]->number, ==, RTMP_STREAM_ID);
  /* publish: Stream Begin for stream 1, then onStatus on stream 1 */
  r = find_type(&fx, RTMP_MSG_USER_CONTROL);
  g_assert_nonnull(r);
  g_assert_cmpuint(be32_at(r->data, 2), ==, RTMP_STREAM_ID);
  r = fx_find(&fx, &at, "onStatus");
  g_assert_cmpuint(r->msid, ==, RTMP_STREAM_ID);
  g_assert_cmpstr(info_field(r, "level"), ==, "status");
  g_assert_cmpstr(info_field(r, "code"), ==, "NetStream.Publish.Start");
  g_assert_cmpint(fx.starts, ==, 1);
  g_assert_cmpstr(fx.key, ==, KEY);
  g_assert_cmpint(fx.stops, ==, 1); /* FCUnpublish; deleteStream adds nothing */

  /* FLV: header with video only (from onMetaData), script, video, audio, video */
  g_assert_cmpuint(fx.tags->len, ==, 5);
  body = g_bytes_get_data(g_array_index(fx.tags, tag_t, 0).bytes, &blen);
  g_assert_cmpmem(body, blen, "FLV\x01\x01\0\0\0\x09\0\0\0\0", FLV_HEADER_SIZE);
  body = check_tag(&g_array_index(fx.tags, tag_t, 1), FLV_TAG_SCRIPT, 0, &blen);
  g_assert_cmpmem(body, 13, "\x02\x00\x0aonMetaData", 13); /* @setDataFrame stripped */
  check_tag(&g_array_index(fx.tags, tag_t, 2), FLV_TAG_VIDEO, 0, &blen);
  g_assert_cmpuint(blen, ==, 1000);
  check_tag(&g_array_index(fx.tags, tag_t, 3), FLV_TAG_AUDIO, 23, &blen);
  check_tag(&g_array_index(fx.tags, tag_t, 4), FLV_TAG_VIDEO, 0x01000033, &blen);

  fx_clear(&fx);
  g_byte_array_unref(b);
}

static void test_flow_whole(void) {
  check_flow(G_MAXSIZE);
}

static void test_flow_byte_by_byte(void) {
  check_flow(1);
}

static void test_flow_odd_pieces(void) {
  check_flow(333);
}

/* ---- refusals ---- */

static void test_refusals(void) {
  static const struct {
    const char *name, *conn_app, *client_app, *key;
    gboolean busy;
    const char *why;
  } rows[] = {
      {"wrong key", "live", "live", "nope", FALSE, "wrong stream key"},
      {"empty key", "live", "live", "", FALSE, "wrong stream key"},
      {"key prefix", "live", "live", "s3cret", FALSE, "wrong stream key"},
      {"key longer", "live", "live", KEY "x", FALSE, "wrong stream key"},
      {"wrong app", "live", "other", KEY, FALSE, "unknown application"},
      {"app with a subpath", "live", "live/x", KEY, FALSE, "unknown application"},
      {"somebody live", "live", "live", KEY, TRUE, "already live"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
    fixture_t fx;
    GByteArray *b = g_byte_array_new();
    guint at = 0;
    reply_t *r;

    fx_init(&fx, rows[i].conn_app);
    fx.busy = rows[i].busy;
    put_handshake(&fx, b);
    put_publish_session(b, rows[i].client_app, rows[i].key);
    put_media(b, RTMP_MSG_VIDEO, 0, 100);
    fx_feed(&fx, b, G_MAXSIZE);
    r = fx_find(&fx, &at, "onStatus");
    g_assert_cmpstr(info_field(r, "level"), ==, "error");
    g_assert_cmpstr(info_field(r, "code"), ==, "NetStream.Publish.BadName");
    g_assert_nonnull(strstr(info_field(r, "description"), "BadName"));
    g_assert_nonnull(strstr(info_field(r, "description"), rows[i].why));
    g_assert_cmpint(fx.last, ==, RTMP_CONN_CLOSE);
    g_assert_cmpint(rtmp_conn_state(fx.conn), ==, RTMP_CONN_CLOSING);
    g_assert_nonnull(strstr(rtmp_conn_reason(fx.conn), rows[i].why));
    g_assert_cmpint(fx.starts, ==, 0);
    g_assert_cmpuint(fx.tags->len, ==, 0);
    /* Later input is not even read. */
    g_assert_cmpint(rtmp_conn_feed(fx.conn, b->data, b->len), ==, RTMP_CONN_CLOSE);
    fx_clear(&fx);
    g_byte_array_unref(b);
  }
}

/* ---- control messages ---- */

static void test_ping_and_ack(void) {
  fixture_t fx;
  GByteArray *b = g_byte_array_new(), *p = g_byte_array_new();
  reply_t *r;

  fx_init(&fx, "live");
  put_handshake(&fx, b);
  /* PingRequest 0x01020304 → PingResponse with the same value */
  g_byte_array_append(p, (const guint8 *)"\x00\x06\x01\x02\x03\x04", 6);
  put_msg(b, 2, RTMP_MSG_USER_CONTROL, 0, 0, p);
  /* The peer asks for an ack every 5000 bytes. */
  g_byte_array_set_size(p, 0);
  g_byte_array_append(p, (const guint8 *)"\x00\x00\x13\x88", 4);
  put_msg(b, 2, RTMP_MSG_WINDOW_ACK_SIZE, 0, 0, p);
  fx_feed(&fx, b, G_MAXSIZE);
  r = find_type(&fx, RTMP_MSG_USER_CONTROL);
  g_assert_nonnull(r);
  g_assert_cmpmem(g_bytes_get_data(r->data, NULL), 6, "\x00\x07\x01\x02\x03\x04", 6);
  g_assert_null(find_type(&fx, RTMP_MSG_ACK)); /* 3 KB so far */

  g_byte_array_set_size(b, 0);
  put_media(b, RTMP_MSG_VIDEO, 0, 3000); /* ignored (not publishing) but counted */
  fx_feed(&fx, b, G_MAXSIZE);
  r = find_type(&fx, RTMP_MSG_ACK);
  g_assert_nonnull(r);
  g_assert_cmpuint(be32_at(r->data, 0), ==, 2 * RTMP_HANDSHAKE_SIZE + 1 + 12 + 6 + 12 + 4 + 3035);
  g_assert_cmpuint(fx.tags->len, ==, 0);
  fx_clear(&fx);
  g_byte_array_unref(b);
  g_byte_array_unref(p);
}

static void test_amf3_command_and_default_header(void) {
  fixture_t fx;
  GByteArray *b = g_byte_array_new();
  guint at = 0;
  gsize len;
  const guint8 *hdr;

  fx_init(&fx, "live");
  put_handshake(&fx, b);
  put_command(b, RTMP_MSG_COMMAND_AMF3, 0, "connect", 1, "live", NULL, NULL);
  put_command(b, RTMP_MSG_COMMAND_AMF3, 0, "createStream", 2, NULL, NULL, NULL);
  put_command(b, RTMP_MSG_COMMAND_AMF3, 1, "publish", 3, NULL, KEY, "live");
  put_media(b, RTMP_MSG_AUDIO, 5, 4);  /* before metadata: header says audio+video */
  put_metadata(b, FALSE, TRUE, FALSE); /* plain onMetaData, still forwarded */
  put_command(b, RTMP_MSG_COMMAND_AMF0, 1, "closeStream", 4, NULL, NULL, NULL);
  fx_feed(&fx, b, G_MAXSIZE);
  g_assert_cmpstr(info_field(fx_find(&fx, &at, "_result"), "code"), ==,
                  "NetConnection.Connect.Success");
  g_assert_cmpstr(info_field(fx_find(&fx, &at, "onStatus"), "code"), ==, "NetStream.Publish.Start");
  g_assert_cmpuint(fx.tags->len, ==, 3);
  hdr = g_bytes_get_data(g_array_index(fx.tags, tag_t, 0).bytes, &len);
  g_assert_cmpuint(hdr[4], ==, FLV_FLAG_AUDIO | FLV_FLAG_VIDEO);
  g_assert_cmpuint(g_array_index(fx.tags, tag_t, 2).type, ==, FLV_TAG_SCRIPT);
  g_assert_cmpint(fx.stops, ==, 1);
  fx_clear(&fx);
  g_byte_array_unref(b);
}

static void test_aggregate(void) {
  fixture_t fx;
  GByteArray *b = g_byte_array_new(), *agg = g_byte_array_new();
  gsize blen;

  fx_init(&fx, "live");
  put_handshake(&fx, b);
  put_publish_session(b, "live", KEY);
  flv_write_tag(agg, FLV_TAG_VIDEO, 1000, (const guint8 *)"vv", 2);
  flv_write_tag(agg, FLV_TAG_AUDIO, 1020, (const guint8 *)"aaa", 3);
  put_msg(b, 6, RTMP_MSG_AGGREGATE, 1, 50, agg);
  g_byte_array_set_size(agg, agg->len - 5); /* truncated: the cut tag is dropped */
  put_msg(b, 6, RTMP_MSG_AGGREGATE, 1, 80, agg);
  fx_feed(&fx, b, G_MAXSIZE);
  g_assert_cmpint(fx.last, ==, RTMP_CONN_OK);
  g_assert_cmpuint(fx.tags->len, ==, 4);
  check_tag(&g_array_index(fx.tags, tag_t, 1), FLV_TAG_VIDEO, 50, &blen);
  check_tag(&g_array_index(fx.tags, tag_t, 2), FLV_TAG_AUDIO, 70, &blen);
  g_assert_cmpuint(blen, ==, 3);
  check_tag(&g_array_index(fx.tags, tag_t, 3), FLV_TAG_VIDEO, 80, &blen);
  fx_clear(&fx); /* still live: freeing stops it */
  g_assert_cmpint(fx.stops, ==, 1);
  g_byte_array_unref(b);
  g_byte_array_unref(agg);
}

/* ---- malformed input closes the connection, and a live publish ends ---- */

typedef void (*build_fn)(fixture_t *fx, GByteArray *b);

static void bad_version(fixture_t *fx, GByteArray *b) {
  g_byte_array_append(b, (const guint8 *)"\x06", 1);
}
static void bad_http(fixture_t *fx, GByteArray *b) {
  g_byte_array_append(b, (const guint8 *)"GET / HTTP/1.1\r\n\r\n", 18);
}
static void bad_command_amf(fixture_t *fx, GByteArray *b) {
  GByteArray *p = g_byte_array_new();
  put_handshake(fx, b);
  g_byte_array_append(p,
                      (const guint8 *)"\x02\x00\x07"
                                      "connect\x00\x3f",
                      12); /* cut number */
  put_msg(b, 3, RTMP_MSG_COMMAND_AMF0, 0, 0, p);
  g_byte_array_unref(p);
}
static void bad_command_name(fixture_t *fx, GByteArray *b) {
  GByteArray *p = g_byte_array_new();
  put_handshake(fx, b);
  amf0_write_number(p, 1);
  amf0_write_number(p, 1);
  put_msg(b, 3, RTMP_MSG_COMMAND_AMF0, 0, 0, p);
  g_byte_array_unref(p);
}
static void bad_chunk_while_live(fixture_t *fx, GByteArray *b) {
  put_handshake(fx, b);
  put_publish_session(b, "live", KEY);
  put_media(b, RTMP_MSG_VIDEO, 0, 10);
  g_byte_array_append(b, (const guint8 *)"\xc9", 1); /* format 3 on an unseen csid */
}
static void bad_user_control(fixture_t *fx, GByteArray *b) {
  GByteArray *p = g_byte_array_new();
  put_handshake(fx, b);
  g_byte_array_append(p, (const guint8 *)"\x00\x06\x01", 3);
  put_msg(b, 2, RTMP_MSG_USER_CONTROL, 0, 0, p);
  g_byte_array_unref(p);
}

static void test_malformed(void) {
  static const struct {
    const char *name;
    build_fn build;
    int starts;
  } rows[] = {
      {"C0 version 6", bad_version, 0},
      {"HTTP request", bad_http, 0},
      {"truncated AMF", bad_command_amf, 0},
      {"command name not a string", bad_command_name, 0},
      {"bad chunk while live", bad_chunk_while_live, 1},
      {"short user control", bad_user_control, 0},
  };
  static const gsize steps[] = {1, G_MAXSIZE};
  for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
    for (guint k = 0; k < G_N_ELEMENTS(steps); k++) {
      gsize step = steps[k];
      fixture_t fx;
      GByteArray *b = g_byte_array_new();
      fx_init(&fx, "live");
      rows[i].build(&fx, b);
      fx_feed(&fx, b, step);
      if (fx.last != RTMP_CONN_ERROR)
        g_error("%s: not refused", rows[i].name);
      g_assert_cmpint(rtmp_conn_state(fx.conn), ==, RTMP_CONN_FAILED);
      g_assert_nonnull(rtmp_conn_reason(fx.conn));
      g_assert_cmpint(fx.starts, ==, rows[i].starts);
      g_assert_cmpint(fx.stops, ==, rows[i].starts); /* the failure ended the publish */
      fx_clear(&fx);
      g_byte_array_unref(b);
    }
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/rtmp-conn/flow-whole", test_flow_whole);
  g_test_add_func("/rtmp-conn/flow-byte-by-byte", test_flow_byte_by_byte);
  g_test_add_func("/rtmp-conn/flow-odd-pieces", test_flow_odd_pieces);
  g_test_add_func("/rtmp-conn/refusals", test_refusals);
  g_test_add_func("/rtmp-conn/ping-and-ack", test_ping_and_ack);
  g_test_add_func("/rtmp-conn/amf3-and-default-header", test_amf3_command_and_default_header);
  g_test_add_func("/rtmp-conn/aggregate", test_aggregate);
  g_test_add_func("/rtmp-conn/malformed", test_malformed);
  rtmp_conn_free(NULL);
  return g_test_run();
}
