/* room_show.c — the life cycle of a show: one state, one transition function.
 *
 * A show and a phone have lives of their own: the phone may stay connected
 * between two shows, a show may run on the standby slate with no phone, and
 * a show open when the process stopped is resumed when it starts again.
 *
 *                 show.begin, no phone                 phone connects
 *   NONE ─────────────────────────────────▶ WAITING ──────────────────┐
 *    │  phone connects (a show begins),                                ▼
 *    │  or show.begin with the phone connected                     STARTING
 *    ├────────────────────────────────────────────────────────────▶ │ first frame: the epoch
 *    │  start-up with a show open: resumed, slate at once            ▼
 *    └────────────────────────────────────────────────────────▶  LIVE ⇄ SLATE
 *                                                           (phone's picture / the slate)
 *   WAITING, STARTING, LIVE, SLATE ── show.end, or the slate too long ──▶ NONE
 *
 * Each transition says what the outside sees: the store, the media output
 * (through cfg.output), and the `show` broadcast with the state in it. Not
 * here: what a frame shows (room_overlay.c), orders (room_orders.c).
 */
#include <string.h>

#include "ws/room_priv.h"

static const char *const state_names[] = {
    [ROOM_SHOW_NONE] = "ended", [ROOM_SHOW_WAITING] = "waiting", [ROOM_SHOW_STARTING] = "waiting",
    [ROOM_SHOW_LIVE] = "live",  [ROOM_SHOW_SLATE] = "slate",
};

static const char *const state_log[] = {"none", "waiting", "starting", "live", "slate"};

static gint64 unix_ms(void) {
  return g_get_real_time() / 1000;
}

/* ---- the show as pages see it ---- */

static gboolean has_replay(room_t *r, gint64 show) {
  if (r->cfg.shows_dir == NULL)
    return FALSE;
  char id[24];
  g_snprintf(id, sizeof id, "%" G_GINT64_FORMAT, show);
  char *path = g_build_filename(r->cfg.shows_dir, id, "index.m3u8", NULL);
  gboolean ok = g_file_test(path, G_FILE_TEST_IS_REGULAR);
  g_free(path);
  return ok;
}

/* Adds what only the room knows to a stored show's JSON: its state, how
 * long it has run, whether it has a replay; the leader's totals when asked.
 * What a show sold (the order count, GMV, buyers) is the leader's
 * business: anyone else gets the show without it. */
static json_t *decorate(room_t *r, json_t *j, gboolean leader) {
  if (j == NULL)
    return NULL;
  gint64 id = json_integer_value(json_object_get(j, "id"));
  json_t *ended = json_object_get(j, "ended_stream_ms");
  gboolean open = id == store_show_current(r->store);
  json_object_set_new(j, "state", json_string(state_names[open ? r->show_state : ROOM_SHOW_NONE]));
  gint64 duration = json_is_integer(ended) ? json_integer_value(ended)
                    : open                 ? room_now_stream_ms(r)
                                           : 0;
  json_object_set_new(j, "duration_ms", json_integer(duration));
  json_object_set_new(j, "has_replay", json_boolean(has_replay(r, id)));
  if (!leader)
    json_object_del(j, "orders");
  store_show_totals_t t;
  if (leader && store_show_totals(r->store, id, &t)) {
    json_object_set_new(j, "gmv_cents", json_integer(t.gmv_cents));
    json_object_set_new(j, "buyers", json_integer(t.buyers));
    json_object_set_new(j, "replay_orders", json_integer(t.replay_orders));
  }
  return j;
}

json_t *room_show_json(room_t *r, gint64 show, gboolean leader) {
  return show ? decorate(r, store_show_json(r->store, show), leader) : NULL;
}

json_t *room_shows_json(room_t *r, gboolean leader, gint64 before_id, int limit) {
  json_t *list = store_shows_json(r->store, before_id, limit);
  gsize i;
  json_t *j;
  json_array_foreach(list, i, j) decorate(r, j, leader);
  return list;
}

