/* test_rtmp_chunk.c — the chunk stream reader on hand-built byte streams
 * (all header formats and csid forms, extended timestamps, chunk size
 * changes, interleaving, abort, byte-by-byte input) plus rows that must fail,
 * and the writer checked against the reader. */
#include <string.h>

#include <glib.h>

#include "stream/rtmp_chunk.h"

#define NO_EXT G_MAXUINT32

/* ---- building chunk streams by hand, independent of the writer ---- */

static void put_be(GByteArray *b, guint32 v, guint n) {
  for (guint i = 0; i < n; i++) {
    guint8 c = (guint8)(v >> (8 * (n - 1 - i)));
    g_byte_array_append(b, &c, 1);
  }
}

static void put_basic(GByteArray *b, guint fmt, guint32 csid) {
  if (csid < 64) {
    put_be(b, fmt << 6 | csid, 1);
  } else if (csid < 320) {
    put_be(b, fmt << 6, 1);
    put_be(b, csid - 64, 1);
  } else {
    put_be(b, fmt << 6 | 1, 1);
    put_be(b, (csid - 64) & 0xff, 1);
    put_be(b, (csid - 64) >> 8, 1);
  }
}

/* A chunk header. `ts` is the timestamp field; values of 0xFFFFFF and up go
 * in the extended field. For format 3, `ts` is the extended field to write,
 * or NO_EXT. */
static void hdr(GByteArray *b, guint fmt, guint32 csid, guint32 ts, guint32 len, guint8 type,
                guint32 msid) {
  gboolean ext = fmt < 3 ? ts >= 0xFFFFFF : ts != NO_EXT;
  put_basic(b, fmt, csid);
  if (fmt <= 2)
    put_be(b, ext ? 0xFFFFFF : ts, 3);
  if (fmt <= 1) {
    put_be(b, len, 3);
    put_be(b, type, 1);
  }
  if (fmt == 0)
    for (guint i = 0; i < 4; i++)
      put_be(b, (msid >> (8 * i)) & 0xff, 1);
  if (ext)
    put_be(b, ts, 4);
}

static void body(GByteArray *b, const guint8 *p, gsize n) {
  g_byte_array_append(b, p, (guint)n);
}

static void set_chunk_size(GByteArray *b, guint32 size) {
  hdr(b, 0, 2, 0, 4, RTMP_MSG_SET_CHUNK_SIZE, 0);
  put_be(b, size, 4);
}

static guint8 *pattern(gsize n, guint8 seed) {
  guint8 *p = g_malloc(n);
  for (gsize i = 0; i < n; i++)
    p[i] = (guint8)(seed + i * 7);
  return p;
}

/* ---- collecting what the reader makes of a stream ---- */

typedef struct {
  guint32 csid, msid, ts;
  guint8 type;
  GBytes *data;
} got_t;

static void got_clear(gpointer p) {
  g_bytes_unref(((got_t *)p)->data);
}

/* Feeds `b` in pieces of `step` bytes (0: all at once). Returns the
 * messages; *st gets the last status. */
static GArray *run(const GByteArray *b, gsize step, const rtmp_chunk_limits_t *limits,
                   rtmp_chunk_status_t *st) {
  rtmp_chunk_reader_t *r = rtmp_chunk_reader_new(limits);
  GArray *out = g_array_new(FALSE, TRUE, sizeof(got_t));
  gsize off = 0;

  g_array_set_clear_func(out, got_clear);
  *st = RTMP_CHUNK_NEED_MORE;
  while (off < b->len && *st != RTMP_CHUNK_ERROR) {
    gsize n = step ? MIN(step, b->len - off) : b->len - off;
    GstByteReader in;
    gst_byte_reader_init(&in, b->data + off, (guint)n);
    for (;;) {
      rtmp_message_t m;
      const char *why = NULL;
      *st = rtmp_chunk_reader_feed(r, &in, &m, &why);
      if (*st == RTMP_CHUNK_ERROR) {
        g_assert_nonnull(why);
        break;
      }
      if (*st == RTMP_CHUNK_NEED_MORE) {
        g_assert_cmpuint(gst_byte_reader_get_remaining(&in), ==, 0);
        break;
      }
      got_t g = {m.csid, m.stream_id, m.timestamp, m.type, g_bytes_new(m.data, m.len)};
      g_array_append_val(out, g);
    }
    off += n;
  }
  rtmp_chunk_reader_free(r);
  return out;
}

