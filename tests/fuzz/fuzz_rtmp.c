/* fuzz_rtmp.c — libFuzzer target: arbitrary bytes into one server-side RTMP
 * connection. The first input byte picks the mode: bit 0 prefixes a valid
 * handshake so the chunk and AMF layers are reached at once, bit 1 lets a
 * right-key publish go live, the rest sets the feed's piece size. Checks
 * that publish start/stop pair up, that FLV framing is whole, and that
 * everything we send back parses as a chunk stream. */
#include <stdlib.h>
#include <string.h>

#include "stream/flv.h"
#include "stream/rtmp_conn.h"

typedef struct {
  gboolean allow;
  int starts, stops;
  gboolean header_seen;
} fz_t;

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      abort();                                                                                     \
  } while (0)

static gboolean fz_may_publish(void *user) {
  return ((fz_t *)user)->allow;
}

static void fz_start(void *user, const char *key) {
  fz_t *fz = user;
  CHECK(fz->starts == fz->stops);
  CHECK(strcmp(key, "fuzzkey") == 0);
  fz->starts++;
  fz->header_seen = FALSE;
}

static void fz_stop(void *user) {
  fz_t *fz = user;
  fz->stops++;
  CHECK(fz->stops == fz->starts);
}

static void fz_flv(void *user, guint8 type, guint32 ts, const guint8 *p, gsize len) {
  fz_t *fz = user;
  gsize size;

  CHECK(fz->starts == fz->stops + 1);
  if (type == 0) {
    CHECK(!fz->header_seen && len == FLV_HEADER_SIZE && memcmp(p, "FLV", 3) == 0);
    fz->header_seen = TRUE;
    return;
  }
  CHECK(fz->header_seen);
  CHECK(type == FLV_TAG_AUDIO || type == FLV_TAG_VIDEO || type == FLV_TAG_SCRIPT);
  CHECK(len >= FLV_TAG_HEADER_SIZE + 4 && p[0] == type);
  size = (gsize)p[1] << 16 | (gsize)p[2] << 8 | p[3];
  CHECK(size + FLV_TAG_HEADER_SIZE + 4 == len);
  CHECK(((guint32)p[len - 4] << 24 | (guint32)p[len - 3] << 16 | (guint32)p[len - 2] << 8 |
         p[len - 1]) == size + FLV_TAG_HEADER_SIZE);
}

/* Parses what the connection sent; the handshake reply is skipped first. */
static void check_output(rtmp_conn_t *c, rtmp_chunk_reader_t *client, gsize *hs_left) {
  gsize len;
  const guint8 *out = rtmp_conn_output(c, &len);
  gsize skip = MIN(*hs_left, len);
  GstByteReader in;
  rtmp_message_t m;

  *hs_left -= skip;
  gst_byte_reader_init(&in, out + skip, (guint)(len - skip));
  while (rtmp_chunk_reader_feed(client, &in, &m, NULL) == RTMP_CHUNK_MESSAGE)
    ;
  CHECK(gst_byte_reader_get_remaining(&in) == 0);
  rtmp_conn_output_consume(c, len);
}

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size) {
  static guint8 handshake[1 + 2 * RTMP_HANDSHAKE_SIZE] = {3};
  rtmp_conn_callbacks_t cb = {fz_may_publish, fz_start, fz_flv, fz_stop};
  rtmp_conn_config_t cfg;
  fz_t fz = {0};
  rtmp_conn_t *c;
  rtmp_chunk_reader_t *client;
  gsize hs_left = 1 + 2 * RTMP_HANDSHAKE_SIZE, step;
  guint8 mode;

  if (size < 1)
    return 0;
  mode = data[0];
  data++;
  size--;
  fz.allow = (mode & 2) != 0;
  step = mode >> 2 ? (gsize)(mode >> 2) * 61 : G_MAXSIZE;

  rtmp_conn_config_init(&cfg);
  cfg.stream_key = "fuzzkey";
  cfg.label = "fuzz";
  cfg.limits.max_message_size = 1u << 20; /* keep a run's memory small */
  cfg.limits.max_pending_bytes = 2u << 20;
  c = rtmp_conn_new(&cfg, &cb, &fz);
  client = rtmp_chunk_reader_new(NULL);
  if (mode & 1)
    rtmp_conn_feed(c, handshake, sizeof handshake);
  check_output(c, client, &hs_left);
  for (gsize off = 0; off < size; off += step) {
    rtmp_conn_status_t st = rtmp_conn_feed(c, data + off, MIN(step, size - off));
    check_output(c, client, &hs_left);
    if (st != RTMP_CONN_OK)
      break;
  }
  rtmp_conn_free(c);
  CHECK(fz.starts == fz.stops);
  rtmp_chunk_reader_free(client);
  return 0;
}
