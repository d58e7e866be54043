/* amf0.c — AMF0 decode and encode (Adobe AMF0 spec, the subset RTMP uses).
 *
 * Decoding is recursive descent over a GstByteReader with a depth limit and a
 * value budget; it copies strings out, so the result outlives the bytes.
 * Unsupported markers (movieclip, reference, recordset, XML, typed object,
 * AVM+) are errors rather than guesses: RTMP publishers do not send them.
 */
#include "stream/amf0.h"

#include <string.h>

typedef struct {
  GstByteReader *br;
  guint values; /* values decoded so far in this call */
} decoder_t;

static amf0_status_t decode_value(decoder_t *d, guint depth, amf0_value_t **out);

const char *amf0_status_str(amf0_status_t st) {
  switch (st) {
    case AMF0_OK:
      return "ok";
    case AMF0_ERR_TRUNCATED:
      return "truncated AMF0 value";
    case AMF0_ERR_INVALID:
      return "invalid AMF0 marker";
    case AMF0_ERR_DEPTH:
      return "AMF0 nesting too deep";
    case AMF0_ERR_LIMIT:
      return "too many AMF0 values";
  }
  return "unknown AMF0 status";
}

amf0_value_t *amf0_value_new(amf0_type_t type) {
  amf0_value_t *v = g_new0(amf0_value_t, 1);
  v->type = type;
  return v;
}

amf0_value_t *amf0_value_new_number(double n) {
  amf0_value_t *v = amf0_value_new(AMF0_NUMBER);
  v->number = n;
  return v;
}

amf0_value_t *amf0_value_new_boolean(gboolean b) {
  amf0_value_t *v = amf0_value_new(AMF0_BOOLEAN);
  v->boolean = b ? TRUE : FALSE;
  return v;
}

amf0_value_t *amf0_value_new_string(const char *s) {
  amf0_value_t *v = amf0_value_new(AMF0_STRING);
  v->len = strlen(s);
  v->str = g_strndup(s, v->len);
  return v;
}

static void prop_free(gpointer p) {
  amf0_prop_t *prop = p;
  g_free(prop->name);
  amf0_value_free(prop->value);
  g_free(prop);
}

void amf0_value_free(amf0_value_t *v) {
  if (v == NULL)
    return;
  g_free(v->str);
  if (v->props != NULL)
    g_ptr_array_unref(v->props);
  if (v->items != NULL)
    g_ptr_array_unref(v->items);
  g_free(v);
}

static void object_append_len(amf0_value_t *obj, char *name, gsize name_len, amf0_value_t *value) {
  amf0_prop_t *prop = g_new(amf0_prop_t, 1);
  prop->name = name; /* takes ownership */
  prop->name_len = name_len;
  prop->value = value;
  if (obj->props == NULL)
    obj->props = g_ptr_array_new_with_free_func(prop_free);
  g_ptr_array_add(obj->props, prop);
}

void amf0_object_append(amf0_value_t *obj, const char *name, amf0_value_t *value) {
  g_return_if_fail(obj != NULL && (obj->type == AMF0_OBJECT || obj->type == AMF0_ECMA_ARRAY));
  object_append_len(obj, g_strdup(name), strlen(name), value);
}

void amf0_array_append(amf0_value_t *arr, amf0_value_t *item) {
  g_return_if_fail(arr != NULL && arr->type == AMF0_STRICT_ARRAY);
  if (arr->items == NULL)
    arr->items = g_ptr_array_new_with_free_func((GDestroyNotify)amf0_value_free);
  g_ptr_array_add(arr->items, item);
}

const amf0_value_t *amf0_object_get(const amf0_value_t *obj, const char *name) {
  if (obj == NULL || obj->props == NULL)
    return NULL;
  gsize len = strlen(name);
  for (guint i = 0; i < obj->props->len; i++) {
    const amf0_prop_t *prop = g_ptr_array_index(obj->props, i);
    if (prop->name_len == len && memcmp(prop->name, name, len) == 0)
      return prop->value;
  }
  return NULL;
}

const char *amf0_value_get_string(const amf0_value_t *v) {
  if (v == NULL || (v->type != AMF0_STRING && v->type != AMF0_LONG_STRING))
    return NULL;
  return v->str;
}

/* ---- decoding ---- */

/* A UTF-8 string with a 16-bit (or, for long strings, 32-bit) length. The
 * length is checked against the bytes present before anything is allocated. */
