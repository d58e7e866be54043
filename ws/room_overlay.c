/* room_overlay.c — the room as the video overlay shows it, and pins stamped at their frame.
 *
 * The overlay (overlay/) draws the pinned product, the ticker, the
 * highlighted question and the show's title; it learns of changes through
 * cfg.overlay_changed and reads them with room_overlay_get(). A pin or a
 * highlight is not stored or announced when the leader sends it, but when
 * the video reports the first frame that shows it (room_overlay_shown()), so
 * its stream_ms is that frame's: a replay shows the card on the same frame
 * the live viewers saw it. Without video (no publisher), or if no frame
 * reports within ROOM_MARK_TIMEOUT_MS, the clock stamps it instead.
 */
#include <string.h>

#include "ws/room_priv.h"

/* A change shows within two frames at 30 fps plus a render, well under
 * this on a quiet machine. It is only a safety net (an output that stopped
 * reporting): stamping with the clock instead of the frame puts the card of
 * the replay and the pages off the picture, so a busy machine (an ASan
 * build, a render queued behind a flash sale) waits rather than guesses. */
#define ROOM_MARK_TIMEOUT_MS 3000

static void ticker_free(gpointer p) {
  room_ticker_t *t = p;
  g_free(t->name);
  g_free(t);
}

static void mark_clear(room_mark_t *m) {
  g_free(m->ref);
}

void room_overlay_init(room_t *r) {
  r->marks = g_array_new(FALSE, FALSE, sizeof(room_mark_t));
  g_queue_init(&r->overlay_ticker);
}

static void marks_finish(room_t *r, guint64 version, gint64 stream_ms);

void room_overlay_fini(room_t *r) {
  marks_finish(r, G_MAXUINT64, room_now_stream_ms(r));
  g_array_free(r->marks, TRUE);
  g_queue_clear_full(&r->overlay_ticker, ticker_free);
}

guint64 room_overlay_changed(room_t *r) {
  return r->cfg.overlay_changed ? r->cfg.overlay_changed(r->cfg.overlay_user) : 0;
}

void room_overlay_ticker_push(room_t *r, const char *masked, gint64 product_id, gint64 qty) {
  room_ticker_t *t = g_new0(room_ticker_t, 1);
  t->seq = ++r->ticker_seq;
  t->name = g_strdup(masked);
  t->product_id = product_id;
  t->qty = qty;
  g_queue_push_tail(&r->overlay_ticker, t);
  while (g_queue_get_length(&r->overlay_ticker) > ROOM_OVERLAY_TICKER)
    ticker_free(g_queue_pop_head(&r->overlay_ticker));
}

void room_overlay_reset(room_t *r) {
  marks_finish(r, G_MAXUINT64, room_now_stream_ms(r)); /* they belong to the show now open */
  g_queue_clear_full(&r->overlay_ticker, ticker_free);
  g_queue_init(&r->overlay_ticker);
}

/* ---- pins and highlights at their frame ---- */

static void mark_finish(room_t *r, const room_mark_t *m, gint64 stream_ms) {
  gint64 show = store_show_current(r->store);
  if (show == 0)
    return; /* the show ended in between: nothing to stamp it on */
  GError *err = NULL;
  gint64 now = g_get_real_time() / 1000;
  gboolean pin = m->kind == ROOM_MARK_PIN;
  gboolean ok = pin ? store_pin(r->store, show, m->id, stream_ms, now, &err)
                    : store_highlight(r->store, show, m->id, stream_ms, now, &err);
  if (!ok) {
    g_message("%s %" G_GINT64_FORMAT " not stored: %s", pin ? "pin" : "highlight", m->id,
              err->message);
    room_error(r, m->conn, PROTO_ERR_UNAVAILABLE, "could not store it, retry", m->ref);
    g_clear_error(&err);
    return;
  }
  json_t *id = m->id ? json_integer(m->id) : json_null();
  room_broadcast_json(r,
                      json_pack("{s:s, s:o, s:I}", "type", pin ? "pinned" : "highlight",
                                pin ? "product_id" : "question_id", id, "stream_ms",
                                (json_int_t)stream_ms),
                      FALSE);
}

/* Finishes the marks whose version is shown (all of them when `version`
 * is G_MAXUINT64), in the order they were made. */
static void marks_finish(room_t *r, guint64 version, gint64 stream_ms) {
  guint done = 0;
  while (done < r->marks->len && g_array_index(r->marks, room_mark_t, done).version <= version) {
    room_mark_t *m = &g_array_index(r->marks, room_mark_t, done);
    mark_finish(r, m, stream_ms);
    mark_clear(m);
    done++;
  }
  g_array_remove_range(r->marks, 0, done);
  if (r->marks->len == 0 && r->mark_timeout != 0) {
    g_source_remove(r->mark_timeout);
    r->mark_timeout = 0;
  }
}

