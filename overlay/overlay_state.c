/* overlay_state.c — copying the overlay state, and the few texts derived from it.
 *
 * overlay_update() copies the caller's state so that the render thread never
 * reads memory the control loop may free. Formatting here is plain string
 * work; fitting text into boxes is overlay_text.c's.
 */
#include <string.h>

#include "overlay/overlay_priv.h"

#define UNIT_MAX_CHARS 8

/* The copy and its strings live in one GStringChunk freed with it. */
typedef struct {
  overlay_state_t st; /* first: overlay_state_t * and owned_t * are the same */
  GStringChunk *chunk;
} owned_t;

static const char *keep(GStringChunk *chunk, const char *s) {
  return s != NULL ? g_string_chunk_insert(chunk, s) : NULL;
}

overlay_state_t *overlay_state_dup(const overlay_state_t *st) {
  owned_t *o = g_new0(owned_t, 1);
  GStringChunk *c = g_string_chunk_new(256);

  o->chunk = c;
  o->st = *st;
  o->st.title = keep(c, st->title);
  o->st.promise = keep(c, st->promise);
  o->st.qr_text = keep(c, st->qr_text);
  o->st.product.name = keep(c, st->product.name);
  o->st.product.unit = keep(c, st->product.unit);
  o->st.product.image_path = keep(c, st->product.image_path);
  o->st.n_ticker = CLAMP(st->n_ticker, 0, OVERLAY_TICKER_MAX);
  for (int i = 0; i < o->st.n_ticker; i++) {
    o->st.ticker[i].name = keep(c, st->ticker[i].name);
    o->st.ticker[i].product = keep(c, st->ticker[i].product);
  }
  o->st.question.name = keep(c, st->question.name);
  o->st.question.text = keep(c, st->question.text);
  o->st.question.answer = keep(c, st->question.answer);
  return &o->st;
}

void overlay_state_free(overlay_state_t *st) {
  if (st == NULL)
    return;
  owned_t *o = (owned_t *)st;
  g_string_chunk_free(o->chunk);
  g_free(o);
}

char *overlay_format_price(gint64 price_cents, const char *unit) {
  if (price_cents < 0)
    return NULL;
  char *clean = overlay_text_sanitize(unit);
  if (clean != NULL && g_utf8_strlen(clean, -1) > UNIT_MAX_CHARS) {
    char *end = g_utf8_offset_to_pointer(clean, UNIT_MAX_CHARS);
    *end = '\0';
  }
  char *out = g_strdup_printf("¥%" G_GINT64_FORMAT ".%02d%s%s", price_cents / 100,
                              (int)(price_cents % 100), clean ? "/" : "", clean ? clean : "");
  g_free(clean);
  return out;
}

char *overlay_mask_name(const char *name) {
  char *clean = overlay_text_sanitize(name);
  if (clean == NULL)
    return g_strdup("**");
  const char *second = g_utf8_next_char(clean);
  char *first = g_strndup(clean, (gsize)(second - clean));
  char *out = g_strconcat(first, "**", NULL);
  g_free(first);
  g_free(clean);
  return out;
}
