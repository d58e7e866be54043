/* test_http_upload.c — POST /api/products/ID/image through the HTTP server, answered later.
 *
 * The server runs on this thread's main loop as in tourcast; clients are
 * threads with blocking sockets. The owner's upload callback keeps the
 * http_reply_t and finishes it when the test says: meanwhile the loop
 * answers /healthz; a client gone before the answer, or the server freed
 * first, leaves a finish that does nothing. The head checks (403, 411, 413)
 * still answer before the body is read, without calling the owner.
 */
#include <arpa/inet.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ws/http_server.h"

#define TOKEN "tok"

typedef struct {
  GMainLoop *loop;
  char *root;
  http_server_t *srv;
  guint16 port;
  GPtrArray *replies; /* http_reply_t* not finished yet */
  GPtrArray *bodies;  /* GBytes* the owner got */
  int sync_status;    /* answer inside the callback with this status (0: later) */
} fx_t;

static gboolean leader_ok(void *user, const char *token) {
  return g_strcmp0(token, TOKEN) == 0;
}

static void on_upload(void *user, const http_route_t *route, GBytes *body, http_reply_t *reply) {
  fx_t *fx = user;
  g_assert_cmpint(route->product_id, ==, 7);
  g_ptr_array_add(fx->bodies, body);
  if (fx->sync_status != 0) {
    http_reply_set_retry_after(reply, 1);
    http_reply_finish(reply, fx->sync_status, g_strdup("{\"error\":\"busy\"}"));
  } else {
    g_ptr_array_add(fx->replies, reply);
  }
}

static void fx_setup(fx_t *fx, gconstpointer data) {
  GError *err = NULL;
  memset(fx, 0, sizeof *fx);
  fx->loop = g_main_loop_new(NULL, FALSE);
  fx->root = g_dir_make_tmp("tourcast-upload-XXXXXX", &err);
  g_assert_no_error(err);
  http_server_config_t cfg = {
      .bind_addr = "127.0.0.1", .live_dir = fx->root, .web_dir = fx->root, .loop = fx->loop};
  http_server_callbacks_t cb = {.leader_ok = leader_ok, .upload = on_upload};
  fx->srv = http_server_new(&cfg, &cb, fx, &err);
  g_assert_no_error(err);
  fx->port = http_server_port(fx->srv);
  fx->replies = g_ptr_array_new();
  fx->bodies = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
}

static void fx_teardown(fx_t *fx, gconstpointer data) {
  http_server_free(fx->srv);
  /* Whatever the test left unfinished: finishing after the free is a no-op. */
  for (guint i = 0; i < fx->replies->len; i++)
    http_reply_finish(fx->replies->pdata[i], 200, g_strdup("{}"));
  g_ptr_array_free(fx->replies, TRUE);
  g_ptr_array_free(fx->bodies, TRUE);
  g_rmdir(fx->root);
  g_free(fx->root);
  g_main_loop_unref(fx->loop);
}

/* ---- a client in a thread ---- */

typedef struct {
  guint16 port;
  char *request; /* raw bytes sent */
  gsize request_len;
  gboolean hang_up; /* close right after sending, read nothing */
  GString *response;
  gint done;
} client_t;

static gpointer client_main(gpointer p) {
  client_t *c = p;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(c->port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  g_assert_cmpint(connect(fd, (struct sockaddr *)&a, sizeof a), ==, 0);
  gsize off = 0;
  while (off < c->request_len) {
    ssize_t n = send(fd, c->request + off, c->request_len - off, MSG_NOSIGNAL);
    if (n <= 0)
      break; /* the server may close on a refused head */
    off += (gsize)n;
  }
  c->response = g_string_new(NULL);
  if (!c->hang_up) {
    char buf[4096];
    ssize_t n;
    /* Reads until the server closes, or one whole response is in. */
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
      g_string_append_len(c->response, buf, n);
      const char *end = strstr(c->response->str, "\r\n\r\n");
      const char *cl = g_strstr_len(c->response->str, -1, "content-length: ");
      if (end && cl &&
          c->response->len >=
              (gsize)(end + 4 - c->response->str) + (gsize)g_ascii_strtoull(cl + 16, NULL, 10))
        break;
    }
  }
  close(fd);
  g_atomic_int_set(&c->done, 1);
  return NULL;
}

static client_t *client_start(fx_t *fx, const char *head, gsize body_len, gboolean hang_up) {
  client_t *c = g_new0(client_t, 1);
  c->port = fx->port;
  GString *req = g_string_new(head);
  for (gsize i = 0; i < body_len; i++)
    g_string_append_c(req, (char)('a' + i % 26));
  c->request_len = req->len;
  c->request = g_string_free(req, FALSE);
  c->hang_up = hang_up;
  g_thread_unref(g_thread_new("client", client_main, c));
  return c;
}

static void client_free(client_t *c) {
  g_free(c->request);
  if (c->response)
    g_string_free(c->response, TRUE);
  g_free(c);
}

static void spin_until(gboolean (*cond)(gpointer), gpointer data) {
  gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
  while (!cond(data)) {
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    if (!g_main_context_iteration(NULL, FALSE))
      g_usleep(1000);
  }
}

