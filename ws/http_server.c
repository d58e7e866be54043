/* http_server.c — tourcast's HTTP/1.1 server: libwebsockets driven by the GLib control loop
 * (through libuv: one GSource for every socket, see uv_gsource_new()).
 *
 * Turns the routes http_route.c finds into responses: files from web_dir and
 * live_dir, streamed a chunk per WRITEABLE so that an 8 MB segment to a slow
 * phone never holds the loop, and the /healthz and /metrics bodies its owner
 * provides. It does not parse paths (http_route.c does) and does not speak
 * WebSocket yet: tourcast.v1 on /ws joins protocols[] below.
 *
 * Limits on what comes from outside (constants below, one place):
 *   request head  HTTP_MAX_HEADER_BYTES (4096) for request line + headers
 *                 (lws max_http_header_data); lws closes the connection on a
 *                 larger or unparseable head without answering. Paths and
 *                 names are bounded again in http_route.h.
 *   connections   cfg->max_connections (default HTTP_DEFAULT_MAX_CONNECTIONS),
 *                 enforced by lws through fd_limit_per_thread: at the limit it
 *                 stops accepting, so further connects wait in the kernel's
 *                 listen backlog instead of being reset. Clamped so that every
 *                 connection plus one open file each fits under RLIMIT_NOFILE,
 *                 with HTTP_FD_RESERVE left for the rest of the process
 *                 (an accept() failing with EMFILE could spin the loop).
 *   head timeout  the request head must arrive within HTTP_HEAD_TIMEOUT_S of connecting
 *                 (lws timeout_secs; slowloris).
 *   keep-alive    an idle connection is closed after HTTP_KEEPALIVE_S.
 *   slow reader   a response that makes no progress for HTTP_STALL_S is
 *                 dropped; one that progresses, however slowly, is served.
 *   memory        a response holds at most one HTTP_CHUNK of its body in our
 *                 buffer (plus what lws keeps of a partial send); files are
 *                 pread() chunk by chunk from an fd opened once, so a file
 *                 renamed over mid-download keeps serving the old bytes.
 *   bodies        only POST /api/products/ID/image is read, and only after the
 *                 leader token checked out and a Content-Length of at most
 *                 HTTP_UPLOAD_MAX_BYTES was announced (else 403/411/413 and
 *                 the connection closes, the body unread); the bytes are
 *                 counted as they come and the upload refused past that.
 *                 The body then goes to the owner with an http_reply_t it
 *                 finishes later (the picture is decoded off the loop); the
 *                 connection waits at most HTTP_REPLY_TIMEOUT_S, and one that
 *                 closes first leaves a reply whose finishing does nothing.
 *                 Anything else but GET and HEAD gets 405, then lws discards
 *                 a Content-Length body or, without one, closes the connection.
 *   framing       http_policy_check_head() runs before routing: a head that
 *                 a proxy could frame differently from lws (Transfer-Encoding,
 *                 a repeated or malformed Content-Length, a hidden spelling
 *                 of either, no or two Host, a bad version) gets 400 and the
 *                 connection closes, its body and anything after it unread.
 *                 Upgrades other than WebSocket (h2c) are refused (400) and
 *                 CONNECT closed: lws would hand either a protocol we do not
 *                 serve (a raw socket with no timeout, for CONNECT).
 *   who           /metrics needs the leader token or cfg->metrics_token
 *                 (401 otherwise); a /ws upgrade whose Origin is not allowed
 *                 gets 403 (http_server_ws_admit()).
 *
 * Every answer carries the security headers of http_policy.h: lws adds the
 * vhost's (nosniff, Referrer-Policy, X-Frame-Options) to each status line,
 * ours and its own, and write_head() the Content-Security-Policy.
 *
 * /metrics counts the responses written here; the few lws writes itself (403
 * for a method it does not know or a target that is not an absolute path)
 * are not seen.
 */
#include "ws/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <gst/gst.h>
#include <libwebsockets.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "ws/http_policy.h"
#include "ws/http_route.h"
#include "ws/ws_endpoint.h"

GST_DEBUG_CATEGORY_STATIC(http_debug);
GST_DEBUG_CATEGORY_STATIC(lws_debug);
#define GST_CAT_DEFAULT http_debug

#define HTTP_MAX_HEADER_BYTES 4096
#define HTTP_DEFAULT_MAX_CONNECTIONS 1000
#define HTTP_FD_RESERVE 256
#define HTTP_HEAD_TIMEOUT_S 10
#define HTTP_KEEPALIVE_S 15
#define HTTP_STALL_S 20
#define HTTP_CHUNK (16 * 1024)
/* lws 4.1 adds 2 to fd_limit_per_thread (its listen socket and event pipe)
 * and stops accepting when one slot is left: fd_limit = connections + 1. */
#define HTTP_LWS_FD_SLACK 1
#define HTTP_VHOST_NAME "tourcast"

/* Segments never change once listed; a minute covers any live window while
 * keeping a name reused by a later show from being served stale for long. */
#define CACHE_SEGMENT "public, max-age=60"
#define CACHE_REVALIDATE "no-cache"
#define CACHE_NEVER "no-store"

/* Status codes this module answers with, in the order /metrics lists them. */
static const int counted_codes[] = {200, 400, 401, 403, 404, 405, 411, 413, 415, 500, 503};
#define N_CODES (sizeof(counted_codes) / sizeof(counted_codes[0]))