static json_t *show_json_or_null(room_t *r, gint64 show) {
  json_t *j = room_show_json(r, show, FALSE);
  return j ? j : json_null();
}

static void show_cache_drop(room_t *r) {
  g_clear_pointer(&r->show_cache, json_decref);
  g_clear_pointer(&r->last_show_cache, json_decref);
}

/* The open show and the last ended one as welcomes carry them.
 * store_show_json() counts a show's orders, O(orders), and has_replay looks
 * at the disk: a crowd reconnecting after a flash sale would pay both once
 * per hello, so welcomes share copies at most a second old (only "orders"
 * and the duration can be stale; show changes drop the copies). */
static void show_cache_fill(room_t *r) {
  gint64 now = g_get_monotonic_time();
  if (r->show_cache != NULL && now - r->show_cache_us <= G_USEC_PER_SEC)
    return;
  show_cache_drop(r);
  r->show_cache = show_json_or_null(r, store_show_current(r->store));
  r->last_show_cache = show_json_or_null(r, store_show_last_ended(r->store));
  r->show_cache_us = now;
}

json_t *room_show_json_cached(room_t *r) {
  show_cache_fill(r);
  return json_incref(r->show_cache);
}

json_t *room_last_show_json_cached(room_t *r) {
  show_cache_fill(r);
  return json_incref(r->last_show_cache);
}

json_t *room_next_show_json(room_t *r) {
  json_t *j = store_setting_get(r->store, "next_show");
  return j ? j : json_null();
}

/* Everyone hears the show `show` as it is now (open, or just ended). */
static void announce(room_t *r, gint64 show) {
  show_cache_drop(r);
  json_t *j = room_show_json(r, show, FALSE);
  room_broadcast_json(r, json_pack("{s:s, s:o}", "type", "show", "show", j ? j : json_null()),
                      FALSE);
}

/* ---- the transition ---- */

typedef enum {
  SHOW_EV_BEGIN,       /* the leader's show.begin (or a phone with no show open) */
  SHOW_EV_END,         /* the leader's show.end, or the slate on air too long */
  SHOW_EV_PHONE,       /* the phone connected */
  SHOW_EV_FIRST_FRAME, /* the output's first frame went out: its epoch is known */
  SHOW_EV_FEED_LIVE,   /* the output switched to the phone's picture */
  SHOW_EV_FEED_SLATE,  /* ... or to the slate */
  SHOW_EV_RESUME,      /* start-up with a show open */
} show_event_t;

typedef struct {
  const char *title, *promise; /* BEGIN */
  gboolean carry_over;         /* BEGIN */
  gint64 show_id, epoch;       /* FIRST_FRAME */
  gint64 stream_ms;            /* FEED_*: the frame of the switch; END: -1 the clock */
} show_args_t;

static gboolean do_begin(room_t *r, const show_args_t *a, GError **err) {
  char *old_title = NULL, *old_promise = NULL;
  if (a->carry_over)
    store_show_previous(r->store, &old_title, &old_promise);
  const char *title = a->title ? a->title : old_title ? old_title : r->cfg.show_title;
  const char *promise = a->promise ? a->promise : old_promise;
  gint64 show = store_show_begin(r->store, title, unix_ms(), err);
  gboolean ok = show != 0 && (promise == NULL || promise[0] == '\0' ||
                              store_show_set_promise(r->store, show, promise, err));
  g_free(old_title);
  g_free(old_promise);
  if (!ok)
    return FALSE;
  /* A clean unit: nothing on screen or in the ticker comes from the last one. */
  r->pinned = r->highlight = 0;
  room_overlay_reset(r);
  room_ticker_reset(r);
  return TRUE;
}

static gboolean do_end(room_t *r, gint64 show, gint64 stream_ms, GError **err) {
  room_orders_flush(r);  /* orders already sent belong to this show */
  room_overlay_reset(r); /* and so do pins waiting for their frame */
  gint64 at = stream_ms >= 0 ? stream_ms : room_now_stream_ms(r);
  if (!store_show_end(r->store, show, at, unix_ms(), err))
    return FALSE;
  r->pinned = r->highlight = 0;
  r->publisher_live = FALSE;
  room_overlay_changed(r); /* between shows the overlay shows nothing of the room */
  if (r->cfg.output != NULL)
    r->cfg.output(r->cfg.clock_user, show, FALSE);
  return TRUE;
}