static gboolean on_mark_timeout(gpointer data) {
  room_t *r = data;
  r->mark_timeout = 0;
  g_message("no frame reported a pin or highlight in %d ms: stamped with the clock",
            ROOM_MARK_TIMEOUT_MS);
  marks_finish(r, G_MAXUINT64, room_now_stream_ms(r));
  return G_SOURCE_REMOVE;
}

void room_mark_on_screen(room_t *r, room_mark_kind_t kind, gint64 id, ws_conn_id_t conn,
                         const char *ref) {
  room_mark_t m = {kind, id, room_overlay_changed(r), conn, g_strdup(ref)};
  if (m.version == 0 && r->marks->len == 0) {
    mark_finish(r, &m, room_now_stream_ms(r));
    mark_clear(&m);
    return;
  }
  /* Behind an earlier mark still waiting, even without a version of its
   * own: the order of pins on the timeline is the order they were made. */
  if (m.version == 0)
    m.version = g_array_index(r->marks, room_mark_t, r->marks->len - 1).version;
  g_array_append_val(r->marks, m);
  if (r->mark_timeout == 0)
    r->mark_timeout = g_timeout_add(ROOM_MARK_TIMEOUT_MS, on_mark_timeout, r);
}

void room_overlay_shown(room_t *r, guint64 version, gint64 stream_ms) {
  if (stream_ms < 0)
    stream_ms = room_now_stream_ms(r);
  marks_finish(r, version, stream_ms);
}

/* ---- the snapshot ---- */

json_t *room_question_json(room_t *r, gint64 show, gint64 id) {
  /* The newest question below id + 1: that one, if the show has it. */
  json_t *one = id > 0 && id < G_MAXINT64 ? store_questions_json(r->store, show, id + 1, 1) : NULL;
  json_t *q = json_array_get(one, 0), *found = NULL;
  if (q != NULL && json_integer_value(json_object_get(q, "id")) == id)
    found = json_incref(q);
  json_decref(one);
  return found;
}

static void get_question(room_t *r, gint64 show, room_overlay_t *out) {
  json_t *q = room_question_json(r, show, r->highlight);
  if (q == NULL)
    return;
  out->has_question = TRUE;
  out->question_id = r->highlight;
  out->question_name = g_strdup(json_string_value(json_object_get(q, "name")));
  out->question_text = g_strdup(json_string_value(json_object_get(q, "text")));
  out->answer = g_strdup(json_string_value(json_object_get(q, "answer")));
  json_decref(q);
}

static char *product_name(room_t *r, gint64 id) {
  store_product_t p = {0};
  char *name = store_product_get(r->store, id, &p) ? g_strdup(p.name) : NULL;
  store_product_clear(&p);
  return name;
}

void room_overlay_get(room_t *r, room_overlay_t *out) {
  memset(out, 0, sizeof *out);
  gint64 show = store_show_current(r->store);
  if (show == 0)
    return; /* between shows the overlay shows nothing of the room */
  json_t *sj = room_show_json_cached(r);
  if (json_is_object(sj)) {
    out->title = g_strdup(json_string_value(json_object_get(sj, "title")));
    out->promise = g_strdup(json_string_value(json_object_get(sj, "promise")));
  }
  json_decref(sj);
  store_product_t p = {0};
  if (r->pinned != 0 && store_product_get(r->store, r->pinned, &p)) {
    out->has_product = TRUE;
    out->product_id = p.id;
    out->price_cents = p.price_cents;
    out->stock = p.stock;
    out->sold = p.sold;
    out->on_sale = p.on_sale;
    out->product_name = g_strdup(p.name);
    out->unit = g_strdup(p.unit);
    out->image_path = room_product_image_path(r, p.id);
  }
  store_product_clear(&p);
  for (GList *l = r->overlay_ticker.head; l != NULL; l = l->next) {
    const room_ticker_t *t = l->data;
    int i = out->n_ticker++;
    out->ticker[i].seq = t->seq;
    out->ticker[i].name = g_strdup(t->name);
    out->ticker[i].product = product_name(r, t->product_id);
    out->ticker[i].qty = t->qty;
  }
  if (r->highlight != 0)
    get_question(r, show, out);
}

void room_overlay_clear(room_overlay_t *o) {
  g_free(o->title);
  g_free(o->promise);
  g_free(o->product_name);
  g_free(o->unit);
  g_free(o->image_path);
  for (int i = 0; i < o->n_ticker; i++) {
    g_free(o->ticker[i].name);
    g_free(o->ticker[i].product);
  }
  g_free(o->question_name);
  g_free(o->question_text);
  g_free(o->answer);
  memset(o, 0, sizeof *o);
}