struct http_server {
  struct lws_context *ctx;
  /* lws runs on libuv (epoll), and the whole uv loop is one GSource of the
   * control loop: see uv_gsource_new(). */
  uv_loop_t uv;
  gboolean uv_ready;
  GSource *uv_source;
  /* lws keeps a pointer to the protocols for the context's life. */
  struct lws_protocols protocols[3];
  ws_endpoint_t *ws; /* borrowed; NULL: no WebSocket */
  char *bind_addr, *live_dir, *web_dir, *images_dir, *vendor_dir, *shows_dir;
  char **allowed_origins; /* besides this server's own (from Host) */
  char *metrics_token;    /* NULL: only the leader token opens /metrics */
  http_server_callbacks_t cb;
  void *user;
  guint16 port;
  guint max_connections;
  /* For /metrics. */
  guint64 responses[N_CODES];
  guint64 body_bytes;
  guint bodies_in_flight;
  guint64 refused_head, refused_origin, refused_upgrade, refused_connect;
};

/* Per vhost: lws allocates it at PROTOCOL_INIT and frees it with the vhost. */
struct vhd {
  http_server_t *srv;
  /* Scratch for headers and one body chunk. Shared by every connection: the
   * loop is single-threaded and lws copies whatever a write leaves unsent. */
  unsigned char buf[LWS_PRE + HTTP_CHUNK];
};

typedef enum { BODY_NONE, BODY_MEM, BODY_FILE } body_kind_t;

/* Per HTTP transaction: lws frees it when the transaction completes (it
 * rebinds the protocol for the next request on a keep-alive connection). The
 * response is decided in LWS_CALLBACK_HTTP and written from WRITEABLE: first
 * the head, then the body a chunk at a time. */
struct pss {
  bool active; /* a response is pending or being written */
  bool head_sent;
  bool head_only; /* HEAD: the same head, no body */
  bool cors;
  bool method_not_allowed;
  bool auth_required; /* a 401: say which scheme (WWW-Authenticate) */
  int status;
  const char *content_type; /* static strings */
  const char *cache_control;
  body_kind_t body;
  int fd;    /* BODY_FILE only */
  char *mem; /* BODY_MEM only, g_free */
  guint64 len, off;
  gint64 stall_armed_us; /* when the stall timeout was last pushed back */
  bool close_after;      /* answered before its body was read: close, don't reuse */
  GByteArray *upload;    /* the body of an accepted POST being received */
  bool upload_overflow;  /* more bytes came than Content-Length announced */
  http_route_t upload_route;
  http_reply_t *reply; /* the owner is deciding the upload's answer */
  guint retry_after_s; /* 0: no Retry-After header */
};

/* An upload's answer to come. Two references, the owner's (dropped by
 * http_reply_finish()) and the connection's (dropped when the answer is
 * given or the connection goes); control loop only, so a plain count. */
struct http_reply {
  int refs;
  http_server_t *srv; /* valid while pss is */
  struct lws *wsi;    /* NULL once the connection is gone */
  struct pss *pss;
  guint retry_after_s;
};

static void reply_unref(http_reply_t *reply) {
  if (--reply->refs == 0)
    g_free(reply);
}

static void count_status(http_server_t *srv, int status) {
  for (size_t i = 0; i < N_CODES; i++)
    if (counted_codes[i] == status)
      srv->responses[i]++;
}

/* Releases what the response holds. Idempotent: called when the body is done,
 * when lws drops the protocol, and when the connection closes. */
static void pss_clear(http_server_t *srv, struct pss *pss) {
  if (pss->body == BODY_FILE)
    close(pss->fd);
  else if (pss->body == BODY_MEM)
    g_free(pss->mem);
  pss->body = BODY_NONE;
  pss->mem = NULL;
  if (pss->upload != NULL)
    g_byte_array_unref(pss->upload);
  pss->upload = NULL;
  if (pss->reply != NULL) { /* the owner's finish will do nothing */
    pss->reply->wsi = NULL;
    pss->reply->pss = NULL;
    reply_unref(pss->reply);
    pss->reply = NULL;
  }
  if (pss->active && srv != NULL)
    srv->bodies_in_flight--;
  pss->active = false;
}

static void respond(http_server_t *srv, struct pss *pss, int status, const char *type,
                    const char *cache) {
  pss->active = true;
  pss->status = status;
  pss->content_type = type;
  pss->cache_control = cache;
  srv->bodies_in_flight++;
}

/* Takes ownership of `body` (g_free). */
static void respond_mem(http_server_t *srv, struct pss *pss, int status, const char *type,
                        const char *cache, char *body) {
  respond(srv, pss, status, type, cache);
  pss->body = BODY_MEM;
  pss->mem = body;
  pss->len = strlen(body);
}

static void respond_text(http_server_t *srv, struct pss *pss, int status, const char *text) {
  respond_mem(srv, pss, status, "text/plain; charset=utf-8", CACHE_NEVER, g_strdup(text));
}

/* Opens dir/name now, so the response is whatever file had that name at this
 * moment: the pipeline replaces playlists by rename, and an fd keeps the old
 * inode alive. Regular files only. */
static void respond_file(http_server_t *srv, struct pss *pss, const char *dir, const char *name,
                         const char *type, const char *cache) {
  char *path = g_build_filename(dir, name, NULL);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  int err = errno;
  struct stat st;
  if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
    close(fd);
    fd = -1;
    err = ENOENT;
  }
  if (fd < 0) {
    if (err == ENOENT || err == ENOTDIR) {
      GST_DEBUG("%s: not found", path);
      respond_text(srv, pss, 404, "not found\n");
    } else {
      GST_WARNING("%s: %s", path, g_strerror(err));
      respond_text(srv, pss, 500, "cannot open file\n");
    }
    g_free(path);
    return;
  }
  g_free(path);
  respond(srv, pss, 200, type, cache);
  pss->body = BODY_FILE;
  pss->fd = fd;
  pss->len = (guint64)st.st_size;
}