static amf0_status_t read_utf8(GstByteReader *br, gboolean long_form, char **str, gsize *len) {
  guint32 n;
  const guint8 *data;

  if (long_form) {
    if (!gst_byte_reader_get_uint32_be(br, &n))
      return AMF0_ERR_TRUNCATED;
  } else {
    guint16 n16;
    if (!gst_byte_reader_get_uint16_be(br, &n16))
      return AMF0_ERR_TRUNCATED;
    n = n16;
  }
  if (!gst_byte_reader_get_data(br, n, &data))
    return AMF0_ERR_TRUNCATED;
  *str = g_malloc((gsize)n + 1);
  memcpy(*str, data, n);
  (*str)[n] = '\0';
  *len = n;
  return AMF0_OK;
}

/* Properties up to the object-end marker (an empty name followed by 0x09). */
static amf0_status_t decode_props(decoder_t *d, guint depth, amf0_value_t *obj,
                                  gboolean lenient_end) {
  for (;;) {
    char *name;
    gsize name_len;
    guint8 marker;
    amf0_value_t *value;
    amf0_status_t st;

    if (lenient_end && gst_byte_reader_get_remaining(d->br) == 0)
      return AMF0_OK;
    st = read_utf8(d->br, FALSE, &name, &name_len);
    if (st != AMF0_OK)
      return st;
    if (name_len == 0 && gst_byte_reader_peek_uint8(d->br, &marker) && marker == AMF0_OBJECT_END) {
      g_free(name);
      gst_byte_reader_skip_unchecked(d->br, 1);
      return AMF0_OK;
    }
    st = decode_value(d, depth + 1, &value);
    if (st != AMF0_OK) {
      g_free(name);
      return st;
    }
    object_append_len(obj, name, name_len, value);
  }
}

static amf0_status_t decode_strict_array(decoder_t *d, guint depth, amf0_value_t *arr) {
  guint32 count;

  if (!gst_byte_reader_get_uint32_be(d->br, &count))
    return AMF0_ERR_TRUNCATED;
  /* Every item takes at least its marker byte: a count beyond the bytes left
   * is a lie we can reject before looping on it. */
  if (count > gst_byte_reader_get_remaining(d->br))
    return AMF0_ERR_TRUNCATED;
  arr->items = g_ptr_array_new_with_free_func((GDestroyNotify)amf0_value_free);
  for (guint32 i = 0; i < count; i++) {
    amf0_value_t *item;
    amf0_status_t st = decode_value(d, depth + 1, &item);
    if (st != AMF0_OK)
      return st;
    g_ptr_array_add(arr->items, item);
  }
  return AMF0_OK;
}

/* The body of a value whose marker has been read; fills `v`. */
static amf0_status_t decode_body(decoder_t *d, guint depth, amf0_value_t *v) {
  GstByteReader *br = d->br;
  guint8 b;
  guint32 count;

  switch (v->type) {
    case AMF0_NUMBER:
      return gst_byte_reader_get_float64_be(br, &v->number) ? AMF0_OK : AMF0_ERR_TRUNCATED;
    case AMF0_BOOLEAN:
      if (!gst_byte_reader_get_uint8(br, &b))
        return AMF0_ERR_TRUNCATED;
      v->boolean = b != 0;
      return AMF0_OK;
    case AMF0_STRING:
    case AMF0_LONG_STRING:
      return read_utf8(br, v->type == AMF0_LONG_STRING, &v->str, &v->len);
    case AMF0_NULL:
    case AMF0_UNDEFINED:
      return AMF0_OK;
    case AMF0_DATE:
      if (!gst_byte_reader_get_float64_be(br, &v->number) ||
          !gst_byte_reader_get_int16_be(br, &v->tz))
        return AMF0_ERR_TRUNCATED;
      return AMF0_OK;
    case AMF0_OBJECT:
    case AMF0_ECMA_ARRAY:
      if (depth >= AMF0_MAX_DEPTH)
        return AMF0_ERR_DEPTH;
      v->props = g_ptr_array_new_with_free_func(prop_free);
      if (v->type == AMF0_OBJECT)
        return decode_props(d, depth, v, FALSE);
      /* The ECMA count is only a hint; the end marker is what ends it. */
      if (!gst_byte_reader_get_uint32_be(br, &count))
        return AMF0_ERR_TRUNCATED;
      return decode_props(d, depth, v, TRUE);
    case AMF0_STRICT_ARRAY:
      if (depth >= AMF0_MAX_DEPTH)
        return AMF0_ERR_DEPTH;
      return decode_strict_array(d, depth, v);
    case AMF0_OBJECT_END:
      break;
  }
  return AMF0_ERR_INVALID;
}

