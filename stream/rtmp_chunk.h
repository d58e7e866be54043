/* rtmp_chunk.h — the RTMP chunk stream: reassembling messages from a peer's
 * chunks, and cutting our own messages into chunks.
 *
 * Pure byte processing, no sockets. The reader takes whatever bytes arrived,
 * keeps per-chunk-stream state (the header compression of formats 1-3 refers
 * back to it) and hands out one whole message at a time. It applies Set Chunk
 * Size and Abort itself, because they change how the very next chunk is read.
 */
#ifndef TOURCAST_RTMP_CHUNK_H
#define TOURCAST_RTMP_CHUNK_H

#include <glib.h>
/* The inline readers cast to unaligned pointers where the CPU allows it; we
 * call the library's out-of-line ones instead, so no unaligned load is ever
 * compiled into our code (UBSan holds us to that). */
#ifndef GST_BYTE_READER_DISABLE_INLINES
#define GST_BYTE_READER_DISABLE_INLINES
#endif
#include <gst/base/gstbytereader.h>

/* Message type ids (RTMP spec 5.4, 7.1). */
enum {
  RTMP_MSG_SET_CHUNK_SIZE = 1,
  RTMP_MSG_ABORT = 2,
  RTMP_MSG_ACK = 3,
  RTMP_MSG_USER_CONTROL = 4,
  RTMP_MSG_WINDOW_ACK_SIZE = 5,
  RTMP_MSG_SET_PEER_BANDWIDTH = 6,
  RTMP_MSG_AUDIO = 8,
  RTMP_MSG_VIDEO = 9,
  RTMP_MSG_DATA_AMF3 = 15,
  RTMP_MSG_SHARED_OBJECT_AMF3 = 16,
  RTMP_MSG_COMMAND_AMF3 = 17,
  RTMP_MSG_DATA_AMF0 = 18,
  RTMP_MSG_SHARED_OBJECT_AMF0 = 19,
  RTMP_MSG_COMMAND_AMF0 = 20,
  RTMP_MSG_AGGREGATE = 22,
};

#define RTMP_CHUNK_SIZE_DEFAULT 128u
/* The spec allows up to 0x7FFFFFFF. We never need more than a message fits
 * in, and a bound keeps arithmetic far from overflow. */
#define RTMP_CHUNK_SIZE_MAX (1u << 24)
/* Chunk stream ids span 2..65599 (3-byte basic header). */
#define RTMP_CSID_MAX 65599u

typedef struct {
  guint32 max_message_size; /* a header announcing more fails; default 4 MiB */
  guint max_chunk_streams;  /* distinct csids seen; default 64 */
  gsize max_pending_bytes;  /* sum of partly assembled messages; default 8 MiB */
} rtmp_chunk_limits_t;

/* Fills `limits` with the defaults above. */
void rtmp_chunk_limits_init(rtmp_chunk_limits_t *limits);

/* One message, as read or to be written. */
typedef struct {
  guint32 csid;
  guint8 type;
  guint32 stream_id;
  guint32 timestamp; /* absolute, extended timestamps resolved, wraps at 2^32 */
  const guint8 *data;
  gsize len;
} rtmp_message_t;

typedef enum {
  RTMP_CHUNK_NEED_MORE = 0, /* all input consumed, no message complete yet */
  RTMP_CHUNK_MESSAGE = 1,   /* *msg holds one message */
  RTMP_CHUNK_ERROR = -1,    /* the stream is broken; the reader is unusable */
} rtmp_chunk_status_t;

typedef struct rtmp_chunk_reader rtmp_chunk_reader_t;

/* `limits` is copied; NULL means the defaults. */
rtmp_chunk_reader_t *rtmp_chunk_reader_new(const rtmp_chunk_limits_t *limits);
/* NULL is a no-op. */
void rtmp_chunk_reader_free(rtmp_chunk_reader_t *r);

/* Consumes bytes from `in` until one message is complete (MESSAGE, `in`
 * advanced just past its last chunk) or `in` is empty (NEED_MORE: partial
 * headers and payloads are kept inside, so feeding byte by byte works).
 * msg->data is borrowed and stays valid until the next call. Set Chunk Size
 * and Abort messages are applied and then returned like any other. On ERROR,
 * *why (if not NULL) gets a static English reason. */
rtmp_chunk_status_t rtmp_chunk_reader_feed(rtmp_chunk_reader_t *r, GstByteReader *in,
                                           rtmp_message_t *msg, const char **why);
/* The peer's current chunk size. */
guint32 rtmp_chunk_reader_chunk_size(const rtmp_chunk_reader_t *r);

/* Appends `msg` as chunks of at most `chunk_size` payload bytes: a format 0
 * header, then format 3 continuations; timestamps of 0xFFFFFF and up use the
 * extended field, repeated on every continuation as the spec says. csid must
 * be 2..RTMP_CSID_MAX and chunk_size 1..RTMP_CHUNK_SIZE_MAX. */
void rtmp_chunk_write(GByteArray *out, guint32 chunk_size, const rtmp_message_t *msg);

#endif
