/* test_http_server.c — the HTTP server over real sockets on 127.0.0.1.
 *
 * The server runs on this thread's GLib main loop exactly as in tourcast;
 * clients run in worker threads with blocking sockets and raw HTTP/1.1, so
 * the tests can send what curl would not (NUL bytes, huge heads, pipelining)
 * and read as slowly as a phone on weak 4G.
 */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <string.h>
#include <sys/socket.h>

#include "ws/http_policy.h"
#include "ws/http_server.h"

#define PLAYLIST                                                                                   \
  "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:1\n"                  \
  "#EXTINF:1.000,\nseg00001.ts\n"
#define SEGMENT_BYTES (188 * 700)
#define BIG_BYTES (8 * 1024 * 1024)
#define METRICS_TOKEN "scrape-me"

/* ---- fixture: temp dirs, a loop, a server on a free port ---- */

typedef struct {
  GMainLoop *loop;
  char *root, *live_dir, *web_dir, *vendor_dir;
  http_server_t *srv;
  guint16 port;
  gboolean healthz_fails, metrics_fails;
  int healthz_calls;
} fx_t;

static char *healthz_json(void *user) {
  fx_t *fx = user;
  fx->healthz_calls++;
  if (fx->healthz_fails)
    return NULL;
  return g_strdup_printf("{\"status\":\"ok\",\"calls\":%d}", fx->healthz_calls);
}

static char *metrics_text(void *user) {
  fx_t *fx = user;
  if (fx->metrics_fails)
    return NULL;
  return g_strdup("# TYPE tourcast_test_gauge gauge\ntourcast_test_gauge 42"); /* no final \n */
}

static void write_file(const char *dir, const char *name, const void *data, gssize len) {
  char *path = g_build_filename(dir, name, NULL);
  GError *err = NULL;
  g_file_set_contents(path, data, len, &err);
  g_assert_no_error(err);
  g_free(path);
}

static guint8 *pattern(gsize len) {
  guint8 *p = g_malloc(len);
  for (gsize i = 0; i < len; i++)
    p[i] = (guint8)((i * 31 + i / 4096) & 0xff);
  return p;
}

static http_server_t *start_server(fx_t *fx, const char *web_dir, guint16 port, guint max_conns,
                                   GError **err) {
  http_server_config_t cfg = {
      .bind_addr = "127.0.0.1",
      .port = port,
      .live_dir = fx->live_dir,
      .web_dir = web_dir ? web_dir : fx->web_dir,
      .vendor_dir = fx->vendor_dir,
      .loop = fx->loop,
      .max_connections = max_conns,
      .metrics_token = METRICS_TOKEN,
  };
  http_server_callbacks_t cb = {.healthz_json = healthz_json, .metrics_text = metrics_text};
  return http_server_new(&cfg, &cb, fx, err);
}

static void fx_setup(fx_t *fx, gconstpointer data) {
  GError *err = NULL;
  memset(fx, 0, sizeof(*fx));
  fx->loop = g_main_loop_new(NULL, FALSE);
  fx->root = g_dir_make_tmp("tourcast-http-XXXXXX", &err);
  g_assert_no_error(err);
  fx->live_dir = g_build_filename(fx->root, "live", NULL);
  fx->web_dir = g_build_filename(fx->root, "web", NULL);
  g_assert_cmpint(g_mkdir(fx->live_dir, 0700), ==, 0);
  g_assert_cmpint(g_mkdir(fx->web_dir, 0700), ==, 0);
  fx->vendor_dir = g_build_filename(fx->root, "vendor", NULL);
  g_assert_cmpint(g_mkdir(fx->vendor_dir, 0700), ==, 0);
  write_file(fx->vendor_dir, "hls.light.min.js", "var Hls=1", -1);
  write_file(fx->vendor_dir, "package.json", "{}", -1);

  write_file(fx->live_dir, "index.m3u8", PLAYLIST, -1);
  guint8 *seg = pattern(SEGMENT_BYTES);
  write_file(fx->live_dir, "seg00001.ts", seg, SEGMENT_BYTES);
  g_free(seg);
  write_file(fx->live_dir, ".hidden", "hidden", -1);
  char *subdir = g_build_filename(fx->live_dir, "dir.ts", NULL);
  g_assert_cmpint(g_mkdir(subdir, 0700), ==, 0);
  g_free(subdir);
  write_file(fx->root, "secret.txt", "top secret", -1);
  write_file(fx->web_dir, "index.html", "<!doctype html><title>观看</title>", -1);
  write_file(fx->web_dir, "leader.html", "<!doctype html><title>团长</title>", -1);
  write_file(fx->web_dir, "app.css", "body{margin:0}", -1);
  write_file(fx->web_dir, "app.js", "console.log(1)", -1);
  write_file(fx->web_dir, "app.exe", "MZ", -1);
  write_file(fx->web_dir, "replay.html", "<!doctype html><title>回放</title>", -1);

  guint max_conns = data != NULL ? GPOINTER_TO_UINT(data) : 0;
  fx->srv = start_server(fx, NULL, 0, max_conns, &err);
  g_assert_no_error(err);
  g_assert_nonnull(fx->srv);
  fx->port = http_server_port(fx->srv);
  g_assert_cmpuint(fx->port, !=, 0);
}

static void rm_rf(const char *path) {
  GDir *d = g_dir_open(path, 0, NULL);
  if (d != NULL) {
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL) {
      char *child = g_build_filename(path, name, NULL);
      rm_rf(child);
      g_free(child);
    }
    g_dir_close(d);
  }
  g_remove(path);
}

static void fx_teardown(fx_t *fx, gconstpointer data) {
  http_server_free(fx->srv);
  rm_rf(fx->root);
  g_free(fx->root);
  g_free(fx->live_dir);
  g_free(fx->web_dir);
  g_free(fx->vendor_dir);
  g_main_loop_unref(fx->loop);
}

/* ---- client side: raw HTTP/1.1 over blocking sockets, run in threads ---- */

typedef struct {
  int status;          /* 0: the connection closed (or timed out) before a response */
  GHashTable *headers; /* lower-case name -> value */
  GByteArray *body;
} resp_t;

