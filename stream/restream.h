/* restream.h — pushing the overlaid output to other platforms over RTMP.
 *
 * Each target is its own small pipeline, appsrc (H.264) + appsrc (AAC) !
 * flvmux ! rtmp2sink, fed the output's encoded samples. The appsrcs are
 * leaky (they drop the oldest data when the target cannot keep up), so a
 * target that refuses, stalls or drops never holds back the live HLS or
 * another target; and its errors stay on its own bus. A failed target is
 * retried with backoff (1 s doubling to 30 s). Targets are added and removed
 * on the control loop; samples arrive on the output's streaming thread.
 */
#ifndef TOURCAST_RESTREAM_H
#define TOURCAST_RESTREAM_H

#include <gst/gst.h>

typedef struct restream restream_t;

typedef enum {
  RESTREAM_CONNECTING, /* pipeline started, nothing sent yet */
  RESTREAM_LIVE,       /* sending */
  RESTREAM_RETRYING,   /* failed; waiting for the next attempt */
} restream_state_t;

typedef struct {
  char *url;
  restream_state_t state;
  guint attempts;     /* connections tried */
  guint failures;     /* attempts that ended on an error */
  guint64 bytes_sent; /* media bytes handed to the current connection */
  char *last_error;   /* NULL if none */
} restream_target_info_t;

restream_t *restream_new(void);
/* NULL is a no-op. Blocks until every target pipeline is down. */
void restream_free(restream_t *rs);

/* Control loop. Adds a target (url copied); FALSE with `err` set if the URL
 * is not rtmp:// or rtmps://, is already a target, or there are 8 already. */
gboolean restream_add(restream_t *rs, const char *url, GError **err);
/* Control loop. FALSE if `url` is not a target. */
gboolean restream_remove(restream_t *rs, const char *url);

/* Output streaming threads: an encoded sample (H.264 byte-stream access
 * unit or ADTS/raw AAC frame, with its caps). Borrowed. */
void restream_push(restream_t *rs, gboolean video, GstSample *sample);

/* Control loop. A snapshot; free with restream_info_free(). */
GArray *restream_info(restream_t *rs);
void restream_info_free(GArray *info);
const char *restream_state_name(restream_state_t st);
/* The target URL as logs print it: scheme, host and the first path segment
 * (the RTMP app), then three stars for the rest (the other platform's
 * stream key, a query). Newly allocated. */
char *restream_url_for_logs(const char *url);

#endif
