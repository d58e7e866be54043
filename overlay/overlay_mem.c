/* overlay_mem.c — recycled memory for box pixels and their blend planes.
 *
 * Every re-render allocates a few hundred kilobytes per changed box and
 * frees the previous ones when the streaming thread lets go of the old
 * composition. From the render thread's malloc arena such blocks come back
 * as fresh pages, and on a VM the page faults cost more than drawing the
 * box (measured: a full re-render at 3 ms warm, 12-15 ms on fresh pages).
 * Box sizes repeat (a frame size has a fixed layout), so freed blocks are
 * kept, bounded, and handed out again for the same size. Any thread.
 */
#include "overlay/overlay_priv.h"

#define KEEP_BLOCKS 48
#define KEEP_BYTES (16u << 20) /* a full 1080x1920 set of boxes and planes fits */
#define HEADER 16              /* keeps the block 16-byte aligned after the size */

static GMutex lock;
static gpointer kept[KEEP_BLOCKS]; /* header pointers */
static gsize kept_n, kept_bytes;

static gsize block_size(gpointer head) {
  return *(gsize *)head;
}

gpointer overlay_mem_take(gsize size) {
  gpointer head = NULL;

  g_mutex_lock(&lock);
  for (gsize i = 0; i < kept_n; i++) {
    if (block_size(kept[i]) == size) {
      head = kept[i];
      kept[i] = kept[--kept_n];
      kept_bytes -= size;
      break;
    }
  }
  g_mutex_unlock(&lock);
  if (head == NULL) {
    head = g_malloc(HEADER + size);
    *(gsize *)head = size;
  }
  return (guint8 *)head + HEADER;
}

void overlay_mem_give(gpointer block) {
  if (block == NULL)
    return;
  gpointer head = (guint8 *)block - HEADER;
  gsize size = block_size(head);

  g_mutex_lock(&lock);
  /* Full: the oldest-kept block of a size nobody asked for goes first,
   * approximated by the first slot (sizes in use are taken quickly). */
  while (size <= KEEP_BYTES && kept_n > 0 &&
         (kept_n == KEEP_BLOCKS || kept_bytes + size > KEEP_BYTES)) {
    kept_bytes -= block_size(kept[0]);
    g_free(kept[0]);
    kept[0] = kept[--kept_n];
  }
  if (size <= KEEP_BYTES) {
    kept[kept_n++] = head;
    kept_bytes += size;
    head = NULL;
  }
  g_mutex_unlock(&lock);
  g_free(head);
}
