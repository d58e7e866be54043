/* ws_load_fanout.c — `ws_load fanout`: how long one change takes to reach every viewer.
 *
 * M viewers connect and wait; the leader then makes one change per round
 * and ws_load times, for each viewer, the gap between the leader's frame
 * going into its socket and the viewer reading the broadcast it causes (one
 * process, one monotonic clock). Phases, advanced by on_tick:
 *
 *   SETUP (leader hello; product created or looked up)
 *     -> CONNECT (viewers at --connect-rate) -> ROUNDS -> DONE
 *
 * A round's change is recognisable in what it causes: with --via put, the
 * product's stock is set to base + round and a `stock` or `product` message
 * carrying that value counts; with --via pin, even rounds pin the product and
 * odd ones unpin it, and the `pinned` message with the matching id counts. A
 * round ends when every viewer has it or --timeout passes, and never sooner
 * than --interval after its send (the server coalesces broadcasts to about
 * ten a second). Viewers that have not got it by then are missed.
 *
 * The client is one thread: the last of M viewers read in a burst waits for
 * the M - 1 before it, so the per-delivery client cost is printed beside
 * the latencies.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws_load.h"

typedef enum { PH_SETUP, PH_CONNECT, PH_ROUNDS, PH_DONE } phase_t;

typedef struct {
  const wl_opts_t *o;
  wl_run_t *run;
  phase_t phase;
  bool failed;
  wl_setup_t setup;
  int64_t product;   /* the one the leader changes */
  size_t viewers;    /* conns[1 .. viewers]; conns[0] is the leader */
  size_t viewers_up; /* viewers that got their welcome */
  int64_t t_setup0, t_connect0;
  int round;                 /* current round, -1 before the first */
  int64_t base_stock;        /* --via put: round r sets stock base + r */
  int64_t t_queued, t_sent;  /* this round's change: queued, written (0: not yet) */
  size_t expected, received; /* READY viewers at the send; of them, served */
  size_t round_lost;         /* viewers lost before they got this round */
  int64_t round_max_us;
  bool closing;                /* this round is over, the next is scheduled */
  lws_sorted_usec_list_t next; /* starts the next round */
  uint64_t deliveries, expected_total, missed, late, lost;
  int64_t cpu0, cpu1, t_rounds0, t_rounds1;
  int64_t cpu_send;     /* CPU time when this round's change went out */
  int64_t round_cpu_us; /* summed over rounds: CPU from send to round end */
  char leader_error[256];
  wl_hist_t hist;     /* every delivery */
  wl_hist_t all_hist; /* per round: time until the last viewer had it */
} fanout_t;

static int send_change(wl_run_t *run, fanout_t *st) {
  wl_conn_t *leader = &run->conns[0];

  if (st->o->via == WL_VIA_PIN) {
    if (st->round % 2 == 0)
      return wl_conn_sendf(leader, "{\"type\":\"pin\",\"product_id\":%lld}",
                           (long long)st->product);
    return wl_conn_sendf(leader, "{\"type\":\"pin\",\"product_id\":null}");
  }
  return wl_send_product_put(leader, st->o, &st->setup, st->product, st->base_stock + st->round);
}

static void start_round(wl_run_t *run, fanout_t *st, int64_t now) {
  if (st->round + 1 >= st->o->rounds) {
    st->phase = PH_DONE;
    st->t_rounds1 = now;
    st->cpu1 = wl_cpu_us();
    wl_net_stop(run);
    return;
  }
  st->round++;
  st->t_queued = now;
  st->t_sent = 0;
  st->received = 0;
  st->round_max_us = 0;
  st->round_lost = 0;
  st->closing = false;
  st->expected = run->n_ready - (run->conns[0].state == WL_CONN_READY ? 1 : 0);
  if (send_change(run, st) != 0) {
    snprintf(st->leader_error, sizeof st->leader_error, "could not queue the leader's change");
    st->failed = true;
    st->phase = PH_DONE;
    wl_net_stop(run);
  }
}

static void next_round_cb(lws_sorted_usec_list_t *sul) {
  fanout_t *st = lws_container_of(sul, fanout_t, next);
  if (st->phase == PH_ROUNDS)
    start_round(st->run, st, wl_now_us());
}

/* The round is over (every viewer has it, or --timeout passed): count it
 * and start the next one --interval after this one's send. */
