/* protocol.h — tourcast.v1: parsing and validating what clients send over /ws.
 *
 * One JSON object per text frame, each with "type". proto_parse() turns a
 * frame into a typed, validated message or a protocol error with its code;
 * it never touches state, so the same bytes always give the same answer and
 * a bad message changes nothing. Every limit here is written down in
 * ws/PROTOCOL.md; keep the two in step.
 */
#ifndef TOURCAST_PROTOCOL_H
#define TOURCAST_PROTOCOL_H

#include <glib.h>
#include <jansson.h>

/* Limits (characters are Unicode code points of valid UTF-8). */
#define PROTO_MAX_FRAME_BYTES 4096
#define PROTO_MAX_NAME_CHARS 32
#define PROTO_MAX_PICKUP_CHARS 32
#define PROTO_MAX_PHONE_CHARS 20
#define PROTO_MAX_TEXT_CHARS 280 /* questions and answers */
#define PROTO_MAX_PRODUCT_NAME_CHARS 32
#define PROTO_MAX_UNIT_CHARS 8
#define PROTO_MAX_PROMISE_CHARS 64 /* the leader's after-sales promise line */
#define PROTO_MAX_TOKEN_CHARS 128  /* viewer_token, leader token */
#define PROTO_MAX_KEY_CHARS 64     /* order idempotency key */
#define PROTO_MAX_REF_CHARS 64
#define PROTO_MAX_QTY 99
#define PROTO_MAX_QUESTIONS_PAGE 50     /* questions in one questions.page */
#define PROTO_MAX_PRICE_CENTS 100000000 /* ¥1,000,000 */
#define PROTO_MAX_STOCK 1000000
#define PROTO_MAX_ID G_GINT64_CONSTANT(9007199254740991) /* 2^53 - 1: exact in JSON */
#define PROTO_MAX_STREAM_MS G_GINT64_CONSTANT(864000000) /* 10 days */
#define PROTO_MAX_URL_CHARS 1024                         /* restream target */

typedef enum {
  PROTO_HELLO_VIEWER,
  PROTO_HELLO_LEADER,
  PROTO_ORDER,
  PROTO_ASK,
  PROTO_PRODUCT_PUT,
  PROTO_PIN,
  PROTO_ANSWER,
  PROTO_HIGHLIGHT,
  PROTO_SHOW_BEGIN,
  PROTO_SHOW_END,
  PROTO_SHOW_UPDATE,
  PROTO_PING,
  PROTO_RESTREAM_ADD,
  PROTO_RESTREAM_REMOVE,
  PROTO_JOIN,           /* a guest gives name, pickup and phone (u.hello_viewer) */
  PROTO_MY_ORDERS,      /* a viewer's own orders of a show */
  PROTO_SHOW_SCHEDULE,  /* the leader announces the next show */
  PROTO_QUESTIONS_MORE, /* older questions than a page has (welcome carries the newest) */
} proto_type_t;

typedef enum {
  PROTO_OK = 0,
  PROTO_ERR_BAD_JSON,
  PROTO_ERR_UNKNOWN_TYPE,
  PROTO_ERR_TOO_LARGE,
  PROTO_ERR_RATE_LIMITED,
  PROTO_ERR_FORBIDDEN,
  PROTO_ERR_INVALID,
  PROTO_ERR_UNAVAILABLE,   /* the store could not commit: retry with the same key */
  PROTO_ERR_JOIN_REQUIRED, /* a guest ordered or asked: join (name, pickup, phone) first */
} proto_error_t;

/* A parsed message. Strings point into `root`, which the message owns:
 * valid until proto_msg_clear(). Absent optional strings are NULL; absent
 * optional numbers are -1. */
typedef struct {
  proto_type_t type;
  json_t *root;
  char *ref; /* the client's correlation id (owned), echoed in replies; NULL */
  union {
    struct {
      const char *name, *pickup, *phone, *viewer_token, *invite_ref;
      gboolean guest; /* hello only: watch without joining */
    } hello_viewer;   /* hello (role viewer) and join */
    struct {
      const char *token;
    } hello_leader;
    struct {
      gint64 product_id;
      int qty; /* 1..99, or 0 when the client sent a number out of range */
      const char *key;
      gint64 seen_ms; /* -1: not sent */
      gint64 show_id; /* 0: not sent (the open show) */
    } order;
    struct {
      const char *text;
      gint64 seen_ms;
    } ask;
    struct {
      gint64 id; /* 0: create */
      const char *name, *unit;
      gint64 price_cents, stock;
      int limit_per_buyer; /* 0: no limit */
      gboolean on_sale;
      guint present; /* PROTO_FIELD_* bits of the fields that were sent */
    } product;
    struct {
      gint64 product_id; /* 0: unpin */
    } pin;
    struct {
      gint64 question_id;
      const char *text;
    } answer;
    struct {
      gint64 question_id; /* 0: clear */
    } highlight;
    struct {
      const char *title;   /* NULL: keep (show.begin: the default title) */
      const char *promise; /* NULL: keep (show.begin: none); "": clear */
      gboolean carry_over; /* show.begin: title/promise not sent come from the last show */
    } show_begin;          /* show.begin and show.update */
    struct {
      const char *title; /* NULL with at_unix_ms 0 */
      gint64 at_unix_ms; /* 0: clear the announcement */
    } schedule;
    struct {
      gint64 show_id;
    } my_orders;
    struct {
      gint64 show_id;   /* 0: the open show */
      gint64 before_id; /* the oldest question the page has */
      gint64 limit;     /* 1..PROTO_MAX_QUESTIONS_PAGE */
    } questions_more;
    struct {
      const char *url; /* rtmp:// or rtmps:// */
    } restream;
  } u;
} proto_msg_t;

enum {
  PROTO_FIELD_NAME = 1 << 0,
  PROTO_FIELD_PRICE = 1 << 1,
  PROTO_FIELD_UNIT = 1 << 2,
  PROTO_FIELD_STOCK = 1 << 3,
  PROTO_FIELD_LIMIT = 1 << 4,
  PROTO_FIELD_ON_SALE = 1 << 5,
};

/* Parses one text frame of `len` bytes (need not be NUL-terminated). On
 * success fills `out` (free with proto_msg_clear) and returns PROTO_OK. On
 * failure returns the error code, leaves `out` cleared, and sets *message to
 * a static English explanation and *ref to a newly allocated copy of the
 * client's "ref" (a string, or an integer as text) when one could be read
 * (g_free it; NULL otherwise). On success *ref is NULL and out->ref has it. */
proto_error_t proto_parse(const char *text, gsize len, proto_msg_t *out, const char **message,
                          char **ref);
void proto_msg_clear(proto_msg_t *msg);

/* "bad_json", "unknown_type", ... as the protocol spells them. */
const char *proto_error_code(proto_error_t err);
/* TRUE for messages only the leader may send. */
gboolean proto_is_leader_only(proto_type_t type);

#endif
