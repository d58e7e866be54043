/* ws_load.c — tourcast's WebSocket load and test client: options and dispatch to a mode.
 *
 * `ws_load orders` is the buyers' side of the order benchmark, `ws_load
 * fanout` times a broadcast to thousands of viewers, `ws_load script` sends
 * stdin's JSON lines on one connection and prints what comes back, and
 * `ws_load selftest` checks the JSON scanner and times it against jansson.
 * The modes live in ws_load_{orders,fanout,script,selftest}.c.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "ws_load.h"

int64_t wl_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t wl_cpu_us(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0)
    return 0;
  return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
         ru.ru_stime.tv_usec;
}

static void usage(FILE *f) {
  fputs("usage: ws_load MODE [options]\n"
        "\n"
        "modes:\n"
        "  orders    N buyers order in a closed loop (next order after the ack);\n"
        "            prints acked orders/s and ack latency percentiles\n"
        "  fanout    M viewers; the leader changes a product, ws_load times the\n"
        "            broadcast reaching every viewer\n"
        "  script    sends each JSON line of stdin as a text frame on one\n"
        "            connection, prints every received frame as one line\n"
        "  selftest  checks the JSON scanner and times it against jansson\n"
        "\n"
        "common options:\n"
        "  --url URL            ws://HOST:PORT/PATH (default ws://127.0.0.1:8080/ws)\n"
        "  --timeout S          connect-to-welcome, ack and round timeout (default 10)\n"
        "  --connect-rate N[/s] new connections per second (default 500, 0 = no pacing)\n"
        "  --leader-token T     the leader token (setup, fanout)\n"
        "  --product ID[,ID...] the products to order from (buyers rotate over them) or,\n"
        "                       for fanout, the one to change\n"
        "  --setup-product \"name,price_cents,stock,limit\"\n"
        "                       first create that product as the leader and use it\n"
        "  --setup-count N      create N such products, \"name #1\"..\"name #N\" (the\n"
        "                       server caps stock at 1000000 and limit_per_buyer at 99,\n"
        "                       0 = no limit)\n"
        "                       The leader begins a show first when none is open.\n"
        "  --coalesce-us N      after a poll that read few frames, pause N us so the\n"
        "                       next one finds more ready: less client CPU with\n"
        "                       thousands of sockets, up to N us added to latencies\n"
        "                       (default 0)\n"
        "  -v, --verbose        lws warnings (twice: notices)\n"
        "orders:\n"
        "  --buyers N (1000)  --duration S (10)  --qty N (1)\n"
        "  --pace R             at most R orders/s per buyer (default 0: as fast as acks)\n"
        "  --rate-limit R       the server's messages/s per connection (its --ws-rate),\n"
        "                       for the printed ceiling and the backoff after\n"
        "                       rate_limited (default 20)\n"
        "fanout:\n"
        "  --viewers M (5000)  --rounds R (20)  --interval MS (250, at least 200)\n"
        "  --via put|pin        product.put of a new stock value (default) or pin/unpin\n"
        "  --put-id-field NAME  the product's id field in product.put (default \"id\")\n"
        "  (the leader is one more connection: the server's default cap is 5000)\n"
        "script:\n"
        "  --linger MS          after stdin ends, keep printing for MS (default 500)\n"
        "\n"
        "orders and fanout end with one line `RESULT {json}`. Exit status 1 when fewer\n"
        "than 95% of the connections came up or nothing was acknowledged/delivered,\n"
        "2 on bad usage; script exits 3 when the server closed the connection first.\n",
        f);
}

int wl_parse_url(wl_opts_t *o, char *err, size_t err_len) {
  const char *u = o->url, *host, *host_end, *path;
  long port = 80;

  if (strncmp(u, "ws://", 5) != 0) {
    snprintf(err, err_len, "--url must start with ws:// (no TLS in ws_load)");
    return -1;
  }
  host = u + 5;
  path = strchr(host, '/');
  if (!path)
    path = host + strlen(host);
  host_end = path;
  if (*host == '[') { /* [v6addr]:port */
    const char *rb = memchr(host, ']', (size_t)(path - host));
    if (!rb) {
      snprintf(err, err_len, "unbalanced [ in --url");
      return -1;
    }
    if (rb + 1 < path && rb[1] == ':') {
      char *e;
      port = strtol(rb + 2, &e, 10);
      if (e != path)
        port = -1;
    }
    host_end = rb;
    host++;
  } else {
    const char *colon = memchr(host, ':', (size_t)(path - host));
    if (colon) {
      char *e;
      port = strtol(colon + 1, &e, 10);
      if (e != path)
        port = -1;
      host_end = colon;
    }
  }
  if (host_end == host || (size_t)(host_end - host) >= sizeof o->host) {
    snprintf(err, err_len, "bad host in --url");
    return -1;
  }
  if (port <= 0 || port > 65535) {
    snprintf(err, err_len, "bad port in --url");
    return -1;
  }
  memcpy(o->host, host, (size_t)(host_end - host));
  o->host[host_end - host] = '\0';
  o->port = (int)port;
  if (*path == '\0')
    path = "/";
  if (strlen(path) >= sizeof o->path) {
    snprintf(err, err_len, "path in --url too long");
    return -1;
  }
  strcpy(o->path, path);
  return 0;
}