static void check_msg(GArray *got, guint i, guint32 csid, guint8 type, guint32 ts,
                      const guint8 *data, gsize len) {
  got_t *g;
  g_assert_cmpuint(i, <, got->len);
  g = &g_array_index(got, got_t, i);
  g_assert_cmpuint(g->csid, ==, csid);
  g_assert_cmpuint(g->type, ==, type);
  g_assert_cmpuint(g->ts, ==, ts);
  g_assert_cmpmem(g_bytes_get_data(g->data, NULL), g_bytes_get_size(g->data), data, len);
}

/* Every stream here must give the same messages fed whole, in odd pieces,
 * and byte by byte (a truncated chunk waits, it never fails). */
static GArray *run_all_ways(const GByteArray *b, guint expect) {
  static const gsize steps[] = {0, 1, 7, 129};
  GArray *first = NULL;
  for (guint i = 0; i < G_N_ELEMENTS(steps); i++) {
    rtmp_chunk_status_t st;
    GArray *got = run(b, steps[i], NULL, &st);
    g_assert_cmpint(st, !=, RTMP_CHUNK_ERROR);
    g_assert_cmpuint(got->len, ==, expect);
    if (first == NULL) {
      first = got;
      continue;
    }
    for (guint j = 0; j < got->len; j++) {
      got_t *a = &g_array_index(first, got_t, j), *c = &g_array_index(got, got_t, j);
      g_assert_cmpuint(a->ts, ==, c->ts);
      g_assert_true(g_bytes_equal(a->data, c->data));
    }
    g_array_unref(got);
  }
  return first;
}

/* ---- cases ---- */

static void test_formats(void) {
  GByteArray *b = g_byte_array_new();
  GArray *got;

  hdr(b, 0, 3, 1000, 4, RTMP_MSG_COMMAND_AMF0, 1);
  body(b, (const guint8 *)"AAAA", 4);
  hdr(b, 1, 3, 20, 3, RTMP_MSG_AUDIO, 0); /* delta, new length and type */
  body(b, (const guint8 *)"BBB", 3);
  hdr(b, 2, 3, 30, 0, 0, 0); /* delta only */
  body(b, (const guint8 *)"CCC", 3);
  hdr(b, 3, 3, NO_EXT, 0, 0, 0); /* everything repeated, delta 30 again */
  body(b, (const guint8 *)"DDD", 3);
  hdr(b, 0, 4, 5, 0, RTMP_MSG_VIDEO, 1); /* empty message */
  got = run_all_ways(b, 5);
  check_msg(got, 0, 3, RTMP_MSG_COMMAND_AMF0, 1000, (const guint8 *)"AAAA", 4);
  g_assert_cmpuint(g_array_index(got, got_t, 0).msid, ==, 1);
  check_msg(got, 1, 3, RTMP_MSG_AUDIO, 1020, (const guint8 *)"BBB", 3);
  g_assert_cmpuint(g_array_index(got, got_t, 1).msid, ==, 1); /* kept from format 0 */
  check_msg(got, 2, 3, RTMP_MSG_AUDIO, 1050, (const guint8 *)"CCC", 3);
  check_msg(got, 3, 3, RTMP_MSG_AUDIO, 1080, (const guint8 *)"DDD", 3);
  check_msg(got, 4, 4, RTMP_MSG_VIDEO, 5, NULL, 0);
  g_array_unref(got);
  g_byte_array_unref(b);
}

static void test_csid_forms(void) {
  static const guint32 csids[] = {2, 63, 64, 200, 319, 320, 1000, RTMP_CSID_MAX};
  GByteArray *b = g_byte_array_new();
  GArray *got;

  for (guint i = 0; i < G_N_ELEMENTS(csids); i++) {
    hdr(b, 0, csids[i], i, 1, RTMP_MSG_VIDEO, 1);
    body(b, (const guint8 *)"x", 1);
  }
  got = run_all_ways(b, G_N_ELEMENTS(csids));
  for (guint i = 0; i < G_N_ELEMENTS(csids); i++)
    check_msg(got, i, csids[i], RTMP_MSG_VIDEO, i, (const guint8 *)"x", 1);
  g_array_unref(got);
  g_byte_array_unref(b);
}