static char *metrics_body(http_server_t *srv) {
  GString *s = g_string_new(NULL);
  if (srv->cb.metrics_text != NULL) {
    char *theirs = srv->cb.metrics_text(srv->user);
    if (theirs == NULL) {
      g_string_free(s, TRUE);
      return NULL;
    }
    g_string_append(s, theirs);
    if (s->len > 0 && s->str[s->len - 1] != '\n')
      g_string_append_c(s, '\n');
    g_free(theirs);
  }
  g_string_append(s, "# HELP tourcast_http_requests_total HTTP responses sent, by status code.\n"
                     "# TYPE tourcast_http_requests_total counter\n");
  for (size_t i = 0; i < N_CODES; i++)
    g_string_append_printf(s, "tourcast_http_requests_total{code=\"%d\"} %" G_GUINT64_FORMAT "\n",
                           counted_codes[i], srv->responses[i]);
  g_string_append_printf(s,
                         "# HELP tourcast_http_response_bytes_total HTTP body bytes written.\n"
                         "# TYPE tourcast_http_response_bytes_total counter\n"
                         "tourcast_http_response_bytes_total %" G_GUINT64_FORMAT "\n"
                         "# HELP tourcast_http_responses_in_flight Responses being written now.\n"
                         "# TYPE tourcast_http_responses_in_flight gauge\n"
                         "tourcast_http_responses_in_flight %u\n",
                         srv->body_bytes, srv->bodies_in_flight);
  g_string_append_printf(s,
                         "# HELP tourcast_http_refused_total Requests refused before routing: an "
                         "ambiguous or malformed head (400), a WebSocket Origin not allowed "
                         "(403), an upgrade other than WebSocket (400), CONNECT (closed).\n"
                         "# TYPE tourcast_http_refused_total counter\n"
                         "tourcast_http_refused_total{why=\"head\"} %" G_GUINT64_FORMAT "\n"
                         "tourcast_http_refused_total{why=\"origin\"} %" G_GUINT64_FORMAT "\n"
                         "tourcast_http_refused_total{why=\"upgrade\"} %" G_GUINT64_FORMAT "\n"
                         "tourcast_http_refused_total{why=\"connect\"} %" G_GUINT64_FORMAT "\n",
                         srv->refused_head, srv->refused_origin, srv->refused_upgrade,
                         srv->refused_connect);
  return g_string_free(s, FALSE);
}

/* LWS_CALLBACK_HTTP: decide the whole response, write nothing yet. */
/* The leader token of a request: ?token=... or Authorization: Bearer ....
 * The query lives in lws' URI_ARGS, apart from the path: no log line here
 * or in lws prints it (the path logged in on_http() never has it). */
static char *request_token(struct lws *wsi) {
  char buf[256];
  const char *arg = lws_get_urlarg_by_name(wsi, "token=", buf, sizeof buf);
  if (arg != NULL)
    return g_strdup(arg);
  int n = lws_hdr_copy(wsi, buf, sizeof buf, WSI_TOKEN_HTTP_AUTHORIZATION);
  if (n > 7 && g_ascii_strncasecmp(buf, "Bearer ", 7) == 0)
    return g_strdup(buf + 7);
  return NULL;
}

/* The paging arguments of an /api query into `r`; FALSE if one is bad. */
static bool request_page(struct lws *wsi, http_route_t *r) {
  static const char *const keys[] = {"before_id", "after_id", "after_ms", "limit"};
  for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
    char arg[24], buf[48];
    g_snprintf(arg, sizeof arg, "%s=", keys[i]);
    const char *v = lws_get_urlarg_by_name(wsi, arg, buf, sizeof buf);
    if (v != NULL && !http_route_page(keys[i], v, r))
      return false;
  }
  return true;
}

static void on_api(struct lws *wsi, http_server_t *srv, struct pss *pss,
                   const http_route_t *route) {
  if (srv->cb.api == NULL) {
    respond_text(srv, pss, 404, "not found\n");
    return;
  }
  http_route_t paged = *route, *r = &paged;
  if (!request_page(wsi, r)) {
    respond_mem(srv, pss, 400, "application/json", CACHE_NEVER,
                g_strdup("{\"error\":\"invalid\",\"message\":\"bad paging argument\"}\n"));
    return;
  }
  char *token = request_token(wsi);
  int status = 200;
  char *body = srv->cb.api(srv->user, r, token, &status);
  g_free(token);
  if (body == NULL)
    respond_text(srv, pss, 500, "internal error\n");
  else
    respond_mem(srv, pss, status, status == 200 ? r->content_type : "application/json", CACHE_NEVER,
                body);
}

/* Content-Length of the request, -1 if absent or not a plain number. */
static gint64 content_length(struct lws *wsi) {
  char buf[24];
  int n = lws_hdr_copy(wsi, buf, sizeof buf, WSI_TOKEN_HTTP_CONTENT_LENGTH);
  if (n <= 0 || n > 18)
    return -1;
  for (int i = 0; i < n; i++)
    if (!g_ascii_isdigit(buf[i]))
      return -1;
  return g_ascii_strtoll(buf, NULL, 10);
}

static void respond_json_error(http_server_t *srv, struct pss *pss, int status, const char *code,
                               const char *message) {
  respond_mem(srv, pss, status, "application/json", CACHE_NEVER,
              g_strdup_printf("{\"error\":\"%s\",\"message\":\"%s\"}", code, message));
}

/* POST /api/products/ID/image: decide from the head alone whether to read
 * the body at all. Returns TRUE when the body is to be received. */