/* The output switched at `stream_ms`: the timeline records it and pages
 * show "reconnecting" while the slate is on. */
static void feed_switched(room_t *r, gint64 show, gboolean live, gint64 stream_ms) {
  if (live == r->publisher_live)
    return;
  store_event_add(r->store, show, live ? "publisher.resume" : "publisher.drop", stream_ms,
                  unix_ms(), NULL, NULL);
  room_broadcast_json(r,
                      json_pack("{s:s, s:b, s:I}", "type", "publisher", "live", live, "stream_ms",
                                (json_int_t)stream_ms),
                      FALSE);
  r->publisher_live = live;
}

static void output_on(room_t *r, gint64 show) {
  if (r->cfg.output != NULL)
    r->cfg.output(r->cfg.clock_user, show, TRUE);
}

/* The one place the show's state changes. FALSE with `err` set when the
 * store refused (nothing changed then). */
static gboolean show_step(room_t *r, show_event_t ev, const show_args_t *a, GError **err) {
  room_show_state_t from = r->show_state, to = from;
  gint64 show = store_show_current(r->store);
  switch (ev) {
    case SHOW_EV_BEGIN:
      if (from != ROOM_SHOW_NONE)
        return TRUE; /* one show at a time: the open one goes on */
      if (!do_begin(r, a, err))
        return FALSE;
      show = store_show_current(r->store);
      to = r->phone_connected ? ROOM_SHOW_STARTING : ROOM_SHOW_WAITING;
      if (to == ROOM_SHOW_STARTING)
        output_on(r, show);
      break;
    case SHOW_EV_PHONE:
      r->phone_connected = TRUE;
      if (from == ROOM_SHOW_NONE) /* a publish also begins a show */
        return show_step(r, SHOW_EV_BEGIN, a, err);
      if (from == ROOM_SHOW_WAITING) {
        output_on(r, show);
        to = ROOM_SHOW_STARTING;
      }
      break;
    case SHOW_EV_RESUME:
      if (show == 0)
        return TRUE;
      output_on(r, show); /* no phone yet: the slate at once, the timeline goes on */
      to = ROOM_SHOW_STARTING;
      break;
    case SHOW_EV_FIRST_FRAME:
      if (show == 0 || a->show_id != show)
        return TRUE; /* an output of an earlier show, late */
      /* Announced with the switch to live or the slate that this same
       * frame posts next: one `show` message with the state and epoch. */
      store_show_set_epoch(r->store, show, a->epoch, NULL);
      show_cache_drop(r);
      break;
    case SHOW_EV_FEED_LIVE:
    case SHOW_EV_FEED_SLATE:
      if (from < ROOM_SHOW_STARTING)
        return TRUE;
      feed_switched(r, show, ev == SHOW_EV_FEED_LIVE, a->stream_ms);
      to = ev == SHOW_EV_FEED_LIVE ? ROOM_SHOW_LIVE : ROOM_SHOW_SLATE;
      break;
    case SHOW_EV_END:
      if (show == 0)
        return TRUE;
      if (!do_end(r, show, a->stream_ms, err))
        return FALSE;
      to = ROOM_SHOW_NONE;
      break;
  }
  r->show_state = to;
  if (to != from) {
    g_message("show %" G_GINT64_FORMAT ": %s -> %s", show, state_log[from], state_log[to]);
    announce(r, show);
    room_overlay_changed(r);
  }
  return TRUE;
}

/* ---- what the wiring tells the room ---- */

void room_show_init(room_t *r) {
  /* A show left open by the last process: resumed by room_show_resume(). */
  r->show_state = store_show_current(r->store) ? ROOM_SHOW_WAITING : ROOM_SHOW_NONE;
}

