/* rtmp_chunk.c — RTMP chunk stream reader and writer (RTMP spec section 5.3).
 *
 * The reader is two states, READ_HEADER and READ_PAYLOAD. A header (at most
 * 18 bytes) is parsed only once it is whole: its bytes wait in a small stash
 * when they arrive split. Payload bytes go straight into the message being
 * assembled on their chunk stream, so nothing but the stash is ever buffered
 * on behalf of the caller. Memory is bounded by the limits, never by headers.
 */
#include "stream/rtmp_chunk.h"

#include <string.h>

#define HEADER_MAX 18         /* 3 basic + 11 message header + 4 extended timestamp */
#define KEEP_BUFFER_MAX 65536 /* message buffers above this are freed after use */

typedef struct {
  guint32 csid;
  guint32 timestamp;   /* of the current or last message on this stream */
  guint32 ts_field;    /* last format 0-2 timestamp field (extended value resolved) */
  guint32 length;      /* of the current or last message */
  guint8 type;         /* likewise */
  guint32 stream_id;   /* likewise */
  gboolean extended;   /* the last format 0-2 header used the extended timestamp */
  gboolean in_message; /* more chunks of the current message are due */
  GByteArray *buf;     /* the message being assembled; NULL until needed */
} chunk_stream_t;

typedef struct {
  guint fmt;
  guint32 csid;
  guint32 ts; /* the timestamp field, extended value resolved */
  guint32 length;
  guint8 type;
  guint32 stream_id;
  gboolean ext;
} chunk_header_t;

typedef enum { READ_HEADER, READ_PAYLOAD } read_state_t;

typedef enum { STEP_CONTINUE, STEP_NEED_MORE, STEP_MESSAGE, STEP_ERROR } step_t;

struct rtmp_chunk_reader {
  rtmp_chunk_limits_t limits;
  guint32 chunk_size;
  read_state_t state;
  guint8 stash[HEADER_MAX]; /* a header's first bytes, while it is incomplete */
  guint stash_len;
  chunk_stream_t *streams; /* limits.max_chunk_streams slots, n_streams used */
  guint n_streams;
  chunk_stream_t *cur;       /* READ_PAYLOAD: the stream the chunk belongs to */
  guint32 chunk_left;        /* READ_PAYLOAD: payload bytes left in this chunk */
  chunk_stream_t *delivered; /* its message was handed out; reset on the next call */
  gsize pending;             /* bytes held in partly assembled messages */
  gboolean failed;
};

void rtmp_chunk_limits_init(rtmp_chunk_limits_t *limits) {
  limits->max_message_size = 4u << 20;
  limits->max_chunk_streams = 64;
  limits->max_pending_bytes = 8u << 20;
}

rtmp_chunk_reader_t *rtmp_chunk_reader_new(const rtmp_chunk_limits_t *limits) {
  rtmp_chunk_reader_t *r = g_new0(rtmp_chunk_reader_t, 1);
  if (limits != NULL)
    r->limits = *limits;
  else
    rtmp_chunk_limits_init(&r->limits);
  r->limits.max_chunk_streams = MAX(r->limits.max_chunk_streams, 1);
  r->chunk_size = RTMP_CHUNK_SIZE_DEFAULT;
  r->state = READ_HEADER;
  r->streams = g_new0(chunk_stream_t, r->limits.max_chunk_streams);
  return r;
}

void rtmp_chunk_reader_free(rtmp_chunk_reader_t *r) {
  if (r == NULL)
    return;
  for (guint i = 0; i < r->n_streams; i++)
    if (r->streams[i].buf != NULL)
      g_byte_array_unref(r->streams[i].buf);
  g_free(r->streams);
  g_free(r);
}

guint32 rtmp_chunk_reader_chunk_size(const rtmp_chunk_reader_t *r) {
  return r->chunk_size;
}