static bool on_upload_head(struct lws *wsi, http_server_t *srv, struct pss *pss,
                           const http_route_t *r) {
  if (srv->cb.upload == NULL || srv->cb.leader_ok == NULL) {
    respond_text(srv, pss, 404, "not found\n");
    pss->close_after = true;
    return false;
  }
  char *token = request_token(wsi);
  gboolean ok = srv->cb.leader_ok(srv->user, token);
  g_free(token);
  gint64 announced = content_length(wsi);
  if (!ok)
    respond_json_error(srv, pss, 403, "forbidden", "leader token required");
  else if (announced < 0)
    respond_json_error(srv, pss, 411, "length_required", "Content-Length required");
  else if (announced > HTTP_UPLOAD_MAX_BYTES)
    respond_json_error(srv, pss, 413, "too_large", "at most 2 MB");
  else if (announced == 0)
    respond_json_error(srv, pss, 400, "invalid", "empty body");
  if (pss->active) {
    pss->close_after = true;
    return false;
  }
  pss->upload = g_byte_array_sized_new((guint)announced);
  pss->upload_route = *r;
  return true;
}

/* LWS_CALLBACK_HTTP_BODY of an accepted upload. */
static void on_upload_body(struct pss *pss, const void *in, size_t len) {
  if (pss->upload == NULL || pss->upload_overflow)
    return;
  if (pss->upload->len + len > HTTP_UPLOAD_MAX_BYTES) {
    pss->upload_overflow = true;
    return;
  }
  g_byte_array_append(pss->upload, in, (guint)len);
}

/* LWS_CALLBACK_HTTP_BODY_COMPLETION of an accepted upload: hand it over;
 * the answer comes through http_reply_finish(), now or later. */
static void on_upload_done(struct lws *wsi, http_server_t *srv, struct pss *pss) {
  if (pss->upload_overflow) {
    respond_json_error(srv, pss, 413, "too_large", "at most 2 MB");
    pss->close_after = true;
    g_byte_array_unref(pss->upload);
    pss->upload = NULL;
    lws_callback_on_writable(wsi);
    return;
  }
  GBytes *body = g_byte_array_free_to_bytes(pss->upload);
  pss->upload = NULL;
  http_reply_t *reply = g_new0(http_reply_t, 1);
  *reply = (http_reply_t){.refs = 2, .srv = srv, .wsi = wsi, .pss = pss};
  pss->reply = reply;
  lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, HTTP_REPLY_TIMEOUT_S);
  srv->cb.upload(srv->user, &pss->upload_route, body, reply);
}

void http_reply_set_retry_after(http_reply_t *reply, guint seconds) {
  reply->retry_after_s = seconds;
}

void http_reply_finish(http_reply_t *reply, int status, char *body) {
  struct pss *pss = reply->pss;
  if (pss == NULL) { /* the client went away, or the server was freed */
    g_free(body);
    reply_unref(reply);
    return;
  }
  if (body != NULL)
    respond_mem(reply->srv, pss, status, "application/json", CACHE_NEVER, body);
  else
    respond_text(reply->srv, pss, 500, "internal error\n");
  pss->retry_after_s = reply->retry_after_s;
  lws_callback_on_writable(reply->wsi);
  pss->reply = NULL;
  reply->pss = NULL;
  reply->wsi = NULL;
  reply_unref(reply); /* the connection's */
  reply_unref(reply); /* the owner's */
}

/* /metrics: the leader token, or --metrics-token for a scraper. */
static bool metrics_allowed(struct lws *wsi, http_server_t *srv) {
  char *token = request_token(wsi);
  bool ok = http_policy_token_equal(token, srv->metrics_token) ||
            (srv->cb.leader_ok != NULL && srv->cb.leader_ok(srv->user, token));
  g_free(token);
  return ok;
}

/* A head lws parsed but a proxy might frame differently: 400, then close
 * (close_after) before lws reads a byte past what it took for this head. */
static bool refuse_bad_head(struct lws *wsi, http_server_t *srv, struct pss *pss) {
  const char *why = http_policy_check_head(wsi);
  if (why == NULL)
    return false;
  GST_INFO("refused request: %s", why);
  srv->refused_head++;
  respond_mem(srv, pss, 400, "text/plain; charset=utf-8", CACHE_NEVER,
              g_strdup_printf("bad request: %s\n", why));
  pss->close_after = true;
  lws_callback_on_writable(wsi);
  return true;
}