static void close_round(wl_run_t *run, fanout_t *st, int64_t now) {
  int64_t due;

  if (st->closing)
    return;
  st->closing = true;
  st->round_cpu_us += wl_cpu_us() - st->cpu_send;
  st->expected_total += st->expected + st->round_lost;
  st->missed += st->round_lost;
  st->lost += st->round_lost;
  if (st->received < st->expected)
    st->missed += st->expected - st->received;
  if (st->received)
    wl_hist_add(&st->all_hist, st->round_max_us);
  if (st->round == 0 && st->received == 0 && st->expected > 0) {
    /* nothing recognisable came back: more rounds would only time out */
    snprintf(st->leader_error, sizeof st->leader_error,
             "no viewer saw the first change within --timeout (with --via put: does the "
             "server take the product's id from \"%s\"? see --put-id-field)",
             st->o->put_id_field ? st->o->put_id_field : "id\" or \"product_id");
    st->failed = true;
    st->phase = PH_DONE;
    wl_net_stop(run);
    return;
  }
  due = st->t_sent + (int64_t)(st->o->interval_s * 1e6) - now;
  lws_sul_schedule(run->ctx, 0, &st->next, next_round_cb, due > 0 ? due : 1);
}

/* The round a viewer's message belongs to, or -1 when it is not ours. */
static int round_of(const fanout_t *st, const wl_msg_t *m) {
  wl_product_t p;

  if (st->o->via == WL_VIA_PIN) {
    int64_t id = 0;
    if (m->type != WL_MSG_PINNED)
      return -1;
    if (wl_json_int(&m->f[WL_F_PRODUCT_ID], &id) != 0 && wl_product_from_msg(m, &p) == 0)
      id = p.id; /* {"product":{...}} instead of product_id */
    return id == (st->round % 2 == 0 ? st->product : 0) ? st->round : -1;
  }
  if ((m->type != WL_MSG_STOCK && m->type != WL_MSG_PRODUCT) || wl_product_from_msg(m, &p) != 0 ||
      p.id != st->product || p.stock < st->base_stock || p.stock > st->base_stock + st->round)
    return -1;
  return (int)(p.stock - st->base_stock);
}

static void on_viewer_message(wl_run_t *run, fanout_t *st, wl_conn_t *c, const wl_msg_t *m,
                              int64_t now) {
  int r;

  if (st->phase != PH_ROUNDS || st->t_sent == 0)
    return;
  r = round_of(st, m);
  if (r < 0)
    return;
  if (r != st->round) {
    st->late++;
    return;
  }
  if (c->seq == (uint32_t)r + 1)
    return; /* this viewer has it already (stock and product both came) */
  c->seq = (uint32_t)r + 1;
  int64_t us = now - st->t_sent;
  wl_hist_add(&st->hist, us);
  if (us > st->round_max_us)
    st->round_max_us = us;
  st->received++;
  st->deliveries++;
  if (st->received >= st->expected)
    close_round(run, st, now);
}

static void on_ready(wl_run_t *run, wl_conn_t *c, const wl_msg_t *welcome, int64_t now) {
  fanout_t *st = run->mode;
  if (c->idx == 0) {
    wl_setup_on_welcome(&st->setup, welcome);
    wl_setup_pump(&st->setup, c);
  } else {
    st->viewers_up++;
  }
}

static void on_message(wl_run_t *run, wl_conn_t *c, const wl_msg_t *m, const char *text, size_t len,
                       int64_t now) {
  fanout_t *st = run->mode;

  if (c->idx != 0) {
    on_viewer_message(run, st, c, m, now);
    return;
  }
  if (st->phase == PH_SETUP) {
    wl_setup_on_message(&st->setup, m, text, len);
    wl_setup_pump(&st->setup, c);
  } else if (m->type == WL_MSG_ERROR && st->phase == PH_ROUNDS) {
    /* the change was refused: no broadcast will come, every round would
     * only time out */
    snprintf(st->leader_error, sizeof st->leader_error, "leader's change refused: %.*s",
             (int)(len < 150 ? len : 150), text);
    st->failed = true;
    st->phase = PH_DONE;
    wl_net_stop(run);
  }
}

static void on_sent(wl_run_t *run, wl_conn_t *c, int64_t now) {
  fanout_t *st = run->mode;
  if (c->idx != 0 || st->phase != PH_ROUNDS || st->t_sent != 0)
    return;
  st->t_sent = c->t_sent_us;
  st->cpu_send = wl_cpu_us();
  if (st->expected == 0)
    close_round(run, st, now);
}

