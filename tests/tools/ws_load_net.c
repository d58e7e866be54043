/* ws_load_net.c — the client side of ws_load: one lws context, many connections, one thread.
 *
 * Owns the connection table and lws' default poll loop. Connections are
 * opened at a paced rate, say hello for their role, and hand every frame of a
 * READY connection to the mode's callbacks (wl_mode_ops_t). It knows the
 * hello/welcome exchange and nothing else of the protocol.
 *
 * Cost per frame is kept flat: each connection owns one outgoing buffer with
 * LWS_PRE headroom carved from a single slab, frames are written only from
 * CLIENT_WRITEABLE, and a received frame is parsed in lws' own buffer unless
 * lws delivers it in pieces (larger than rx_buffer_size), when it is
 * reassembled in a per-connection buffer bounded by WL_RX_MAX.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ws_load.h"

#define WL_PROTOCOL "tourcast.v1"
#define WL_STDIN_PROTOCOL "ws-load-stdin"
/* lws reads frames in pieces of this size; smaller frames arrive whole.
 * It is allocated per connection, so it stays small. */
#define WL_RX_BUFFER 4096
/* What lws reads from one socket per poll wake-up (one buffer per thread).
 * At lws' 4 KB default a connection that receives every broadcast and
 * every order (the leader's) fell behind on a busy client and was closed
 * by the server as too slow. */
#define WL_READ_CHUNK (64 * 1024)
/* At most this many connections in CONNECTING or HELLO at once, so a slow
 * server sees a steady trickle rather than every connection at once. */
#define WL_MAX_PENDING 1024
/* Descriptors kept for everything that is not a connection. */
#define WL_FD_RESERVE 64
/* Never ask lws for tables larger than this, whatever the hard limit. */
#define WL_FD_CAP (1 << 20)
/* Reassembly buffers above this size are freed after each frame. */
#define WL_RX_KEEP (64 * 1024)

static int wl_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len);
static int stdin_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                          size_t len);

static const struct lws_protocols protocols[] = {
    {.name = WL_PROTOCOL, .callback = wl_callback, .rx_buffer_size = WL_RX_BUFFER},
    {.name = WL_STDIN_PROTOCOL, .callback = stdin_callback},
    {.name = NULL, .callback = NULL},
};

static void log_emit(int level, const char *line) {
  fprintf(stderr, "lws: %s", line);
}

/* Raises the soft descriptor limit towards the hard one; returns the limit
 * now in force. */
