/* ws_load_script.c — `ws_load script`: stdin's lines out as text frames, every frame in as a line.
 *
 * For tests and manual poking at the protocol: each non-empty line of stdin
 * is sent as it is (no JSON check, so malformed input can be sent on
 * purpose) as one text frame on one connection, in order; every frame
 * received is printed to stdout as one line (raw newlines inside it become
 * spaces) and flushed. When stdin ends and everything is sent, ws_load keeps
 * printing for --linger ms, then closes the connection normally.
 *
 * stdin is read by the same poll loop (an lws raw-file adoption); at most
 * SCRIPT_QUEUE_MAX bytes of lines wait for the socket before reading stops.
 * Exit: 0 when it ran to the end, 3 when the server closed the connection
 * first (stderr says how), 1 when it never came up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ws_load.h"

#define SCRIPT_LINE_MAX (16u * 1024 * 1024)
#define SCRIPT_QUEUE_MAX (8u * 1024 * 1024)
#define SCRIPT_CLOSE_WAIT_US 1000000

typedef struct line {
  struct line *next;
  size_t len;
  char text[];
} line_t;

typedef struct {
  const wl_opts_t *o;
  line_t *head, *tail;
  size_t queued;
  bool paused;
  char *partial; /* the line being read, not yet ended by '\n' */
  size_t plen, pcap;
  bool eof;
  bool too_long; /* the current line passed SCRIPT_LINE_MAX: skip to its end */
  int64_t t_drained, t_closing;
  bool peer_closed;
  uint64_t sent, received, dropped_long;
} script_t;

static void pump(wl_run_t *run, script_t *st) {
  wl_conn_t *c = &run->conns[0];
  line_t *l = st->head;

  if (!l || c->state != WL_CONN_READY || c->tx_queued)
    return;
  if (wl_conn_send_copy(c, l->text, l->len) != 0)
    return;
  st->head = l->next;
  if (!st->head)
    st->tail = NULL;
  st->queued -= l->len;
  free(l);
  st->sent++;
  if (st->paused && st->queued < SCRIPT_QUEUE_MAX / 2) {
    st->paused = false;
    wl_net_stdin_pause(run, false);
  }
}

static void enqueue(script_t *st, const char *text, size_t len) {
  line_t *l;

  while (len && (text[len - 1] == '\r' || text[len - 1] == ' ' || text[len - 1] == '\t'))
    len--;
  if (len == 0)
    return;
  l = malloc(sizeof *l + len);
  if (!l) {
    st->dropped_long++;
    return;
  }
  l->next = NULL;
  l->len = len;
  memcpy(l->text, text, len);
  if (st->tail)
    st->tail->next = l;
  else
    st->head = l;
  st->tail = l;
  st->queued += len;
}

/* Appends bytes of the current line; false when the line is too long. */
static bool append_partial(script_t *st, const char *p, size_t n) {
  if (st->too_long)
    return false;
  if (st->plen + n > SCRIPT_LINE_MAX) {
    st->too_long = true;
    st->plen = 0;
    return false;
  }
  if (st->plen + n > st->pcap) {
    size_t cap = st->pcap ? st->pcap : 4096;
    char *nb;
    while (cap < st->plen + n)
      cap *= 2;
    nb = realloc(st->partial, cap);
    if (!nb) {
      st->too_long = true;
      st->plen = 0;
      return false;
    }
    st->partial = nb;
    st->pcap = cap;
  }
  memcpy(st->partial + st->plen, p, n);
  st->plen += n;
  return true;
}

static void end_line(script_t *st) {
  if (st->too_long)
    st->dropped_long++;
  else
    enqueue(st, st->partial, st->plen);
  st->plen = 0;
  st->too_long = false;
}

static int on_stdin(wl_run_t *run, int64_t now) {
  script_t *st = run->mode;
  char buf[65536];
  ssize_t n = read(STDIN_FILENO, buf, sizeof buf);

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return 0;
  if (n <= 0) {
    if (st->plen || st->too_long)
      end_line(st);
    st->eof = true;
    pump(run, st);
    return -1;
  }
  for (const char *p = buf, *end = buf + n; p < end;) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t k = (size_t)((nl ? nl : end) - p);
    if (st->plen == 0 && !st->too_long && nl) {
      enqueue(st, p, k); /* a whole line inside this read: no copy to partial */
    } else {
      append_partial(st, p, k);
      if (nl)
        end_line(st);
    }
    p += k + (nl ? 1 : 0);
  }
  if (!st->paused && st->queued >= SCRIPT_QUEUE_MAX) {
    st->paused = true;
    wl_net_stdin_pause(run, true);
  }
  pump(run, st);
  return 0;
}

