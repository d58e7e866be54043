/* fuzz_room.c — libFuzzer target for the message handler: frames into a real room.
 *
 * One room over an in-memory store lives for the whole run. Each input is one
 * connection: its first byte picks who it is (the leader, a viewer, a
 * guest, or nobody yet), the rest is split at newlines into up to 8 frames handled as
 * if they came over /ws; then pending orders are committed and the
 * connection closes. Whatever the bytes, nothing may crash, leak or break
 * the store's invariants (stock never below zero).
 */
#include <stdint.h>
#include <string.h>

#include "ws/room.h"
#include "ws/store.h"

static store_t *store;
static room_t *room;
static ws_conn_id_t next_id = 1;

static void setup(void) {
  GError *err = NULL;
  store = store_open(":memory:", &err);
  if (store == NULL)
    __builtin_trap();
  room_config_t cfg = {.leader_token = "fuzz-leader", .show_title = "fuzz"};
  room = room_new(&cfg, store, &err);
  /* A show and a product, so that orders reach the store. */
  ws_conn_id_t id = next_id++;
  room_test_open(room, id);
  static const char *const frames[] = {
      "{\"type\":\"hello\",\"role\":\"leader\",\"token\":\"fuzz-leader\"}",
      "{\"type\":\"show.begin\"}",
      ("{\"type\":\"product.put\",\"name\":\"桃\",\"price_cents\":100,\"stock\":50,"
       "\"limit_per_buyer\":3,\"on_sale\":true}"),
  };
  for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++)
    room_test_text(room, id, frames[i], strlen(frames[i]));
  room_test_close(room, id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (room == NULL)
    setup();
  if (size == 0)
    return 0;
  ws_conn_id_t id = next_id++;
  room_test_open(room, id);
  static const char *const hellos[] = {
      "{\"type\":\"hello\",\"role\":\"leader\",\"token\":\"fuzz-leader\"}",
      ("{\"type\":\"hello\",\"role\":\"viewer\",\"name\":\"王\",\"pickup\":\"1\",\"phone\":"
       "\"12345\"}"),
      "{\"type\":\"hello\",\"guest\":true}",
  };
  if (data[0] % 4 < 3)
    room_test_text(room, id, hellos[data[0] % 4], strlen(hellos[data[0] % 4]));
  const char *p = (const char *)data + 1, *end = (const char *)data + size;
  for (int frames = 0; p < end && frames < 8; frames++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *stop = nl ? nl : end;
    room_test_text(room, id, p, (gsize)(stop - p));
    p = nl ? nl + 1 : end;
  }
  room_flush_orders(room);
  room_test_close(room, id);
  store_product_t prod = {0};
  if (store_product_get(store, 1, &prod) && (prod.stock < 0 || prod.sold < 0))
    __builtin_trap();
  store_product_clear(&prod);
  return 0;
}