static void test_chunk_size_change(void) {
  GByteArray *b = g_byte_array_new();
  guint8 *p = pattern(300, 1), *q = pattern(300, 2);
  GArray *got;

  /* 300 bytes at the default 128: three chunks. */
  hdr(b, 0, 6, 0, 300, RTMP_MSG_VIDEO, 1);
  body(b, p, 128);
  hdr(b, 3, 6, NO_EXT, 0, 0, 0);
  body(b, p + 128, 128);
  hdr(b, 3, 6, NO_EXT, 0, 0, 0);
  body(b, p + 256, 44);
  /* Mid-message on csid 6, the size grows to 150: the next chunk is longer. */
  hdr(b, 1, 6, 10, 300, RTMP_MSG_VIDEO, 0);
  body(b, q, 128);
  set_chunk_size(b, 150);
  hdr(b, 3, 6, NO_EXT, 0, 0, 0);
  body(b, q + 128, 150);
  hdr(b, 3, 6, NO_EXT, 0, 0, 0);
  body(b, q + 278, 22);
  /* And then 4096: one chunk carries all. */
  set_chunk_size(b, 4096);
  hdr(b, 2, 6, 10, 0, 0, 0);
  body(b, p, 300);
  got = run_all_ways(b, 5);
  check_msg(got, 0, 6, RTMP_MSG_VIDEO, 0, p, 300);
  check_msg(got, 1, 2, RTMP_MSG_SET_CHUNK_SIZE, 0, (const guint8 *)"\0\0\0\x96", 4);
  check_msg(got, 2, 6, RTMP_MSG_VIDEO, 10, q, 300);
  check_msg(got, 4, 6, RTMP_MSG_VIDEO, 20, p, 300);
  g_array_unref(got);
  g_free(p);
  g_free(q);
  g_byte_array_unref(b);
}

static void test_extended_timestamps(void) {
  GByteArray *b = g_byte_array_new();
  guint8 *p = pattern(300, 3);
  GArray *got;

  /* Format 0 with an extended timestamp, split: the continuations repeat
   * the extended field. */
  hdr(b, 0, 4, 0x01000000, 300, RTMP_MSG_AUDIO, 1);
  body(b, p, 128);
  hdr(b, 3, 4, 0x01000000, 0, 0, 0);
  body(b, p + 128, 128);
  hdr(b, 3, 4, 0x01000000, 0, 0, 0);
  body(b, p + 256, 44);
  /* A format 3 new message repeats the last field: +0x01000000. */
  hdr(b, 3, 4, 0x01000000, 0, 0, 0);
  body(b, p, 128);
  hdr(b, 3, 4, 0x01000000, 0, 0, 0);
  body(b, p + 128, 128);
  hdr(b, 3, 4, 0x01000000, 0, 0, 0);
  body(b, p + 256, 44);
  /* A small delta ends the extended run; format 3 then carries no field. */
  hdr(b, 2, 4, 23, 0, 0, 0);
  body(b, p, 128);
  hdr(b, 3, 4, NO_EXT, 0, 0, 0);
  body(b, p + 128, 128);
  hdr(b, 3, 4, NO_EXT, 0, 0, 0);
  body(b, p + 256, 44);
  /* Exactly 0xFFFFFF needs the extended field too, and a big delta wraps. */
  hdr(b, 0, 5, 0xFFFFFF, 1, RTMP_MSG_VIDEO, 1);
  body(b, p, 1);
  hdr(b, 1, 5, 0xFFFFFFF0, 1, RTMP_MSG_VIDEO, 0);
  body(b, p, 1);
  got = run_all_ways(b, 5);
  check_msg(got, 0, 4, RTMP_MSG_AUDIO, 0x01000000, p, 300);
  check_msg(got, 1, 4, RTMP_MSG_AUDIO, 0x02000000, p, 300);
  check_msg(got, 2, 4, RTMP_MSG_AUDIO, 0x02000000 + 23, p, 300);
  check_msg(got, 3, 5, RTMP_MSG_VIDEO, 0xFFFFFF, p, 1);
  check_msg(got, 4, 5, RTMP_MSG_VIDEO, (guint32)(0xFFFFFFu + 0xFFFFFFF0u), p, 1);
  g_array_unref(got);
  g_free(p);
  g_byte_array_unref(b);
}