static gboolean marker_supported(guint8 m) {
  switch (m) {
    case AMF0_NUMBER:
    case AMF0_BOOLEAN:
    case AMF0_STRING:
    case AMF0_OBJECT:
    case AMF0_NULL:
    case AMF0_UNDEFINED:
    case AMF0_ECMA_ARRAY:
    case AMF0_STRICT_ARRAY:
    case AMF0_DATE:
    case AMF0_LONG_STRING:
      return TRUE;
    default:
      return FALSE;
  }
}

static amf0_status_t decode_value(decoder_t *d, guint depth, amf0_value_t **out) {
  guint8 marker;
  amf0_value_t *v;
  amf0_status_t st;

  *out = NULL;
  if (++d->values > AMF0_MAX_VALUES)
    return AMF0_ERR_LIMIT;
  if (!gst_byte_reader_get_uint8(d->br, &marker))
    return AMF0_ERR_TRUNCATED;
  if (!marker_supported(marker))
    return AMF0_ERR_INVALID;
  v = amf0_value_new((amf0_type_t)marker);
  st = decode_body(d, depth, v);
  if (st != AMF0_OK) {
    amf0_value_free(v);
    return st;
  }
  *out = v;
  return AMF0_OK;
}

amf0_status_t amf0_decode(GstByteReader *br, amf0_value_t **out) {
  decoder_t d = {br, 0};
  return decode_value(&d, 0, out);
}

/* ---- equality ---- */

static gboolean props_equal(const GPtrArray *a, const GPtrArray *b) {
  guint na = a ? a->len : 0, nb = b ? b->len : 0;
  if (na != nb)
    return FALSE;
  for (guint i = 0; i < na; i++) {
    const amf0_prop_t *pa = g_ptr_array_index(a, i), *pb = g_ptr_array_index(b, i);
    if (pa->name_len != pb->name_len || memcmp(pa->name, pb->name, pa->name_len) != 0 ||
        !amf0_value_equal(pa->value, pb->value))
      return FALSE;
  }
  return TRUE;
}

static gboolean items_equal(const GPtrArray *a, const GPtrArray *b) {
  guint na = a ? a->len : 0, nb = b ? b->len : 0;
  if (na != nb)
    return FALSE;
  for (guint i = 0; i < na; i++)
    if (!amf0_value_equal(g_ptr_array_index(a, i), g_ptr_array_index(b, i)))
      return FALSE;
  return TRUE;
}

gboolean amf0_value_equal(const amf0_value_t *a, const amf0_value_t *b) {
  if (a == NULL || b == NULL)
    return a == b;
  if (a->type != b->type)
    return FALSE;
  switch (a->type) {
    case AMF0_NUMBER:
      return memcmp(&a->number, &b->number, sizeof a->number) == 0;
    case AMF0_DATE:
      return memcmp(&a->number, &b->number, sizeof a->number) == 0 && a->tz == b->tz;
    case AMF0_BOOLEAN:
      return a->boolean == b->boolean;
    case AMF0_STRING:
    case AMF0_LONG_STRING:
      return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
    case AMF0_OBJECT:
    case AMF0_ECMA_ARRAY:
      return props_equal(a->props, b->props);
    case AMF0_STRICT_ARRAY:
      return items_equal(a->items, b->items);
    case AMF0_NULL:
    case AMF0_UNDEFINED:
    case AMF0_OBJECT_END:
      return TRUE;
  }
  return FALSE;
}

/* ---- encoding ---- */

static void put_u8(GByteArray *out, guint8 v) {
  g_byte_array_append(out, &v, 1);
}

static void put_be16(GByteArray *out, guint16 v) {
  guint8 b[2] = {v >> 8, v & 0xff};
  g_byte_array_append(out, b, 2);
}

static void put_be32(GByteArray *out, guint32 v) {
  guint8 b[4] = {v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff};
  g_byte_array_append(out, b, 4);
}

static void put_double(GByteArray *out, double v) {
  guint64 bits;
  memcpy(&bits, &v, sizeof bits);
  put_be32(out, (guint32)(bits >> 32));
  put_be32(out, (guint32)bits);
}