static chunk_stream_t *find_stream(rtmp_chunk_reader_t *r, guint32 csid) {
  for (guint i = 0; i < r->n_streams; i++)
    if (r->streams[i].csid == csid)
      return &r->streams[i];
  return NULL;
}

/* Drops what the stream holds of an unfinished or delivered message. Large
 * buffers are freed, so 64 idle streams cannot pin 64 large allocations. */
static void stream_reset_buffer(chunk_stream_t *cs) {
  if (cs->buf == NULL)
    return;
  if (cs->buf->len > KEEP_BUFFER_MAX) {
    g_byte_array_unref(cs->buf);
    cs->buf = NULL;
  } else {
    g_byte_array_set_size(cs->buf, 0);
  }
}

/* Parses one complete chunk header; FALSE if the bytes end before it does. */
static gboolean parse_header(rtmp_chunk_reader_t *r, GstByteReader *br, chunk_header_t *h) {
  guint8 b0, b1;
  guint16 b16;
  guint32 ts24 = 0;
  chunk_stream_t *cs;

  memset(h, 0, sizeof *h);
  if (!gst_byte_reader_get_uint8(br, &b0))
    return FALSE;
  h->fmt = b0 >> 6;
  h->csid = b0 & 0x3f;
  if (h->csid == 0) { /* 2-byte form: 64..319 */
    if (!gst_byte_reader_get_uint8(br, &b1))
      return FALSE;
    h->csid = 64 + b1;
  } else if (h->csid == 1) { /* 3-byte form: 64..65599, little endian */
    if (!gst_byte_reader_get_uint16_le(br, &b16))
      return FALSE;
    h->csid = 64 + (guint32)b16;
  }
  if (h->fmt <= 2 && !gst_byte_reader_get_uint24_be(br, &ts24))
    return FALSE;
  if (h->fmt <= 1 &&
      (!gst_byte_reader_get_uint24_be(br, &h->length) || !gst_byte_reader_get_uint8(br, &h->type)))
    return FALSE;
  if (h->fmt == 0 && !gst_byte_reader_get_uint32_le(br, &h->stream_id))
    return FALSE;
  /* Format 3 carries the extended field whenever the stream's last full
   * header did, continuation chunks included. */
  cs = find_stream(r, h->csid);
  h->ext = h->fmt <= 2 ? ts24 == 0xFFFFFF : (cs != NULL && cs->extended);
  h->ts = ts24;
  if (h->ext && !gst_byte_reader_get_uint32_be(br, &h->ts))
    return FALSE;
  return TRUE;
}

/* Starts a message on `cs` from a header that is not a continuation. */
static step_t start_message(rtmp_chunk_reader_t *r, chunk_stream_t *cs, const chunk_header_t *h,
                            const char **why) {
  switch (h->fmt) {
    case 0:
      cs->timestamp = h->ts; /* absolute */
      cs->stream_id = h->stream_id;
      break;
    case 1:
    case 2:
      cs->timestamp += h->ts; /* delta, wraps mod 2^32 like the protocol */
      break;
    default:
      /* Format 3 repeats the last timestamp field. After format 0 that field
       * was absolute; adding it again is what FFmpeg's writer and reader
       * both assume, so we follow them. */
      cs->timestamp += h->ext ? h->ts : cs->ts_field;
      break;
  }
  if (h->fmt <= 2) {
    cs->ts_field = h->ts;
    cs->extended = h->ext;
  }
  if (h->fmt <= 1) {
    cs->length = h->length;
    cs->type = h->type;
  }
  if (cs->length > r->limits.max_message_size) {
    *why = "message larger than the size limit";
    return STEP_ERROR;
  }
  cs->in_message = TRUE;
  if (cs->buf == NULL)
    cs->buf = g_byte_array_new();
  return STEP_CONTINUE;
}