static void resp_free(resp_t *r) {
  if (r == NULL)
    return;
  g_hash_table_unref(r->headers);
  g_byte_array_unref(r->body);
  g_free(r);
}

static const char *hdr(const resp_t *r, const char *name) {
  return g_hash_table_lookup(r->headers, name);
}

static GSocket *connect_to(guint16 port, int rcvbuf) {
  GError *err = NULL;
  GSocket *s =
      g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &err);
  g_assert_no_error(err);
  if (rcvbuf > 0) {
    g_socket_set_option(s, SOL_SOCKET, SO_RCVBUF, rcvbuf, &err);
    g_assert_no_error(err);
  }
  g_socket_set_timeout(s, 10);
  GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  GSocketAddress *sa = g_inet_socket_address_new(lo, port);
  gboolean ok = g_socket_connect(s, sa, NULL, &err);
  g_assert_no_error(err);
  g_assert_true(ok);
  g_object_unref(sa);
  g_object_unref(lo);
  return s;
}

static void send_all(GSocket *s, const void *data, gsize len) {
  const char *p = data;
  while (len > 0) {
    GError *err = NULL;
    gssize n = g_socket_send(s, p, len, NULL, &err);
    if (n <= 0) { /* the server may hang up on a bad request while we write */
      g_clear_error(&err);
      return;
    }
    p += n;
    len -= (gsize)n;
  }
}

/* Appends what arrives to `in`; FALSE on EOF, error or timeout. */
static gboolean recv_more(GSocket *s, GByteArray *in, gsize max) {
  guint8 buf[16384];
  GError *err = NULL;
  gssize n = g_socket_receive(s, (char *)buf, MIN(sizeof(buf), max), NULL, &err);
  g_clear_error(&err);
  if (n <= 0)
    return FALSE;
  g_byte_array_append(in, buf, (guint)n);
  return TRUE;
}

static gssize find_head_end(const GByteArray *in) {
  for (guint i = 0; i + 3 < in->len; i++)
    if (memcmp(in->data + i, "\r\n\r\n", 4) == 0)
      return i;
  return -1;
}

/* Reads the head of one response; what follows it stays in `in`. */
static resp_t *read_head(GSocket *s, GByteArray *in) {
  resp_t *r = g_new0(resp_t, 1);
  r->headers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  r->body = g_byte_array_new();
  gssize end;
  while ((end = find_head_end(in)) < 0)
    if (in->len > 65536 || !recv_more(s, in, G_MAXSIZE))
      return r;
  char *head = g_strndup((const char *)in->data, (gsize)end);
  g_byte_array_remove_range(in, 0, (guint)end + 4);
  char **lines = g_strsplit(head, "\r\n", -1);
  g_assert_true(g_str_has_prefix(lines[0], "HTTP/1."));
  r->status = atoi(lines[0] + 9);
  for (int i = 1; lines[i] != NULL; i++) {
    char *colon = strchr(lines[i], ':');
    g_assert_nonnull(colon);
    char *name = g_ascii_strdown(lines[i], colon - lines[i]);
    g_hash_table_replace(r->headers, name, g_strstrip(g_strdup(colon + 1)));
  }
  g_strfreev(lines);
  g_free(head);
  return r;
}

/* One whole response: the body is Content-Length bytes, or up to EOF. */
static resp_t *read_response(GSocket *s, GByteArray *in, gboolean head_request) {
  resp_t *r = read_head(s, in);
  if (r->status == 0 || head_request)
    return r;
  const char *cl = hdr(r, "content-length");
  gsize want = cl ? (gsize)g_ascii_strtoull(cl, NULL, 10) : G_MAXSIZE;
  while (in->len < want && recv_more(s, in, G_MAXSIZE))
    ;
  gsize take = MIN(want, in->len);
  g_byte_array_append(r->body, in->data, (guint)take);
  g_byte_array_remove_range(in, 0, (guint)take);
  return r;
}

/* A client job in a worker thread while this thread keeps the loop turning. */
typedef struct {
  GThread *thread;
  GThreadFunc fn;
  gpointer arg, result;
  gint done;
} job_t;

static gpointer job_main(gpointer p) {
  job_t *j = p;
  j->result = j->fn(j->arg);
  g_atomic_int_set(&j->done, 1);
  g_main_context_wakeup(NULL);
  return NULL;
}

static job_t *job_start(GThreadFunc fn, gpointer arg) {
  job_t *j = g_new0(job_t, 1);
  j->fn = fn;
  j->arg = arg;
  j->thread = g_thread_new("client", job_main, j);
  return j;
}

static gboolean job_done(job_t *j) {
  return g_atomic_int_get(&j->done);
}

static gpointer job_finish(job_t *j) {
  while (!job_done(j))
    g_main_context_iteration(NULL, TRUE);
  g_thread_join(j->thread);
  gpointer result = j->result;
  g_free(j);
  return result;
}

typedef struct {
  guint16 port;
  char *request;
  gsize request_len;
  gboolean head;
} req_t;

static gpointer request_thread(gpointer p) {
  req_t *q = p;
  GSocket *s = connect_to(q->port, 0);
  send_all(s, q->request, q->request_len);
  GByteArray *in = g_byte_array_new();
  resp_t *r = read_response(s, in, q->head);
  g_byte_array_unref(in);
  g_object_unref(s);
  return r;
}

/* Sends `raw` as is on a new connection and returns the first response. */
static resp_t *raw_request(fx_t *fx, const char *raw, gsize len, gboolean head) {
  req_t q = {fx->port, g_memdup2(raw, len), len, head};
  resp_t *r = job_finish(job_start(request_thread, &q));
  g_free(q.request);
  return r;
}