static void on_lost(wl_run_t *run, wl_conn_t *c, int64_t now) {
  fanout_t *st = run->mode;
  if (c->idx != 0 && st->phase == PH_ROUNDS && st->t_sent && !st->closing &&
      c->seq != (uint32_t)st->round + 1 && st->expected > 0) {
    /* gone before it got this round: a miss, and no reason to wait for it */
    st->expected--;
    st->round_lost++;
    if (st->received >= st->expected)
      close_round(run, st, now);
  }
  if (c->idx != 0 || st->phase == PH_DONE)
    return;
  snprintf(st->leader_error, sizeof st->leader_error, "leader connection lost: %s",
           run->last_error);
  st->failed = true;
  st->phase = PH_DONE;
  wl_net_stop(run);
}

static void tick_setup(wl_run_t *run, fanout_t *st, int64_t now) {
  wl_setup_pump(&st->setup, &run->conns[0]);
  if (st->setup.state == WL_SETUP_DONE) {
    int64_t cur = st->setup.first_stock;
    st->product = st->setup.ids[0];
    printf("product %lld%s%s%s, stock %lld\n", (long long)st->product,
           st->setup.create ? " \"" : "", st->setup.create ? st->setup.name : "",
           st->setup.create ? "\" (created by the leader)" : "", (long long)cur);
    fflush(stdout);
    /* round r sets stock base + r: values in a band of 100,000 + rounds
     * (at most 100,000) the product's stock is not in, under the
     * protocol's cap of 1,000,000 */
    st->base_stock =
        (cur >= 0 && cur < 500000 ? 600000 : 100000) + (int64_t)((uint64_t)now % 100000);
    st->phase = PH_CONNECT;
    st->t_connect0 = now;
    wl_net_connect_paced(run, 1, st->viewers, WL_ROLE_VIEWER);
    return;
  }
  if (st->setup.state != WL_SETUP_FAILED && now - st->t_setup0 > (int64_t)(st->o->timeout_s * 1e6))
    snprintf(st->setup.error, sizeof st->setup.error, "setup not done within --timeout%s%s",
             run->last_error[0] ? "; " : "", run->last_error);
  else if (st->setup.state != WL_SETUP_FAILED)
    return;
  snprintf(st->leader_error, sizeof st->leader_error, "setup failed: %s", st->setup.error);
  st->failed = true;
  st->phase = PH_DONE;
  wl_net_stop(run);
}

static void on_tick(wl_run_t *run, int64_t now) {
  fanout_t *st = run->mode;
  int64_t timeout = (int64_t)(st->o->timeout_s * 1e6);
  double budget;

  switch (st->phase) {
    case PH_SETUP:
      tick_setup(run, st, now);
      break;
    case PH_CONNECT:
      budget = (double)st->viewers / (st->o->connect_rate > 0 ? st->o->connect_rate : 1e9) +
               st->o->timeout_s + 1.0;
      if ((run->pace_next >= run->pace_end && run->n_connecting == 0) ||
          now - st->t_connect0 > (int64_t)(budget * 1e6)) {
        st->phase = PH_ROUNDS;
        st->t_rounds0 = now;
        st->cpu0 = wl_cpu_us();
        start_round(run, st, now);
      }
      break;
    case PH_ROUNDS:
      if (st->t_sent == 0) {
        if (now - st->t_queued > timeout) {
          snprintf(st->leader_error, sizeof st->leader_error,
                   "the leader's change was not written within --timeout");
          st->failed = true;
          st->phase = PH_DONE;
          wl_net_stop(run);
        }
        break;
      }
      if (!st->closing && now - st->t_sent > timeout)
        close_round(run, st, now);
      break;
    case PH_DONE:
      wl_net_stop(run);
      break;
  }
}

static const wl_mode_ops_t fanout_ops = {
    .on_ready = on_ready,
    .on_message = on_message,
    .on_sent = on_sent,
    .on_lost = on_lost,
    .on_tick = on_tick,
};

