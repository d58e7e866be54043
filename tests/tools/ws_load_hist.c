/* ws_load_hist.c — latency histogram for ws_load: fixed memory, O(1) per sample.
 *
 * Log-linear buckets (exact to 1 ms, then 512 per power of two), the scheme
 * of HdrHistogram cut down to what a load client needs: percentiles within
 * 0.2%, an exact maximum, no allocation however long the run.
 */
#include <string.h>

#include "ws_load.h"

#define LINEAR 1024 /* below this, one bucket per microsecond */
#define SUB_BITS 9  /* 512 buckets per power of two above it */
#define SUB (1 << SUB_BITS)

static size_t bucket_of(uint64_t v) {
  int k;

  if (v < LINEAR)
    return (size_t)v;
  k = 63 - __builtin_clzll(v); /* v in [2^k, 2^(k+1)), k >= 10 */
  if (k > 39)
    return WL_HIST_BUCKETS - 1;
  return LINEAR + (size_t)(k - 10) * SUB + (size_t)((v >> (k - SUB_BITS)) - SUB);
}

/* Midpoint of bucket i in microseconds. */
static double bucket_mid(size_t i) {
  size_t j, k;
  uint64_t width, low;

  if (i < LINEAR)
    return (double)i;
  j = i - LINEAR;
  k = j / SUB + 10;
  width = (uint64_t)1 << (k - SUB_BITS);
  low = (uint64_t)(SUB + j % SUB) << (k - SUB_BITS);
  return (double)low + (double)width / 2.0;
}

void wl_hist_init(wl_hist_t *h) {
  memset(h, 0, sizeof *h);
}

void wl_hist_add(wl_hist_t *h, int64_t us) {
  if (us < 0)
    us = 0;
  h->counts[bucket_of((uint64_t)us)]++;
  h->n++;
  h->sum_us += (double)us;
  if (us > h->max_us)
    h->max_us = us;
}

double wl_hist_ms(const wl_hist_t *h, double q) {
  uint64_t rank, seen = 0;

  if (h->n == 0)
    return 0.0;
  if (q <= 0.0)
    q = 0.0;
  if (q >= 1.0)
    return wl_hist_max_ms(h);
  rank = (uint64_t)(q * (double)h->n);
  if ((double)rank < q * (double)h->n)
    rank++;
  if (rank == 0)
    rank = 1;
  for (size_t i = 0; i < WL_HIST_BUCKETS; i++) {
    seen += h->counts[i];
    if (seen >= rank) {
      double mid = bucket_mid(i);
      if (mid > (double)h->max_us)
        mid = (double)h->max_us;
      return mid / 1000.0;
    }
  }
  return wl_hist_max_ms(h);
}

double wl_hist_max_ms(const wl_hist_t *h) {
  return (double)h->max_us / 1000.0;
}
