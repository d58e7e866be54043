/* ws_load_orders.c — `ws_load orders`: N buyers ordering in a closed loop, ack latency measured.
 *
 * Each buyer has at most one order in flight: the next goes out when the
 * ack (order.ok, order.rejected, or an error reply) for the last one is in,
 * so the offered load is exactly what the server acknowledges. Latency is
 * from the moment the order is handed to the socket to the moment its ack is
 * read, on the monotonic clock. Phases, advanced by on_tick:
 *
 *   SETUP (the leader opens a show and creates the products, then leaves;
 *          only with --setup-product or --leader-token)
 *     -> CONNECT (buyers connect at --connect-rate, hello, welcome)
 *     -> RUN (--duration of orders) -> DRAIN (wait for acks in flight) -> DONE
 *
 * The rate is acks read inside RUN divided by RUN's length; acks that come in
 * DRAIN count in the totals and the latencies only. A buyer that gets
 * rate_limited waits one token (1 / --rate-limit s), keeps to that rate
 * from then on and, like one told `unavailable`, sends the same order again
 * with the same key, as PROTOCOL.md asks of clients. Buyer b's order k goes to product
 * (b + k) mod P, so P products multiply what stock and limits allow.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ws_load.h"

typedef enum { PH_SETUP, PH_CONNECT, PH_RUN, PH_DRAIN, PH_DONE } phase_t;

enum { REJ_SOLD_OUT, REJ_OVER_LIMIT, REJ_NOT_ON_SALE, REJ_INVALID, REJ_OTHER, REJ_COUNT };
static const char *const rej_names[REJ_COUNT] = {"sold_out", "over_limit", "not_on_sale", "invalid",
                                                 "other"};

typedef struct {
  const wl_opts_t *o;
  phase_t phase;
  bool failed; /* setup failed or nothing could start */
  wl_setup_t setup;
  bool use_leader;
  int64_t products[WL_MAX_PRODUCTS];
  int n_products;
  int64_t last_stock[WL_MAX_PRODUCTS], last_sold[WL_MAX_PRODUCTS]; /* -1: none seen */
  uint32_t run_id; /* makes keys unique across runs */
  size_t buyers;   /* conns[1 .. buyers]; conns[0] is the leader */
  int64_t t_setup0, t_connect0, t_run0, t_run_end, t_done;
  int64_t cpu_run0, cpu_run_end;
  uint64_t rx_run0, rx_run_end; /* frames received, for the broadcast share */
  size_t in_flight;
  size_t buyers_up; /* buyers that got their welcome */
  uint64_t sent, ok, rejected, rej[REJ_COUNT], acked_in_run, ok_in_run;
  uint64_t err_replies, err_rate_limited, err_unsolicited, timeouts, lost, stale;
  char last_err_code[40];
  wl_hist_t hist;
} orders_t;

static void make_key(const orders_t *st, const wl_conn_t *c, char *buf, size_t cap) {
  snprintf(buf, cap, "k%08" PRIx32 "-%" PRIu32 "-%" PRIu32, st->run_id, c->idx, c->seq);
}

static void try_order(wl_run_t *run, orders_t *st, wl_conn_t *c, int64_t now) {
  char key[48];

  if (st->phase != PH_RUN || c->state != WL_CONN_READY || c->busy || c->tx_queued ||
      now < c->t_next_us)
    return;
  if (!c->retry)
    c->seq++;
  make_key(st, c, key, sizeof key);
  if (wl_conn_sendf(c,
                    "{\"type\":\"order\",\"product_id\":%lld,\"qty\":%d,\"key\":\"%s\","
                    "\"seen_ms\":0}",
                    (long long)st->products[(c->idx + c->seq) % (uint32_t)st->n_products],
                    st->o->qty, key) != 0)
    return;
  c->retry = false;
  c->busy = true;
  st->in_flight++;
  st->sent++;
  if (st->o->pace > 0 || c->slowed) {
    /* keep to the schedule (ticks are 5 ms apart) unless a slow ack has
     * put this buyer more than a period behind it */
    int64_t period = (int64_t)(1e6 / (st->o->pace > 0 ? st->o->pace : st->o->rate_limit));
    c->t_next_us = now - c->t_next_us < period ? c->t_next_us + period : now + period;
  }
}

