/* test_amf0.c — AMF0 decoding and encoding: round trips of every type,
 * known wire bytes, and tables of truncated, oversized and invalid input. */
#include <math.h>
#include <string.h>

#include <glib.h>

#include "stream/amf0.h"

#define B(s) (const guint8 *)(s), sizeof(s) - 1

static amf0_status_t decode_all(const guint8 *p, gsize len, amf0_value_t **out, guint *pos) {
  GstByteReader br;
  amf0_status_t st;
  gst_byte_reader_init(&br, p, (guint)len);
  st = amf0_decode(&br, out);
  if (pos != NULL)
    *pos = gst_byte_reader_get_pos(&br);
  return st;
}

/* ---- values to round-trip ---- */

static amf0_value_t *make_connect_object(void) {
  amf0_value_t *o = amf0_value_new(AMF0_OBJECT);
  amf0_object_append(o, "app", amf0_value_new_string("live"));
  amf0_object_append(o, "type", amf0_value_new_string("nonprivate"));
  amf0_object_append(o, "flashVer", amf0_value_new_string("FMLE/3.0 (compatible; FMSc/1.0)"));
  amf0_object_append(o, "tcUrl", amf0_value_new_string("rtmp://127.0.0.1:1935/live"));
  amf0_object_append(o, "fpad", amf0_value_new_boolean(FALSE));
  amf0_object_append(o, "audioCodecs", amf0_value_new_number(3575));
  amf0_object_append(o, "objectEncoding", amf0_value_new(AMF0_NULL));
  return o;
}

static amf0_value_t *make_metadata(void) {
  amf0_value_t *o = amf0_value_new(AMF0_ECMA_ARRAY);
  amf0_object_append(o, "duration", amf0_value_new_number(0));
  amf0_object_append(o, "width", amf0_value_new_number(320));
  amf0_object_append(o, "videocodecid", amf0_value_new_number(7));
  amf0_object_append(o, "encoder", amf0_value_new_string("Lavf59.27.100"));
  amf0_object_append(o, "", amf0_value_new(AMF0_UNDEFINED)); /* empty key with a value */
  return o;
}

static amf0_value_t *make_nested(guint depth) {
  amf0_value_t *v = amf0_value_new_number(depth);
  for (guint i = 0; i < depth; i++) {
    amf0_value_t *o = amf0_value_new(i % 2 ? AMF0_OBJECT : AMF0_STRICT_ARRAY);
    if (o->type == AMF0_OBJECT)
      amf0_object_append(o, "x", v);
    else
      amf0_array_append(o, v);
    v = o;
  }
  return v;
}

static amf0_value_t *make_misc(int which) {
  amf0_value_t *v;
  switch (which) {
    case 0:
      return amf0_value_new_number(-1.5e300);
    case 1:
      return amf0_value_new_number(NAN);
    case 2:
      return amf0_value_new_boolean(TRUE);
    case 3:
      return amf0_value_new_string("");
    case 4:
      v = amf0_value_new(AMF0_DATE);
      v->number = 1700000000000.0;
      v->tz = -480;
      return v;
    case 5:
      v = amf0_value_new(AMF0_LONG_STRING);
      v->len = 70000;
      v->str = g_malloc0(v->len + 1);
      memset(v->str, 'k', v->len);
      return v;
    case 6: /* strict array of mixed values */
      v = amf0_value_new(AMF0_STRICT_ARRAY);
      amf0_array_append(v, amf0_value_new(AMF0_NULL));
      amf0_array_append(v, amf0_value_new(AMF0_STRING)); /* a string with a NUL inside */
      ((amf0_value_t *)g_ptr_array_index(v->items, 1))->str = g_memdup2("a\0b", 4);
      ((amf0_value_t *)g_ptr_array_index(v->items, 1))->len = 3;
      amf0_array_append(v, make_connect_object());
      return v;
    case 7:
      return amf0_value_new(AMF0_OBJECT); /* empty object */
    default:
      return amf0_value_new(AMF0_UNDEFINED);
  }
}