static resp_t *request(fx_t *fx, const char *method, const char *target) {
  char *raw = g_strdup_printf("%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                              method, target);
  resp_t *r = raw_request(fx, raw, strlen(raw), strcmp(method, "HEAD") == 0);
  g_free(raw);
  return r;
}

static resp_t *get(fx_t *fx, const char *target) {
  return request(fx, "GET", target);
}

/* A GET with one more header line (e.g. "Authorization: Bearer x"). */
static resp_t *get_with(fx_t *fx, const char *target, const char *header) {
  char *raw = g_strdup_printf(
      "GET %s HTTP/1.1\r\nHost: localhost\r\n%s\r\nConnection: close\r\n\r\n", target, header);
  resp_t *r = raw_request(fx, raw, strlen(raw), FALSE);
  g_free(raw);
  return r;
}

/* The body as a string (an empty body has no data pointer at all). */
static char *body_str(const resp_t *r) {
  return g_strndup(r->body->len > 0 ? (const char *)r->body->data : "", r->body->len);
}

static void assert_body(const resp_t *r, const char *text) {
  char *body = body_str(r);
  g_assert_cmpuint(r->body->len, ==, strlen(text));
  g_assert_cmpstr(body, ==, text);
  g_free(body);
}

static void assert_not_found(fx_t *fx, const char *target) {
  resp_t *r = get(fx, target);
  if (r->status != 404)
    g_error("%s: status %d, want 404", target, r->status);
  g_assert_cmpstr(hdr(r, "content-type"), ==, "text/plain; charset=utf-8");
  assert_body(r, "not found\n");
  resp_free(r);
}

/* ---- tests ---- */

static void test_pages(fx_t *fx, gconstpointer data) {
  static const struct {
    const char *target, *type, *body;
  } ok[] = {
      {"/", "text/html; charset=utf-8", "<!doctype html><title>观看</title>"},
      {"/?from=wechat", "text/html; charset=utf-8", "<!doctype html><title>观看</title>"},
      {"/leader", "text/html; charset=utf-8", "<!doctype html><title>团长</title>"},
      {"/leader?token=abc", "text/html; charset=utf-8", "<!doctype html><title>团长</title>"},
      {"/web/app.css", "text/css; charset=utf-8", "body{margin:0}"},
      {"/web/app.js?v=2", "text/javascript; charset=utf-8", "console.log(1)"},
      {"/replay/3", "text/html; charset=utf-8", "<!doctype html><title>回放</title>"},
      {"/vendor/hls.light.min.js", "text/javascript; charset=utf-8", "var Hls=1"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(ok); i++) {
    resp_t *r = get(fx, ok[i].target);
    g_assert_cmpint(r->status, ==, 200);
    g_assert_cmpstr(hdr(r, "content-type"), ==, ok[i].type);
    g_assert_cmpstr(hdr(r, "x-content-type-options"), ==, "nosniff");
    g_assert_null(hdr(r, "access-control-allow-origin"));
    assert_body(r, ok[i].body);
    resp_free(r);
  }
  assert_not_found(fx, "/web/missing.css");
  assert_not_found(fx, "/web/app.exe");
  assert_not_found(fx, "/index.html");
  assert_not_found(fx, "/nope");
  assert_not_found(fx, "/replay/0");
  assert_not_found(fx, "/vendor/package.json");
  assert_not_found(fx, "/web/hls.light.min.js");
}

static void test_live(fx_t *fx, gconstpointer data) {
  resp_t *r = get(fx, "/live/index.m3u8");
  g_assert_cmpint(r->status, ==, 200);
  g_assert_cmpstr(hdr(r, "content-type"), ==, "application/vnd.apple.mpegurl");
  g_assert_cmpstr(hdr(r, "cache-control"), ==, "no-cache");
  g_assert_cmpstr(hdr(r, "access-control-allow-origin"), ==, "*");
  assert_body(r, PLAYLIST);
  resp_free(r);

  r = get(fx, "/live/index.m3u8?_HLS_msn=1");
  g_assert_cmpint(r->status, ==, 200);
  resp_free(r);

  r = get(fx, "/live/seg00001.ts");
  g_assert_cmpint(r->status, ==, 200);
  g_assert_cmpstr(hdr(r, "content-type"), ==, "video/mp2t");
  g_assert_cmpstr(hdr(r, "cache-control"), ==, "public, max-age=60");
  g_assert_cmpstr(hdr(r, "access-control-allow-origin"), ==, "*");
  g_assert_cmpuint(r->body->len, ==, SEGMENT_BYTES);
  guint8 *want = pattern(SEGMENT_BYTES);
  g_assert_true(memcmp(r->body->data, want, SEGMENT_BYTES) == 0);
  g_free(want);
  resp_free(r);

  /* HEAD: the same head, Content-Length included, and no body. */
  r = request(fx, "HEAD", "/live/seg00001.ts");
  g_assert_cmpint(r->status, ==, 200);
  g_assert_cmpstr(hdr(r, "content-length"), ==, "131600"); /* SEGMENT_BYTES */
  g_assert_cmpstr(hdr(r, "content-type"), ==, "video/mp2t");
  resp_free(r);

  /* Errors under /live/ carry CORS so a cross-origin player can read them. */
  r = get(fx, "/live/seg99999.ts");
  g_assert_cmpint(r->status, ==, 404);
  g_assert_cmpstr(hdr(r, "access-control-allow-origin"), ==, "*");
  resp_free(r);
  assert_not_found(fx, "/live/dir.ts"); /* a directory is not a file */
  assert_not_found(fx, "/live/other.m3u8");

  /* The pipeline replaces the playlist by rename: the next GET sees it. */
  write_file(fx->live_dir, "index.m3u8.tmp", "#EXTM3U\n#NEW\n", -1);
  char *from = g_build_filename(fx->live_dir, "index.m3u8.tmp", NULL);
  char *to = g_build_filename(fx->live_dir, "index.m3u8", NULL);
  g_assert_cmpint(g_rename(from, to), ==, 0);
  g_free(from);
  g_free(to);
  r = get(fx, "/live/index.m3u8");
  assert_body(r, "#EXTM3U\n#NEW\n");
  resp_free(r);

  /* Missing playlist (before the first segment is cut): 404. */
  char *pl = g_build_filename(fx->live_dir, "index.m3u8", NULL);
  g_assert_cmpint(g_remove(pl), ==, 0);
  g_free(pl);
  r = get(fx, "/live/index.m3u8");
  g_assert_cmpint(r->status, ==, 404);
  g_assert_cmpstr(hdr(r, "access-control-allow-origin"), ==, "*");
  resp_free(r);
}

/* Whatever lws normalises first, nothing outside the two dirs and nothing
 * hidden is ever served. */
static void test_traversal(fx_t *fx, gconstpointer data) {
  static const char *const targets[] = {
      "/live/../secret.txt",
      "/live/%2e%2e/secret.txt",
      "/live/%2E%2E%2Fsecret.txt",
      "/live/..%2fsecret.txt",
      "/live/.hidden",
      "/live/%2ehidden",
      "/web/../live/.hidden",
      "/web/..%2f..%2fsecret.txt",
      "/live/....//secret.txt",
      "/live/%252e%252e/secret.txt",
      "/../secret.txt",
      "/web/%00app.css",
      "/live/seg00001.ts%00.html",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(targets); i++) {
    resp_t *r = get(fx, targets[i]);
    char *body = body_str(r);
    gboolean leaked = strstr(body, "secret") != NULL || strstr(body, "hidden") != NULL;
    g_test_message("%s -> %d", targets[i], r->status);
    g_free(body);
    if (r->status == 200 || leaked)
      g_error("%s: status %d served something it must not", targets[i], r->status);
    resp_free(r);
  }
  /* A NUL byte inside the request line itself. */
  static const char nul[] = "GET /live/index.m3u8\0/../../secret.txt HTTP/1.1\r\nHost: x\r\n"
                            "Connection: close\r\n\r\n";
  resp_t *r = raw_request(fx, nul, sizeof(nul) - 1, FALSE);
  g_assert_cmpint(r->status, !=, 200);
  resp_free(r);
  /* The server is still fine afterwards. */
  r = get(fx, "/live/index.m3u8");
  g_assert_cmpint(r->status, ==, 200);
  resp_free(r);
}

static void test_limits(fx_t *fx, gconstpointer data) {
  /* A request head over max_http_header_data: refused, never served. */
  char *longname = g_strnfill(5000, 'a');
  char *raw =
      g_strdup_printf("GET /live/%s.ts HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", longname);
  resp_t *r = raw_request(fx, raw, strlen(raw), FALSE);
  g_assert_cmpint(r->status, !=, 200);
  resp_free(r);
  g_free(raw);
  raw = g_strdup_printf("GET / HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\nConnection: close\r\n\r\n",
                        longname);
  r = raw_request(fx, raw, strlen(raw), FALSE);
  g_assert_cmpint(r->status, !=, 200);
  resp_free(r);
  g_free(raw);
  g_free(longname);

  /* A name one past HTTP_ROUTE_NAME_MAX fits in the head but not the router. */
  char *name = g_strnfill(62, 'b');
  char *target = g_strdup_printf("/live/%s.ts", name);
  assert_not_found(fx, target);
  g_free(target);
  g_free(name);

  r = get(fx, "/");
  g_assert_cmpint(r->status, ==, 200);
  resp_free(r);
}

static void test_methods(fx_t *fx, gconstpointer data) {
  static const char *const methods[] = {"PUT", "DELETE", "OPTIONS", "PATCH"};
  for (gsize i = 0; i < G_N_ELEMENTS(methods); i++) {
    resp_t *r = request(fx, methods[i], "/live/index.m3u8");
    if (r->status != 405)
      g_error("%s: status %d, want 405", methods[i], r->status);
    g_assert_cmpstr(hdr(r, "allow"), ==, "GET, HEAD");
    resp_free(r);
  }
  static const char post[] = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n"
                             "Content-Type: text/plain\r\nConnection: close\r\n\r\nhello world";
  resp_t *r = raw_request(fx, post, sizeof(post) - 1, FALSE);
  g_assert_cmpint(r->status, ==, 405);
  g_assert_cmpstr(hdr(r, "allow"), ==, "GET, HEAD");
  assert_body(r, "method not allowed\n");
  resp_free(r);

  /* Unknown method: lws refuses it before us; whatever it says, not 200. */
  r = request(fx, "BREW", "/");
  g_assert_cmpint(r->status, !=, 200);
  resp_free(r);
  r = get(fx, "/healthz");
  g_assert_cmpint(r->status, ==, 200);
  resp_free(r);
}

typedef struct {
  guint16 port;
  const char *raw;
  int n_responses;
  gboolean split; /* send each request after the previous response */
} ka_t;

static gpointer keepalive_thread(gpointer p) {
  ka_t *k = p;
  GSocket *s = connect_to(k->port, 0);
  GByteArray *in = g_byte_array_new();
  GPtrArray *out = g_ptr_array_new();
  if (!k->split)
    send_all(s, k->raw, strlen(k->raw));
  for (int i = 0; i < k->n_responses; i++) {
    if (k->split)
      send_all(s, k->raw, strlen(k->raw));
    g_ptr_array_add(out, read_response(s, in, FALSE));
  }
  g_byte_array_unref(in);
  g_object_unref(s);
  return out;
}

static void test_keepalive(fx_t *fx, gconstpointer data) {
  /* Three requests one after the other on one connection. */
  ka_t k = {fx->port, "GET /live/index.m3u8 HTTP/1.1\r\nHost: x\r\n\r\n", 3, TRUE};
  GPtrArray *out = job_finish(job_start(keepalive_thread, &k));
  for (guint i = 0; i < out->len; i++) {
    resp_t *r = out->pdata[i];
    g_assert_cmpint(r->status, ==, 200);
    assert_body(r, PLAYLIST);
    resp_free(r);
  }
  g_ptr_array_unref(out);

  /* Pipelined: a segment, a 404 and a page sent at once, answered in order. */
  ka_t p = {fx->port,
            "GET /live/seg00001.ts HTTP/1.1\r\nHost: x\r\n\r\n"
            "GET /live/nope.ts HTTP/1.1\r\nHost: x\r\n\r\n"
            "GET /web/app.css HTTP/1.1\r\nHost: x\r\n\r\n",
            3, FALSE};
  out = job_finish(job_start(keepalive_thread, &p));
  resp_t **r = (resp_t **)out->pdata;
  g_assert_cmpint(r[0]->status, ==, 200);
  g_assert_cmpuint(r[0]->body->len, ==, SEGMENT_BYTES);
  g_assert_cmpint(r[1]->status, ==, 404);
  g_assert_cmpint(r[2]->status, ==, 200);
  assert_body(r[2], "body{margin:0}");
  for (guint i = 0; i < out->len; i++)
    resp_free(out->pdata[i]);
  g_ptr_array_unref(out);
}

static void test_healthz_metrics(fx_t *fx, gconstpointer data) {
  resp_t *r = get(fx, "/healthz");
  g_assert_cmpint(r->status, ==, 200);
  g_assert_cmpstr(hdr(r, "content-type"), ==, "application/json");
  g_assert_cmpstr(hdr(r, "cache-control"), ==, "no-store");
  assert_body(r, "{\"status\":\"ok\",\"calls\":1}");
  resp_free(r);

  assert_not_found(fx, "/a");
  assert_not_found(fx, "/b");
  r = request(fx, "DELETE", "/");
  g_assert_cmpint(r->status, ==, 405);
  resp_free(r);

  /* Without the token: 401 and how to authenticate; with a wrong one too. */
  r = get(fx, "/metrics");
  g_assert_cmpint(r->status, ==, 401);
  g_assert_cmpstr(hdr(r, "www-authenticate"), ==, "Bearer realm=\"tourcast\"");
  char *denied = body_str(r);
  g_assert_null(strstr(denied, "tourcast_test_gauge"));
  g_free(denied);
  resp_free(r);
  r = get_with(fx, "/metrics", "Authorization: Bearer scrape-me-not");
  g_assert_cmpint(r->status, ==, 401);
  resp_free(r);

  r = get_with(fx, "/metrics", "Authorization: Bearer " METRICS_TOKEN);
  g_assert_cmpint(r->status, ==, 200);
  g_assert_cmpstr(hdr(r, "content-type"), ==, "text/plain; version=0.0.4; charset=utf-8");
  char *body = body_str(r);
  /* The owner's text first, newline-terminated, then ours. */
  g_assert_true(
      g_str_has_prefix(body, "# TYPE tourcast_test_gauge gauge\ntourcast_test_gauge 42\n#"));
  g_assert_nonnull(strstr(body, "\ntourcast_http_requests_total{code=\"200\"} 1\n"));
  g_assert_nonnull(strstr(body, "\ntourcast_http_requests_total{code=\"404\"} 2\n"));
  g_assert_nonnull(strstr(body, "\ntourcast_http_requests_total{code=\"405\"} 1\n"));
  g_assert_nonnull(strstr(body, "\ntourcast_http_requests_total{code=\"401\"} 2\n"));
  g_assert_nonnull(strstr(body, "\n# TYPE tourcast_http_requests_total counter\n"));
  g_assert_nonnull(strstr(body, "\ntourcast_http_response_bytes_total "));
  /* Nothing else is being written while this body is generated. */
  g_assert_nonnull(strstr(body, "\ntourcast_http_responses_in_flight 0\n"));
  g_assert_true(g_str_has_suffix(body, "\n"));
  g_free(body);
  resp_free(r);

  fx->healthz_fails = TRUE;
  fx->metrics_fails = TRUE;
  r = get(fx, "/healthz");
  g_assert_cmpint(r->status, ==, 503);
  g_assert_cmpstr(hdr(r, "content-type"), ==, "application/json");
  resp_free(r);
  r = get_with(fx, "/metrics", "Authorization: Bearer " METRICS_TOKEN);
  g_assert_cmpint(r->status, ==, 500);
  resp_free(r);
}

/* ---- the loop stays responsive under a slow 8 MB download ---- */

typedef struct {
  gint64 last, max_gap;
  guint ticks;
} ticker_t;

static gboolean tick(gpointer p) {
  ticker_t *t = p;
  gint64 now = g_get_monotonic_time();
  if (t->last != 0)
    t->max_gap = MAX(t->max_gap, now - t->last);
  t->last = now;
  t->ticks++;
  return G_SOURCE_CONTINUE;
}

typedef struct {
  guint16 port;
  gsize received;
  gint64 elapsed_us;
  int status;
  gboolean intact;
  gint started; /* the head has arrived: the body is under way */
} slow_t;

static gpointer slow_reader_thread(gpointer p) {
  slow_t *sl = p;
  gint64 t0 = g_get_monotonic_time();
  GSocket *s = connect_to(sl->port, 16384);
  static const char req[] = "GET /live/big.ts HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  send_all(s, req, sizeof(req) - 1);
  GByteArray *in = g_byte_array_new();
  resp_t *r = read_head(s, in);
  sl->status = r->status;
  g_atomic_int_set(&sl->started, 1);
  guint8 *want = pattern(BIG_BYTES);
  sl->intact = TRUE;
  /* About 4 MB/s: 8 KB reads with a 2 ms nap, roughly a phone on weak 4G. */
  for (;;) {
    if (in->len > 0) {
      if (sl->received + in->len > BIG_BYTES || memcmp(want + sl->received, in->data, in->len) != 0)
        sl->intact = FALSE;
      sl->received += in->len;
      g_byte_array_set_size(in, 0);
    }
    if (sl->received >= BIG_BYTES || !recv_more(s, in, 8192))
      break;
    g_usleep(2000);
  }
  sl->elapsed_us = g_get_monotonic_time() - t0;
  g_free(want);
  resp_free(r);
  g_byte_array_unref(in);
  g_object_unref(s);
  return NULL;
}

typedef struct {
  guint16 port;
  slow_t *slow;
  gint64 max_latency_us;
  int n_ok, n;
} prober_t;

/* While the slow download runs, other clients are still served promptly. */
static gpointer prober_thread(gpointer p) {
  prober_t *pr = p;
  while (!g_atomic_int_get(&pr->slow->started))
    g_usleep(1000);
  for (pr->n = 0; pr->n < 10; pr->n++) {
    gint64 t0 = g_get_monotonic_time();
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    GSocket *s = connect_to(pr->port, 0);
    send_all(s, req, sizeof(req) - 1);
    GByteArray *in = g_byte_array_new();
    resp_t *r = read_response(s, in, FALSE);
    if (r->status == 200)
      pr->n_ok++;
    pr->max_latency_us = MAX(pr->max_latency_us, g_get_monotonic_time() - t0);
    resp_free(r);
    g_byte_array_unref(in);
    g_object_unref(s);
    g_usleep(50000);
  }
  return NULL;
}

/* ---- framing: one request stays one request ---- */

typedef struct {
  guint16 port;
  const char *raw;
  int statuses[4];
  int n;
  gboolean closed; /* the server closed (EOF) rather than the read timing out */
} conv_t;

/* Sends `raw` at once, then reads every response until the server closes
 * or 3 s pass without a byte. */
static gpointer conversation_thread(gpointer p) {
  conv_t *c = p;
  GSocket *s = connect_to(c->port, 0);
  g_socket_set_timeout(s, 3);
  send_all(s, c->raw, strlen(c->raw));
  GByteArray *in = g_byte_array_new();
  for (;;) {
    resp_t *r = read_response(s, in, FALSE);
    int status = r->status;
    resp_free(r);
    if (status == 0)
      break;
    if (c->n < (int)G_N_ELEMENTS(c->statuses))
      c->statuses[c->n] = status;
    c->n++;
  }
  guint8 b;
  GError *err = NULL;
  c->closed = in->len == 0 && g_socket_receive(s, (gchar *)&b, 1, NULL, &err) == 0;
  g_clear_error(&err);
  g_byte_array_unref(in);
  g_object_unref(s);
  return NULL;
}

static void test_framing(fx_t *fx, gconstpointer data) {
  /* Each: refused with one 400, then closed; what follows the head (a
   * second request hidden in a body) is never answered. */
  static const struct {
    const char *what, *raw;
  } refused[] = {
      {"CL and TE", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked"
                    "\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"TE alone on GET", "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"two CL", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n"
                 "abcde12GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"CL list", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0, 0\r\n\r\n"},
      {"CL sign", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: +0\r\n\r\n"},
      {"CL too long", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0000000000000000\r\n\r\n"},
      {"CL empty", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n"},
      {"space before colon", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nabcde"},
      {"folded TE", "GET / HTTP/1.1\r\nHost: x\r\n Transfer-Encoding: chunked\r\n\r\n"},
      {"tab-folded CL", "GET / HTTP/1.1\r\nHost: x\r\nX-Zz: 1\r\n\tContent-Length: 5\r\n\r\nabcde"},
      {"no Host", "GET / HTTP/1.1\r\n\r\n"},
      {"two Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"},
      {"bad version", "GET / HTTP/1.1 x\r\nHost: x\r\n\r\n"},
      {"HTTP/2 version", "GET / HTTP/2.0\r\nHost: x\r\n\r\n"},
      {"h2c upgrade", "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                      "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(refused); i++) {
    conv_t c = {fx->port, refused[i].raw, {0}, 0, FALSE};
    job_finish(job_start(conversation_thread, &c));
    if (c.n != 1 || c.statuses[0] != 400 || !c.closed)
      g_error("%s: %d responses, first %d, closed %d; want one 400 and closed", refused[i].what,
              c.n, c.statuses[0], c.closed);
  }

  /* Still served: a plain CL with spaces, HTTP/1.0 without Host, a tab in
   * OWS, an unknown header, pipelining. */
  static const struct {
    const char *what, *raw;
    int n;
  } served[] = {
      {"CL 0",
       "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length:  0 \r\nConnection: close\r\n\r\n", 1},
      {"CL tab",
       "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length:\t0\r\nConnection: close\r\n\r\n", 1},
      {"HTTP/1.0", "GET /healthz HTTP/1.0\r\n\r\n", 1},
      {"unknown header",
       "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Thing: 1\r\nConnection: close\r\n\r\n", 1},
      {"pipelined",
       "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n"
       "Connection: close\r\n\r\n",
       2},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(served); i++) {
    conv_t c = {fx->port, served[i].raw, {0}, 0, FALSE};
    job_finish(job_start(conversation_thread, &c));
    if (c.n != served[i].n || c.statuses[0] != 200)
      g_error("%s: %d responses, first %d; want %d x 200", served[i].what, c.n, c.statuses[0],
              served[i].n);
  }

  /* CONNECT: lws would keep it as a raw socket with no timeout; closed. */
  conv_t c = {
      fx->port, "CONNECT example.com:80 HTTP/1.1\r\nHost: example.com\r\n\r\n", {0}, 0, FALSE};
  job_finish(job_start(conversation_thread, &c));
  g_assert_cmpint(c.n, ==, 0);
  g_assert_true(c.closed);

  resp_t *r = get_with(fx, "/metrics", "Authorization: Bearer " METRICS_TOKEN);
  char *body = body_str(r);
  g_assert_nonnull(strstr(body, "\ntourcast_http_refused_total{why=\"head\"} 14\n"));
  g_assert_nonnull(strstr(body, "\ntourcast_http_refused_total{why=\"upgrade\"} 1\n"));
  g_assert_nonnull(strstr(body, "\ntourcast_http_refused_total{why=\"connect\"} 1\n"));
  g_free(body);
  resp_free(r);
}

/* Every kind of answer carries the security headers; pages the pages' CSP. */
static void test_security_headers(fx_t *fx, gconstpointer data) {
  static const struct {
    const char *method, *target;
    int status;
    gboolean page;
  } rows[] = {
      {"GET", "/", 200, TRUE},
      {"GET", "/leader", 200, TRUE},
      {"GET", "/replay/3", 200, TRUE},
      {"GET", "/web/app.js", 200, FALSE},
      {"GET", "/live/index.m3u8", 200, FALSE},
      {"HEAD", "/live/seg00001.ts", 200, FALSE},
      {"GET", "/healthz", 200, FALSE},
      {"GET", "/metrics", 401, FALSE},
      {"GET", "/nope", 404, FALSE},
      {"DELETE", "/", 405, FALSE},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
    resp_t *r = request(fx, rows[i].method, rows[i].target);
    if (r->status != rows[i].status)
      g_error("%s %s: %d", rows[i].method, rows[i].target, r->status);
    g_assert_cmpstr(hdr(r, "x-content-type-options"), ==, "nosniff");
    g_assert_cmpstr(hdr(r, "referrer-policy"), ==, "no-referrer");
    g_assert_cmpstr(hdr(r, "x-frame-options"), ==, "DENY");
    g_assert_cmpstr(hdr(r, "content-security-policy"), ==,
                    rows[i].page ? http_policy_csp_page : http_policy_csp_other);
    g_assert_nonnull(strstr(hdr(r, "content-security-policy"), "frame-ancestors 'none'"));
    resp_free(r);
  }
  /* A refused head too (written by us, before routing). */
  static const char bad[] = "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  resp_t *r = raw_request(fx, bad, sizeof bad - 1, FALSE);
  g_assert_cmpint(r->status, ==, 400);
  g_assert_cmpstr(hdr(r, "x-frame-options"), ==, "DENY");
  g_assert_cmpstr(hdr(r, "content-security-policy"), ==, http_policy_csp_other);
  resp_free(r);
}

static void test_slow_client(fx_t *fx, gconstpointer data) {
  guint8 *big = pattern(BIG_BYTES);
  write_file(fx->live_dir, "big.ts", big, BIG_BYTES);
  g_free(big);

  ticker_t t = {0};
  guint tick_id = g_timeout_add(10, tick, &t);
  slow_t sl = {.port = fx->port};
  prober_t pr = {.port = fx->port, .slow = &sl};
  job_t *reader = job_start(slow_reader_thread, &sl);
  job_t *prober = job_start(prober_thread, &pr);
  /* Mid-download the pipeline renames a new file over the name: the reader
   * keeps getting the old bytes (checked in `intact`). */
  while (!g_atomic_int_get(&sl.started))
    g_main_context_iteration(NULL, TRUE);
  write_file(fx->live_dir, "big.ts.tmp", "replaced", -1);
  char *from = g_build_filename(fx->live_dir, "big.ts.tmp", NULL);
  char *to = g_build_filename(fx->live_dir, "big.ts", NULL);
  g_assert_cmpint(g_rename(from, to), ==, 0);
  g_free(from);
  g_free(to);
  job_finish(prober);
  job_finish(reader);
  g_source_remove(tick_id);

  g_assert_cmpint(sl.status, ==, 200);
  g_assert_cmpuint(sl.received, ==, BIG_BYTES);
  g_assert_true(sl.intact);
  g_test_message("8 MB in %.2f s; loop ticks %u, longest gap %.1f ms; healthz worst %.1f ms",
                 sl.elapsed_us / 1e6, t.ticks, t.max_gap / 1e3, pr.max_latency_us / 1e3);
  /* The download really was slow, so the numbers below mean something. */
  g_assert_cmpint(sl.elapsed_us, >, 1000 * 1000);
  /* A 10 ms timer kept firing: never starved for long, and most of its ticks
   * happened (≥ half of what the elapsed time allows). */
  g_assert_cmpint(t.max_gap, <, 250 * 1000);
  g_assert_cmpuint(t.ticks, >=, (guint)(sl.elapsed_us / 10000 / 2));
  g_assert_cmpint(pr.n_ok, ==, 10);
  g_assert_cmpint(pr.max_latency_us, <, 500 * 1000);
}

/* A download frozen mid-way is still cleaned up when the server goes away
 * under it: the client sees the connection close, nothing leaks, and the
 * loop keeps running without lws' sources. */
static gpointer stuck_reader_thread(gpointer p) {
  guint16 port = GPOINTER_TO_UINT(p);
  GSocket *s = connect_to(port, 4096);
  static const char req[] = "GET /live/big.ts HTTP/1.1\r\nHost: x\r\n\r\n";
  send_all(s, req, sizeof(req) - 1);
  GByteArray *in = g_byte_array_new();
  resp_t *r = read_head(s, in);
  g_assert_cmpint(r->status, ==, 200);
  resp_free(r);
  g_usleep(300000); /* let the server fill every buffer and stall */
  gsize total = in->len;
  g_byte_array_set_size(in, 0);
  while (recv_more(s, in, 65536)) {
    total += in->len;
    g_byte_array_set_size(in, 0);
  }
  g_byte_array_unref(in);
  g_object_unref(s);
  return GSIZE_TO_POINTER(total);
}

static gboolean free_server_cb(gpointer p) {
  fx_t *fx = p;
  http_server_free(fx->srv);
  fx->srv = NULL;
  return G_SOURCE_REMOVE;
}

static void test_free_under_load(fx_t *fx, gconstpointer data) {
  guint8 *big = pattern(BIG_BYTES);
  write_file(fx->live_dir, "big.ts", big, BIG_BYTES);
  g_free(big);
  job_t *reader = job_start(stuck_reader_thread, GUINT_TO_POINTER(fx->port));
  g_timeout_add(150, free_server_cb, fx);
  gsize total = GPOINTER_TO_SIZE(job_finish(reader));
  g_assert_null(fx->srv);
  g_assert_cmpuint(total, <, BIG_BYTES);
  /* The loop runs on, quietly: no stale lws source fires or spins. */
  ticker_t t = {0};
  guint id = g_timeout_add(20, tick, &t);
  gint64 until = g_get_monotonic_time() + 200 * 1000;
  guint iterations = 0;
  while (g_get_monotonic_time() < until) {
    g_main_context_iteration(NULL, TRUE);
    iterations++;
  }
  g_source_remove(id);
  g_assert_cmpuint(iterations, <, 40);

  /* And a new server can take over on the same loop. */
  GError *err = NULL;
  fx->srv = start_server(fx, NULL, 0, 0, &err);
  g_assert_no_error(err);
  fx->port = http_server_port(fx->srv);
  resp_t *r = get(fx, "/live/index.m3u8");
  g_assert_cmpint(r->status, ==, 200);
  resp_free(r);
}

/* An idle server must not keep the loop busy (lws' glib idle source is easy
 * to leave spinning): count wakeups over half a second. */
static void test_idle(fx_t *fx, gconstpointer data) {
  resp_t *r = get(fx, "/");
  resp_free(r);
  ticker_t t = {0};
  guint id = g_timeout_add(50, tick, &t);
  gint64 until = g_get_monotonic_time() + 500 * 1000;
  guint iterations = 0;
  while (g_get_monotonic_time() < until) {
    g_main_context_iteration(NULL, TRUE);
    iterations++;
  }
  g_source_remove(id);
  g_test_message("%u loop iterations in 500 ms idle", iterations);
  g_assert_cmpuint(iterations, <, 60);
}

static void test_bind(fx_t *fx, gconstpointer data) {
  /* The port is taken: a clear error, and the first server is unharmed. */
  GError *err = NULL;
  http_server_t *second = start_server(fx, NULL, fx->port, 0, &err);
  g_assert_null(second);
  g_assert_error(err, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_nonnull(strstr(err->message, "cannot listen"));
  g_clear_error(&err);
  resp_t *r = get(fx, "/healthz");
  g_assert_cmpint(r->status, ==, 200);
  resp_free(r);

  /* An explicit port is used as given. */
  GSocket *probe =
      g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &err);
  g_assert_no_error(err);
  GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  GSocketAddress *any = g_inet_socket_address_new(lo, 0);
  g_assert_true(g_socket_bind(probe, any, TRUE, &err));
  GSocketAddress *bound = g_socket_get_local_address(probe, &err);
  guint16 free_port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  g_object_unref(bound);
  g_object_unref(any);
  g_object_unref(probe);
  http_server_t *third = start_server(fx, NULL, free_port, 0, &err);
  g_assert_no_error(err);
  g_assert_cmpuint(http_server_port(third), ==, free_port);

  /* Bound to 127.0.0.1 only: nothing answers on the IPv6 loopback. */
  GSocket *s6 =
      g_socket_new(G_SOCKET_FAMILY_IPV6, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  if (s6 != NULL) {
    GInetAddress *lo6 = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV6);
    GSocketAddress *sa6 = g_inet_socket_address_new(lo6, free_port);
    g_assert_false(g_socket_connect(s6, sa6, NULL, NULL));
    g_object_unref(sa6);
    g_object_unref(lo6);
    g_object_unref(s6);
  }
  g_object_unref(lo);
  http_server_free(third);
  http_server_free(NULL);
}

/* max_connections = 3: a fourth client waits in the backlog, unanswered,
 * until one of the three goes away. */
typedef struct {
  guint16 port;
  gint phase; /* 1: three connections up, 2: fourth got no early answer, 3: done */
  gint release;
  int fourth_status;
  gboolean fourth_was_early;
} cap_t;

static gpointer cap_thread(gpointer p) {
  cap_t *c = p;
  static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  GSocket *held[3];
  for (int i = 0; i < 3; i++) {
    held[i] = connect_to(c->port, 0);
    send_all(held[i], req, sizeof(req) - 1);
    GByteArray *in = g_byte_array_new();
    resp_t *r = read_response(held[i], in, FALSE); /* keep-alive: stays open */
    g_assert_cmpint(r->status, ==, 200);
    resp_free(r);
    g_byte_array_unref(in);
  }
  GSocket *fourth = connect_to(c->port, 0); /* the kernel completes it from the backlog */
  send_all(fourth, req, sizeof(req) - 1);
  c->fourth_was_early = g_socket_condition_timed_wait(fourth, G_IO_IN, 400 * 1000, NULL, NULL);
  g_object_unref(held[0]);
  GByteArray *in = g_byte_array_new();
  resp_t *r = read_response(fourth, in, FALSE);
  c->fourth_status = r->status;
  resp_free(r);
  g_byte_array_unref(in);
  g_object_unref(fourth);
  g_object_unref(held[1]);
  g_object_unref(held[2]);
  return NULL;
}

static void test_max_connections(fx_t *fx, gconstpointer data) {
  cap_t c = {.port = fx->port};
  job_finish(job_start(cap_thread, &c));
  g_assert_false(c.fourth_was_early);
  g_assert_cmpint(c.fourth_status, ==, 200);
}

/* The real pages from the source tree (tests/browser drives them in chromium):
 * each is served, UTF-8, zh-CN, has the video and loads its scripts from /web/. */
static void test_real_pages(fx_t *fx, gconstpointer data) {
  GError *err = NULL;
  http_server_free(fx->srv);
  fx->srv = start_server(fx, TOURCAST_WEB_DIR, 0, 0, &err);
  g_assert_no_error(err);
  fx->port = http_server_port(fx->srv);
  static const char *const pages[] = {"/", "/leader", "/replay/1"};
  for (gsize i = 0; i < G_N_ELEMENTS(pages); i++) {
    resp_t *r = get(fx, pages[i]);
    g_assert_cmpint(r->status, ==, 200);
    char *body = body_str(r);
    g_assert_true(g_utf8_validate(body, -1, NULL));
    g_assert_nonnull(strstr(body, "<meta charset=\"utf-8\">"));
    g_assert_nonnull(strstr(body, "lang=\"zh-CN\""));
    g_assert_nonnull(strstr(body, "data-testid=\"video\""));
    g_assert_nonnull(strstr(body, "<script src=\"/web/common.js\"></script>"));
    g_free(body);
    resp_free(r);
  }
  const char *const assets[] = {"/web/common.js", "/web/shop.js",   "/web/viewer.js",
                                "/web/leader.js", "/web/replay.js", "/web/tc.css"};
  for (gsize i = 0; i < G_N_ELEMENTS(assets); i++) {
    resp_t *r = get(fx, assets[i]);
    g_assert_cmpint(r->status, ==, 200);
    resp_free(r);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  gst_init(NULL, NULL);
#define ADD(path, fn, data) g_test_add("/http_server/" path, fx_t, data, fx_setup, fn, fx_teardown)
  ADD("pages", test_pages, NULL);
  ADD("live", test_live, NULL);
  ADD("traversal", test_traversal, NULL);
  ADD("limits", test_limits, NULL);
  ADD("methods", test_methods, NULL);
  ADD("keepalive", test_keepalive, NULL);
  ADD("healthz_metrics", test_healthz_metrics, NULL);
  ADD("framing", test_framing, NULL);
  ADD("security_headers", test_security_headers, NULL);
  ADD("slow_client", test_slow_client, NULL);
  ADD("free_under_load", test_free_under_load, NULL);
  ADD("idle", test_idle, NULL);
  ADD("bind", test_bind, NULL);
  ADD("max_connections", test_max_connections, GUINT_TO_POINTER(3));
  ADD("real_pages", test_real_pages, NULL);
  return g_test_run();
}
