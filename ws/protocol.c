/* protocol.c — turning tourcast.v1 frames into validated messages.
 *
 * Only syntax and limits live here: types, ranges, lengths, which fields a
 * message needs. Whether an order can be filled, whether the sender may pin,
 * and what goes back to whom is the room's business (room.c).
 */
#include "ws/protocol.h"

#include <string.h>

typedef struct {
  const char *name;
  proto_type_t type;
} type_name_t;

static const type_name_t types[] = {
    {"order", PROTO_ORDER},
    {"ask", PROTO_ASK},
    {"product.put", PROTO_PRODUCT_PUT},
    {"pin", PROTO_PIN},
    {"answer", PROTO_ANSWER},
    {"highlight", PROTO_HIGHLIGHT},
    {"show.begin", PROTO_SHOW_BEGIN},
    {"show.end", PROTO_SHOW_END},
    {"show.update", PROTO_SHOW_UPDATE},
    {"ping", PROTO_PING},
    {"restream.add", PROTO_RESTREAM_ADD},
    {"restream.remove", PROTO_RESTREAM_REMOVE},
    {"join", PROTO_JOIN},
    {"my_orders", PROTO_MY_ORDERS},
    {"show.schedule", PROTO_SHOW_SCHEDULE},
    {"questions.more", PROTO_QUESTIONS_MORE},
};

static const char *const error_codes[] = {
    [PROTO_OK] = "ok",
    [PROTO_ERR_BAD_JSON] = "bad_json",
    [PROTO_ERR_UNKNOWN_TYPE] = "unknown_type",
    [PROTO_ERR_TOO_LARGE] = "too_large",
    [PROTO_ERR_RATE_LIMITED] = "rate_limited",
    [PROTO_ERR_FORBIDDEN] = "forbidden",
    [PROTO_ERR_INVALID] = "invalid",
    [PROTO_ERR_UNAVAILABLE] = "unavailable",
    [PROTO_ERR_JOIN_REQUIRED] = "join_required",
};

const char *proto_error_code(proto_error_t err) {
  return (unsigned)err < G_N_ELEMENTS(error_codes) ? error_codes[err] : "invalid";
}

gboolean proto_is_leader_only(proto_type_t type) {
  switch (type) {
    case PROTO_PRODUCT_PUT:
    case PROTO_PIN:
    case PROTO_ANSWER:
    case PROTO_HIGHLIGHT:
    case PROTO_SHOW_BEGIN:
    case PROTO_SHOW_END:
    case PROTO_SHOW_UPDATE:
    case PROTO_RESTREAM_ADD:
    case PROTO_RESTREAM_REMOVE:
    case PROTO_SHOW_SCHEDULE:
      return TRUE;
    default:
      return FALSE;
  }
}

/* ---- field readers: each returns FALSE (and names the problem) on bad input ---- */

typedef struct {
  json_t *obj;
  const char *problem; /* static text for the error message */
} reader_t;

/* TRUE if `s` holds a C0 or C1 control character or DEL. None is needed in
 * any field, and refusing them keeps every user text at most 4 bytes a
 * character once JSON-escaped (a control character costs 6), which the
 * size bounds of the server's lists rely on (ws/PROTOCOL.md, Limits). */
static gboolean has_control(const char *s, gsize len) {
  for (gsize i = 0; i < len; i++) {
    guchar c = (guchar)s[i];
    if (c < 0x20 || c == 0x7F)
      return TRUE;
    if (c == 0xC2 && i + 1 < len && (guchar)s[i + 1] >= 0x80 && (guchar)s[i + 1] <= 0x9F)
      return TRUE;
  }
  return FALSE;
}

/* A string of 1..max_chars characters, without control characters.
 * Absent and optional: *out = NULL. */
static gboolean read_string(reader_t *r, const char *key, glong max_chars, gboolean required,
                            const char **out) {
  json_t *v = json_object_get(r->obj, key);
  *out = NULL;
  if (v == NULL || (!required && json_is_null(v))) {
    if (required)
      r->problem = "a required field is missing";
    return !required;
  }
  if (!json_is_string(v)) {
    r->problem = "a field that must be a string is not";
    return FALSE;
  }
  const char *s = json_string_value(v);
  /* jansson guarantees valid UTF-8 and rejects \u0000 by default. */
  glong chars = g_utf8_strlen(s, (gssize)json_string_length(v));
  if (chars < 1 || chars > max_chars) {
    r->problem = chars < 1 ? "a text field is empty" : "a text field is too long";
    return FALSE;
  }
  if (has_control(s, json_string_length(v))) {
    r->problem = "a text field holds a control character";
    return FALSE;
  }
  *out = s;
  return TRUE;
}

