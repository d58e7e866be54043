/* loopback_ceiling.c — the machine's ceiling for bench-orders.sh: bare request/reply over loopback.
 *
 * N TCP connections on 127.0.0.1, each a closed loop like a buyer in
 * ws_load's orders mode: the client sends a request of an order's size, the
 * server answers with a reply of an order.ok's size, the client sends the
 * next one. One epoll thread per side, no WebSocket framing, no JSON, no
 * SQLite, no fsync: what any server on this machine pays for the sockets
 * alone. Prints round trips per second and each side's CPU.
 *
 *   loopback_ceiling [--conns N] [--seconds S]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REQ_BYTES 110 /* {"type":"order","product_id":1,"qty":1,"key":"...","seen_ms":...} */
#define REPLY_BYTES 120
#define MAX_EVENTS 256

typedef struct {
  int epfd;
  int reply; /* server: answer each request; client: send the next one */
  atomic_bool *stop;
  unsigned long long round_trips;
  double cpu_s;
} side_t;

static double now_s(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

/* Reads whatever is there; for each whole message read, writes one back. */
static void on_readable(side_t *s, int fd) {
  char buf[16384], out[REPLY_BYTES > REQ_BYTES ? REPLY_BYTES : REQ_BYTES];
  size_t want = s->reply ? REQ_BYTES : REPLY_BYTES;
  size_t send_len = s->reply ? REPLY_BYTES : REQ_BYTES;
  ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  if (n <= 0)
    return;
  /* Closed loop: one message in flight per connection, so a read holds
   * exactly one (a short read is finished by the next wake-up). */
  static __thread size_t partial[65536];
  size_t have = partial[fd % 65536] + (size_t)n;
  memset(out, 'x', sizeof out);
  while (have >= want) {
    have -= want;
    if (send(fd, out, send_len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EAGAIN)
      return;
    if (!s->reply)
      s->round_trips++;
  }
  partial[fd % 65536] = have;
}

static void *run_side(void *arg) {
  side_t *s = arg;
  struct epoll_event ev[MAX_EVENTS];
  double cpu0 = now_s(CLOCK_THREAD_CPUTIME_ID);
  while (!atomic_load(s->stop)) {
    int n = epoll_wait(s->epfd, ev, MAX_EVENTS, 50);
    for (int i = 0; i < n; i++)
      on_readable(s, ev[i].data.fd);
  }
  s->cpu_s = now_s(CLOCK_THREAD_CPUTIME_ID) - cpu0;
  return NULL;
}

static void watch(int epfd, int fd) {
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
    die("epoll_ctl");
}

int main(int argc, char **argv) {
  int conns = 1000, seconds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--conns") == 0)
      conns = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--seconds") == 0)
      seconds = atoi(argv[i + 1]);
  }
  if (conns < 1 || conns > 20000 || seconds < 1) {
    fprintf(stderr, "usage: loopback_ceiling [--conns 1..20000] [--seconds S]\n");
    return 2;
  }

  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof addr;
  if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 4096) < 0 ||
      getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0)
    die("listen");

  atomic_bool stop = false;
  side_t server = {.epfd = epoll_create1(0), .reply = 1, .stop = &stop};
  side_t client = {.epfd = epoll_create1(0), .reply = 0, .stop = &stop};
  int *cfds = calloc((size_t)conns, sizeof *cfds);
  for (int i = 0; i < conns; i++) {
    cfds[i] = socket(AF_INET, SOCK_STREAM, 0);
    if (cfds[i] < 0 || connect(cfds[i], (struct sockaddr *)&addr, sizeof addr) < 0)
      die("connect");
    int sfd = accept(lfd, NULL, NULL);
    if (sfd < 0)
      die("accept");
    watch(server.epfd, sfd);
    watch(client.epfd, cfds[i]);
  }

  pthread_t ts, tc;
  pthread_create(&ts, NULL, run_side, &server);
  pthread_create(&tc, NULL, run_side, &client);
  char req[REQ_BYTES];
  memset(req, 'x', sizeof req);
  for (int i = 0; i < conns; i++)
    if (send(cfds[i], req, sizeof req, MSG_NOSIGNAL) < 0)
      die("send");
  double t0 = now_s(CLOCK_MONOTONIC);
  sleep((unsigned)seconds);
  atomic_store(&stop, true);
  double elapsed = now_s(CLOCK_MONOTONIC) - t0;
  pthread_join(ts, NULL);
  pthread_join(tc, NULL);

  double rate = client.round_trips / elapsed;
  printf("loopback ceiling: %d connections, %.1f s: %.0f round trips/s, mean %.2f ms; "
         "server %.2f cores (%.1f us per round trip), client %.2f cores\n",
         conns, elapsed, rate, rate > 0 ? conns / rate * 1000 : 0, server.cpu_s / elapsed,
         rate > 0 ? server.cpu_s / client.round_trips * 1e6 : 0, client.cpu_s / elapsed);
  printf("RESULT {\"round_trips_per_s\":%.0f,\"server_cores\":%.2f,\"client_cores\":%.2f}\n", rate,
         server.cpu_s / elapsed, client.cpu_s / elapsed);
  return 0;
}