static int on_http(struct lws *wsi, http_server_t *srv, struct pss *pss, const char *uri,
                   size_t len) {
  if (refuse_bad_head(wsi, srv, pss))
    return 0;
  http_route_t r;
  http_route_parse(uri, len, &r);
  pss->cors = r.under_live;
  pss->head_only = lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0;
  bool get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
  GST_LOG("%s %.*s -> %s",
          get              ? "GET"
          : pss->head_only ? "HEAD"
                           : "(other)",
          (int)MIN(len, 200), uri, http_route_kind_name(r.kind));

  bool post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
  if (post && r.kind == HTTP_ROUTE_API_PRODUCT_IMAGE) {
    if (on_upload_head(wsi, srv, pss, &r))
      return 0; /* answered once the body is in */
  } else if (!get && !pss->head_only) {
    pss->method_not_allowed = true;
    respond_text(srv, pss, 405, "method not allowed\n");
  } else {
    switch (r.kind) {
      case HTTP_ROUTE_REJECTED:
      case HTTP_ROUTE_NOT_FOUND:
        respond_text(srv, pss, 404, "not found\n");
        break;
      case HTTP_ROUTE_INDEX:
      case HTTP_ROUTE_LEADER:
      case HTTP_ROUTE_REPLAY:
      case HTTP_ROUTE_WEB_ASSET:
        respond_file(srv, pss, srv->web_dir, r.name, r.content_type, CACHE_REVALIDATE);
        break;
      case HTTP_ROUTE_VENDOR:
        if (srv->vendor_dir != NULL)
          respond_file(srv, pss, srv->vendor_dir, r.name, r.content_type, CACHE_REVALIDATE);
        else
          respond_text(srv, pss, 404, "not found\n");
        break;
      case HTTP_ROUTE_LIVE_PLAYLIST:
        respond_file(srv, pss, srv->live_dir, r.name, r.content_type, CACHE_REVALIDATE);
        break;
      case HTTP_ROUTE_LIVE_SEGMENT:
        respond_file(srv, pss, srv->live_dir, r.name, r.content_type, CACHE_SEGMENT);
        break;
      case HTTP_ROUTE_SHOW_PLAYLIST:
      case HTTP_ROUTE_SHOW_SEGMENT: {
        if (srv->shows_dir == NULL) {
          respond_text(srv, pss, 404, "not found\n");
          break;
        }
        /* show_id is plain decimal, checked by the router. */
        char *dir = g_strdup_printf("%s/%lld", srv->shows_dir, r.show_id);
        respond_file(srv, pss, dir, r.name, r.content_type,
                     r.kind == HTTP_ROUTE_SHOW_SEGMENT ? CACHE_SEGMENT : CACHE_REVALIDATE);
        g_free(dir);
        break;
      }
      case HTTP_ROUTE_HEALTHZ: {
        char *body = srv->cb.healthz_json != NULL ? srv->cb.healthz_json(srv->user)
                                                  : g_strdup("{\"status\":\"ok\"}");
        if (body != NULL)
          respond_mem(srv, pss, 200, "application/json", CACHE_NEVER, body);
        else
          respond_mem(srv, pss, 503, "application/json", CACHE_NEVER,
                      g_strdup("{\"status\":\"unavailable\"}"));
        break;
      }
      case HTTP_ROUTE_API_SHOWS:
      case HTTP_ROUTE_API_EVENTS:
      case HTTP_ROUTE_API_ORDERS_CSV:
      case HTTP_ROUTE_API_ORDERS:
      case HTTP_ROUTE_API_QR:
        on_api(wsi, srv, pss, &r);
        break;
      case HTTP_ROUTE_API_PRODUCT_IMAGE:
        if (srv->images_dir != NULL)
          respond_file(srv, pss, srv->images_dir, r.name, r.content_type, CACHE_REVALIDATE);
        else
          respond_text(srv, pss, 404, "not found\n");
        break;
      case HTTP_ROUTE_METRICS: {
        if (!metrics_allowed(wsi, srv)) {
          respond_text(srv, pss, 401, "the leader token or the metrics token is required\n");
          pss->auth_required = true;
          break;
        }
        char *body = metrics_body(srv);
        if (body != NULL)
          respond_mem(srv, pss, 200, "text/plain; version=0.0.4; charset=utf-8", CACHE_NEVER, body);
        else
          respond_text(srv, pss, 500, "metrics unavailable\n");
        break;
      }
    }
  }
  lws_callback_on_writable(wsi);
  return 0;
}

/* The response is complete: free it, then let lws go back to reading the next
 * request (or close). `pss` is freed by lws inside
 * lws_http_transaction_completed(), so nothing may touch it afterwards. */
static int finish_response(struct lws *wsi, http_server_t *srv, struct pss *pss) {
  bool close_now = pss->close_after;
  pss_clear(srv, pss);
  if (close_now)
    return -1; /* an unread body would be taken for the next request */
  if (lws_http_transaction_completed(wsi))
    return -1;
  return 0;
}

/* The body made progress: push the stall timeout back. lws keeps timeouts in
 * a sorted list, so at most once a second per connection, not per chunk. */
static void arm_stall_timeout(struct lws *wsi, struct pss *pss) {
  gint64 now = g_get_monotonic_time();
  if (now - pss->stall_armed_us < G_USEC_PER_SEC)
    return;
  pss->stall_armed_us = now;
  lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, HTTP_STALL_S);
}

static int write_head(struct lws *wsi, struct vhd *vhd, struct pss *pss) {
  http_server_t *srv = vhd->srv;
  unsigned char *start = vhd->buf + LWS_PRE, *p = start, *end = vhd->buf + sizeof(vhd->buf);
  const char *cc = pss->cache_control;

  if (lws_add_http_common_headers(wsi, (unsigned)pss->status, pss->content_type, pss->len, &p,
                                  end) ||
      lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL, (const unsigned char *)cc,
                                   (int)strlen(cc), &p, end))
    return -1;
  if (pss->cors &&
      lws_add_http_header_by_name(wsi, (const unsigned char *)"access-control-allow-origin:",
                                  (const unsigned char *)"*", 1, &p, end))
    return -1;
  if (pss->method_not_allowed &&
      lws_add_http_header_by_name(
          wsi, (const unsigned char *)"allow:", (const unsigned char *)"GET, HEAD", 9, &p, end))
    return -1;
  if (pss->retry_after_s > 0) {
    char secs[16];
    int n = g_snprintf(secs, sizeof secs, "%u", pss->retry_after_s);
    if (lws_add_http_header_by_name(
            wsi, (const unsigned char *)"retry-after:", (const unsigned char *)secs, n, &p, end))
      return -1;
  }
  static const char bearer[] = "Bearer realm=\"tourcast\"";
  if (pss->auth_required &&
      lws_add_http_header_by_name(wsi, (const unsigned char *)"www-authenticate:",
                                  (const unsigned char *)bearer, (int)strlen(bearer), &p, end))
    return -1;
  if (http_policy_add_csp(wsi, pss->content_type, &p, end) ||
      lws_finalize_write_http_header(wsi, start, &p, end))
    return -1;

  count_status(srv, pss->status);
  pss->head_sent = true;
  if (pss->head_only || pss->len == 0)
    return finish_response(wsi, srv, pss);
  arm_stall_timeout(wsi, pss);
  lws_callback_on_writable(wsi);
  return 0;
}