/* The promise line: like an optional string, but "" is allowed (it clears). */
static gboolean read_promise(reader_t *r, const char **out) {
  json_t *v = json_object_get(r->obj, "promise");
  if (json_is_string(v) && json_string_length(v) == 0) {
    *out = "";
    return TRUE;
  }
  return read_string(r, "promise", PROTO_MAX_PROMISE_CHARS, FALSE, out);
}

/* An integer in [min, max]. Absent and optional: *out = dflt. */
static gboolean read_int(reader_t *r, const char *key, gint64 min, gint64 max, gboolean required,
                         gint64 dflt, gint64 *out) {
  json_t *v = json_object_get(r->obj, key);
  *out = dflt;
  if (v == NULL || (!required && json_is_null(v))) {
    if (required)
      r->problem = "a required field is missing";
    return !required;
  }
  if (!json_is_integer(v)) {
    r->problem = "a field that must be an integer is not";
    return FALSE;
  }
  json_int_t n = json_integer_value(v);
  if (n < min || n > max) {
    r->problem = "a number is out of range";
    return FALSE;
  }
  *out = (gint64)n;
  return TRUE;
}

/* An id that may be null (meaning "none", returned as 0). Required key. */
static gboolean read_id_or_null(reader_t *r, const char *key, gint64 *out) {
  json_t *v = json_object_get(r->obj, key);
  if (v != NULL && json_is_null(v)) {
    *out = 0;
    return TRUE;
  }
  return read_int(r, key, 1, PROTO_MAX_ID, TRUE, 0, out);
}

static gboolean read_bool(reader_t *r, const char *key, gboolean *out, gboolean *present) {
  json_t *v = json_object_get(r->obj, key);
  *present = v != NULL;
  if (v == NULL)
    return TRUE;
  if (!json_is_boolean(v)) {
    r->problem = "a field that must be true or false is not";
    return FALSE;
  }
  *out = json_is_true(v);
  return TRUE;
}

/* Digits with an optional leading + and - or spaces between groups. */
static gboolean phone_ok(const char *s) {
  int digits = 0;
  for (const char *p = s; *p; p++) {
    if (g_ascii_isdigit(*p))
      digits++;
    else if (!((*p == '+' && p == s) || *p == '-' || *p == ' '))
      return FALSE;
  }
  return digits >= 5;
}

/* ---- per-type parsing ---- */

/* name, pickup and phone: all three required when `need`. */
static gboolean read_details(reader_t *r, gboolean need,
                             typeof(((proto_msg_t *)0)->u.hello_viewer) *h) {
  if (!read_string(r, "name", PROTO_MAX_NAME_CHARS, need, &h->name) ||
      !read_string(r, "pickup", PROTO_MAX_PICKUP_CHARS, need, &h->pickup) ||
      !read_string(r, "phone", PROTO_MAX_PHONE_CHARS, need, &h->phone))
    return FALSE;
  if (h->phone != NULL && !phone_ok(h->phone)) {
    r->problem = "phone must be digits (with + - or spaces)";
    return FALSE;
  }
  return TRUE;
}

static gboolean parse_hello(reader_t *r, proto_msg_t *m) {
  const char *role = NULL;
  gboolean guest = FALSE, present = FALSE;
  if (!read_bool(r, "guest", &guest, &present))
    return FALSE;
  /* A guest only watches: "role" may be left out. */
  if (!read_string(r, "role", 16, !guest, &role))
    return FALSE;
  if (role == NULL)
    role = "viewer";
  if (strcmp(role, "leader") == 0) {
    m->type = PROTO_HELLO_LEADER;
    return read_string(r, "token", PROTO_MAX_TOKEN_CHARS, TRUE, &m->u.hello_leader.token);
  }
  if (strcmp(role, "viewer") != 0) {
    r->problem = "role must be \"viewer\" or \"leader\"";
    return FALSE;
  }
  m->type = PROTO_HELLO_VIEWER;
  typeof(m->u.hello_viewer) *h = &m->u.hello_viewer;
  /* A returning viewer may send only the token; a new one needs all three. */
  if (!read_string(r, "viewer_token", PROTO_MAX_TOKEN_CHARS, FALSE, &h->viewer_token) ||
      !read_string(r, "ref", PROTO_MAX_REF_CHARS, FALSE, &h->invite_ref))
    return FALSE;
  h->guest = guest;
  return read_details(r, h->viewer_token == NULL && !guest, h);
}