static void check_round_trip(amf0_value_t *v, gboolean has_ecma) {
  GByteArray *buf = g_byte_array_new();
  amf0_value_t *back = NULL;
  guint pos = 0;

  g_assert_true(amf0_encode(buf, v));
  g_assert_cmpint(decode_all(buf->data, buf->len, &back, &pos), ==, AMF0_OK);
  g_assert_cmpuint(pos, ==, buf->len);
  g_assert_true(amf0_value_equal(v, back));
  amf0_value_free(back);

  /* Every strict prefix is truncated input: it must fail, never read past
   * its end (ASan watches) and never yield the whole value. ECMA arrays may
   * legitimately end early at a property boundary. (Long values are cut at
   * a stride, or the 70000-byte string alone would take seconds.) */
  for (guint cut = 0; cut < buf->len; cut += cut < 512 ? 1 : 997) {
    guint8 *copy = g_memdup2(buf->data, cut);
    amf0_status_t st = decode_all(copy, cut, &back, NULL);
    if (!has_ecma)
      g_assert_cmpint(st, ==, AMF0_ERR_TRUNCATED);
    else
      g_assert_true(st == AMF0_ERR_TRUNCATED || st == AMF0_OK);
    /* Only dropping just the final object-end (3 bytes) gives it all back. */
    if (st == AMF0_OK)
      g_assert_true(amf0_value_equal(v, back) == (cut == buf->len - 3));
    amf0_value_free(back);
    g_free(copy);
  }
  g_byte_array_unref(buf);
  amf0_value_free(v);
}

static void test_round_trip(void) {
  for (int i = 0; i <= 8; i++)
    check_round_trip(make_misc(i), FALSE);
  check_round_trip(make_connect_object(), FALSE);
  check_round_trip(make_metadata(), TRUE);
  check_round_trip(make_nested(AMF0_MAX_DEPTH), FALSE);
}

/* ---- known wire bytes ---- */

static void test_known_bytes(void) {
  amf0_value_t *v = NULL;
  GByteArray *buf = g_byte_array_new();

  /* "connect", 1, {app: "live"} written by hand */
  static const guint8 cmd[] = {0x02, 0x00, 0x07, 'c',  'o', 'n', 'n', 'e',  'c',  't',  0x00, 0x3f,
                               0xf0, 0,    0,    0,    0,   0,   0,   0x03, 0x00, 0x03, 'a',  'p',
                               'p',  0x02, 0x00, 0x04, 'l', 'i', 'v', 'e',  0x00, 0x00, 0x09};
  GstByteReader br;
  gst_byte_reader_init(&br, cmd, sizeof cmd);
  g_assert_cmpint(amf0_decode(&br, &v), ==, AMF0_OK);
  g_assert_cmpstr(amf0_value_get_string(v), ==, "connect");
  amf0_value_free(v);
  g_assert_cmpint(amf0_decode(&br, &v), ==, AMF0_OK);
  g_assert_cmpint(v->type, ==, AMF0_NUMBER);
  g_assert_cmpfloat(v->number, ==, 1.0);
  amf0_value_free(v);
  g_assert_cmpint(amf0_decode(&br, &v), ==, AMF0_OK);
  g_assert_cmpstr(amf0_value_get_string(amf0_object_get(v, "app")), ==, "live");
  g_assert_null(amf0_object_get(v, "tcUrl"));
  amf0_value_free(v);
  g_assert_cmpuint(gst_byte_reader_get_remaining(&br), ==, 0);

  /* The writers produce the same bytes. */
  amf0_write_string(buf, "connect");
  amf0_write_number(buf, 1);
  amf0_write_object_start(buf);
  amf0_write_prop_string(buf, "app", "live");
  amf0_write_object_end(buf);
  g_assert_cmpmem(buf->data, buf->len, cmd, sizeof cmd);
  g_byte_array_unref(buf);

  /* ECMA array without its end marker at the end of input is tolerated. */
  g_assert_cmpint(
      decode_all(B("\x08\x00\x00\x00\x01\x00\x01w\x00\x40\x74\x00\0\0\0\0\0"), &v, NULL), ==,
      AMF0_OK);
  g_assert_cmpfloat(amf0_object_get(v, "w")->number, ==, 320.0);
  amf0_value_free(v);
}

/* ---- bad input ---- */

typedef struct {
  const char *name;
  const guint8 *bytes;
  gsize len;
  amf0_status_t want;
} bad_case_t;