static void test_interleaved_and_split(void) {
  GByteArray *b = g_byte_array_new();
  guint8 *a = pattern(300, 4), *v = pattern(300, 5), *big = pattern(10000, 6);
  GArray *got;

  hdr(b, 0, 4, 100, 300, RTMP_MSG_AUDIO, 1);
  body(b, a, 128);
  hdr(b, 0, 6, 90, 300, RTMP_MSG_VIDEO, 1);
  body(b, v, 128);
  hdr(b, 3, 4, NO_EXT, 0, 0, 0);
  body(b, a + 128, 128);
  hdr(b, 3, 6, NO_EXT, 0, 0, 0);
  body(b, v + 128, 128);
  hdr(b, 3, 6, NO_EXT, 0, 0, 0);
  body(b, v + 256, 44);
  hdr(b, 3, 4, NO_EXT, 0, 0, 0);
  body(b, a + 256, 44);
  /* One message over 79 chunks. */
  hdr(b, 0, 7, 7, 10000, RTMP_MSG_VIDEO, 1);
  for (gsize off = 0; off < 10000; off += 128) {
    if (off > 0)
      hdr(b, 3, 7, NO_EXT, 0, 0, 0);
    body(b, big + off, MIN(128, 10000 - off));
  }
  got = run_all_ways(b, 3);
  check_msg(got, 0, 6, RTMP_MSG_VIDEO, 90, v, 300);
  check_msg(got, 1, 4, RTMP_MSG_AUDIO, 100, a, 300);
  check_msg(got, 2, 7, RTMP_MSG_VIDEO, 7, big, 10000);
  g_array_unref(got);
  g_free(a);
  g_free(v);
  g_free(big);
  g_byte_array_unref(b);
}

static void test_abort(void) {
  GByteArray *b = g_byte_array_new();
  guint8 *p = pattern(300, 7);
  GArray *got;

  hdr(b, 0, 6, 0, 300, RTMP_MSG_VIDEO, 1);
  body(b, p, 128);
  hdr(b, 0, 2, 0, 4, RTMP_MSG_ABORT, 0);
  put_be(b, 6, 4);
  hdr(b, 0, 2, 0, 4, RTMP_MSG_ABORT, 0); /* unknown csid: ignored */
  put_be(b, 33, 4);
  hdr(b, 0, 6, 40, 5, RTMP_MSG_VIDEO, 1); /* a fresh message, no error */
  body(b, (const guint8 *)"fresh", 5);
  got = run_all_ways(b, 3);
  g_assert_cmpuint(g_array_index(got, got_t, 0).type, ==, RTMP_MSG_ABORT);
  check_msg(got, 2, 6, RTMP_MSG_VIDEO, 40, (const guint8 *)"fresh", 5);
  g_array_unref(got);
  g_free(p);
  g_byte_array_unref(b);
}

/* ---- rows that must fail ---- */

typedef void (*build_fn)(GByteArray *b);

static void bad_zero_chunk_size(GByteArray *b) {
  set_chunk_size(b, 0);
}
static void bad_top_bit_chunk_size(GByteArray *b) {
  set_chunk_size(b, 0x80000000u);
}
static void bad_huge_chunk_size(GByteArray *b) {
  set_chunk_size(b, RTMP_CHUNK_SIZE_MAX + 1);
}
static void bad_short_chunk_size(GByteArray *b) {
  hdr(b, 0, 2, 0, 2, RTMP_MSG_SET_CHUNK_SIZE, 0);
  put_be(b, 1, 2);
}
static void bad_oversized(GByteArray *b) {
  hdr(b, 0, 6, 0, (4u << 20) + 1, RTMP_MSG_VIDEO, 1);
}
static void bad_fmt2_unknown(GByteArray *b) {
  hdr(b, 2, 9, 1, 0, 0, 0);
}
static void bad_fmt3_unknown(GByteArray *b) {
  hdr(b, 3, 9, NO_EXT, 0, 0, 0);
}
static void bad_header_mid_message(GByteArray *b) {
  guint8 *p = pattern(128, 0);
  hdr(b, 0, 6, 0, 300, RTMP_MSG_VIDEO, 1);
  body(b, p, 128);
  hdr(b, 0, 6, 0, 10, RTMP_MSG_VIDEO, 1);
  g_free(p);
}
static void bad_too_many_streams(GByteArray *b) {
  for (guint32 csid = 3; csid < 3 + 65; csid++) {
    hdr(b, 0, csid, 0, 1, RTMP_MSG_AUDIO, 1);
    body(b, (const guint8 *)"a", 1);
  }
}
static void bad_pending(GByteArray *b) {
  guint8 *p = pattern(4096, 0);
  set_chunk_size(b, 4096);
  /* Nine messages of 1 MiB each started, none finished: over 8 MiB held. */
  for (guint csid = 3; csid < 12; csid++) {
    hdr(b, 0, csid, 0, 1u << 20, RTMP_MSG_VIDEO, 1);
    body(b, p, 4096);
    for (guint i = 1; i < 255; i++) {
      hdr(b, 3, csid, NO_EXT, 0, 0, 0);
      body(b, p, 4096);
    }
  }
  g_free(p);
}