static gboolean parse_order(reader_t *r, proto_msg_t *m) {
  typeof(m->u.order) *o = &m->u.order;
  gint64 qty = 0;
  if (!read_string(r, "key", PROTO_MAX_KEY_CHARS, TRUE, &o->key) ||
      !read_int(r, "product_id", 1, PROTO_MAX_ID, TRUE, 0, &o->product_id) ||
      !read_int(r, "seen_ms", 0, PROTO_MAX_STREAM_MS, FALSE, -1, &o->seen_ms) ||
      !read_int(r, "show_id", 1, PROTO_MAX_ID, FALSE, 0, &o->show_id) ||
      !read_int(r, "qty", G_MININT64, G_MAXINT64, TRUE, 0, &qty))
    return FALSE;
  /* A well-formed order with a silly quantity is answered as an order
   * (order.rejected, reason invalid), so the client can match it by key. */
  o->qty = qty >= 1 && qty <= PROTO_MAX_QTY ? (int)qty : 0;
  return TRUE;
}

static gboolean parse_product(reader_t *r, proto_msg_t *m) {
  typeof(m->u.product) *p = &m->u.product;
  gint64 limit = -1;
  gboolean present = FALSE;
  p->price_cents = p->stock = -1;
  if (!read_int(r, "id", 1, PROTO_MAX_ID, FALSE, 0, &p->id) ||
      !read_string(r, "name", PROTO_MAX_PRODUCT_NAME_CHARS, p->id == 0, &p->name) ||
      !read_string(r, "unit", PROTO_MAX_UNIT_CHARS, FALSE, &p->unit) ||
      !read_int(r, "price_cents", 0, PROTO_MAX_PRICE_CENTS, p->id == 0, -1, &p->price_cents) ||
      !read_int(r, "stock", 0, PROTO_MAX_STOCK, FALSE, -1, &p->stock) ||
      !read_int(r, "limit_per_buyer", 0, PROTO_MAX_QTY, FALSE, -1, &limit) ||
      !read_bool(r, "on_sale", &p->on_sale, &present))
    return FALSE;
  p->limit_per_buyer = (int)limit;
  p->present = (p->name ? PROTO_FIELD_NAME : 0) | (p->unit ? PROTO_FIELD_UNIT : 0) |
               (p->price_cents >= 0 ? PROTO_FIELD_PRICE : 0) |
               (p->stock >= 0 ? PROTO_FIELD_STOCK : 0) | (limit >= 0 ? PROTO_FIELD_LIMIT : 0) |
               (present ? PROTO_FIELD_ON_SALE : 0);
  return TRUE;
}

