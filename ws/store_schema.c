/* store_schema.c — the database schema as an ordered list of migrations.
 *
 * PRAGMA user_version is the number of migrations applied. store_open() runs
 * the missing ones, each in its own transaction together with the version
 * bump, so a crash or a failing step leaves the file at the last complete
 * version. Never edit a migration that has shipped: append a new one.
 */
#include "ws/store_priv.h"

/* Rows are never deleted, so the child side of the foreign keys needs no
 * index for ON DELETE checks; the indexes below serve the reads. STRICT
 * tables keep integers integers whatever a caller binds. */
static const char *const migrations[] = {
    /* 1: the first schema. */
    "CREATE TABLE shows ("
    "  id INTEGER PRIMARY KEY,"
    "  title TEXT NOT NULL,"
    "  started_unix_ms INTEGER NOT NULL,"
    "  ended_unix_ms INTEGER,"
    "  ended_stream_ms INTEGER,"
    "  epoch_unix_ms INTEGER," /* wall clock of stream_ms 0 */
    "  promise TEXT,"
    "  highlight_question_id INTEGER REFERENCES questions (id)" /* on screen now */
    ") STRICT;"
    /* Every open show has the same key here: at most one is open. */
    "CREATE UNIQUE INDEX shows_one_open ON shows (ended_unix_ms IS NULL)"
    "  WHERE ended_unix_ms IS NULL;"

    "CREATE TABLE products ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  price_cents INTEGER NOT NULL CHECK (price_cents >= 0),"
    "  unit TEXT NOT NULL DEFAULT '',"
    "  stock INTEGER NOT NULL CHECK (stock >= 0),"
    "  sold INTEGER NOT NULL DEFAULT 0 CHECK (sold >= 0),"
    "  limit_per_buyer INTEGER NOT NULL DEFAULT 0 CHECK (limit_per_buyer >= 0),"
    "  on_sale INTEGER NOT NULL DEFAULT 0 CHECK (on_sale IN (0, 1)),"
    "  image TEXT,"
    "  updated_unix_ms INTEGER NOT NULL"
    ") STRICT;"

    "CREATE TABLE viewers ("
    "  id INTEGER PRIMARY KEY,"
    "  token TEXT NOT NULL UNIQUE,"
    "  name TEXT NOT NULL,"
    "  pickup TEXT NOT NULL,"
    "  phone TEXT NOT NULL,"
    "  ref TEXT,"
    "  created_unix_ms INTEGER NOT NULL"
    ") STRICT;"

    "CREATE TABLE orders ("
    "  id INTEGER PRIMARY KEY,"
    "  show_id INTEGER NOT NULL REFERENCES shows (id),"
    "  viewer_id INTEGER NOT NULL REFERENCES viewers (id),"
    "  product_id INTEGER NOT NULL REFERENCES products (id),"
    "  qty INTEGER NOT NULL CHECK (qty BETWEEN 1 AND 99),"
    "  key TEXT NOT NULL,"
    "  price_cents INTEGER NOT NULL," /* unit price when ordered */
    "  seen_ms INTEGER,"
    "  seen_product_id INTEGER REFERENCES products (id)," /* pinned at seen_ms */
    "  stream_ms INTEGER NOT NULL,"
    "  created_unix_ms INTEGER NOT NULL"
    ") STRICT;"
    /* Idempotency: one order per (viewer, key). Named, not a table
     * constraint, so that statements can say INDEXED BY. */
    "CREATE UNIQUE INDEX orders_viewer_key ON orders (viewer_id, key);"
    /* The picking list reads one show's orders. Appended in show order, so
     * cheap to keep. The per-buyer limit finds a viewer's orders through
     * UNIQUE (viewer_id, key) instead of an index of its own: an index keyed
     * by viewer is written at a random place for every order, and in a
     * batch of 1,000 buyers that is ~1,000 more dirty pages to fsync. */
    "CREATE INDEX orders_show ON orders (show_id);"

    "CREATE TABLE questions ("
    "  id INTEGER PRIMARY KEY,"
    "  show_id INTEGER NOT NULL REFERENCES shows (id),"
    "  viewer_id INTEGER NOT NULL REFERENCES viewers (id),"
    "  text TEXT NOT NULL,"
    "  seen_ms INTEGER,"
    "  stream_ms INTEGER NOT NULL,"
    "  created_unix_ms INTEGER NOT NULL,"
    "  answer TEXT,"
    "  answered_stream_ms INTEGER,"
    "  answered_unix_ms INTEGER"
    ") STRICT;"
    "CREATE INDEX questions_show ON questions (show_id);"

    /* The pin history: product_id NULL is an unpin. */
    "CREATE TABLE pins ("
    "  id INTEGER PRIMARY KEY,"
    "  show_id INTEGER NOT NULL REFERENCES shows (id),"
    "  stream_ms INTEGER NOT NULL,"
    "  product_id INTEGER REFERENCES products (id),"
    "  unix_ms INTEGER NOT NULL"
    ") STRICT;"
    "CREATE INDEX pins_show_stream ON pins (show_id, stream_ms);"

    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY,"
    "  show_id INTEGER NOT NULL REFERENCES shows (id),"
    "  type TEXT NOT NULL,"
    "  stream_ms INTEGER NOT NULL,"
    "  unix_ms INTEGER NOT NULL,"
    "  data TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data))"
    ") STRICT;"
    /* Index entries end with the rowid, so this also orders ties by id. */
    "CREATE INDEX events_show_stream ON events (show_id, stream_ms);",
    /* 2: what the leader announced beyond one show (the next show). */
    "CREATE TABLE settings ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL CHECK (json_valid(value))"
    ") STRICT;",
    /* 3: limits per person. A viewer's phone as digits (store_phone_norm():
     * the per-buyer limit counts every viewer with the same one), and the
     * products that were on sale while each show was open (a replay sells
     * only those). Rows before it: phones normalised by the function that
     * store_open() registers, and a show's products read from its pins and
     * orders. */
    "ALTER TABLE viewers ADD COLUMN phone_norm TEXT;"
    "UPDATE viewers SET phone_norm = tc_phone_norm(phone);"
    "CREATE INDEX viewers_phone_norm ON viewers (phone_norm) WHERE phone_norm IS NOT NULL;"
    "CREATE TABLE show_products ("
    "  show_id INTEGER NOT NULL REFERENCES shows (id),"
    "  product_id INTEGER NOT NULL REFERENCES products (id),"
    "  PRIMARY KEY (show_id, product_id)"
    ") STRICT, WITHOUT ROWID;"
    "INSERT OR IGNORE INTO show_products (show_id, product_id)"
    "  SELECT show_id, product_id FROM pins WHERE product_id IS NOT NULL"
    "  UNION SELECT show_id, product_id FROM orders;",
};