static step_t apply_header(rtmp_chunk_reader_t *r, const chunk_header_t *h, const char **why) {
  chunk_stream_t *cs = find_stream(r, h->csid);
  step_t st;

  if (cs == NULL) {
    /* Formats 2 and 3 lean on a previous header this stream never had.
     * Format 1 lacks only the stream id; default it to 0. */
    if (h->fmt >= 2) {
      *why = "chunk refers to a chunk stream with no previous header";
      return STEP_ERROR;
    }
    if (r->n_streams >= r->limits.max_chunk_streams) {
      *why = "too many chunk streams";
      return STEP_ERROR;
    }
    cs = &r->streams[r->n_streams++];
    memset(cs, 0, sizeof *cs);
    cs->csid = h->csid;
  }
  if (cs->in_message) {
    if (h->fmt != 3) {
      *why = "new message header before the previous message on its chunk stream ended";
      return STEP_ERROR;
    }
  } else {
    st = start_message(r, cs, h, why);
    if (st != STEP_CONTINUE)
      return st;
  }
  r->cur = cs;
  r->chunk_left = MIN(r->chunk_size, cs->length - cs->buf->len);
  r->state = READ_PAYLOAD;
  return STEP_CONTINUE;
}

static step_t read_header(rtmp_chunk_reader_t *r, GstByteReader *in, const char **why) {
  guint take = MIN(HEADER_MAX - r->stash_len, gst_byte_reader_get_remaining(in));
  const guint8 *data;
  GstByteReader hr;
  chunk_header_t h;
  guint used;

  if (take == 0)
    return STEP_NEED_MORE;
  gst_byte_reader_peek_data(in, take, &data);
  memcpy(r->stash + r->stash_len, data, take);
  gst_byte_reader_init(&hr, r->stash, r->stash_len + take);
  if (!parse_header(r, &hr, &h)) {
    /* Too short: then all of `take` was the rest of the input. */
    r->stash_len += take;
    gst_byte_reader_skip_unchecked(in, take);
    return STEP_NEED_MORE;
  }
  /* The previous, shorter attempt failed, so the header ends past the stash. */
  used = gst_byte_reader_get_pos(&hr);
  g_assert(used > r->stash_len);
  gst_byte_reader_skip_unchecked(in, used - r->stash_len);
  r->stash_len = 0;
  return apply_header(r, &h, why);
}

static step_t apply_control(rtmp_chunk_reader_t *r, const rtmp_message_t *msg, const char **why) {
  GstByteReader br;
  guint32 v;
  chunk_stream_t *cs;

  if (msg->type != RTMP_MSG_SET_CHUNK_SIZE && msg->type != RTMP_MSG_ABORT)
    return STEP_MESSAGE;
  gst_byte_reader_init(&br, msg->data, msg->len);
  if (!gst_byte_reader_get_uint32_be(&br, &v)) {
    *why = "short protocol control message";
    return STEP_ERROR;
  }
  if (msg->type == RTMP_MSG_SET_CHUNK_SIZE) {
    if (v == 0 || (v & 0x80000000u) || v > RTMP_CHUNK_SIZE_MAX) {
      *why = "invalid chunk size";
      return STEP_ERROR;
    }
    r->chunk_size = v;
    return STEP_MESSAGE;
  }
  cs = find_stream(r, v);
  if (cs != NULL && cs->in_message) {
    r->pending -= cs->buf->len;
    stream_reset_buffer(cs);
    cs->in_message = FALSE;
  }
  return STEP_MESSAGE;
}

static step_t read_payload(rtmp_chunk_reader_t *r, GstByteReader *in, rtmp_message_t *msg,
                           const char **why) {
  chunk_stream_t *cs = r->cur;
  guint n = MIN(r->chunk_left, gst_byte_reader_get_remaining(in));
  const guint8 *data;

  if (n > 0) {
    if (n > r->limits.max_pending_bytes - r->pending) {
      *why = "too many bytes in unfinished messages";
      return STEP_ERROR;
    }
    gst_byte_reader_get_data(in, n, &data);
    g_byte_array_append(cs->buf, data, n);
    r->pending += n;
    r->chunk_left -= n;
  }
  if (r->chunk_left > 0)
    return STEP_NEED_MORE;
  r->state = READ_HEADER;
  if (cs->buf->len < cs->length)
    return STEP_CONTINUE;

  cs->in_message = FALSE;
  r->pending -= cs->buf->len;
  r->delivered = cs;
  msg->csid = cs->csid;
  msg->type = cs->type;
  msg->stream_id = cs->stream_id;
  msg->timestamp = cs->timestamp;
  msg->data = cs->buf->data;
  msg->len = cs->buf->len;
  return apply_control(r, msg, why);
}