static int write_body_chunk(struct lws *wsi, struct vhd *vhd, struct pss *pss) {
  http_server_t *srv = vhd->srv;
  unsigned char *start = vhd->buf + LWS_PRE;
  size_t n = (size_t)MIN((guint64)HTTP_CHUNK, pss->len - pss->off);

  if (pss->body == BODY_FILE) {
    ssize_t got;
    do
      got = pread(pss->fd, start, n, (off_t)pss->off);
    while (got < 0 && errno == EINTR);
    if (got <= 0) {
      /* The head promised Content-Length bytes; a file that shrank under us
       * leaves closing the connection as the only honest answer. */
      GST_WARNING("file ended %" G_GUINT64_FORMAT " bytes early", pss->len - pss->off);
      return -1;
    }
    n = (size_t)got;
  } else {
    memcpy(start, pss->mem + pss->off, n);
  }
  pss->off += n;
  bool last = pss->off == pss->len;
  if (lws_write(wsi, start, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
    return -1;
  srv->body_bytes += n;
  if (last)
    return finish_response(wsi, srv, pss);
  arm_stall_timeout(wsi, pss);
  lws_callback_on_writable(wsi);
  return 0;
}

/* Answers at once, from inside an lws callback that will close the
 * connection next (a refused upgrade): a short text answer with the same
 * security headers as any other, written synchronously (a few hundred
 * bytes into a fresh socket's buffer). The head is formatted here, not by
 * lws: before an upgrade is accepted lws 4.1 has no HTTP version for the
 * connection and would write "HTTP/1.0", which WebSocket clients refuse
 * to read as an answer to their HTTP/1.1 request. */
static void refuse_now(http_server_t *srv, struct lws *wsi, int status, const char *text) {
  unsigned char buf[LWS_PRE + 1024];
  char *out = (char *)buf + LWS_PRE;
  size_t room = sizeof buf - LWS_PRE;
  int n = g_snprintf(out, room,
                     "HTTP/1.1 %d %s\r\nserver: tourcast\r\n%s"
                     "content-type: text/plain; charset=utf-8\r\n"
                     "content-length: %zu\r\n"
                     "cache-control: " CACHE_NEVER "\r\n"
                     "content-security-policy: %s\r\n"
                     "connection: close\r\n\r\n%s",
                     status, status == 403 ? "Forbidden" : "Bad Request",
                     http_policy_fixed_headers(), strlen(text), http_policy_csp_other, text);
  if (n <= 0 || (size_t)n >= room)
    return;
  if (lws_write(wsi, (unsigned char *)out, (size_t)n, LWS_WRITE_RAW) == n)
    srv->body_bytes += strlen(text);
  count_status(srv, status);
}

gboolean http_server_ws_admit(http_server_t *srv, struct lws *wsi) {
  const char *why = http_policy_check_head(wsi);
  if (why != NULL) {
    srv->refused_head++;
    refuse_now(srv, wsi, 400, "bad request\n");
    return FALSE;
  }
  if (!http_policy_header_present(wsi, WSI_TOKEN_ORIGIN))
    return TRUE; /* not a browser: Origin protects browsers' users only */
  char origin[HTTP_POLICY_ORIGIN_MAX + 1], host[HTTP_POLICY_ORIGIN_MAX + 1];
  int olen = lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN);
  int hlen = lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST);
  if (olen > 0 && http_policy_origin_allowed((const char *const *)srv->allowed_origins, origin,
                                             (size_t)olen, host, hlen > 0 ? (size_t)hlen : 0))
    return TRUE;
  GST_INFO("WebSocket from origin %.*s refused", olen > 0 ? MIN(olen, 80) : 0, origin);
  srv->refused_origin++;
  refuse_now(srv, wsi, 403, "origin not allowed\n");
  return FALSE;
}