G_STATIC_ASSERT(G_N_ELEMENTS(migrations) == STORE_SCHEMA_VERSION);

static gboolean exec_sql(sqlite3 *db, const char *sql, GError **err) {
  char *msg = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
    return TRUE;
  g_set_error(err, STORE_ERROR, STORE_ERROR_SQLITE, "schema: %s", msg ? msg : "unknown error");
  sqlite3_free(msg);
  return FALSE;
}

static gboolean pragma_int(sqlite3 *db, const char *sql, gint64 *out, GError **err) {
  sqlite3_stmt *s = NULL;
  gboolean ok =
      sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW;
  if (ok)
    *out = sqlite3_column_int64(s, 0);
  else
    g_set_error(err, STORE_ERROR, STORE_ERROR_SQLITE, "schema: %s: %s", sql, sqlite3_errmsg(db));
  sqlite3_finalize(s);
  return ok;
}

/* Inside the migration's transaction: refuses what we must not touch. */
static gboolean check_file(sqlite3 *db, gint64 version, GError **err) {
  gint64 app_id = 0;
  if (!pragma_int(db, "PRAGMA application_id", &app_id, err))
    return FALSE;
  if (app_id != 0 && app_id != STORE_APPLICATION_ID) {
    g_set_error(err, STORE_ERROR, STORE_ERROR_VERSION,
                "not a tourcast database (application_id 0x%08" G_GINT64_MODIFIER "x)", app_id);
    return FALSE;
  }
  if (version < 0) {
    g_set_error(err, STORE_ERROR, STORE_ERROR_VERSION,
                "database schema version %" G_GINT64_FORMAT " is invalid: refusing to open it",
                version);
    return FALSE;
  }
  if (version > STORE_SCHEMA_VERSION) {
    g_set_error(err, STORE_ERROR, STORE_ERROR_VERSION,
                "database schema version %" G_GINT64_FORMAT
                " is newer than this tourcast knows (%d): refusing to open it; "
                "run the tourcast that wrote it",
                version, STORE_SCHEMA_VERSION);
    return FALSE;
  }
  return TRUE;
}

/* One step: BEGIN IMMEDIATE, read the version (under the write lock, so two
 * processes cannot both apply the same migration), apply the next migration
 * if any, COMMIT. *done is set when the schema is current. */
static gboolean migrate_step(sqlite3 *db, gboolean *done, GError **err) {
  gint64 version = 0;
  if (!exec_sql(db, "BEGIN IMMEDIATE", err))
    return FALSE;
  gboolean ok =
      pragma_int(db, "PRAGMA user_version", &version, err) && check_file(db, version, err);
  if (ok && version < STORE_SCHEMA_VERSION) {
    /* PRAGMAs take no parameters; both values are our own integers. */
    char *bump = g_strdup_printf("PRAGMA application_id = %d; PRAGMA user_version = %d;",
                                 STORE_APPLICATION_ID, (int)version + 1);
    ok = exec_sql(db, migrations[version], err) && exec_sql(db, bump, err);
    g_free(bump);
    if (ok)
      GST_INFO("schema migrated to version %d", (int)version + 1);
  }
  *done = ok && version >= STORE_SCHEMA_VERSION;
  if (ok)
    ok = exec_sql(db, "COMMIT", err);
  if (!ok && !sqlite3_get_autocommit(db))
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  return ok;
}

gboolean store_schema_migrate(sqlite3 *db, GError **err) {
  gboolean done = FALSE;
  while (!done)
    if (!migrate_step(db, &done, err))
      return FALSE;
  return TRUE;
}
