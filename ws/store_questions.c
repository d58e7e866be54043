/* store_questions.c — questions from viewers, the leader's answers, and the
 * question highlighted on screen; each write stores its event in the same
 * transaction. Names leave here masked: questions are shown to every viewer.
 */
#include "ws/store_priv.h"

static gboolean question_insert(store_t *st, gint64 show_id, gint64 viewer_id, const char *text,
                                gint64 seen_ms, gint64 stream_ms, gint64 unix_ms, gint64 *id,
                                GError **err) {
  if (!store_show_require_open(st, show_id, err))
    return FALSE;
  char *name = store_viewer_masked(st, viewer_id, err);
  if (name == NULL)
    return FALSE;
  sqlite3_stmt *s = store_stmt(st, ST_QUESTION_INSERT);
  sqlite3_bind_int64(s, 1, show_id);
  sqlite3_bind_int64(s, 2, viewer_id);
  store_bind_text(s, 3, text);
  store_bind_opt(s, 4, seen_ms);
  sqlite3_bind_int64(s, 5, stream_ms);
  sqlite3_bind_int64(s, 6, unix_ms);
  gboolean ok = store_exec(st, s, err, "question insert");
  if (ok) {
    *id = sqlite3_last_insert_rowid(st->db);
    json_t *data = json_pack("{sI sI ss so}", "question_id", (json_int_t)*id, "viewer_id",
                             (json_int_t)viewer_id, "name", name, "text", store_json_text(text));
    ok = store_event_insert(st, show_id, "question", stream_ms, unix_ms, data, err);
    json_decref(data);
  }
  g_free(name);
  return ok;
}

gint64 store_question_add(store_t *st, gint64 show_id, gint64 viewer_id, const char *text,
                          gint64 seen_ms, gint64 stream_ms, gint64 unix_ms, GError **err) {
  g_return_val_if_fail(st != NULL, 0);
  if (text == NULL) {
    g_set_error_literal(err, STORE_ERROR, STORE_ERROR_INVALID, "question text is required");
    return 0;
  }
  gint64 id = 0;
  if (!store_tx_begin(st, err))
    return 0;
  gboolean ok =
      question_insert(st, show_id, viewer_id, text, seen_ms, stream_ms, unix_ms, &id, err);
  return store_tx_end(st, ok, err) ? id : 0;
}

/* A question's show, and a JSON of its masked asker and text; 0 if none. */
static gint64 question_get(store_t *st, gint64 question_id, json_t **about, GError **err) {
  sqlite3_stmt *s = store_stmt(st, ST_QUESTION_GET);
  sqlite3_bind_int64(s, 1, question_id);
  int rc = sqlite3_step(s);
  gint64 show_id = 0;
  if (rc == SQLITE_ROW) {
    show_id = sqlite3_column_int64(s, 0);
    char *name = store_mask_name((const char *)sqlite3_column_text(s, 2));
    *about = json_pack("{sI ss so}", "question_id", (json_int_t)question_id, "name", name, "text",
                       store_json_col_text(s, 1));
    g_free(name);
  } else if (rc == SQLITE_DONE) {
    g_set_error(err, STORE_ERROR, STORE_ERROR_NOT_FOUND, "no question %" G_GINT64_FORMAT,
                question_id);
  } else {
    store_fail(st, err, "question get");
  }
  store_done(s);
  return show_id;
}

static gboolean answer_write(store_t *st, gint64 question_id, const char *answer, gint64 stream_ms,
                             gint64 unix_ms, GError **err) {
  json_t *data = NULL;
  gint64 show_id = question_get(st, question_id, &data, err);
  if (show_id == 0)
    return FALSE;
  json_object_set_new(data, "answer", store_json_text(answer));
  sqlite3_stmt *s = store_stmt(st, ST_QUESTION_ANSWER);
  sqlite3_bind_int64(s, 1, question_id);
  store_bind_text(s, 2, answer);
  sqlite3_bind_int64(s, 3, stream_ms);
  sqlite3_bind_int64(s, 4, unix_ms);
  gboolean ok = store_exec(st, s, err, "answer") &&
                store_event_insert(st, show_id, "answer", stream_ms, unix_ms, data, err);
  json_decref(data);
  return ok;
}