static void finish_if_drained(wl_run_t *run, orders_t *st, int64_t now) {
  if (st->phase != PH_DRAIN || st->in_flight)
    return;
  st->phase = PH_DONE;
  st->t_done = now;
  wl_net_stop(run);
}

static void settle(orders_t *st, wl_conn_t *c) {
  c->busy = false;
  st->in_flight--;
}

static int reject_reason(const wl_jval_t *r) {
  for (int i = 0; i < REJ_OTHER; i++)
    if (wl_json_str_eq(r, rej_names[i]))
      return i;
  return REJ_OTHER;
}

static void note_stock(orders_t *st, const wl_msg_t *m) {
  wl_product_t p;
  if (wl_product_from_msg(m, &p) != 0 || p.stock < 0)
    return;
  for (int i = 0; i < st->n_products; i++) {
    if (st->products[i] == p.id) {
      st->last_stock[i] = p.stock;
      st->last_sold[i] = p.sold;
    }
  }
}

static void on_ack(orders_t *st, wl_conn_t *c, const wl_msg_t *m, int64_t now) {
  char key[48];

  make_key(st, c, key, sizeof key);
  if (!c->busy || !wl_json_str_eq(&m->f[WL_F_KEY], key)) {
    st->stale++; /* the ack of an order we already gave up on */
    return;
  }
  wl_hist_add(&st->hist, now - c->t_sent_us);
  if (m->type == WL_MSG_ORDER_OK) {
    st->ok++;
    if (st->phase == PH_RUN)
      st->ok_in_run++;
  } else {
    st->rejected++;
    st->rej[reject_reason(&m->f[WL_F_REASON])]++;
  }
  if (st->phase == PH_RUN)
    st->acked_in_run++;
  settle(st, c);
}

static void on_error_reply(wl_run_t *run, orders_t *st, wl_conn_t *c, const wl_msg_t *m,
                           int64_t now) {
  if (!c->busy) {
    st->err_unsolicited++;
    return;
  }
  st->err_replies++;
  if (m->f[WL_F_CODE].type == WL_JSTR)
    wl_json_str(&m->f[WL_F_CODE], st->last_err_code, sizeof st->last_err_code);
  if (wl_json_str_eq(&m->f[WL_F_CODE], "rate_limited")) {
    /* the order was dropped unseen: send it again once a token is back */
    st->err_rate_limited++;
    c->retry = true;
    if (st->o->rate_limit > 0) {
      /* from now on this buyer keeps to the limit instead of hitting it
       * every other order (and 50 errors in a row close a connection) */
      c->t_next_us = now + (int64_t)(1e6 / st->o->rate_limit);
      c->slowed = true;
      run->fast_tick = true; /* paced sends go out from on_tick */
    }
  } else if (wl_json_str_eq(&m->f[WL_F_CODE], "unavailable")) {
    c->retry = true; /* not committed: the same key again */
  }
  settle(st, c);
}

static void on_ready(wl_run_t *run, wl_conn_t *c, const wl_msg_t *welcome, int64_t now) {
  orders_t *st = run->mode;
  if (c->idx == 0) {
    wl_setup_on_welcome(&st->setup, welcome);
    wl_setup_pump(&st->setup, c);
    return;
  }
  st->buyers_up++;
  try_order(run, st, c, now);
}

static void on_message(wl_run_t *run, wl_conn_t *c, const wl_msg_t *m, const char *text, size_t len,
                       int64_t now) {
  orders_t *st = run->mode;

  switch (m->type) {
    case WL_MSG_ORDER_OK:
    case WL_MSG_ORDER_REJECTED:
      if (c->idx != 0) {
        on_ack(st, c, m, now);
        try_order(run, st, c, now);
        finish_if_drained(run, st, now);
      }
      break;
    case WL_MSG_ERROR:
      if (c->idx == 0) {
        wl_setup_on_message(&st->setup, m, text, len);
        wl_setup_pump(&st->setup, c);
      } else {
        on_error_reply(run, st, c, m, now);
        try_order(run, st, c, now);
        finish_if_drained(run, st, now);
      }
      break;
    case WL_MSG_PRODUCT:
      if (c->idx == 0) {
        wl_setup_on_message(&st->setup, m, text, len);
        wl_setup_pump(&st->setup, c);
      }
      note_stock(st, m);
      break;
    case WL_MSG_STOCK:
      note_stock(st, m);
      break;
    default:
      break;
  }
}

