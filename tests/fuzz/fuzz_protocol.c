/* fuzz_protocol.c — libFuzzer target for tourcast.v1 frame parsing.
 *
 * Any bytes must give either a message whose fields respect the limits or an
 * error code with a message; never a crash, a leak or an out-of-range value.
 */
#include <stdint.h>
#include <string.h>

#include "ws/protocol.h"

static void check_text(const char *s, glong max_chars) {
  if (s == NULL)
    return;
  if (!g_utf8_validate(s, -1, NULL) || g_utf8_strlen(s, -1) < 1 || g_utf8_strlen(s, -1) > max_chars)
    __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  proto_msg_t m;
  const char *message = NULL;
  char *ref = NULL;
  proto_error_t err = proto_parse((const char *)data, size, &m, &message, &ref);
  if (err != PROTO_OK) {
    if (message == NULL || m.root != NULL)
      __builtin_trap();
    g_free(ref);
    return 0;
  }
  switch (m.type) {
    case PROTO_HELLO_VIEWER:
      check_text(m.u.hello_viewer.name, PROTO_MAX_NAME_CHARS);
      check_text(m.u.hello_viewer.pickup, PROTO_MAX_PICKUP_CHARS);
      check_text(m.u.hello_viewer.phone, PROTO_MAX_PHONE_CHARS);
      break;
    case PROTO_ORDER:
      if (m.u.order.qty < 0 || m.u.order.qty > PROTO_MAX_QTY || m.u.order.product_id < 1)
        __builtin_trap();
      check_text(m.u.order.key, PROTO_MAX_KEY_CHARS);
      break;
    case PROTO_ASK:
      check_text(m.u.ask.text, PROTO_MAX_TEXT_CHARS);
      break;
    case PROTO_PRODUCT_PUT:
      if (m.u.product.price_cents > PROTO_MAX_PRICE_CENTS || m.u.product.stock > PROTO_MAX_STOCK)
        __builtin_trap();
      check_text(m.u.product.name, PROTO_MAX_PRODUCT_NAME_CHARS);
      break;
    default:
      break;
  }
  proto_msg_clear(&m);
  return 0;
}
