/* store_csv.c — the picking list: one show's orders as CSV, grouped by pickup
 * point, for the leader to hand out goods.
 *
 * Leaders open it in Excel or WPS, so: a UTF-8 BOM (without it Excel reads
 * Chinese as mojibake), CRLF lines, RFC 4180 quoting, and no field that a
 * spreadsheet would run as a formula (a viewer named "=HYPERLINK(...)" stays
 * text). It contains phone numbers and is for the leader only.
 */
#include <string.h>

#include "ws/store_priv.h"

#define CSV_BOM "\xEF\xBB\xBF"
#define CSV_HEADER "自提点,姓名,电话,商品,数量,单位,金额(元),订单号,下单时间"

/* Appends one field and its separator (',' or CRLF after the last). */
static void csv_field(GString *out, const char *v, gboolean last) {
  if (v == NULL)
    v = "";
  /* OWASP's rule for CSV injection: these first characters start a formula
   * (or, for tab and CR, hide one); an apostrophe makes the cell text. */
  gboolean formula = v[0] != '\0' && strchr("=+-@\t\r", v[0]) != NULL;
  gboolean quote = strpbrk(v, ",\"\r\n") != NULL;
  if (quote)
    g_string_append_c(out, '"');
  if (formula)
    g_string_append_c(out, '\'');
  for (const char *p = v; *p != '\0'; p++) {
    if (*p == '"')
      g_string_append_c(out, '"');
    g_string_append_c(out, *p);
  }
  if (quote)
    g_string_append_c(out, '"');
  g_string_append(out, last ? "\r\n" : ",");
}

static void csv_int(GString *out, gint64 v) {
  g_string_append_printf(out, "%" G_GINT64_FORMAT ",", v);
}

/* The server's local time (the leader's, in practice), as Excel reads it. */
static void csv_time(GString *out, gint64 unix_ms) {
  GDateTime *t = g_date_time_new_from_unix_local(unix_ms / 1000);
  char *text = t ? g_date_time_format(t, "%Y-%m-%d %H:%M:%S") : NULL;
  csv_field(out, text, TRUE);
  g_free(text);
  if (t)
    g_date_time_unref(t);
}

static void csv_row(GString *out, sqlite3_stmt *s) {
  for (int col = 0; col < 4; col++) /* pickup, name, phone, product */
    csv_field(out, (const char *)sqlite3_column_text(s, col), FALSE);
  csv_int(out, sqlite3_column_int64(s, 4));
  csv_field(out, (const char *)sqlite3_column_text(s, 5), FALSE);
  /* Amounts are bounded (qty <= 99, price <= STORE_PRICE_MAX) and never negative. */
  gint64 cents = sqlite3_column_int64(s, 6);
  g_string_append_printf(out, "%" G_GINT64_FORMAT ".%02d,", cents / 100, (int)(cents % 100));
  csv_int(out, sqlite3_column_int64(s, 7));
  csv_time(out, sqlite3_column_int64(s, 8));
}

gboolean store_orders_csv(store_t *st, gint64 show_id, GString *out) {
  g_return_val_if_fail(st != NULL && out != NULL, FALSE);
  g_string_append(out, CSV_BOM CSV_HEADER "\r\n");
  sqlite3_stmt *s = store_stmt(st, ST_ORDERS_CSV);
  sqlite3_bind_int64(s, 1, show_id);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    csv_row(out, s);
  if (rc != SQLITE_DONE)
    store_fail(st, NULL, "orders csv");
  store_done(s);
  return rc == SQLITE_DONE;
}