static void on_lost(wl_run_t *run, wl_conn_t *c, int64_t now) {
  orders_t *st = run->mode;
  if (c->idx != 0 && c->busy) {
    st->lost++;
    settle(st, c);
    finish_if_drained(run, st, now);
  }
  if (c->idx == 0 && st->phase == PH_SETUP && st->setup.state != WL_SETUP_DONE) {
    snprintf(st->setup.error, sizeof st->setup.error, "leader connection lost: %s",
             run->last_error);
    st->setup.state = WL_SETUP_FAILED;
  }
}

static void start_connect(wl_run_t *run, orders_t *st, int64_t now) {
  st->phase = PH_CONNECT;
  st->t_connect0 = now;
  wl_net_connect_paced(run, 1, st->buyers, WL_ROLE_VIEWER);
}

static void start_run(wl_run_t *run, orders_t *st, int64_t now) {
  st->phase = PH_RUN;
  run->fast_tick = st->o->pace > 0; /* paced buyers are sent from on_tick */
  st->t_run0 = now;
  st->cpu_run0 = wl_cpu_us();
  st->rx_run0 = run->n_rx_frames;
  for (size_t i = 1; i <= st->buyers; i++) {
    /* paced buyers start spread over one period, not all in one tick */
    if (st->o->pace > 0)
      run->conns[i].t_next_us =
          now + (int64_t)(1e6 / st->o->pace * (double)(i - 1) / (double)st->buyers);
    try_order(run, st, &run->conns[i], now);
  }
}

static void tick_setup(wl_run_t *run, orders_t *st, int64_t now) {
  wl_setup_pump(&st->setup, &run->conns[0]);
  if (st->setup.state == WL_SETUP_DONE) {
    memcpy(st->products, st->setup.ids, sizeof st->products[0] * (size_t)st->setup.n_ids);
    st->n_products = st->setup.n_ids;
    if (st->setup.create)
      printf("created %d product(s) from id %lld: \"%s\", stock %lld, limit_per_buyer %lld\n",
             st->n_products, (long long)st->products[0], st->setup.base_name,
             (long long)st->setup.stock, (long long)st->setup.limit_per_buyer);
    fflush(stdout);
    /* orders go through the buyers only; a leader left connected would
     * add the server's per-order feed to the leader (order.new) to what
     * is measured */
    wl_conn_close(run, &run->conns[0]);
    start_connect(run, st, now);
    return;
  }
  if (st->setup.state != WL_SETUP_FAILED && now - st->t_setup0 > (int64_t)(st->o->timeout_s * 1e6))
    snprintf(st->setup.error, sizeof st->setup.error, "set-up not done within --timeout%s%s",
             run->last_error[0] ? "; " : "", run->last_error);
  else if (st->setup.state != WL_SETUP_FAILED)
    return;
  fprintf(stderr, "ws_load: setup failed: %s\n", st->setup.error);
  st->failed = true;
  st->phase = PH_DONE;
  wl_net_stop(run);
}

static void tick_run(wl_run_t *run, orders_t *st, int64_t now) {
  int64_t limit = (int64_t)(st->o->timeout_s * 1e6);

  for (size_t i = 1; i <= st->buyers; i++) {
    wl_conn_t *c = &run->conns[i];
    if (c->busy && !c->tx_queued && now - c->t_sent_us > limit) {
      st->timeouts++;
      settle(st, c);
    }
    if (st->phase == PH_RUN)
      try_order(run, st, c, now); /* paced buyers, backoffs, after timeouts */
  }
}

static void on_tick(wl_run_t *run, int64_t now) {
  orders_t *st = run->mode;
  int64_t connect_budget;

  switch (st->phase) {
    case PH_SETUP:
      tick_setup(run, st, now);
      break;
    case PH_CONNECT:
      connect_budget =
          (int64_t)(((double)st->buyers / (st->o->connect_rate > 0 ? st->o->connect_rate : 1e9) +
                     st->o->timeout_s + 1.0) *
                    1e6);
      if ((run->pace_next >= run->pace_end && run->n_connecting == 0) ||
          now - st->t_connect0 > connect_budget)
        start_run(run, st, now);
      break;
    case PH_RUN:
      tick_run(run, st, now);
      if (now - st->t_run0 >= (int64_t)(st->o->duration_s * 1e6) || run->n_ready == 0) {
        st->phase = PH_DRAIN;
        st->t_run_end = now;
        st->cpu_run_end = wl_cpu_us();
        st->rx_run_end = run->n_rx_frames;
        finish_if_drained(run, st, now);
      }
      break;
    case PH_DRAIN:
      tick_run(run, st, now);
      /* an order stuck behind a socket that never turns writeable has no
       * t_sent_us to time out from: the drain has a deadline of its own */
      if (st->in_flight && now - st->t_run_end > (int64_t)((st->o->timeout_s + 1.0) * 1e6)) {
        for (size_t i = 1; i <= st->buyers; i++) {
          if (run->conns[i].busy) {
            st->timeouts++;
            settle(st, &run->conns[i]);
          }
        }
      }
      finish_if_drained(run, st, now);
      break;
    case PH_DONE:
      wl_net_stop(run);
      break;
  }
}

