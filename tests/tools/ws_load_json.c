/* ws_load_json.c — the JSON ws_load reads and writes, without allocating.
 *
 * Every frame the client receives is scanned once by wl_json_scan, a cursor
 * over [src, end) that picks out the few top-level members the modes look
 * at and skips the rest; on a 150-byte order.ok that is several times faster
 * than building a jansson tree (see `ws_load selftest`). It is a reader for
 * a server we test, not a validator: nested values are skipped by their
 * brackets and strings only. Outgoing frames are written with snprintf and
 * wl_json_quote.
 */
#include <stdio.h>
#include <string.h>

#include "ws_load.h"

#define WL_JSON_MAX_DEPTH 64

static const char *skip_ws(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  return p;
}

/* p is at the opening quote; returns the position after the closing one. */
static const char *skip_string(const char *p, const char *end) {
  p++;
  while (p < end) {
    if (*p == '"')
      return p + 1;
    if (*p == '\\') {
      if (end - p < 2)
        return NULL;
      p += 2;
      continue;
    }
    if ((unsigned char)*p < 0x20)
      return NULL;
    p++;
  }
  return NULL;
}

/* p is at '{' or '['; returns the position after the matching bracket. */
static const char *skip_nested(const char *p, const char *end) {
  char stack[WL_JSON_MAX_DEPTH];
  int depth = 0;

  while (p < end) {
    char ch = *p;
    if (ch == '"') {
      p = skip_string(p, end);
      if (!p)
        return NULL;
      continue;
    }
    if (ch == '{' || ch == '[') {
      if (depth == WL_JSON_MAX_DEPTH)
        return NULL;
      stack[depth++] = ch == '{' ? '}' : ']';
    } else if (ch == '}' || ch == ']') {
      if (depth == 0 || stack[depth - 1] != ch)
        return NULL;
      if (--depth == 0)
        return p + 1;
    }
    p++;
  }
  return NULL;
}

static const char *match_lit(const char *p, const char *end, const char *lit) {
  size_t n = strlen(lit);
  if ((size_t)(end - p) < n || memcmp(p, lit, n) != 0)
    return NULL;
  return p + n;
}