static void test_bad_input(void) {
  static const bad_case_t cases[] = {
      {"empty", B(""), AMF0_ERR_TRUNCATED},
      {"number cut", B("\x00\x3f\xf0\x00"), AMF0_ERR_TRUNCATED},
      {"boolean cut", B("\x01"), AMF0_ERR_TRUNCATED},
      {"string length beyond end",
       B("\x02\x00\x05"
         "abc"),
       AMF0_ERR_TRUNCATED},
      {"long string 4 GiB claimed",
       B("\x0c\xff\xff\xff\xff"
         "abc"),
       AMF0_ERR_TRUNCATED},
      {"object without end",
       B("\x03\x00\x01"
         "a\x05"),
       AMF0_ERR_TRUNCATED},
      {"object key cut",
       B("\x03\x00\x09"
         "ab"),
       AMF0_ERR_TRUNCATED},
      {"ecma count cut", B("\x08\x00\x00"), AMF0_ERR_TRUNCATED},
      {"strict array count lies", B("\x0a\xff\xff\xff\xff\x05\x05"), AMF0_ERR_TRUNCATED},
      {"strict array item cut", B("\x0a\x00\x00\x00\x02\x05"), AMF0_ERR_TRUNCATED},
      {"date cut", B("\x0b\x00\x00\x00\x00\x00\x00\x00\x00\x00"), AMF0_ERR_TRUNCATED},
      {"movieclip", B("\x04"), AMF0_ERR_INVALID},
      {"reference", B("\x07\x00\x01"), AMF0_ERR_INVALID},
      {"stray object end", B("\x09"), AMF0_ERR_INVALID},
      {"unsupported", B("\x0d"), AMF0_ERR_INVALID},
      {"typed object", B("\x10\x00\x01x"), AMF0_ERR_INVALID},
      {"avmplus", B("\x11\x01"), AMF0_ERR_INVALID},
      {"marker 0xff", B("\xff"), AMF0_ERR_INVALID},
      {"bad marker inside object", B("\x03\x00\x01k\x0e\x00\x00\x09"), AMF0_ERR_INVALID},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    amf0_value_t *v = (amf0_value_t *)0x1;
    amf0_status_t st = decode_all(cases[i].bytes, cases[i].len, &v, NULL);
    if (st != cases[i].want)
      g_error("%s: got %d want %d", cases[i].name, st, cases[i].want);
    g_assert_null(v);
    g_assert_nonnull(amf0_status_str(st));
  }
}

/* Oversized rows: depth one past the limit, and more values than allowed. */
static void test_limits(void) {
  GByteArray *buf = g_byte_array_new();
  amf0_value_t *v = NULL;

  /* 17 nested strict arrays; the encoder refuses to write it too. */
  amf0_value_t *deep = make_nested(AMF0_MAX_DEPTH + 1);
  g_assert_false(amf0_encode(buf, deep));
  amf0_value_free(deep);
  g_byte_array_set_size(buf, 0);
  for (guint i = 0; i <= AMF0_MAX_DEPTH; i++) {
    g_byte_array_append(buf, (const guint8 *)"\x0a\x00\x00\x00\x01", 5);
  }
  g_byte_array_append(buf, (const guint8 *)"\x05", 1);
  g_assert_cmpint(decode_all(buf->data, buf->len, &v, NULL), ==, AMF0_ERR_DEPTH);

  /* 100000 nested-looking opens never recurse past the limit either. */
  g_byte_array_set_size(buf, 0);
  for (guint i = 0; i < 100000; i++)
    g_byte_array_append(buf, (const guint8 *)"\x03\x00\x01k", 4);
  g_assert_cmpint(decode_all(buf->data, buf->len, &v, NULL), ==, AMF0_ERR_DEPTH);

  /* A flat array with more values than one decode may allocate. */
  g_byte_array_set_size(buf, 0);
  g_byte_array_append(buf, (const guint8 *)"\x0a\x00\x01\x00\x00", 5); /* 65536 items */
  for (guint i = 0; i < 65536; i++)
    g_byte_array_append(buf, (const guint8 *)"\x05", 1);
  g_assert_cmpint(decode_all(buf->data, buf->len, &v, NULL), ==, AMF0_ERR_LIMIT);
  g_assert_null(v);

  /* Just under the limit is fine. */
  g_byte_array_set_size(buf, 0);
  g_byte_array_append(buf, (const guint8 *)"\x0a\x00\x00\x0f\xff", 5); /* 4095 items */
  for (guint i = 0; i < 4095; i++)
    g_byte_array_append(buf, (const guint8 *)"\x06", 1);
  g_assert_cmpint(decode_all(buf->data, buf->len, &v, NULL), ==, AMF0_OK);
  g_assert_cmpuint(v->items->len, ==, 4095);
  amf0_value_free(v);
  g_byte_array_unref(buf);
}

static void test_helpers(void) {
  amf0_value_t *o = make_connect_object();
  amf0_value_t *n = amf0_value_new_number(1);

  g_assert_null(amf0_object_get(NULL, "app"));
  g_assert_null(amf0_object_get(n, "app"));
  g_assert_null(amf0_value_get_string(n));
  g_assert_null(amf0_value_get_string(NULL));
  g_assert_false(amf0_value_equal(o, n));
  g_assert_true(amf0_value_equal(NULL, NULL));
  amf0_value_free(NULL);
  amf0_value_free(o);
  amf0_value_free(n);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/amf0/round-trip", test_round_trip);
  g_test_add_func("/amf0/known-bytes", test_known_bytes);
  g_test_add_func("/amf0/bad-input", test_bad_input);
  g_test_add_func("/amf0/limits", test_limits);
  g_test_add_func("/amf0/helpers", test_helpers);
  return g_test_run();
}