static const wl_mode_ops_t orders_ops = {
    .on_ready = on_ready,
    .on_message = on_message,
    .on_lost = on_lost,
    .on_tick = on_tick,
};

/* What the stock broadcasts said last, and why orders may have stopped
 * being ok before the run ended. */
static void print_stock(const orders_t *st) {
  int64_t stock = 0, sold = 0;
  int seen = 0;

  for (int i = 0; i < st->n_products; i++) {
    if (st->last_stock[i] < 0)
      continue;
    stock += st->last_stock[i];
    sold += st->last_sold[i] > 0 ? st->last_sold[i] : 0;
    seen++;
  }
  if (seen)
    printf("last stock broadcasts (%d of %d products): stock %lld, sold %lld\n", seen,
           st->n_products, (long long)stock, (long long)sold);
  if (st->setup.create) {
    /* limit_per_buyer 0 is no limit */
    int64_t per_buyer = st->setup.limit_per_buyer > 0
                            ? st->setup.limit_per_buyer * (int64_t)st->buyers
                            : st->setup.stock;
    int64_t cap = st->setup.stock < per_buyer ? st->setup.stock : per_buyer;
    if (st->setup.limit_per_buyer > 0)
      printf("capacity: %d products x min(stock %lld, %zu buyers x limit %lld) = %lld ok orders "
             "at most; beyond them sold_out / over_limit\n",
             st->n_products, (long long)st->setup.stock, st->buyers,
             (long long)st->setup.limit_per_buyer, (long long)(cap * st->n_products));
    else
      printf("capacity: %d products x stock %lld = %lld ok orders at most; beyond them "
             "sold_out\n",
             st->n_products, (long long)st->setup.stock, (long long)(cap * st->n_products));
  }
  if (st->rej[REJ_NOT_ON_SALE] && !st->use_leader)
    printf("hint: not_on_sale also means no show is open; with --leader-token the leader "
           "begins one\n");
}