/* protocols[0]: lws hands it every plain HTTP request, since we use no mounts. */
static int callback_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len) {
  struct vhd *vhd = lws_protocol_vh_priv_get(lws_get_vhost(wsi), lws_get_protocol(wsi));
  struct pss *pss = user;

  switch (reason) {
    case LWS_CALLBACK_PROTOCOL_INIT:
      vhd = lws_protocol_vh_priv_zalloc(lws_get_vhost(wsi), lws_get_protocol(wsi),
                                        sizeof(struct vhd));
      if (vhd == NULL)
        return -1;
      vhd->srv = lws_context_user(lws_get_context(wsi));
      return 0;

    case LWS_CALLBACK_HTTP:
      if (vhd == NULL || pss == NULL)
        return -1;
      return on_http(wsi, vhd->srv, pss, in, len);

    case LWS_CALLBACK_HTTP_WRITEABLE:
      /* Also raised between keep-alive transactions; nothing to do then. */
      if (vhd == NULL || pss == NULL || !pss->active)
        return 0;
      if (!pss->head_sent)
        return write_head(wsi, vhd, pss);
      return write_body_chunk(wsi, vhd, pss);

    case LWS_CALLBACK_HTTP_BODY:
      if (pss != NULL)
        on_upload_body(pss, in, len); /* an accepted upload; any other body is dropped */
      return 0;

    case LWS_CALLBACK_ESTABLISHED:
      /* A WebSocket upgrade without subprotocol tourcast.v1 lands here. */
      return -1;

    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
      /* lws would switch an "Upgrade: h2c" to HTTP/2: streams that share
       * one connection's limits, and a head none of our checks see. */
      if (in != NULL && g_ascii_strcasecmp(in, "websocket") == 0)
        return 0;
      if (vhd != NULL) {
        vhd->srv->refused_upgrade++;
        refuse_now(vhd->srv, wsi, 400, "only WebSocket upgrades are served\n");
      }
      return -1;

    case LWS_CALLBACK_RAW_ADOPT:
    case LWS_CALLBACK_RAW_RX:
      /* CONNECT: lws turns the connection into a raw socket bound to us,
       * with no timeout at all. Nothing to proxy here: close it. */
      if (vhd != NULL && reason == LWS_CALLBACK_RAW_ADOPT)
        vhd->srv->refused_connect++;
      return -1;

    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
      /* Not the dummy's default (complete the transaction at once): the
       * answer (an upload's, or a 405) goes out from WRITEABLE. */
      if (vhd != NULL && pss != NULL && pss->upload != NULL)
        on_upload_done(wsi, vhd->srv, pss);
      return 0;

    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
      if (pss != NULL)
        pss_clear(vhd != NULL ? vhd->srv : NULL, pss);
      break;

    default:
      break;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* protocols[0] keeps plain HTTP; lws picks a WebSocket protocol by its
 * subprotocol name ("tourcast.v1") on an Upgrade. tx_packet_size: one send()
 * per body chunk; lws would otherwise cut it at pt_serv_buf_size (4 KiB) and
 * copy the rest to the heap. */
static void fill_protocols(http_server_t *srv) {
  srv->protocols[0] =
      (struct lws_protocols){"http", callback_http, sizeof(struct pss), 0, 0, NULL, HTTP_CHUNK};
  int n = 1;
  if (srv->ws != NULL)
    srv->protocols[n++] = *ws_endpoint_lws_protocol();
  srv->protocols[n] = (struct lws_protocols){NULL, NULL, 0, 0, 0, NULL, 0};
}

ws_endpoint_t *http_server_ws_endpoint(http_server_t *srv) {
  return srv->ws;
}

/* lws logs one line per call, newline included. Its NOTICE level is chatty
 * but useful at startup, so it goes to INFO. */
static void lws_log_to_gst(int level, const char *line) {
  int n = (int)strlen(line);
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
    n--;
  if (level & LLL_ERR)
    GST_CAT_ERROR(lws_debug, "%.*s", n, line);
  else if (level & LLL_WARN)
    GST_CAT_WARNING(lws_debug, "%.*s", n, line);
  else if (level & (LLL_NOTICE | LLL_USER))
    GST_CAT_INFO(lws_debug, "%.*s", n, line);
  else
    GST_CAT_DEBUG(lws_debug, "%.*s", n, line);
}

static void init_logging(void) {
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(http_debug, "tourcast-http", 0, "tourcast HTTP server");
    GST_DEBUG_CATEGORY_INIT(lws_debug, "tourcast-lws", 0, "libwebsockets, as seen by tourcast");
    int levels = LLL_ERR | LLL_WARN | LLL_NOTICE;
    if (gst_debug_category_get_threshold(lws_debug) >= GST_LEVEL_DEBUG)
      levels |= LLL_INFO;
    lws_set_log_level(levels, lws_log_to_gst);
    g_once_init_leave(&once, 1);
  }
}

/* Each connection may hold a socket and an open file; keep both, and a
 * reserve for GStreamer, SQLite and the RTMP side, under the process limit. */
static guint clamp_connections(guint want) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
    return want;
  rlim_t room = rl.rlim_cur > HTTP_FD_RESERVE + 16 ? (rl.rlim_cur - HTTP_FD_RESERVE) / 2 : 8;
  if ((rlim_t)want > room) {
    GST_WARNING("max connections %u lowered to %u by RLIMIT_NOFILE %llu", want, (guint)room,
                (unsigned long long)rl.rlim_cur);
    return (guint)room;
  }
  return want;
}

/* lws 4.1 with IPv6 compiled in reads an IPv4 literal iface into the wrong
 * half of a sockaddr_in6 and ends up listening on every interface, so an IPv4
 * address (and an IPv6-less kernel) means IPv4-only. */
static bool ipv6_usable(const char *bind_addr) {
  struct in_addr a4;
  if (bind_addr != NULL && inet_pton(AF_INET, bind_addr, &a4) == 1)
    return false;
  int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return false;
  close(fd);
  return true;
}

/* libuv inside the GLib loop. lws' own glib event lib gives every socket a
 * GSource of its own, so each loop iteration walks and polls every
 * connection: with a thousand viewers that cost dominated the room (orders/s
 * fell fourfold from 100 to 1,000 connections). libuv keeps all sockets in
 * one epoll set; GLib polls that one fd, and dispatch runs whatever is ready
 * with uv_run(NOWAIT). Still one thread: lws callbacks run on the control
 * loop as before. */
typedef struct {
  GSource base;
  uv_loop_t *uv;
  gpointer tag;
} uv_gsource_t;

static gboolean uv_gsource_prepare(GSource *src, gint *timeout) {
  uv_gsource_t *u = (uv_gsource_t *)src;
  uv_update_time(u->uv);
  *timeout = uv_backend_timeout(u->uv); /* -1: no timer pending */
  return *timeout == 0;
}

static gboolean uv_gsource_check(GSource *src) {
  uv_gsource_t *u = (uv_gsource_t *)src;
  return g_source_query_unix_fd(src, u->tag) != 0 || uv_backend_timeout(u->uv) == 0;
}