static int parse_double(const char *s, double min, double max, double *out) {
  char *e;
  double v = strtod(s, &e);
  if (e == s || (*e != '\0' && strcmp(e, "/s") != 0) || !isfinite(v) || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

static int parse_long(const char *s, long min, long max, long *out) {
  char *e;
  long v = strtol(s, &e, 10);
  if (e == s || *e != '\0' || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

/* "3" or "3,4,5": the products to order from. */
static int parse_products(wl_opts_t *o, const char *arg) {
  const char *p = arg;

  o->n_products = 0;
  for (;;) {
    char *e;
    long long v = strtoll(p, &e, 10);
    if (e == p || v < 1 || v > (1LL << 53) - 1 || o->n_products == WL_MAX_PRODUCTS)
      return -1;
    o->product_ids[o->n_products++] = v;
    if (*e == '\0')
      return 0;
    if (*e != ',')
      return -1;
    p = e + 1;
  }
}

enum {
  OPT_URL = 256,
  OPT_TIMEOUT,
  OPT_CONNECT_RATE,
  OPT_LEADER_TOKEN,
  OPT_PRODUCT,
  OPT_SETUP,
  OPT_SETUP_COUNT,
  OPT_BUYERS,
  OPT_DURATION,
  OPT_QTY,
  OPT_PACE,
  OPT_RATE_LIMIT,
  OPT_VIEWERS,
  OPT_ROUNDS,
  OPT_INTERVAL,
  OPT_VIA,
  OPT_PUT_ID_FIELD,
  OPT_LINGER,
  OPT_BENCH_ITERS,
  OPT_COALESCE,
};

static const struct option long_opts[] = {
    {"url", required_argument, NULL, OPT_URL},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"connect-rate", required_argument, NULL, OPT_CONNECT_RATE},
    {"leader-token", required_argument, NULL, OPT_LEADER_TOKEN},
    {"product", required_argument, NULL, OPT_PRODUCT},
    {"setup-product", required_argument, NULL, OPT_SETUP},
    {"setup-count", required_argument, NULL, OPT_SETUP_COUNT},
    {"buyers", required_argument, NULL, OPT_BUYERS},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"qty", required_argument, NULL, OPT_QTY},
    {"pace", required_argument, NULL, OPT_PACE},
    {"rate-limit", required_argument, NULL, OPT_RATE_LIMIT},
    {"viewers", required_argument, NULL, OPT_VIEWERS},
    {"rounds", required_argument, NULL, OPT_ROUNDS},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"via", required_argument, NULL, OPT_VIA},
    {"put-id-field", required_argument, NULL, OPT_PUT_ID_FIELD},
    {"linger", required_argument, NULL, OPT_LINGER},
    {"bench-iters", required_argument, NULL, OPT_BENCH_ITERS},
    {"coalesce-us", required_argument, NULL, OPT_COALESCE},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Applies one option; returns 0 or -1 (bad value). */
static int apply_opt(wl_opts_t *o, int opt, const char *arg) {
  long l;
  double d;

  switch (opt) {
    case OPT_URL:
      o->url = arg;
      return 0;
    case OPT_TIMEOUT:
      return parse_double(arg, 0.1, 3600, &o->timeout_s);
    case OPT_CONNECT_RATE:
      return parse_double(arg, 0, 1e6, &o->connect_rate);
    case OPT_LEADER_TOKEN:
      o->leader_token = arg;
      return 0;
    case OPT_PRODUCT:
      return parse_products(o, arg);
    case OPT_SETUP_COUNT:
      if (parse_long(arg, 1, WL_MAX_PRODUCTS, &l) != 0)
        return -1;
      o->setup_count = (int)l;
      return 0;
    case OPT_SETUP:
      o->setup = arg;
      return 0;
    case OPT_BUYERS:
      if (parse_long(arg, 1, 1000000, &l) != 0)
        return -1;
      o->buyers = (int)l;
      return 0;
    case OPT_DURATION:
      return parse_double(arg, 0.1, 86400, &o->duration_s);
    case OPT_QTY:
      if (parse_long(arg, 1, 1000000, &l) != 0)
        return -1;
      o->qty = (int)l;
      return 0;
    case OPT_PACE:
      return parse_double(arg, 0, 1e6, &o->pace);
    case OPT_RATE_LIMIT:
      return parse_double(arg, 0, 1e9, &o->rate_limit);
    case OPT_VIEWERS:
      if (parse_long(arg, 1, 1000000, &l) != 0)
        return -1;
      o->viewers = (int)l;
      return 0;
    case OPT_ROUNDS:
      if (parse_long(arg, 1, 100000, &l) != 0)
        return -1;
      o->rounds = (int)l;
      return 0;
    case OPT_INTERVAL:
      if (parse_double(arg, 200, 3.6e6, &d) != 0)
        return -1;
      o->interval_s = d / 1000.0;
      return 0;
    case OPT_VIA:
      if (strcmp(arg, "put") == 0)
        o->via = WL_VIA_PUT;
      else if (strcmp(arg, "pin") == 0)
        o->via = WL_VIA_PIN;
      else
        return -1;
      return 0;
    case OPT_PUT_ID_FIELD:
      o->put_id_field = arg;
      return 0;
    case OPT_LINGER:
      if (parse_double(arg, 0, 3.6e6, &d) != 0)
        return -1;
      o->linger_s = d / 1000.0;
      return 0;
    case OPT_COALESCE:
      return parse_long(arg, 0, 100000, &o->coalesce_us);
    case OPT_BENCH_ITERS:
      return parse_long(arg, 1, 1000000000, &o->bench_iters);
    case 'v':
      o->verbose++;
      return 0;
    default:
      return -1;
  }
}

int main(int argc, char **argv) {
  wl_opts_t o = {
      .url = "ws://127.0.0.1:8080/ws",
      .timeout_s = 10,
      .connect_rate = 500,
      .buyers = 1000,
      .duration_s = 10,
      .qty = 1,
      .rate_limit = 20,
      .viewers = 5000,
      .rounds = 20,
      .interval_s = 0.25,
      .via = WL_VIA_PUT,
      .linger_s = 0.5,
      .bench_iters = 1000000,
  };
  const char *mode;
  char err[128];
  int opt;

  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  mode = argv[1];
  optind = 2;
  while ((opt = getopt_long(argc, argv, "vh", long_opts, NULL)) != -1) {
    if (opt == 'h') {
      usage(stdout);
      return 0;
    }
    if (opt == '?' || apply_opt(&o, opt, optarg) != 0) {
      if (opt != '?')
        fprintf(stderr, "ws_load: bad value for --%s: %s\n",
                long_opts[opt >= OPT_URL ? opt - OPT_URL : 0].name, optarg ? optarg : "");
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "ws_load: unexpected argument: %s\n", argv[optind]);
    return 2;
  }
  if (strcmp(mode, "selftest") == 0)
    return wl_selftest_main(&o);
  if (wl_parse_url(&o, err, sizeof err) != 0) {
    fprintf(stderr, "ws_load: %s\n", err);
    return 2;
  }
  if (strcmp(mode, "orders") == 0)
    return wl_orders_main(&o);
  if (strcmp(mode, "fanout") == 0)
    return wl_fanout_main(&o);
  if (strcmp(mode, "script") == 0)
    return wl_script_main(&o);
  fprintf(stderr, "ws_load: unknown mode %s (orders, fanout, script, selftest)\n", mode);
  return 2;
}