static int report(const wl_run_t *run, const orders_t *st) {
  double run_s = (double)(st->t_run_end - st->t_run0) / 1e6;
  double drain_s = (double)(st->t_done - st->t_run_end) / 1e6;
  double rate = run_s > 0 ? (double)st->acked_in_run / run_s : 0;
  double ok_rate = run_s > 0 ? (double)st->ok_in_run / run_s : 0;
  double cpu_s = (double)(st->cpu_run_end - st->cpu_run0) / 1e6;
  uint64_t errors = st->err_replies + st->timeouts + st->lost;
  uint64_t acked = st->ok + st->rejected;
  double ceiling = st->o->rate_limit * (double)st->buyers_up;
  bool enough = (double)st->buyers_up >= 0.95 * (double)st->buyers;

  printf("ws_load orders: %s, %d product(s) from id %lld, qty %d, %s\n", st->o->url, st->n_products,
         (long long)st->products[0], st->o->qty, st->o->pace > 0 ? "paced" : "closed loop");
  wl_net_print_conns(run, st->buyers, st->buyers_up);
  printf("duration: %.3f s of orders (+%.3f s draining the acks in flight)\n", run_s, drain_s);
  printf("orders: %" PRIu64 " sent, %" PRIu64 " acked, %.1f acked/s in the run; ok %" PRIu64
         " (%.1f/s), rejected %" PRIu64,
         st->sent, acked, rate, st->ok, ok_rate, st->rejected);
  for (int i = 0; i < REJ_COUNT; i++)
    if (st->rej[i])
      printf(" %s=%" PRIu64, rej_names[i], st->rej[i]);
  printf("\n");
  printf("errors: %" PRIu64 " error replies (rate_limited %" PRIu64 "%s%s), %" PRIu64
         " ack timeouts, %" PRIu64 " orders lost with their connection, %" PRIu64
         " late acks, %" PRIu64 " unsolicited errors\n",
         st->err_replies, st->err_rate_limited, st->last_err_code[0] ? ", last code " : "",
         st->last_err_code, st->timeouts, st->lost, st->stale, st->err_unsolicited);
  printf("ack latency ms: p50 %.3f  p90 %.3f  p99 %.3f  max %.3f  (%" PRIu64 " acks)\n",
         wl_hist_ms(&st->hist, 0.5), wl_hist_ms(&st->hist, 0.9), wl_hist_ms(&st->hist, 0.99),
         wl_hist_max_ms(&st->hist), st->hist.n);
  print_stock(st);
  if (st->o->rate_limit > 0)
    printf("rate-limit ceiling: %zu buyers x %.0f messages/s = %.0f orders/s (the server's "
           "per-connection token bucket; more buyers raise it)\n",
           st->buyers_up, st->o->rate_limit, ceiling);
  printf("client: %.2f CPU-s in %.2f s of orders (%.0f%% of one core), %.1f us per ack; "
         "%.0f frames/s received (acks and broadcasts)\n",
         cpu_s, run_s, run_s > 0 ? 100.0 * cpu_s / run_s : 0.0,
         st->acked_in_run ? cpu_s * 1e6 / (double)st->acked_in_run : 0.0,
         run_s > 0 ? (double)(st->rx_run_end - st->rx_run0) / run_s : 0.0);
  printf("RESULT {\"orders_per_s\":%.1f,\"ok_per_s\":%.1f,\"ok\":%" PRIu64 ",\"rejected\":%" PRIu64
         ",\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"errors\":%" PRIu64
         ",\"rate_limited\":%" PRIu64 ",\"connections\":%zu,\"buyers\":%zu,\"duration_s\":%.3f,"
         "\"rate_limit_ceiling\":%.0f,\"client_cpu_pct\":%.1f}\n",
         rate, ok_rate, st->ok, st->rejected, wl_hist_ms(&st->hist, 0.5),
         wl_hist_ms(&st->hist, 0.9), wl_hist_ms(&st->hist, 0.99), wl_hist_max_ms(&st->hist), errors,
         st->err_rate_limited, st->buyers_up, st->buyers, run_s, ceiling,
         run_s > 0 ? 100.0 * cpu_s / run_s : 0.0);
  fflush(stdout);
  if (!enough)
    fprintf(stderr, "ws_load: only %zu of %zu buyers came up\n", st->buyers_up, st->buyers);
  if (acked == 0)
    fprintf(stderr, "ws_load: no order was acknowledged\n");
  return enough && acked > 0 ? 0 : 1;
}

int wl_orders_main(const wl_opts_t *o) {
  wl_run_t run;
  orders_t *st = calloc(1, sizeof *st);
  int rc = 1;

  if (!st)
    return 1;
  st->o = o;
  st->buyers = (size_t)o->buyers;
  for (int i = 0; i < WL_MAX_PRODUCTS; i++)
    st->last_stock[i] = st->last_sold[i] = -1;
  st->run_id = (uint32_t)(wl_now_us() ^ ((int64_t)getpid() << 16));
  wl_hist_init(&st->hist);
  if (!o->n_products && !o->setup) {
    fprintf(stderr, "ws_load orders: give --product ID or --setup-product SPEC\n");
    free(st);
    return 2;
  }
  if (wl_setup_init(&st->setup, o, "ws_load", false) != 0) {
    fprintf(stderr, "ws_load: %s\n", st->setup.error);
    free(st);
    return 2;
  }
  if (wl_net_init(&run, o, &orders_ops, st, st->buyers + 1) != 0) {
    free(st);
    return 1;
  }
  st->t_setup0 = wl_now_us();
  st->use_leader = o->setup || o->leader_token;
  if (st->use_leader) {
    st->phase = PH_SETUP;
    wl_net_connect(&run, &run.conns[0], WL_ROLE_LEADER);
  } else {
    memcpy(st->products, o->product_ids, sizeof st->products[0] * (size_t)o->n_products);
    st->n_products = o->n_products;
    start_connect(&run, st, st->t_setup0);
  }
  wl_net_loop(&run);
  if (!st->failed)
    rc = report(&run, st);
  wl_net_clear(&run);
  free(st);
  return rc;
}