static gboolean client_done(gpointer p) {
  return g_atomic_int_get(&((client_t *)p)->done);
}

static gboolean has_reply(gpointer p) {
  return ((fx_t *)p)->replies->len > 0;
}

static char *post_head(const char *extra, gsize len) {
  return g_strdup_printf("POST /api/products/7/image HTTP/1.1\r\nHost: x\r\n%s"
                         "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n",
                         extra, len);
}

#define AUTH "Authorization: Bearer " TOKEN "\r\n"

static void test_answered_later(fx_t *fx, gconstpointer data) {
  char *head = post_head(AUTH, 100000);
  client_t *up = client_start(fx, head, 100000, FALSE);
  spin_until(has_reply, fx);
  GBytes *got = fx->bodies->pdata[0];
  g_assert_cmpuint(g_bytes_get_size(got), ==, 100000);
  g_assert_cmpint(((const char *)g_bytes_get_data(got, NULL))[99999], ==, 'a' + 99999 % 26);
  /* The upload waits; the loop serves others meanwhile. */
  client_t *health = client_start(fx, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 0, FALSE);
  spin_until(client_done, health);
  g_assert_true(g_str_has_prefix(health->response->str, "HTTP/1.1 200"));
  g_assert_false(g_atomic_int_get(&up->done));
  g_assert_cmpuint(up->response->len, ==, 0);

  http_reply_finish(g_ptr_array_steal_index(fx->replies, 0), 200, g_strdup("{\"ok\":1}"));
  spin_until(client_done, up);
  g_assert_true(g_str_has_prefix(up->response->str, "HTTP/1.1 200"));
  g_assert_true(g_str_has_suffix(up->response->str, "\r\n\r\n{\"ok\":1}"));
  g_assert_null(strstr(up->response->str, "retry-after"));
  client_free(up);
  client_free(health);
  g_free(head);
}

static void test_answered_at_once(fx_t *fx, gconstpointer data) {
  fx->sync_status = 503;
  char *head = post_head(AUTH, 10);
  client_t *up = client_start(fx, head, 10, FALSE);
  spin_until(client_done, up);
  g_assert_true(g_str_has_prefix(up->response->str, "HTTP/1.1 503"));
  g_assert_nonnull(strstr(up->response->str, "retry-after: 1\r\n"));
  g_assert_true(g_str_has_suffix(up->response->str, "{\"error\":\"busy\"}"));
  client_free(up);
  g_free(head);
}

/* The client hangs up while the owner decides: finishing then does nothing,
 * and the server goes on serving. */
static void test_client_gone(fx_t *fx, gconstpointer data) {
  char *head = post_head(AUTH, 1000);
  client_t *up = client_start(fx, head, 1000, TRUE);
  spin_until(has_reply, fx);
  spin_until(client_done, up);
  /* Let the server see the close. */
  for (int i = 0; i < 100; i++)
    if (!g_main_context_iteration(NULL, FALSE))
      g_usleep(2000);
  http_reply_finish(g_ptr_array_steal_index(fx->replies, 0), 200, g_strdup("{\"ok\":1}"));
  client_t *health = client_start(fx, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 0, FALSE);
  spin_until(client_done, health);
  g_assert_true(g_str_has_prefix(health->response->str, "HTTP/1.1 200"));
  client_free(up);
  client_free(health);
  g_free(head);
}

/* The server is freed with a reply pending (teardown finishes it after). */
static void test_server_freed(fx_t *fx, gconstpointer data) {
  char *head = post_head(AUTH, 1000);
  client_t *up = client_start(fx, head, 1000, FALSE);
  spin_until(has_reply, fx);
  http_server_free(fx->srv);
  fx->srv = NULL;
  spin_until(client_done, up); /* closed unanswered */
  g_assert_cmpuint(up->response->len, ==, 0);
  client_free(up);
  g_free(head);
}

/* Refused from the head alone: the owner never sees these. */
static void test_head_refusals(fx_t *fx, gconstpointer data) {
  static const struct {
    const char *head;
    const char *status;
  } rows[] = {
      {"POST /api/products/7/image HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n", "403"},
      {"POST /api/products/7/image HTTP/1.1\r\nHost: x\r\n" AUTH "\r\n", "411"},
      {"POST /api/products/7/image HTTP/1.1\r\nHost: x\r\n" AUTH "Content-Length: 2097153\r\n\r\n",
       "413"},
      {"POST /api/products/7/image HTTP/1.1\r\nHost: x\r\n" AUTH "Content-Length: 0\r\n\r\n",
       "400"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
    client_t *c = client_start(fx, rows[i].head, 0, FALSE);
    spin_until(client_done, c);
    char *want = g_strdup_printf("HTTP/1.1 %s", rows[i].status);
    g_assert_true(g_str_has_prefix(c->response->str, want));
    g_free(want);
    client_free(c);
  }
  g_assert_cmpuint(fx->bodies->len, ==, 0);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add("/http_upload/" path, fx_t, NULL, fx_setup, fn, fx_teardown)
  ADD("answered-later", test_answered_later);
  ADD("answered-at-once", test_answered_at_once);
  ADD("client-gone", test_client_gone);
  ADD("server-freed", test_server_freed);
  ADD("head-refusals", test_head_refusals);
  return g_test_run();
}