static gboolean parse_body(reader_t *r, const char *type, proto_msg_t *m) {
  if (strcmp(type, "hello") == 0)
    return parse_hello(r, m);
  for (gsize i = 0; i < G_N_ELEMENTS(types); i++)
    if (strcmp(type, types[i].name) == 0)
      m->type = types[i].type;
  switch (m->type) {
    case PROTO_ORDER:
      return parse_order(r, m);
    case PROTO_ASK:
      return read_string(r, "text", PROTO_MAX_TEXT_CHARS, TRUE, &m->u.ask.text) &&
             read_int(r, "seen_ms", 0, PROTO_MAX_STREAM_MS, FALSE, -1, &m->u.ask.seen_ms);
    case PROTO_PRODUCT_PUT:
      return parse_product(r, m);
    case PROTO_PIN:
      return read_id_or_null(r, "product_id", &m->u.pin.product_id);
    case PROTO_ANSWER:
      return read_int(r, "question_id", 1, PROTO_MAX_ID, TRUE, 0, &m->u.answer.question_id) &&
             read_string(r, "text", PROTO_MAX_TEXT_CHARS, TRUE, &m->u.answer.text);
    case PROTO_HIGHLIGHT:
      return read_id_or_null(r, "question_id", &m->u.highlight.question_id);
    case PROTO_SHOW_BEGIN:
    case PROTO_SHOW_UPDATE: {
      gboolean present = FALSE;
      return read_string(r, "title", PROTO_MAX_PRODUCT_NAME_CHARS, FALSE, &m->u.show_begin.title) &&
             read_promise(r, &m->u.show_begin.promise) &&
             read_bool(r, "carry_over", &m->u.show_begin.carry_over, &present);
    }
    case PROTO_JOIN:
      return read_string(r, "ref", PROTO_MAX_REF_CHARS, FALSE, &m->u.hello_viewer.invite_ref) &&
             read_details(r, TRUE, &m->u.hello_viewer);
    case PROTO_MY_ORDERS:
      return read_int(r, "show_id", 1, PROTO_MAX_ID, TRUE, 0, &m->u.my_orders.show_id);
    case PROTO_QUESTIONS_MORE:
      return read_int(r, "show_id", 1, PROTO_MAX_ID, FALSE, 0, &m->u.questions_more.show_id) &&
             read_int(r, "before_id", 1, PROTO_MAX_ID, TRUE, 0, &m->u.questions_more.before_id) &&
             read_int(r, "limit", 1, PROTO_MAX_QUESTIONS_PAGE, FALSE, PROTO_MAX_QUESTIONS_PAGE,
                      &m->u.questions_more.limit);
    case PROTO_SHOW_SCHEDULE:
      /* at_unix_ms null or absent: no next show announced. */
      if (!read_int(r, "at_unix_ms", 1, G_GINT64_CONSTANT(4102444800000), FALSE, 0,
                    &m->u.schedule.at_unix_ms))
        return FALSE;
      return read_string(r, "title", PROTO_MAX_PRODUCT_NAME_CHARS, m->u.schedule.at_unix_ms != 0,
                         &m->u.schedule.title);
    case PROTO_RESTREAM_ADD:
    case PROTO_RESTREAM_REMOVE:
      if (!read_string(r, "url", PROTO_MAX_URL_CHARS, TRUE, &m->u.restream.url))
        return FALSE;
      if (!g_str_has_prefix(m->u.restream.url, "rtmp://") &&
          !g_str_has_prefix(m->u.restream.url, "rtmps://")) {
        r->problem = "url must be rtmp:// or rtmps://";
        return FALSE;
      }
      return TRUE;
    default:
      return TRUE;
  }
}

void proto_msg_clear(proto_msg_t *msg) {
  if (msg->root != NULL)
    json_decref(msg->root);
  g_free(msg->ref);
  memset(msg, 0, sizeof *msg);
}

/* The "type" names the parser knows, for the unknown_type check. */
static gboolean known_type(const char *type) {
  if (strcmp(type, "hello") == 0)
    return TRUE;
  for (gsize i = 0; i < G_N_ELEMENTS(types); i++)
    if (strcmp(type, types[i].name) == 0)
      return TRUE;
  return FALSE;
}

proto_error_t proto_parse(const char *text, gsize len, proto_msg_t *out, const char **message,
                          char **ref) {
  memset(out, 0, sizeof *out);
  *ref = NULL;
  if (len > PROTO_MAX_FRAME_BYTES) {
    *message = "frames are at most 4096 bytes";
    return PROTO_ERR_TOO_LARGE;
  }
  json_error_t jerr;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
  if (root == NULL || !json_is_object(root)) {
    *message = root ? "a message is one JSON object" : "not valid JSON";
    json_decref(root);
    return PROTO_ERR_BAD_JSON;
  }
  /* Echo the client's ref in any error, if it is a sane string or number. */
  json_t *jref = json_object_get(root, "ref");
  if (json_is_string(jref) && json_string_length(jref) <= PROTO_MAX_REF_CHARS)
    *ref = g_strdup(json_string_value(jref));
  else if (json_is_integer(jref))
    *ref = g_strdup_printf("%" JSON_INTEGER_FORMAT, json_integer_value(jref));

  proto_error_t err = PROTO_OK;
  reader_t r = {root, NULL};
  const char *type = json_string_value(json_object_get(root, "type"));
  if (type == NULL) {
    *message = "every message needs a string \"type\"";
    err = PROTO_ERR_INVALID;
  } else if (!known_type(type)) {
    *message = "unknown message type";
    err = PROTO_ERR_UNKNOWN_TYPE;
  } else if (!parse_body(&r, type, out)) {
    *message = r.problem ? r.problem : "invalid message";
    err = PROTO_ERR_INVALID;
  }
  if (err != PROTO_OK) {
    json_decref(root);
    memset(out, 0, sizeof *out);
    return err;
  }
  out->root = root;
  out->ref = *ref;
  *ref = NULL;
  *message = NULL;
  return PROTO_OK;
}
