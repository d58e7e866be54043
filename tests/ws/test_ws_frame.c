/* test_ws_frame.c — the frame headers ws_endpoint writes for pre-framed broadcasts. */
#include <glib.h>
#include <string.h>

#include "ws/ws_endpoint.h"

typedef struct {
  guint64 len;
  gsize header_len;
  unsigned char header[WS_FRAME_HEADER_MAX];
} frame_case_t;

/* Every length-encoding boundary of RFC 6455 5.2, on both sides. */
static const frame_case_t cases[] = {
    {0, 2, {0x81, 0x00}},
    {1, 2, {0x81, 0x01}},
    {125, 2, {0x81, 125}},
    {126, 4, {0x81, 126, 0x00, 126}},
    {127, 4, {0x81, 126, 0x00, 127}},
    {4096, 4, {0x81, 126, 0x10, 0x00}},
    {65535, 4, {0x81, 126, 0xFF, 0xFF}},
    {65536, 10, {0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
    {0x100000000ULL, 10, {0x81, 127, 0, 0, 0, 1, 0, 0, 0, 0}},
};

static void test_headers(void) {
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    unsigned char h[WS_FRAME_HEADER_MAX + 1];
    memset(h, 0xEE, sizeof h);
    gsize n = ws_frame_header(h, (gsize)cases[i].len);
    g_assert_cmpuint(n, ==, cases[i].header_len);
    g_assert_cmpmem(h, n, cases[i].header, cases[i].header_len);
    g_assert_cmpuint(h[WS_FRAME_HEADER_MAX], ==, 0xEE); /* never past the maximum */
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/ws_frame/headers", test_headers);
  return g_test_run();
}
