/* ws_load_setup.c — the leader's part before a run: an open show and the products to use.
 *
 * `--setup-product "name,price_cents,stock,limit"` makes the leader create
 * the product (or --setup-count of them, "name #1".."name #N") with
 * product.put and take each id from the `product` broadcast that carries its
 * name; `--product ID[,ID...]` uses existing ones. Either way the leader
 * first begins a show when none is open. It drives no connection itself:
 * the mode feeds it the leader's frames and calls wl_setup_pump.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws_load.h"

static int parse_spec(wl_setup_t *s, const char *spec) {
  const char *c1 = strchr(spec, ',');
  char *e;
  long long v[3];
  const char *p;

  if (!c1 || c1 == spec || (size_t)(c1 - spec) >= sizeof s->base_name)
    return -1;
  memcpy(s->base_name, spec, (size_t)(c1 - spec));
  s->base_name[c1 - spec] = '\0';
  p = c1 + 1;
  for (int i = 0; i < 3; i++) {
    v[i] = strtoll(p, &e, 10);
    if (e == p || v[i] < 0 || (i < 2 ? *e != ',' : *e != '\0'))
      return -1;
    p = e + 1;
  }
  s->price_cents = v[0];
  s->stock = v[1];
  s->limit_per_buyer = v[2];
  return 0;
}

int wl_setup_init(wl_setup_t *s, const wl_opts_t *o, const char *fallback_name,
                  bool fallback_create) {
  memset(s, 0, sizeof *s);
  s->state = WL_SETUP_WAIT_WELCOME;
  s->first_stock = -1;
  snprintf(s->unit, sizeof s->unit, "斤");
  if (o->setup) {
    if (parse_spec(s, o->setup) != 0) {
      snprintf(s->error, sizeof s->error,
               "--setup-product wants \"name,price_cents,stock,limit\", got \"%s\"", o->setup);
      s->state = WL_SETUP_FAILED;
      return -1;
    }
    s->create = true;
    s->count = o->setup_count > 0 ? o->setup_count : 1;
    return 0;
  }
  if (o->n_products > 0) {
    memcpy(s->ids, o->product_ids, sizeof s->ids[0] * (size_t)o->n_products);
    s->n_ids = o->n_products;
    return 0;
  }
  if (!fallback_create) {
    snprintf(s->error, sizeof s->error, "give --product ID or --setup-product SPEC");
    s->state = WL_SETUP_FAILED;
    return -1;
  }
  /* the largest stock the protocol allows; the limit does not matter here */
  snprintf(s->base_name, sizeof s->base_name, "%s", fallback_name);
  s->price_cents = 100;
  s->stock = 1000000;
  s->limit_per_buyer = 99;
  s->create = true;
  s->count = 1;
  return 0;
}

int wl_send_product_put(wl_conn_t *leader, const wl_opts_t *o, const wl_setup_t *s, int64_t id,
                        int64_t stock) {
  char name[400], unit[200], field[80];

  if (id > 0) {
    if (wl_json_quote(field, sizeof field, o->put_id_field ? o->put_id_field : "id") < 0)
      return -1;
    return wl_conn_sendf(leader, "{\"type\":\"product.put\",%s:%lld,\"stock\":%lld}", field,
                         (long long)id, (long long)stock);
  }
  if (wl_json_quote(name, sizeof name, s->name) < 0 ||
      wl_json_quote(unit, sizeof unit, s->unit) < 0)
    return -1;
  return wl_conn_sendf(leader,
                       "{\"type\":\"product.put\",\"name\":%s,\"price_cents\":%lld,\"unit\":%s,"
                       "\"stock\":%lld,\"limit_per_buyer\":%lld,\"on_sale\":true}",
                       name, (long long)s->price_cents, unit, (long long)stock,
                       (long long)s->limit_per_buyer);
}

/* ids[0]'s stock as welcome's products[] has it. */
static void learn_stock(wl_setup_t *s, const wl_msg_t *welcome) {
  wl_jarr_t it;
  wl_jval_t el;
  wl_product_t p;

  wl_jarr_init(&it, &welcome->f[WL_F_PRODUCTS]);
  while (wl_jarr_next(&it, &el) == 1) {
    if (wl_product_from_obj(&el, &p) == 0 && p.id == s->ids[0]) {
      s->first_stock = p.stock;
      return;
    }
  }
}

void wl_setup_on_welcome(wl_setup_t *s, const wl_msg_t *welcome) {
  if (s->state != WL_SETUP_WAIT_WELCOME)
    return;
  /* a welcome too large to keep (the leader's carries the show's orders)
   * has no fields here: then begin a show anyway, it is harmless */
  s->need_show = welcome->f[WL_F_SHOW].type != WL_JOBJ;
  if (!s->create && s->n_ids > 0)
    learn_stock(s, welcome);
  s->state = WL_SETUP_SEND;
}

void wl_setup_pump(wl_setup_t *s, wl_conn_t *leader) {
  if (s->state != WL_SETUP_SEND || leader->tx_queued)
    return;
  if (s->need_show) {
    if (wl_conn_sendf(leader, "{\"type\":\"show.begin\"}") == 0)
      s->need_show = false;
    return;
  }
  if (!s->create || s->n_ids >= s->count) {
    s->state = WL_SETUP_DONE;
    return;
  }
  if (s->count == 1)
    snprintf(s->name, sizeof s->name, "%s", s->base_name);
  else
    snprintf(s->name, sizeof s->name, "%s #%d", s->base_name, s->n_ids + 1);
  if (wl_send_product_put(leader, NULL, s, 0, s->stock) != 0) {
    if (!leader->tx_queued) {
      snprintf(s->error, sizeof s->error, "could not queue product.put");
      s->state = WL_SETUP_FAILED;
    }
    return;
  }
  s->state = WL_SETUP_WAIT_PRODUCT;
}

void wl_setup_on_message(wl_setup_t *s, const wl_msg_t *m, const char *text, size_t len) {
  wl_product_t p;

  if (s->state == WL_SETUP_DONE || s->state == WL_SETUP_FAILED)
    return;
  if (m->type == WL_MSG_ERROR) {
    snprintf(s->error, sizeof s->error, "the leader's set-up was refused: %.*s",
             (int)(len < 150 ? len : 150), text);
    s->state = WL_SETUP_FAILED;
    return;
  }
  if (s->state != WL_SETUP_WAIT_PRODUCT || m->type != WL_MSG_PRODUCT ||
      wl_product_from_msg(m, &p) != 0 || !wl_json_str_eq(&p.name, s->name))
    return;
  s->ids[s->n_ids++] = p.id;
  if (s->n_ids == 1)
    s->first_stock = p.stock;
  s->state = WL_SETUP_SEND;
}