rtmp_chunk_status_t rtmp_chunk_reader_feed(rtmp_chunk_reader_t *r, GstByteReader *in,
                                           rtmp_message_t *msg, const char **why) {
  const char *reason = "chunk stream failed earlier";
  step_t st;

  if (r->failed)
    goto fail;
  if (r->delivered != NULL) {
    stream_reset_buffer(r->delivered);
    r->delivered = NULL;
  }
  for (;;) {
    if (r->state == READ_HEADER)
      st = read_header(r, in, &reason);
    else
      st = read_payload(r, in, msg, &reason);
    if (st == STEP_MESSAGE)
      return RTMP_CHUNK_MESSAGE;
    if (st == STEP_ERROR)
      break;
    if (st == STEP_NEED_MORE && gst_byte_reader_get_remaining(in) == 0)
      return RTMP_CHUNK_NEED_MORE;
  }
  r->failed = TRUE;
fail:
  if (why != NULL)
    *why = reason;
  return RTMP_CHUNK_ERROR;
}

/* ---- writer ---- */

static void put_basic_header(GByteArray *out, guint fmt, guint32 csid) {
  guint8 b[3];
  guint n;

  if (csid < 64) {
    b[0] = (guint8)(fmt << 6 | csid);
    n = 1;
  } else if (csid < 64 + 256) {
    b[0] = (guint8)(fmt << 6);
    b[1] = (guint8)(csid - 64);
    n = 2;
  } else {
    b[0] = (guint8)(fmt << 6 | 1);
    b[1] = (guint8)((csid - 64) & 0xff);
    b[2] = (guint8)((csid - 64) >> 8);
    n = 3;
  }
  g_byte_array_append(out, b, n);
}

static void put_be(GByteArray *out, guint32 v, guint bytes) {
  guint8 b[4];
  for (guint i = 0; i < bytes; i++)
    b[i] = (guint8)(v >> (8 * (bytes - 1 - i)));
  g_byte_array_append(out, b, bytes);
}

void rtmp_chunk_write(GByteArray *out, guint32 chunk_size, const rtmp_message_t *msg) {
  gboolean ext = msg->timestamp >= 0xFFFFFF;
  guint8 sid[4];
  gsize off = 0;

  g_return_if_fail(msg->csid >= 2 && msg->csid <= RTMP_CSID_MAX);
  g_return_if_fail(chunk_size >= 1 && chunk_size <= RTMP_CHUNK_SIZE_MAX);
  g_return_if_fail(msg->len <= 0xFFFFFF);

  put_basic_header(out, 0, msg->csid);
  put_be(out, ext ? 0xFFFFFF : msg->timestamp, 3);
  put_be(out, (guint32)msg->len, 3);
  put_be(out, msg->type, 1);
  for (guint i = 0; i < 4; i++) /* the message stream id is little endian */
    sid[i] = (guint8)(msg->stream_id >> (8 * i));
  g_byte_array_append(out, sid, 4);
  if (ext)
    put_be(out, msg->timestamp, 4);
  for (;;) {
    gsize n = MIN(chunk_size, msg->len - off);
    if (n > 0)
      g_byte_array_append(out, msg->data + off, (guint)n);
    off += n;
    if (off >= msg->len)
      break;
    put_basic_header(out, 3, msg->csid);
    if (ext)
      put_be(out, msg->timestamp, 4);
  }
}