static rlim_t raise_nofile(void) {
  struct rlimit rl;

  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return 1024;
  if (rl.rlim_cur < rl.rlim_max) {
    rlim_t want = rl.rlim_max;
    if (want == RLIM_INFINITY || want > WL_FD_CAP)
      want = rl.rlim_cur > WL_FD_CAP ? rl.rlim_cur : WL_FD_CAP;
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
      getrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur;
}

int wl_net_init(wl_run_t *run, const wl_opts_t *o, const wl_mode_ops_t *ops, void *mode,
                size_t n_conns) {
  struct lws_context_creation_info info;
  size_t stride = LWS_PRE + WL_TX_CAP;
  rlim_t nofile = raise_nofile();
  int level = LLL_ERR;

  memset(run, 0, sizeof *run);
  run->o = o;
  run->ops = ops;
  run->mode = mode;
  snprintf(run->host_header, sizeof run->host_header, "%s:%d", o->host, o->port);

  if ((rlim_t)n_conns + WL_FD_RESERVE > nofile) {
    fprintf(stderr,
            "ws_load: %zu connections need about %zu descriptors, RLIMIT_NOFILE allows %llu "
            "(raise the hard limit: ulimit -Hn, or run as root with ulimit -n)\n",
            n_conns, n_conns + WL_FD_RESERVE, (unsigned long long)nofile);
    return -1;
  }

  if (o->verbose >= 1)
    level |= LLL_WARN;
  if (o->verbose >= 2)
    level |= LLL_NOTICE;
  lws_set_log_level(level, log_emit);

  memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = protocols;
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  info.user = run;
  info.pt_serv_buf_size = WL_READ_CHUNK;
  /* lws sizes its fd lookup table from this; a table indexed by fd (the
   * fast lookup) needs it to cover the whole process limit. */
  info.fd_limit_per_thread = (unsigned)(nofile > WL_FD_CAP ? WL_FD_CAP : nofile);
  run->ctx = lws_create_context(&info);
  if (!run->ctx) {
    fprintf(stderr, "ws_load: lws_create_context failed\n");
    return -1;
  }

  info.vhost_name = "ws_load";
  info.timeout_secs = (unsigned)(o->timeout_s + 0.999);
  info.connect_timeout_secs = info.timeout_secs;
  run->vh = lws_create_vhost(run->ctx, &info);
  if (!run->vh) {
    fprintf(stderr, "ws_load: lws_create_vhost failed\n");
    goto fail;
  }

  run->n_conns = n_conns;
  run->conns = calloc(n_conns ? n_conns : 1, sizeof *run->conns);
  run->tx_slab = malloc((n_conns ? n_conns : 1) * stride);
  if (!run->conns || !run->tx_slab) {
    fprintf(stderr, "ws_load: out of memory for %zu connections\n", n_conns);
    goto fail;
  }
  for (size_t i = 0; i < n_conns; i++) {
    wl_conn_t *c = &run->conns[i];
    c->idx = (uint32_t)i;
    c->tx = run->tx_slab + i * stride;
    c->tx_cap = stride;
  }
  return 0;

fail:
  wl_net_clear(run);
  return -1;
}

void wl_net_clear(wl_run_t *run) {
  if (run->ctx) {
    run->shutting_down = true;
    lws_sul_cancel(&run->tick);
    lws_context_destroy(run->ctx);
    run->ctx = NULL;
  }
  for (size_t i = 0; run->conns && i < run->n_conns; i++) {
    if (run->conns[i].tx_owned)
      free(run->conns[i].tx);
    free(run->conns[i].rx);
  }
  free(run->conns);
  free(run->tx_slab);
  run->conns = NULL;
  run->tx_slab = NULL;
  run->n_conns = 0;
}

/* ---- connection state changes, in one place ------------------------- */

static void set_error(wl_run_t *run, const char *what, const char *detail, size_t len) {
  int n = (int)(len < 100 ? len : 100);
  snprintf(run->last_error, sizeof run->last_error, "%s%s%.*s", what, detail ? ": " : "", n,
           detail ? detail : "");
}

/* c did not come up (connect error, refused hello, timeout). */
static void conn_fail(wl_run_t *run, wl_conn_t *c, int64_t now) {
  if (c->state != WL_CONN_CONNECTING && c->state != WL_CONN_HELLO)
    return;
  bool was_hello = c->state == WL_CONN_HELLO;
  c->state = WL_CONN_FAILED;
  run->n_connecting--;
  run->n_failed++;
  if (was_hello && !run->shutting_down && run->ops->on_lost)
    run->ops->on_lost(run, c, now);
}

/* c was READY and went away. */
static void conn_lost(wl_run_t *run, wl_conn_t *c, int64_t now) {
  if (c->state != WL_CONN_READY)
    return;
  c->state = WL_CONN_CLOSED;
  run->n_ready--;
  if (!run->shutting_down && !c->want_close)
    run->n_closed++;
  if (!run->shutting_down && run->ops->on_lost)
    run->ops->on_lost(run, c, now);
}

static void conn_ready(wl_run_t *run, wl_conn_t *c, const wl_msg_t *welcome, int64_t now) {
  c->state = WL_CONN_READY;
  run->n_connecting--;
  run->n_ready++;
  run->n_up++;
  if (run->ops->on_ready)
    run->ops->on_ready(run, c, welcome, now);
}

static void kill_wsi(wl_conn_t *c) {
  if (c->wsi)
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void wl_net_connect(wl_run_t *run, wl_conn_t *c, wl_role_t role) {
  struct lws_client_connect_info i;
  struct lws *wsi;

  memset(&i, 0, sizeof i);
  i.context = run->ctx;
  i.vhost = run->vh;
  i.address = run->o->host;
  i.port = run->o->port;
  i.path = run->o->path;
  i.host = run->host_header;
  i.origin = run->host_header;
  i.protocol = WL_PROTOCOL;
  i.local_protocol_name = WL_PROTOCOL;
  i.ietf_version_or_minus_one = -1;
  i.opaque_user_data = c;

  c->role = (uint8_t)role;
  c->state = WL_CONN_CONNECTING;
  c->t_begin_us = wl_now_us();
  c->tx_queued = c->want_close = c->rx_drop = false;
  c->rx_len = 0;
  run->n_connecting++;
  wsi = lws_client_connect_via_info(&i);
  /* A failure inside the call is reported by the NULL return, not by a
   * CONNECTION_ERROR callback. */
  if (!wsi) {
    set_error(run, "connect failed", NULL, 0);
    conn_fail(run, c, c->t_begin_us);
  } else if (c->state == WL_CONN_CONNECTING) {
    c->wsi = wsi;
  }
}

void wl_net_connect_paced(wl_run_t *run, size_t first, size_t count, wl_role_t role) {
  run->pace_next = first;
  run->pace_end = first + count;
  run->pace_role = (uint8_t)role;
  run->pace_t0 = wl_now_us();
  run->pace_started = 0;
}

static void pace_connects(wl_run_t *run, int64_t now) {
  size_t due = SIZE_MAX;

  if (run->pace_next >= run->pace_end)
    return;
  if (run->o->connect_rate > 0)
    due = (size_t)((double)(now - run->pace_t0) * run->o->connect_rate / 1e6) + 1;
  while (run->pace_started < due && run->pace_next < run->pace_end &&
         run->n_connecting < WL_MAX_PENDING) {
    wl_net_connect(run, &run->conns[run->pace_next++], (wl_role_t)run->pace_role);
    run->pace_started++;
  }
}

static void check_timeouts(wl_run_t *run, int64_t now) {
  int64_t limit = (int64_t)(run->o->timeout_s * 1e6);

  for (size_t i = 0; i < run->n_conns; i++) {
    wl_conn_t *c = &run->conns[i];
    if ((c->state == WL_CONN_CONNECTING || c->state == WL_CONN_HELLO) &&
        now - c->t_begin_us > limit) {
      set_error(run,
                c->state == WL_CONN_HELLO ? "no welcome within --timeout"
                                          : "no upgrade within --timeout",
                NULL, 0);
      conn_fail(run, c, now);
      kill_wsi(c);
    }
  }
}

static void tick_cb(lws_sorted_usec_list_t *sul) {
  wl_run_t *run = lws_container_of(sul, wl_run_t, tick);
  int64_t now = wl_now_us();

  pace_connects(run, now);
  if (run->n_connecting && now - run->t_timeouts >= 100000) {
    run->t_timeouts = now;
    check_timeouts(run, now);
  }
  if (run->ops->on_tick)
    run->ops->on_tick(run, now);
  lws_sul_schedule(run->ctx, 0, &run->tick, tick_cb,
                   run->fast_tick || run->pace_next < run->pace_end ? WL_TICK_FAST_US
                                                                    : WL_TICK_SLOW_US);
}

void wl_net_stop(wl_run_t *run) {
  run->done = true;
  /* timers run before lws' poll: without a wake-up, a stop from a timer
   * would be noticed only when the next event comes */
  if (run->ctx)
    lws_cancel_service(run->ctx);
}

void wl_net_loop(wl_run_t *run) {
  /* --coalesce-us: after a wake-up that read only a few frames, wait a
   * little so that the next poll() (which costs the same however few
   * sockets are ready) finds more of them ready. Frames arriving during
   * the pause are read up to that much later. */
  uint64_t few = run->n_conns / 16 > 1 ? run->n_conns / 16 : 1;
  lws_sul_schedule(run->ctx, 0, &run->tick, tick_cb, 1);
  while (!run->done) {
    uint64_t before = run->n_rx_frames;
    if (lws_service(run->ctx, 0) < 0)
      break;
    if (run->o->coalesce_us > 0 && run->n_rx_frames > before && run->n_rx_frames - before < few)
      usleep((useconds_t)run->o->coalesce_us);
  }
  lws_sul_cancel(&run->tick);
}

/* ---- sending ---------------------------------------------------------- */

static bool can_send(const wl_conn_t *c) {
  return c->wsi && !c->tx_queued && !c->want_close &&
         (c->state == WL_CONN_HELLO || c->state == WL_CONN_READY);
}

int wl_conn_sendf(wl_conn_t *c, const char *fmt, ...) {
  va_list ap;
  int n;

  if (!can_send(c))
    return -1;
  va_start(ap, fmt);
  n = vsnprintf((char *)c->tx + LWS_PRE, c->tx_cap - LWS_PRE, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= c->tx_cap - LWS_PRE)
    return -1;
  c->tx_len = (size_t)n;
  c->tx_queued = true;
  lws_callback_on_writable(c->wsi);
  return 0;
}

int wl_conn_send_copy(wl_conn_t *c, const char *data, size_t len) {
  if (!can_send(c))
    return -1;
  if (len > c->tx_cap - LWS_PRE) {
    unsigned char *nb = malloc(LWS_PRE + len);
    if (!nb)
      return -1;
    if (c->tx_owned)
      free(c->tx);
    c->tx = nb;
    c->tx_cap = LWS_PRE + len;
    c->tx_owned = true;
  }
  memcpy(c->tx + LWS_PRE, data, len);
  c->tx_len = len;
  c->tx_queued = true;
  lws_callback_on_writable(c->wsi);
  return 0;
}

void wl_conn_close(wl_run_t *run, wl_conn_t *c) {
  if (c->state == WL_CONN_CONNECTING || c->state == WL_CONN_HELLO) {
    conn_fail(run, c, wl_now_us());
    kill_wsi(c);
    return;
  }
  if (c->state != WL_CONN_READY || !c->wsi)
    return;
  c->want_close = true;
  lws_callback_on_writable(c->wsi);
}

static int send_hello(wl_run_t *run, wl_conn_t *c) {
  char token[600];
  unsigned n = c->idx;

  if (c->role == WL_ROLE_LEADER) {
    if (wl_json_quote(token, sizeof token, run->o->leader_token ? run->o->leader_token : "") < 0)
      return -1;
    return wl_conn_sendf(c, "{\"type\":\"hello\",\"role\":\"leader\",\"token\":%s}", token);
  }
  return wl_conn_sendf(c,
                       "{\"type\":\"hello\",\"role\":\"viewer\",\"name\":\"买家%u\","
                       "\"pickup\":\"%u号楼\",\"phone\":\"1380000%04u\"}",
                       n, n % 20 + 1, n % 10000);
}

/* ---- receiving -------------------------------------------------------- */

static void deliver(wl_run_t *run, wl_conn_t *c, const char *text, size_t len, int64_t now) {
  wl_msg_t m;

  run->n_rx_frames++;
  if (c->role == WL_ROLE_RAW) {
    if (c->state == WL_CONN_READY && run->ops->on_message)
      run->ops->on_message(run, c, NULL, text, len, now);
    return;
  }
  if (wl_msg_parse(text, len, &m) != 0)
    run->n_bad_json++;
  if (c->state == WL_CONN_HELLO) {
    if (m.type == WL_MSG_WELCOME) {
      conn_ready(run, c, &m, now);
    } else if (m.type == WL_MSG_ERROR) {
      /* hello refused: wrong token, too many connections, ... */
      run->n_hello_errors++;
      set_error(run, "hello refused", text, len);
      conn_fail(run, c, now);
      kill_wsi(c);
    }
    return;
  }
  if (c->state == WL_CONN_READY && run->ops->on_message)
    run->ops->on_message(run, c, &m, text, len, now);
}

static void receive(wl_run_t *run, wl_conn_t *c, const char *in, size_t len, bool final,
                    int64_t now) {
  if (c->rx_len == 0 && !c->rx_drop && final) {
    deliver(run, c, in, len, now); /* the common case: parse in lws' buffer */
    return;
  }
  if (!c->rx_drop) {
    if (c->rx_len + len > WL_RX_MAX) {
      c->rx_drop = true;
    } else if (c->rx_len + len > c->rx_cap) {
      size_t cap = c->rx_cap ? c->rx_cap : 8192;
      char *nb;
      while (cap < c->rx_len + len)
        cap *= 2;
      nb = realloc(c->rx, cap);
      if (!nb) {
        c->rx_drop = true;
      } else {
        c->rx = nb;
        c->rx_cap = cap;
      }
    }
  }
  if (!c->rx_drop) {
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
  }
  if (!final)
    return;
  if (c->rx_drop) {
    wl_msg_t m;
    run->n_oversized++;
    /* the leader's welcome lists the show's orders and can outgrow any
     * bound: its start is enough to know it came */
    if (c->state == WL_CONN_HELLO && wl_msg_peek(c->rx, c->rx_len, &m) == 0 &&
        m.type == WL_MSG_WELCOME) {
      run->n_rx_frames++;
      conn_ready(run, c, &m, now);
    }
  } else {
    deliver(run, c, c->rx, c->rx_len, now);
  }
  c->rx_len = 0;
  c->rx_drop = false;
  if (c->rx_cap > WL_RX_KEEP) {
    free(c->rx);
    c->rx = NULL;
    c->rx_cap = 0;
  }
}

static int on_writeable(wl_run_t *run, wl_conn_t *c, struct lws *wsi) {
  int64_t now;
  int n;

  if (c->want_close) {
    lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
    return -1;
  }
  if (!c->tx_queued)
    return 0;
  now = wl_now_us();
  n = lws_write(wsi, c->tx + LWS_PRE, c->tx_len, LWS_WRITE_TEXT);
  if (n < (int)c->tx_len) {
    set_error(run, "write failed", NULL, 0);
    return -1;
  }
  c->tx_queued = false;
  c->t_sent_us = now;
  run->n_tx_frames++;
  if (run->ops->on_sent && c->state == WL_CONN_READY)
    run->ops->on_sent(run, c, now);
  return 0;
}

static int wl_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len) {
  wl_run_t *run;
  wl_conn_t *c = wsi ? lws_get_opaque_user_data(wsi) : NULL;

  if (!c)
    return 0; /* protocol init and other per-vhost events */
  run = lws_context_user(lws_get_context(wsi));

  switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
      set_error(run, "connection error", in, in ? strlen(in) : 0);
      conn_fail(run, c, wl_now_us());
      break;

    case LWS_CALLBACK_CLIENT_ESTABLISHED:
      if (c->state != WL_CONN_CONNECTING)
        return -1; /* timed out meanwhile */
      c->wsi = wsi;
      if (c->role == WL_ROLE_RAW) {
        conn_ready(run, c, NULL, wl_now_us());
        break;
      }
      c->state = WL_CONN_HELLO;
      if (send_hello(run, c) != 0) {
        set_error(run, "hello does not fit", NULL, 0);
        conn_fail(run, c, wl_now_us());
        return -1;
      }
      break;

    case LWS_CALLBACK_CLIENT_RECEIVE:
      receive(run, c, in, len, lws_is_final_fragment(wsi), wl_now_us());
      break;

    case LWS_CALLBACK_CLIENT_WRITEABLE:
      return on_writeable(run, c, wsi);

    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
      if (len >= 2) {
        const unsigned char *b = in;
        char what[32];
        snprintf(what, sizeof what, "peer closed with %u", (unsigned)(b[0] << 8 | b[1]));
        set_error(run, what, len > 2 ? (const char *)b + 2 : NULL, len - 2);
      } else {
        set_error(run, "peer closed", NULL, 0);
      }
      break;

    case LWS_CALLBACK_CLIENT_CLOSED:
      if (c->state == WL_CONN_READY)
        conn_lost(run, c, wl_now_us());
      else
        conn_fail(run, c, wl_now_us());
      break;

    case LWS_CALLBACK_WSI_DESTROY:
      c->wsi = NULL;
      c->tx_queued = false;
      if (c->state == WL_CONN_CONNECTING || c->state == WL_CONN_HELLO)
        conn_fail(run, c, wl_now_us());
      else if (c->state == WL_CONN_READY)
        conn_lost(run, c, wl_now_us());
      break;

    default:
      break;
  }
  return 0;
}