static gboolean uv_gsource_dispatch(GSource *src, GSourceFunc cb, gpointer data) {
  uv_run(((uv_gsource_t *)src)->uv, UV_RUN_NOWAIT);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs uv_gsource_funcs = {
    uv_gsource_prepare, uv_gsource_check, uv_gsource_dispatch, NULL, NULL, NULL};

static GSource *uv_gsource_new(uv_loop_t *uv, GMainContext *ctx) {
  GSource *src = g_source_new(&uv_gsource_funcs, sizeof(uv_gsource_t));
  uv_gsource_t *u = (uv_gsource_t *)src;
  u->uv = uv;
  u->tag = g_source_add_unix_fd(src, uv_backend_fd(uv), G_IO_IN);
  g_source_set_name(src, "tourcast-lws-uv");
  g_source_attach(src, ctx);
  return src;
}

/* lws closes its libuv handles asynchronously: run the loop until they are
 * gone (bounded: a handle that never closes must not hang shutdown). */
static void uv_drain(http_server_t *srv) {
  for (int i = 0; i < 1000 && uv_loop_alive(&srv->uv); i++)
    uv_run(&srv->uv, UV_RUN_NOWAIT);
}

/* On a foreign loop lws destroys in two calls: the first closes every
 * connection and starts closing its libuv handles; once the loop has run
 * them closed, the second frees the context. */
static void destroy_context(http_server_t *srv) {
  if (srv->ctx == NULL)
    return;
  lws_context_destroy(srv->ctx);
  uv_drain(srv);
  lws_context_destroy(srv->ctx);
  srv->ctx = NULL;
}

http_server_t *http_server_new(const http_server_config_t *cfg, const http_server_callbacks_t *cb,
                               void *user, GError **err) {
  g_return_val_if_fail(cfg != NULL && cfg->loop != NULL, NULL);
  g_return_val_if_fail(cfg->live_dir != NULL && cfg->web_dir != NULL, NULL);
  init_logging();

  http_server_t *srv = g_new0(http_server_t, 1);
  if (cfg->bind_addr != NULL && strcmp(cfg->bind_addr, "0.0.0.0") != 0 && cfg->bind_addr[0])
    srv->bind_addr = g_strdup(cfg->bind_addr);
  srv->live_dir = g_strdup(cfg->live_dir);
  srv->shows_dir = g_strdup(cfg->shows_dir);
  srv->web_dir = g_strdup(cfg->web_dir);
  srv->images_dir = g_strdup(cfg->images_dir);
  srv->vendor_dir = g_strdup(cfg->vendor_dir);
  srv->allowed_origins = g_strdupv((char **)cfg->allowed_origins);
  srv->metrics_token =
      cfg->metrics_token && *cfg->metrics_token ? g_strdup(cfg->metrics_token) : NULL;
  if (cb != NULL)
    srv->cb = *cb;
  srv->user = user;
  srv->ws = cfg->ws;
  fill_protocols(srv);
  srv->max_connections =
      clamp_connections(cfg->max_connections ? cfg->max_connections : HTTP_DEFAULT_MAX_CONNECTIONS);

  /* The glib event lib takes the GMainLoop itself (not its context) as the
   * foreign loop, and only reads this array during lws_create_context(). */
  uv_loop_init(&srv->uv);
  srv->uv_ready = TRUE;
  srv->uv_source = uv_gsource_new(&srv->uv, g_main_loop_get_context(cfg->loop));
  void *foreign_loops[1] = {&srv->uv};
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof(info));
  info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
  bool all_v4 = cfg->bind_addr != NULL && strcmp(cfg->bind_addr, "0.0.0.0") == 0;
  if (all_v4 || !ipv6_usable(srv->bind_addr))
    info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
  info.foreign_loops = foreign_loops;
  info.port = cfg->port;
  info.iface = srv->bind_addr;
  info.vhost_name = HTTP_VHOST_NAME;
  info.protocols = srv->protocols;
  info.user = srv;
  info.server_string = "tourcast";
  info.max_http_header_data = HTTP_MAX_HEADER_BYTES;
  info.fd_limit_per_thread = srv->max_connections + HTTP_LWS_FD_SLACK;
  info.timeout_secs = HTTP_HEAD_TIMEOUT_S;
  info.keepalive_timeout = HTTP_KEEPALIVE_S;
  info.headers = http_policy_vhost_headers();

  /* Two steps, context then vhost. lws 4.1 creating the default vhost inside
   * lws_create_context() frees the context on a bind failure but leaves the
   * glib idle source it already attached to our loop, which then runs on
   * freed memory at the next iteration. A failed lws_create_vhost() leaves a
   * whole context that lws_context_destroy() takes down cleanly. */
  info.options |= LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  srv->ctx = lws_create_context(&info);
  struct lws_vhost *vh = srv->ctx != NULL ? lws_create_vhost(srv->ctx, &info) : NULL;
  /* lws 4.1 runs PROTOCOL_INIT from a timer it schedules on the loop, and the
   * glib event lib arms that timer from an idle source: a client already
   * waiting on the socket (viewers reconnecting after a restart) would be
   * served first, before our vhd exists. Do the init now instead; lws skips
   * it later because it is done. */
  gboolean failed = vh == NULL || lws_protocol_init(srv->ctx) != 0;
  if (failed)
    destroy_context(srv);
  if (failed || srv->ctx == NULL) {
    g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED,
                "HTTP server cannot listen on %s port %u (address in use or not local, or "
                "the libwebsockets-evlib-glib plugin is missing; see GST_DEBUG=tourcast-lws:3)",
                srv->bind_addr ? srv->bind_addr : "*", cfg->port);
    http_server_free(srv);
    return NULL;
  }
  srv->port = (guint16)lws_get_vhost_listen_port(vh);
  GST_INFO("listening on %s port %u, up to %u connections", srv->bind_addr ? srv->bind_addr : "*",
           srv->port, srv->max_connections);
  return srv;
}

void http_server_free(http_server_t *srv) {
  if (srv == NULL)
    return;
  /* With the glib event lib this completes synchronously when called from
   * outside lws' own dispatch: every connection is closed, every GSource lws
   * attached to the loop is destroyed, and no callback runs afterwards. */
  destroy_context(srv);
  if (srv->uv_ready) {
    uv_drain(srv);
    g_source_destroy(srv->uv_source);
    g_source_unref(srv->uv_source);
    if (uv_loop_close(&srv->uv) != 0)
      GST_WARNING("libuv loop still had handles at shutdown");
  }
  g_free(srv->bind_addr);
  g_free(srv->live_dir);
  g_free(srv->shows_dir);
  g_free(srv->web_dir);
  g_free(srv->images_dir);
  g_free(srv->vendor_dir);
  g_strfreev(srv->allowed_origins);
  g_free(srv->metrics_token);
  g_free(srv);
}

guint16 http_server_port(const http_server_t *srv) {
  return srv->port;
}