void room_phone(room_t *r, gboolean connected) {
  GError *err = NULL;
  show_args_t a = {.stream_ms = -1};
  if (!connected) {
    r->phone_connected = FALSE; /* the output's switch to the slate follows */
    return;
  }
  if (!show_step(r, SHOW_EV_PHONE, &a, &err)) {
    g_message("cannot begin a show: %s", err->message);
    g_clear_error(&err);
  }
}

void room_publisher_at(room_t *r, gboolean live, gint64 stream_ms) {
  show_args_t a = {.stream_ms = stream_ms};
  show_step(r, live ? SHOW_EV_FEED_LIVE : SHOW_EV_FEED_SLATE, &a, NULL);
}

void room_show_started(room_t *r, gint64 show_id, gint64 epoch_unix_ms) {
  show_args_t a = {.show_id = show_id, .epoch = epoch_unix_ms, .stream_ms = -1};
  show_step(r, SHOW_EV_FIRST_FRAME, &a, NULL);
}

gboolean room_show_resume(room_t *r, gboolean resume, gint64 ended_stream_ms) {
  GError *err = NULL;
  show_args_t a = {.stream_ms = ended_stream_ms};
  if (store_show_current(r->store) == 0)
    return FALSE;
  if (!show_step(r, resume ? SHOW_EV_RESUME : SHOW_EV_END, &a, &err)) {
    g_message("cannot end the show left open: %s", err->message);
    g_clear_error(&err);
    return FALSE;
  }
  return TRUE;
}

gboolean room_show_end(room_t *r) {
  GError *err = NULL;
  show_args_t a = {.stream_ms = -1};
  gint64 show = store_show_current(r->store);
  if (show == 0)
    return FALSE;
  if (!show_step(r, SHOW_EV_END, &a, &err)) {
    g_message("cannot end show %" G_GINT64_FORMAT ": %s", show, err->message);
    g_clear_error(&err);
    return FALSE;
  }
  return TRUE;
}

/* ---- the leader's show.begin, show.update, show.end, show.schedule ---- */

static void on_schedule(room_t *r, ws_conn_id_t id, const proto_msg_t *m) {
  GError *err = NULL;
  json_t *next = m->u.schedule.at_unix_ms == 0
                     ? NULL
                     : json_pack("{s:s, s:I}", "title", m->u.schedule.title, "at_unix_ms",
                                 (json_int_t)m->u.schedule.at_unix_ms);
  gboolean ok = store_setting_put(r->store, "next_show", next, &err);
  if (!ok) {
    json_decref(next);
    room_store_failed(r, id, m->ref, err);
    return;
  }
  room_broadcast_json(
      r, json_pack("{s:s, s:o}", "type", "schedule", "next_show", next ? next : json_null()),
      FALSE);
}

void room_on_show(room_t *r, ws_conn_id_t id, const proto_msg_t *m) {
  GError *err = NULL;
  const typeof(m->u.show_begin) *in = &m->u.show_begin;
  if (m->type == PROTO_SHOW_SCHEDULE) {
    on_schedule(r, id, m);
    return;
  }
  if (m->type == PROTO_SHOW_BEGIN) {
    show_args_t a = {in->title, in->promise, in->carry_over, 0, 0, -1};
    if (!show_step(r, SHOW_EV_BEGIN, &a, &err))
      room_store_failed(r, id, m->ref, err);
    return;
  }
  gint64 show = store_show_current(r->store);
  if (show == 0) {
    room_error(r, id, PROTO_ERR_INVALID, "no show is on", m->ref);
    return;
  }
  if (m->type == PROTO_SHOW_UPDATE) {
    if ((in->title != NULL && !store_show_set_title(r->store, show, in->title, &err)) ||
        (in->promise != NULL &&
         !store_show_set_promise(r->store, show, in->promise[0] ? in->promise : NULL, &err))) {
      room_store_failed(r, id, m->ref, err);
      return;
    }
    announce(r, show);
    room_overlay_changed(r);
    return;
  }
  show_args_t a = {.stream_ms = -1};
  if (!show_step(r, SHOW_EV_END, &a, &err))
    room_store_failed(r, id, m->ref, err);
}