/* ---- stdin ------------------------------------------------------------ */

static int stdin_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                          size_t len) {
  wl_run_t *run;

  if (!wsi)
    return 0;
  run = lws_context_user(lws_get_context(wsi));
  switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE:
      if (run->on_stdin && run->on_stdin(run, wl_now_us()) < 0)
        return -1; /* end of input: lws closes the descriptor */
      break;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
      run->stdin_wsi = NULL;
      run->stdin_closed = true;
      break;
    default:
      break;
  }
  return 0;
}

int wl_net_adopt_stdin(wl_run_t *run) {
  lws_sock_file_fd_type fd;

  fd.filefd = STDIN_FILENO;
  run->stdin_wsi =
      lws_adopt_descriptor_vhost(run->vh, LWS_ADOPT_RAW_FILE_DESC, fd, WL_STDIN_PROTOCOL, NULL);
  return run->stdin_wsi ? 0 : -1;
}

void wl_net_stdin_pause(wl_run_t *run, bool pause) {
  if (run->stdin_wsi)
    lws_rx_flow_control(run->stdin_wsi, pause ? 0 : 1);
}

void wl_net_print_conns(const wl_run_t *run, size_t wanted, size_t up) {
  printf("connections: %zu wanted, %zu came up (%.1f%%), %zu failed", wanted, up,
         wanted ? 100.0 * (double)up / (double)wanted : 0.0, run->n_failed);
  if (run->n_hello_errors)
    printf(" (%zu hello refused)", run->n_hello_errors);
  printf(", %zu closed by the server or network\n", run->n_closed);
  if (run->last_error[0])
    printf("last connection error: %s\n", run->last_error);
  if (run->n_bad_json || run->n_oversized)
    printf("frames: %zu not a JSON object, %zu over %u bytes dropped\n", run->n_bad_json,
           run->n_oversized, WL_RX_MAX);
}