static void test_bad_streams(void) {
  static const struct {
    const char *name;
    build_fn build;
  } rows[] = {
      {"zero chunk size", bad_zero_chunk_size},
      {"chunk size with top bit", bad_top_bit_chunk_size},
      {"chunk size over the cap", bad_huge_chunk_size},
      {"short set chunk size", bad_short_chunk_size},
      {"message over 4 MiB", bad_oversized},
      {"format 2 on a new csid", bad_fmt2_unknown},
      {"format 3 on a new csid", bad_fmt3_unknown},
      {"format 0 in the middle of a message", bad_header_mid_message},
      {"65 chunk streams", bad_too_many_streams},
      {"8 MiB held in unfinished messages", bad_pending},
  };
  for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
    GByteArray *b = g_byte_array_new();
    rtmp_chunk_status_t st;
    GArray *got;

    rows[i].build(b);
    for (gsize step = 0; step <= 1; step++) {
      if (step == 1 && b->len > 100000)
        continue; /* byte by byte on 9 MiB is slow and proves nothing new */
      got = run(b, step, NULL, &st);
      if (st != RTMP_CHUNK_ERROR)
        g_error("%s (step %" G_GSIZE_FORMAT "): no error", rows[i].name, step);
      g_array_unref(got);
    }
    g_byte_array_unref(b);
  }
}

static void test_after_error(void) {
  rtmp_chunk_reader_t *r = rtmp_chunk_reader_new(NULL);
  GByteArray *b = g_byte_array_new();
  GstByteReader in;
  rtmp_message_t m;
  const char *why = NULL;

  bad_zero_chunk_size(b);
  gst_byte_reader_init(&in, b->data, b->len);
  g_assert_cmpint(rtmp_chunk_reader_feed(r, &in, &m, &why), ==, RTMP_CHUNK_ERROR);
  g_assert_cmpstr(why, ==, "invalid chunk size");
  gst_byte_reader_init(&in, (const guint8 *)"\x03", 1);
  g_assert_cmpint(rtmp_chunk_reader_feed(r, &in, &m, NULL), ==, RTMP_CHUNK_ERROR);
  rtmp_chunk_reader_free(r);
  rtmp_chunk_reader_free(NULL);
  g_byte_array_unref(b);
}

static void test_writer(void) {
  static const struct {
    guint32 csid, ts;
    gsize len;
  } rows[] = {
      {3, 0, 0},        {3, 1, 1},
      {4, 500, 4096},   {4, 501, 4097},
      {64, 9, 9000},    {319, 2, 128},
      {320, 3, 129},    {RTMP_CSID_MAX, 0xFFFFFE, 10000},
      {6, 0xFFFFFF, 9}, {6, 0xFFFFFFFF, 70000},
  };
  GByteArray *b = g_byte_array_new();
  guint8 *p = pattern(70000, 9);
  guint8 scs[4] = {0, 0, 0x10, 0};
  rtmp_message_t set = {2, RTMP_MSG_SET_CHUNK_SIZE, 0, 0, scs, 4};
  rtmp_chunk_status_t st;
  GArray *got;

  rtmp_chunk_write(b, RTMP_CHUNK_SIZE_DEFAULT, &set);
  for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
    rtmp_message_t m = {rows[i].csid, RTMP_MSG_VIDEO, 1, rows[i].ts, p, rows[i].len};
    rtmp_chunk_write(b, 4096, &m);
  }
  got = run(b, 0, NULL, &st);
  g_assert_cmpint(st, ==, RTMP_CHUNK_NEED_MORE);
  g_assert_cmpuint(got->len, ==, 1 + G_N_ELEMENTS(rows));
  for (guint i = 0; i < G_N_ELEMENTS(rows); i++)
    check_msg(got, i + 1, rows[i].csid, RTMP_MSG_VIDEO, rows[i].ts, p, rows[i].len);
  g_array_unref(got);
  g_free(p);
  g_byte_array_unref(b);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/rtmp-chunk/formats", test_formats);
  g_test_add_func("/rtmp-chunk/csid-forms", test_csid_forms);
  g_test_add_func("/rtmp-chunk/chunk-size-change", test_chunk_size_change);
  g_test_add_func("/rtmp-chunk/extended-timestamps", test_extended_timestamps);
  g_test_add_func("/rtmp-chunk/interleaved-and-split", test_interleaved_and_split);
  g_test_add_func("/rtmp-chunk/abort", test_abort);
  g_test_add_func("/rtmp-chunk/bad-streams", test_bad_streams);
  g_test_add_func("/rtmp-chunk/after-error", test_after_error);
  g_test_add_func("/rtmp-chunk/writer", test_writer);
  return g_test_run();
}