/* A string body with its marker; long form when asked or when it must be. */
static void put_string(GByteArray *out, const char *s, gsize len, gboolean long_form) {
  if (long_form || len > G_MAXUINT16) {
    put_u8(out, AMF0_LONG_STRING);
    put_be32(out, (guint32)MIN(len, G_MAXUINT32));
    g_byte_array_append(out, (const guint8 *)s, (guint)MIN(len, G_MAXUINT32));
  } else {
    put_u8(out, AMF0_STRING);
    put_be16(out, (guint16)len);
    g_byte_array_append(out, (const guint8 *)s, (guint)len);
  }
}

static gboolean encode_value(GByteArray *out, const amf0_value_t *v, guint depth);

static gboolean encode_props(GByteArray *out, const GPtrArray *props, guint depth) {
  for (guint i = 0; props != NULL && i < props->len; i++) {
    const amf0_prop_t *prop = g_ptr_array_index(props, i);
    if (prop->name_len > G_MAXUINT16)
      return FALSE;
    put_be16(out, (guint16)prop->name_len);
    g_byte_array_append(out, (const guint8 *)prop->name, (guint)prop->name_len);
    if (!encode_value(out, prop->value, depth + 1))
      return FALSE;
  }
  put_be16(out, 0);
  put_u8(out, AMF0_OBJECT_END);
  return TRUE;
}

static gboolean encode_value(GByteArray *out, const amf0_value_t *v, guint depth) {
  switch (v->type) {
    case AMF0_NUMBER:
      put_u8(out, AMF0_NUMBER);
      put_double(out, v->number);
      return TRUE;
    case AMF0_BOOLEAN:
      put_u8(out, AMF0_BOOLEAN);
      put_u8(out, v->boolean ? 1 : 0);
      return TRUE;
    case AMF0_STRING:
    case AMF0_LONG_STRING:
      put_string(out, v->str ? v->str : "", v->str ? v->len : 0, v->type == AMF0_LONG_STRING);
      return TRUE;
    case AMF0_NULL:
    case AMF0_UNDEFINED:
      put_u8(out, v->type);
      return TRUE;
    case AMF0_DATE:
      put_u8(out, AMF0_DATE);
      put_double(out, v->number);
      put_be16(out, (guint16)v->tz);
      return TRUE;
    case AMF0_OBJECT:
    case AMF0_ECMA_ARRAY:
      if (depth >= AMF0_MAX_DEPTH)
        return FALSE;
      put_u8(out, v->type);
      if (v->type == AMF0_ECMA_ARRAY)
        put_be32(out, v->props ? v->props->len : 0);
      return encode_props(out, v->props, depth);
    case AMF0_STRICT_ARRAY:
      if (depth >= AMF0_MAX_DEPTH)
        return FALSE;
      put_u8(out, AMF0_STRICT_ARRAY);
      put_be32(out, v->items ? v->items->len : 0);
      for (guint i = 0; v->items != NULL && i < v->items->len; i++)
        if (!encode_value(out, g_ptr_array_index(v->items, i), depth + 1))
          return FALSE;
      return TRUE;
    case AMF0_OBJECT_END:
      break;
  }
  return FALSE;
}

gboolean amf0_encode(GByteArray *out, const amf0_value_t *v) {
  return encode_value(out, v, 0);
}

void amf0_write_number(GByteArray *out, double v) {
  put_u8(out, AMF0_NUMBER);
  put_double(out, v);
}

void amf0_write_boolean(GByteArray *out, gboolean v) {
  put_u8(out, AMF0_BOOLEAN);
  put_u8(out, v ? 1 : 0);
}

void amf0_write_string(GByteArray *out, const char *s) {
  put_string(out, s, strlen(s), FALSE);
}

void amf0_write_null(GByteArray *out) {
  put_u8(out, AMF0_NULL);
}

void amf0_write_object_start(GByteArray *out) {
  put_u8(out, AMF0_OBJECT);
}

void amf0_write_key(GByteArray *out, const char *name) {
  gsize len = MIN(strlen(name), G_MAXUINT16);
  put_be16(out, (guint16)len);
  g_byte_array_append(out, (const guint8 *)name, (guint)len);
}

void amf0_write_object_end(GByteArray *out) {
  put_be16(out, 0);
  put_u8(out, AMF0_OBJECT_END);
}

void amf0_write_prop_string(GByteArray *out, const char *name, const char *s) {
  amf0_write_key(out, name);
  amf0_write_string(out, s);
}

void amf0_write_prop_number(GByteArray *out, const char *name, double v) {
  amf0_write_key(out, name);
  amf0_write_number(out, v);
}