static int report(const wl_run_t *run, const fanout_t *st) {
  double cpu_s = (double)(st->cpu1 - st->cpu0) / 1e6;
  double wall_s = (double)(st->t_rounds1 - st->t_rounds0) / 1e6;
  double us_per = st->deliveries ? (double)st->round_cpu_us / (double)st->deliveries : 0;
  size_t viewers_up = st->viewers_up;
  bool enough = (double)viewers_up >= 0.95 * (double)st->viewers;

  printf("ws_load fanout: %s, %zu viewers, %d rounds via %s, product %lld\n", st->o->url,
         st->viewers, st->o->rounds,
         st->o->via == WL_VIA_PIN ? "pin/unpin (pinned)" : "product.put (stock/product)",
         (long long)st->product);
  wl_net_print_conns(run, st->viewers, viewers_up);
  printf("deliveries: %" PRIu64 " of %" PRIu64 " expected, %" PRIu64 " missed (%" PRIu64
         " with their connection), %" PRIu64 " late (after their round ended)\n",
         st->deliveries, st->expected_total, st->missed, st->lost, st->late);
  printf("delivery latency ms (every viewer, every round): p50 %.3f  p90 %.3f  p99 %.3f  max "
         "%.3f\n",
         wl_hist_ms(&st->hist, 0.5), wl_hist_ms(&st->hist, 0.9), wl_hist_ms(&st->hist, 0.99),
         wl_hist_max_ms(&st->hist));
  printf("time until the last viewer had it, per round ms: p50 %.3f  max %.3f\n",
         wl_hist_ms(&st->all_hist, 0.5), wl_hist_max_ms(&st->all_hist));
  printf("client: %.2f CPU-s in %.2f s of rounds (%.0f%% of one core); from each send to the "
         "round's end %.1f CPU-us per delivery, %.1f CPU-ms per round\n",
         cpu_s, wall_s, wall_s > 0 ? 100.0 * cpu_s / wall_s : 0.0, us_per,
         st->round + 1 > 0 ? (double)st->round_cpu_us / 1000.0 / (double)(st->round + 1) : 0.0);
  printf("RESULT {\"viewers\":%zu,\"rounds\":%d,\"deliveries\":%" PRIu64 ",\"missed\":%" PRIu64
         ",\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"all_p50_ms\":%.3f,"
         "\"all_max_ms\":%.3f,\"client_us_per_delivery\":%.2f}\n",
         viewers_up, st->round + 1, st->deliveries, st->missed, wl_hist_ms(&st->hist, 0.5),
         wl_hist_ms(&st->hist, 0.9), wl_hist_ms(&st->hist, 0.99), wl_hist_max_ms(&st->hist),
         wl_hist_ms(&st->all_hist, 0.5), wl_hist_max_ms(&st->all_hist), us_per);
  fflush(stdout);
  if (!enough)
    fprintf(stderr, "ws_load: only %zu of %zu viewers came up\n", viewers_up, st->viewers);
  if (st->deliveries == 0)
    fprintf(stderr, "ws_load: no broadcast reached a viewer\n");
  return enough && st->deliveries > 0 ? 0 : 1;
}

int wl_fanout_main(const wl_opts_t *o) {
  wl_run_t run;
  fanout_t *st = calloc(1, sizeof *st);
  char name[64];
  int rc = 1;

  if (!st)
    return 1;
  if (!o->leader_token) {
    fprintf(stderr, "ws_load fanout: --leader-token is required\n");
    free(st);
    return 2;
  }
  st->o = o;
  st->run = &run;
  st->viewers = (size_t)o->viewers;
  st->round = -1;
  wl_hist_init(&st->hist);
  wl_hist_init(&st->all_hist);
  snprintf(name, sizeof name, "ws_load fanout %lld", (long long)(wl_now_us() / 1000000));
  if (wl_setup_init(&st->setup, o, name, true) != 0) {
    fprintf(stderr, "ws_load: %s\n", st->setup.error);
    free(st);
    return 2;
  }
  if (wl_net_init(&run, o, &fanout_ops, st, st->viewers + 1) != 0) {
    free(st);
    return 1;
  }
  st->t_setup0 = wl_now_us();
  st->phase = PH_SETUP;
  wl_net_connect(&run, &run.conns[0], WL_ROLE_LEADER);
  wl_net_loop(&run);
  lws_sul_cancel(&st->next);
  if (st->leader_error[0])
    fprintf(stderr, "ws_load: %s\n", st->leader_error);
  if (st->round >= 0 && st->t_rounds1 == 0) {
    st->t_rounds1 = wl_now_us();
    st->cpu1 = wl_cpu_us();
  }
  if (st->round >= 0)
    rc = report(&run, st);
  if (st->failed)
    rc = 1;
  wl_net_clear(&run);
  free(st);
  return rc;
}