/* Reads one value at p into v; returns the position after it or NULL. */
static const char *read_value(const char *p, const char *end, wl_jval_t *v) {
  const char *q;

  if (p >= end)
    return NULL;
  switch (*p) {
    case '"':
      q = skip_string(p, end);
      if (!q)
        return NULL;
      *v = (wl_jval_t){WL_JSTR, p + 1, (size_t)(q - p - 2)};
      return q;
    case '{':
    case '[':
      q = skip_nested(p, end);
      if (!q)
        return NULL;
      *v = (wl_jval_t){*p == '{' ? WL_JOBJ : WL_JARR, p, (size_t)(q - p)};
      return q;
    case 't':
      v->type = WL_JTRUE;
      q = match_lit(p, end, "true");
      break;
    case 'f':
      v->type = WL_JFALSE;
      q = match_lit(p, end, "false");
      break;
    case 'n':
      v->type = WL_JNULL;
      q = match_lit(p, end, "null");
      break;
    default:
      if (*p != '-' && (*p < '0' || *p > '9'))
        return NULL;
      q = p + 1;
      while (q < end && ((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E' ||
                         *q == '+' || *q == '-'))
        q++;
      v->type = WL_JNUM;
      break;
  }
  if (!q)
    return NULL;
  v->p = p;
  v->n = (size_t)(q - p);
  return q;
}

int wl_json_scan(const char *src, size_t len, const char *const *keys, size_t nkeys,
                 wl_jval_t *vals) {
  const char *p = src, *end = src + len;

  for (size_t i = 0; i < nkeys; i++)
    vals[i] = (wl_jval_t){WL_JNONE, NULL, 0};
  p = skip_ws(p, end);
  if (p >= end || *p != '{')
    return -1;
  p = skip_ws(p + 1, end);
  if (p < end && *p == '}')
    return skip_ws(p + 1, end) == end ? 0 : -1;

  for (;;) {
    const char *name, *q;
    size_t name_len;
    wl_jval_t v;

    if (p >= end || *p != '"')
      return -1;
    q = skip_string(p, end);
    if (!q)
      return -1;
    name = p + 1;
    name_len = (size_t)(q - p - 2);
    p = skip_ws(q, end);
    if (p >= end || *p != ':')
      return -1;
    p = read_value(skip_ws(p + 1, end), end, &v);
    if (!p)
      return -1;
    for (size_t i = 0; i < nkeys; i++) {
      if (vals[i].type == WL_JNONE && strlen(keys[i]) == name_len &&
          memcmp(keys[i], name, name_len) == 0) {
        vals[i] = v;
        break;
      }
    }
    p = skip_ws(p, end);
    if (p >= end)
      return -1;
    if (*p == '}')
      return skip_ws(p + 1, end) == end ? 0 : -1;
    if (*p != ',')
      return -1;
    p = skip_ws(p + 1, end);
  }
}

int wl_json_int(const wl_jval_t *v, int64_t *out) {
  const char *p, *end;
  bool neg = false;
  uint64_t acc = 0;

  if (v->type != WL_JNUM || v->n == 0)
    return -1;
  p = v->p;
  end = v->p + v->n;
  if (*p == '-') {
    neg = true;
    p++;
  }
  if (p == end)
    return -1;
  for (; p < end; p++) {
    if (*p < '0' || *p > '9')
      return -1;
    acc = acc * 10 + (uint64_t)(*p - '0');
    if (acc > (uint64_t)INT64_MAX)
      return -1;
  }
  *out = neg ? -(int64_t)acc : (int64_t)acc;
  return 0;
}

static int hex4(const char *p, const char *end, unsigned *out) {
  unsigned v = 0;
  if (end - p < 4)
    return -1;
  for (int i = 0; i < 4; i++) {
    char ch = p[i];
    v <<= 4;
    if (ch >= '0' && ch <= '9')
      v |= (unsigned)(ch - '0');
    else if (ch >= 'a' && ch <= 'f')
      v |= (unsigned)(ch - 'a' + 10);
    else if (ch >= 'A' && ch <= 'F')
      v |= (unsigned)(ch - 'A' + 10);
    else
      return -1;
  }
  *out = v;
  return 0;
}

/* Appends code point cp as UTF-8; returns the new length or -1. */
static long put_utf8(char *buf, size_t cap, size_t n, unsigned cp) {
  unsigned char tmp[4];
  size_t k;

  if (cp < 0x80) {
    tmp[0] = (unsigned char)cp;
    k = 1;
  } else if (cp < 0x800) {
    tmp[0] = (unsigned char)(0xC0 | (cp >> 6));
    tmp[1] = (unsigned char)(0x80 | (cp & 0x3F));
    k = 2;
  } else if (cp < 0x10000) {
    tmp[0] = (unsigned char)(0xE0 | (cp >> 12));
    tmp[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    tmp[2] = (unsigned char)(0x80 | (cp & 0x3F));
    k = 3;
  } else {
    tmp[0] = (unsigned char)(0xF0 | (cp >> 18));
    tmp[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    tmp[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    tmp[3] = (unsigned char)(0x80 | (cp & 0x3F));
    k = 4;
  }
  if (n + k >= cap)
    return -1;
  memcpy(buf + n, tmp, k);
  return (long)(n + k);
}

long wl_json_str(const wl_jval_t *v, char *buf, size_t cap) {
  const char *p, *end;
  size_t n = 0;

  if (v->type != WL_JSTR || cap == 0)
    return -1;
  p = v->p;
  end = v->p + v->n;
  while (p < end) {
    long r;
    unsigned cp, lo;

    if (*p != '\\') {
      if (n + 1 >= cap)
        return -1;
      buf[n++] = *p++;
      continue;
    }
    if (end - p < 2)
      return -1;
    switch (p[1]) {
      case '"':
        cp = '"';
        break;
      case '\\':
        cp = '\\';
        break;
      case '/':
        cp = '/';
        break;
      case 'b':
        cp = '\b';
        break;
      case 'f':
        cp = '\f';
        break;
      case 'n':
        cp = '\n';
        break;
      case 'r':
        cp = '\r';
        break;
      case 't':
        cp = '\t';
        break;
      case 'u':
        if (hex4(p + 2, end, &cp) != 0)
          return -1;
        if (cp >= 0xD800 && cp < 0xDC00) {
          /* a high surrogate must be followed by \u and a low one */
          if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || hex4(p + 8, end, &lo) != 0 ||
              lo < 0xDC00 || lo > 0xDFFF)
            return -1;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          p += 6;
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return -1;
        }
        p += 4;
        break;
      default:
        return -1;
    }
    p += 2;
    r = put_utf8(buf, cap, n, cp);
    if (r < 0)
      return -1;
    n = (size_t)r;
  }
  buf[n] = '\0';
  return (long)n;
}

bool wl_json_str_eq(const wl_jval_t *v, const char *lit) {
  char buf[256];
  size_t n = strlen(lit);

  if (v->type != WL_JSTR)
    return false;
  if (!memchr(v->p, '\\', v->n))
    return v->n == n && memcmp(v->p, lit, n) == 0;
  return wl_json_str(v, buf, sizeof buf) == (long)n && memcmp(buf, lit, n) == 0;
}

void wl_jarr_init(wl_jarr_t *it, const wl_jval_t *arr) {
  it->first = true;
  if (arr->type != WL_JARR || arr->n < 2) {
    it->p = it->end = NULL;
    return;
  }
  it->p = arr->p + 1;
  it->end = arr->p + arr->n - 1; /* the closing ']' */
}

int wl_jarr_next(wl_jarr_t *it, wl_jval_t *elem) {
  const char *p;

  if (!it->p)
    return 0;
  p = skip_ws(it->p, it->end);
  if (!it->first) {
    if (p >= it->end)
      return 0;
    if (*p != ',')
      return -1;
    p = skip_ws(p + 1, it->end);
  } else if (p >= it->end) {
    return 0;
  }
  it->first = false;
  p = read_value(p, it->end, elem);
  if (!p)
    return -1;
  it->p = p;
  return 1;
}

long wl_json_quote(char *dst, size_t cap, const char *s) {
  static const char hex[] = "0123456789abcdef";
  size_t n = 0;

  if (cap < 3)
    return -1;
  dst[n++] = '"';
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    char esc = 0;

    switch (ch) {
      case '"':
        esc = '"';
        break;
      case '\\':
        esc = '\\';
        break;
      case '\n':
        esc = 'n';
        break;
      case '\r':
        esc = 'r';
        break;
      case '\t':
        esc = 't';
        break;
      default:
        break;
    }
    if (esc) {
      if (n + 2 >= cap)
        return -1;
      dst[n++] = '\\';
      dst[n++] = esc;
    } else if (ch < 0x20) {
      if (n + 6 >= cap)
        return -1;
      memcpy(dst + n, "\\u00", 4);
      dst[n + 4] = hex[ch >> 4];
      dst[n + 5] = hex[ch & 0xF];
      n += 6;
    } else {
      if (n + 1 >= cap)
        return -1;
      dst[n++] = (char)ch;
    }
  }
  if (n + 2 > cap)
    return -1;
  dst[n++] = '"';
  dst[n] = '\0';
  return (long)n;
}

static const char *const msg_keys[WL_F_COUNT] = {
    [WL_F_TYPE] = "type",
    [WL_F_KEY] = "key",
    [WL_F_REASON] = "reason",
    [WL_F_CODE] = "code",
    [WL_F_PRODUCT_ID] = "product_id",
    [WL_F_ID] = "id",
    [WL_F_STOCK] = "stock",
    [WL_F_SOLD] = "sold",
    [WL_F_NAME] = "name",
    [WL_F_PRODUCT] = "product",
    [WL_F_VIEWER_ID] = "viewer_id",
    [WL_F_PRODUCTS] = "products",
    [WL_F_MESSAGE] = "message",
    [WL_F_SHOW] = "show",
};

static wl_msg_type_t msg_type(const wl_jval_t *t) {
  static const struct {
    const char *name;
    wl_msg_type_t type;
  } types[] = {
      {"order.ok", WL_MSG_ORDER_OK}, {"order.rejected", WL_MSG_ORDER_REJECTED},
      {"stock", WL_MSG_STOCK},       {"error", WL_MSG_ERROR},
      {"welcome", WL_MSG_WELCOME},   {"product", WL_MSG_PRODUCT},
      {"pinned", WL_MSG_PINNED},
  };
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (wl_json_str_eq(t, types[i].name))
      return types[i].type;
  return WL_MSG_OTHER;
}

int wl_msg_parse(const char *src, size_t len, wl_msg_t *m) {
  m->type = WL_MSG_OTHER;
  if (wl_json_scan(src, len, msg_keys, WL_F_COUNT, m->f) != 0)
    return -1;
  m->type = msg_type(&m->f[WL_F_TYPE]);
  return 0;
}

int wl_msg_peek(const char *src, size_t len, wl_msg_t *m) {
  const char *p = src, *end = src + len, *q;
  wl_jval_t v;

  memset(m, 0, sizeof *m);
  m->type = WL_MSG_OTHER;
  p = skip_ws(p, end);
  if (p >= end || *p != '{')
    return -1;
  p = skip_ws(p + 1, end);
  q = match_lit(p, end, "\"type\"");
  if (!q)
    return -1;
  p = skip_ws(q, end);
  if (p >= end || *p != ':')
    return -1;
  p = skip_ws(p + 1, end);
  if (p >= end || *p != '"' || !read_value(p, end, &v))
    return -1;
  m->f[WL_F_TYPE] = v;
  m->type = msg_type(&v);
  return 0;
}

static int64_t int_or(const wl_jval_t *v, int64_t dflt) {
  int64_t x;
  return wl_json_int(v, &x) == 0 ? x : dflt;
}

int wl_product_from_obj(const wl_jval_t *obj, wl_product_t *p) {
  static const char *const keys[] = {"id",   "product_id",  "stock",           "sold",
                                     "name", "price_cents", "limit_per_buyer", "unit"};
  wl_jval_t v[8];

  *p = (wl_product_t){0, -1, -1, -1, -1, {WL_JNONE, NULL, 0}, {WL_JNONE, NULL, 0}};
  if (obj->type != WL_JOBJ || wl_json_scan(obj->p, obj->n, keys, 8, v) != 0)
    return -1;
  p->id = int_or(&v[0], int_or(&v[1], 0));
  p->stock = int_or(&v[2], -1);
  p->sold = int_or(&v[3], -1);
  p->name = v[4];
  p->price_cents = int_or(&v[5], -1);
  p->limit_per_buyer = int_or(&v[6], -1);
  p->unit = v[7];
  return p->id > 0 ? 0 : -1;
}

int wl_product_from_msg(const wl_msg_t *m, wl_product_t *p) {
  if (m->f[WL_F_PRODUCT].type == WL_JOBJ && wl_product_from_obj(&m->f[WL_F_PRODUCT], p) == 0) {
    /* a broadcast may carry stock beside the nested object */
    if (p->stock < 0)
      p->stock = int_or(&m->f[WL_F_STOCK], -1);
    if (p->sold < 0)
      p->sold = int_or(&m->f[WL_F_SOLD], -1);
    return 0;
  }
  *p = (wl_product_t){0, -1, -1, -1, -1, m->f[WL_F_NAME], {WL_JNONE, NULL, 0}};
  p->id = int_or(&m->f[WL_F_PRODUCT_ID], int_or(&m->f[WL_F_ID], 0));
  p->stock = int_or(&m->f[WL_F_STOCK], -1);
  p->sold = int_or(&m->f[WL_F_SOLD], -1);
  return p->id > 0 ? 0 : -1;
}