static void on_ready(wl_run_t *run, wl_conn_t *c, const wl_msg_t *welcome, int64_t now) {
  pump(run, run->mode);
}

static void on_message(wl_run_t *run, wl_conn_t *c, const wl_msg_t *m, const char *text, size_t len,
                       int64_t now) {
  script_t *st = run->mode;
  const char *p = text, *end = text + len;

  /* one frame, one line: raw line breaks would split it */
  while (p < end) {
    const char *nl = p;
    while (nl < end && *nl != '\n' && *nl != '\r')
      nl++;
    fwrite(p, 1, (size_t)(nl - p), stdout);
    if (nl < end)
      fputc(' ', stdout);
    p = nl + (nl < end ? 1 : 0);
  }
  fputc('\n', stdout);
  fflush(stdout);
  st->received++;
}

static void on_sent(wl_run_t *run, wl_conn_t *c, int64_t now) {
  pump(run, run->mode);
}

static void on_lost(wl_run_t *run, wl_conn_t *c, int64_t now) {
  script_t *st = run->mode;
  if (!st->t_closing) {
    st->peer_closed = true;
    fprintf(stderr, "ws_load: connection closed by the server (%s)\n",
            run->last_error[0] ? run->last_error : "no close frame");
  }
  wl_net_stop(run);
}

static void on_tick(wl_run_t *run, int64_t now) {
  script_t *st = run->mode;
  wl_conn_t *c = &run->conns[0];

  if (run->stdin_closed && !st->eof) {
    /* a pipe's writer went away: lws saw POLLHUP and closed stdin without
     * a last read */
    if (st->plen || st->too_long)
      end_line(st);
    st->eof = true;
    pump(run, st);
  }
  if (c->state == WL_CONN_FAILED || c->state == WL_CONN_CLOSED) {
    wl_net_stop(run);
    return;
  }
  if (st->t_closing) {
    if (now - st->t_closing > SCRIPT_CLOSE_WAIT_US)
      wl_net_stop(run);
    return;
  }
  if (!st->eof || st->head || c->tx_queued || c->state != WL_CONN_READY)
    return;
  if (!st->t_drained)
    st->t_drained = now;
  if (now - st->t_drained >= (int64_t)(st->o->linger_s * 1e6)) {
    st->t_closing = now;
    wl_conn_close(run, c);
  }
}

static const wl_mode_ops_t script_ops = {
    .on_ready = on_ready,
    .on_message = on_message,
    .on_sent = on_sent,
    .on_lost = on_lost,
    .on_tick = on_tick,
};

int wl_script_main(const wl_opts_t *o) {
  wl_run_t run;
  script_t st;
  int rc;

  memset(&st, 0, sizeof st);
  st.o = o;
  if (wl_net_init(&run, o, &script_ops, &st, 1) != 0)
    return 1;
  run.on_stdin = on_stdin;
  if (wl_net_adopt_stdin(&run) != 0) {
    fprintf(stderr, "ws_load: cannot watch stdin\n");
    wl_net_clear(&run);
    return 1;
  }
  wl_net_connect(&run, &run.conns[0], WL_ROLE_RAW);
  wl_net_loop(&run);

  if (run.n_up == 0) {
    fprintf(stderr, "ws_load: could not connect to %s: %s\n", o->url,
            run.last_error[0] ? run.last_error : "unknown error");
    rc = 1;
  } else {
    rc = st.peer_closed ? 3 : 0;
  }
  if (run.n_oversized)
    fprintf(stderr, "ws_load: %zu received frames over %u bytes were not printed\n",
            run.n_oversized, WL_RX_MAX);
  if (st.head || st.dropped_long) {
    unsigned long long unsent = 0;
    for (const line_t *l = st.head; l; l = l->next)
      unsent++;
    fprintf(stderr, "ws_load: %llu lines sent, %llu not sent, %llu dropped (over %u bytes)\n",
            (unsigned long long)st.sent, unsent, (unsigned long long)st.dropped_long,
            SCRIPT_LINE_MAX);
  }
  wl_net_clear(&run);
  while (st.head) {
    line_t *l = st.head;
    st.head = l->next;
    free(l);
  }
  free(st.partial);
  return rc;
}