gboolean store_question_answer(store_t *st, gint64 question_id, const char *answer,
                               gint64 stream_ms, gint64 unix_ms, GError **err) {
  g_return_val_if_fail(st != NULL, FALSE);
  if (answer == NULL) {
    g_set_error_literal(err, STORE_ERROR, STORE_ERROR_INVALID, "answer text is required");
    return FALSE;
  }
  if (!store_tx_begin(st, err))
    return FALSE;
  return store_tx_end(st, answer_write(st, question_id, answer, stream_ms, unix_ms, err), err);
}

static gboolean highlight_write(store_t *st, gint64 show_id, gint64 question_id, gint64 stream_ms,
                                gint64 unix_ms, GError **err) {
  if (!store_show_require_open(st, show_id, err))
    return FALSE;
  json_t *data = NULL;
  if (question_id == 0) {
    data = json_pack("{sn}", "question_id");
  } else {
    gint64 of_show = question_get(st, question_id, &data, err);
    if (of_show == 0)
      return FALSE;
    if (of_show != show_id) {
      json_decref(data);
      g_set_error(err, STORE_ERROR, STORE_ERROR_NOT_FOUND,
                  "question %" G_GINT64_FORMAT " is not in show %" G_GINT64_FORMAT, question_id,
                  show_id);
      return FALSE;
    }
  }
  sqlite3_stmt *s = store_stmt(st, ST_SHOW_SET_HIGHLIGHT);
  sqlite3_bind_int64(s, 1, show_id);
  store_bind_opt(s, 2, question_id > 0 ? question_id : -1);
  gboolean ok = store_exec(st, s, err, "highlight") &&
                store_event_insert(st, show_id, "highlight", stream_ms, unix_ms, data, err);
  json_decref(data);
  return ok;
}

gboolean store_highlight(store_t *st, gint64 show_id, gint64 question_id, gint64 stream_ms,
                         gint64 unix_ms, GError **err) {
  g_return_val_if_fail(st != NULL, FALSE);
  if (!store_tx_begin(st, err))
    return FALSE;
  gboolean ok = highlight_write(st, show_id, question_id, stream_ms, unix_ms, err);
  return store_tx_end(st, ok, err);
}

gint64 store_highlighted(store_t *st, gint64 show_id) {
  g_return_val_if_fail(st != NULL, 0);
  sqlite3_stmt *s = store_stmt(st, ST_SHOW_HIGHLIGHT);
  sqlite3_bind_int64(s, 1, show_id);
  int rc = sqlite3_step(s);
  gint64 id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0; /* NULL reads as 0 */
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    store_fail(st, NULL, "highlighted");
  store_done(s);
  return id;
}

static json_t *question_from_row(sqlite3_stmt *s) {
  char *name = store_mask_name((const char *)sqlite3_column_text(s, 2));
  json_t *q = json_pack(
      "{sI sI ss so so sI sI so so}", "id", (json_int_t)sqlite3_column_int64(s, 0), "viewer_id",
      (json_int_t)sqlite3_column_int64(s, 1), "name", name, "text", store_json_col_text(s, 3),
      "seen_ms", store_json_col_int(s, 4), "stream_ms", (json_int_t)sqlite3_column_int64(s, 5),
      "unix_ms", (json_int_t)sqlite3_column_int64(s, 6), "answer", store_json_col_text(s, 7),
      "answered_stream_ms", store_json_col_int(s, 8));
  g_free(name);
  return q;
}

json_t *store_questions_json(store_t *st, gint64 show_id, gint64 before_id, int limit) {
  g_return_val_if_fail(st != NULL, NULL);
  sqlite3_stmt *s = store_stmt(st, ST_QUESTIONS_LIST);
  sqlite3_bind_int64(s, 1, show_id);
  sqlite3_bind_int64(s, 2, before_id > 0 ? before_id : G_MAXINT64);
  sqlite3_bind_int(s, 3, MAX(limit, 0));
  return store_rows_json_newest(st, s, question_from_row, "questions list");
}

gint64 store_questions_count(store_t *st, gint64 show_id) {
  g_return_val_if_fail(st != NULL, -1);
  sqlite3_stmt *s = store_stmt(st, ST_QUESTIONS_COUNT);
  sqlite3_bind_int64(s, 1, show_id);
  return store_int_row(st, s, NULL, "questions count");
}
