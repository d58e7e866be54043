/* store_sql.c — every SQL statement the store runs, in one table.
 *
 * All are prepared at store_open(), so a typo or a schema mismatch fails at
 * startup rather than in the middle of a flash sale, and no statement is
 * compiled on the hot path. Parameters are numbered; values are always bound.
 */
#include "ws/store_priv.h"

#define SHOW_COLS                                                                                  \
  "s.id, s.title, s.started_unix_ms, s.ended_unix_ms, s.ended_stream_ms, s.epoch_unix_ms, "        \
  "s.promise, s.highlight_question_id, (SELECT count(*) FROM orders o WHERE o.show_id = s.id)"
#define PRODUCT_COLS                                                                               \
  "id, name, price_cents, unit, stock, sold, limit_per_buyer, on_sale, image, updated_unix_ms"
#define VIEWER_COLS "id, token, name, pickup, phone, ref, created_unix_ms"

const char *const store_sql[ST_N] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",

    [ST_SHOW_INSERT] = "INSERT INTO shows (title, started_unix_ms) VALUES (?1, ?2)",
    [ST_SHOW_CURRENT] = "SELECT id FROM shows WHERE ended_unix_ms IS NULL ORDER BY id DESC LIMIT 1",
    [ST_SHOW_ENDED] = "SELECT ended_unix_ms IS NOT NULL FROM shows WHERE id = ?1",
    [ST_SHOW_END] = "UPDATE shows SET ended_unix_ms = ?2, ended_stream_ms = ?3"
                    " WHERE id = ?1 AND ended_unix_ms IS NULL",
    [ST_SHOW_SET_EPOCH] = "UPDATE shows SET epoch_unix_ms = ?2 WHERE id = ?1",
    [ST_SHOW_SET_PROMISE] = "UPDATE shows SET promise = ?2 WHERE id = ?1",
    [ST_SHOW_SET_TITLE] = "UPDATE shows SET title = ?2 WHERE id = ?1",
    [ST_SHOW_SET_HIGHLIGHT] = "UPDATE shows SET highlight_question_id = ?2 WHERE id = ?1",
    [ST_SHOW_HIGHLIGHT] = "SELECT highlight_question_id FROM shows WHERE id = ?1",
    [ST_SHOW_GET] = "SELECT " SHOW_COLS " FROM shows s WHERE s.id = ?1",
    [ST_SHOWS_LIST] = "SELECT " SHOW_COLS " FROM shows s WHERE s.id < ?1"
                      " ORDER BY s.id DESC LIMIT ?2",

    /* Insert and update share the numbering (?1 is the id, unused by insert). */
    [ST_PRODUCT_INSERT] =
        "INSERT INTO products (name, price_cents, unit, stock, limit_per_buyer,"
        " on_sale, image, updated_unix_ms) VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_PRODUCT_UPDATE] = "UPDATE products SET name = ?2, price_cents = ?3, unit = ?4, stock = ?5,"
                          " limit_per_buyer = ?6, on_sale = ?7, image = ?8, updated_unix_ms = ?9"
                          " WHERE id = ?1 RETURNING sold",
    [ST_PRODUCT_GET] = "SELECT " PRODUCT_COLS " FROM products WHERE id = ?1",
    [ST_PRODUCTS_LIST] = "SELECT " PRODUCT_COLS " FROM products ORDER BY id",
    /* The one place stock moves for an order: the condition and the change
     * are one statement, so stock cannot go below zero whatever the caller
     * checked before. No RETURNING: it buffers its rows in a temporary
     * b-tree, malloc'ed and freed per order, which cost more than the rest
     * of the order put together. */
    [ST_PRODUCTS_COUNT] = "SELECT count(*) FROM products",
    [ST_PRODUCT_TAKE] = "UPDATE products SET stock = stock - ?2, sold = sold + ?2"
                        " WHERE id = ?1 AND stock >= ?2",

    [ST_VIEWER_INSERT] = "INSERT INTO viewers (token, name, pickup, phone, ref, created_unix_ms,"
                         " phone_norm)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, tc_phone_norm(?4))",
    [ST_VIEWER_UPDATE] = "UPDATE viewers SET name = ?2, pickup = ?3, phone = ?4,"
                         " phone_norm = tc_phone_norm(?4) WHERE id = ?1",
    [ST_VIEWER_BY_TOKEN] = "SELECT " VIEWER_COLS " FROM viewers WHERE token = ?1",
    [ST_VIEWER_BY_ID] = "SELECT " VIEWER_COLS " FROM viewers WHERE id = ?1",
    [ST_VIEWER_NAME] = "SELECT name FROM viewers WHERE id = ?1",

    [ST_ORDER_FIND] = "SELECT id, product_id, qty, stream_ms, price_cents FROM orders"
                      " WHERE viewer_id = ?1 AND key = ?2",
    /* A viewer's orders, all shows, then filtered: a few dozen rows for the
     * most loyal neighbour, and no index of its own to keep (store_schema.c). */
    /* Per person: every viewer with the viewer's phone (store_phone_norm()). */
    [ST_ORDER_QTY_SUM] = "SELECT coalesce(sum(qty), 0) FROM orders INDEXED BY orders_viewer_key"
                         " WHERE viewer_id IN (SELECT ?2 UNION SELECT id FROM viewers"
                         "   WHERE phone_norm = (SELECT phone_norm FROM viewers WHERE id = ?2))"
                         " AND show_id = ?1 AND product_id = ?3",
    /* A replay sells what was on sale while its show was open. */
    [ST_SHOW_PRODUCT_HAS] = "SELECT 1 FROM show_products WHERE show_id = ?1 AND product_id = ?2",
    [ST_SHOW_PRODUCT_ADD] = "INSERT OR IGNORE INTO show_products (show_id, product_id)"
                            " VALUES (?1, ?2)",
    /* At show begin, and when a product goes on sale while a show is open. */
    [ST_SHOW_PRODUCTS_ON_SALE] = "INSERT OR IGNORE INTO show_products (show_id, product_id)"
                                 " SELECT s.id, p.id FROM shows s, products p"
                                 " WHERE s.ended_unix_ms IS NULL AND p.on_sale = 1"
                                 " AND (?1 = 0 OR p.id = ?1)",
    [ST_ORDER_INSERT] = "INSERT INTO orders (show_id, viewer_id, product_id, qty, key, price_cents,"
                        " seen_ms, seen_product_id, stream_ms, created_unix_ms)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    /* An order is a replay order when it came after its show ended. */
    [ST_ORDERS_OF_VIEWER] = "SELECT o.id, o.product_id, o.qty, o.stream_ms, o.key, o.price_cents,"
                            " o.seen_ms, o.created_unix_ms,"
                            " o.created_unix_ms > coalesce(s.ended_unix_ms, 9e18)"
                            " FROM orders o INDEXED BY orders_viewer_key"
                            " JOIN shows s ON s.id = o.show_id"
                            " WHERE o.viewer_id = ?2 AND o.show_id = ?1"
                            " ORDER BY o.id DESC LIMIT ?3",
    [ST_ORDERS_OF_SHOW] = "SELECT o.id, o.product_id, o.qty, o.stream_ms, o.key, o.price_cents,"
                          " o.seen_ms, o.created_unix_ms,"
                          " o.created_unix_ms > coalesce(s.ended_unix_ms, 9e18),"
                          " o.viewer_id, v.name, v.pickup, v.phone, o.seen_product_id,"
                          " p.name, p.unit, o.show_id,"
                          " coalesce((SELECT min(w.id) FROM viewers w"
                          "   WHERE w.phone_norm = v.phone_norm), v.id)"
                          " FROM orders o JOIN viewers v ON v.id = o.viewer_id"
                          " JOIN shows s ON s.id = o.show_id JOIN products p ON p.id = o.product_id"
                          " WHERE o.show_id = ?1 AND o.id < ?2 ORDER BY o.id DESC LIMIT ?3",
    [ST_ORDERS_COUNT] = "SELECT count(*) FROM orders WHERE show_id = ?1",
    [ST_ORDERS_COUNT_OF_VIEWER] = "SELECT count(*) FROM orders INDEXED BY orders_viewer_key"
                                  " WHERE viewer_id = ?2 AND show_id = ?1",
    [ST_SHOW_TOTALS] =
        "SELECT coalesce(sum(o.qty * o.price_cents), 0), count(DISTINCT o.viewer_id),"
        " coalesce(sum(o.created_unix_ms > coalesce(s.ended_unix_ms, 9e18)), 0)"
        " FROM orders o JOIN shows s ON s.id = o.show_id WHERE o.show_id = ?1",
    [ST_SETTING_GET] = "SELECT value FROM settings WHERE key = ?1",
    [ST_SETTING_PUT] = "INSERT INTO settings (key, value) VALUES (?1, ?2)"
                       " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    [ST_SETTING_DELETE] = "DELETE FROM settings WHERE key = ?1",
    [ST_SHOW_PREVIOUS] = "SELECT title, promise FROM shows WHERE ended_unix_ms IS NOT NULL"
                         " ORDER BY id DESC LIMIT 1",
    [ST_SHOW_LAST_ENDED] = "SELECT id FROM shows WHERE ended_unix_ms IS NOT NULL"
                           " ORDER BY id DESC LIMIT 1",
    /* A person's orders together (viewers with the same phone), under the
     * name of their first viewer. */
    [ST_ORDERS_CSV] = "SELECT v.pickup, v.name, v.phone, p.name, o.qty, p.unit,"
                      " o.qty * o.price_cents, o.id, o.created_unix_ms,"
                      " coalesce((SELECT min(w.id) FROM viewers w"
                      "   WHERE w.phone_norm = v.phone_norm), v.id) AS person"
                      " FROM orders o JOIN viewers v ON v.id = o.viewer_id"
                      " JOIN products p ON p.id = o.product_id"
                      " WHERE o.show_id = ?1 ORDER BY v.pickup,"
                      " (SELECT f.name FROM viewers f WHERE f.id = person), person, v.id, o.id",

    [ST_QUESTION_INSERT] = "INSERT INTO questions (show_id, viewer_id, text, seen_ms, stream_ms,"
                           " created_unix_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_QUESTION_ANSWER] = "UPDATE questions SET answer = ?2, answered_stream_ms = ?3,"
                           " answered_unix_ms = ?4 WHERE id = ?1",
    [ST_QUESTION_GET] = "SELECT q.show_id, q.text, v.name FROM questions q"
                        " JOIN viewers v ON v.id = q.viewer_id WHERE q.id = ?1",
    [ST_QUESTIONS_LIST] = "SELECT q.id, q.viewer_id, v.name, q.text, q.seen_ms, q.stream_ms,"
                          " q.created_unix_ms, q.answer, q.answered_stream_ms"
                          " FROM questions q JOIN viewers v ON v.id = q.viewer_id"
                          " WHERE q.show_id = ?1 AND q.id < ?2 ORDER BY q.id DESC LIMIT ?3",
    [ST_QUESTIONS_COUNT] = "SELECT count(*) FROM questions WHERE show_id = ?1",

    [ST_PIN_INSERT] = "INSERT INTO pins (show_id, stream_ms, product_id, unix_ms)"
                      " VALUES (?1, ?2, ?3, ?4)",
    [ST_PIN_AT] = "SELECT product_id FROM pins WHERE show_id = ?1 AND stream_ms <= ?2"
                  " ORDER BY stream_ms DESC, id DESC LIMIT 1",
    [ST_PINS_RECENT] = "SELECT product_id, stream_ms FROM pins WHERE show_id = ?1"
                       " ORDER BY stream_ms DESC, id DESC LIMIT ?2",

    [ST_EVENT_INSERT] = "INSERT INTO events (show_id, type, stream_ms, unix_ms, data)"
                        " VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_EVENTS_LIST] = "SELECT id, type, stream_ms, unix_ms, data FROM events"
                       " WHERE show_id = ?1 AND (stream_ms, id) > (?2, ?3)"
                       " ORDER BY stream_ms, id LIMIT ?4",
};
