/* image_sample.c — writes one of the image tests' named pictures (tests/ws/image_samples.c) to
 * stdout.
 *
 * For the e2e abuse suite (tests/e2e/test_abuse_image.py), which needs real
 * progressive JPEGs that nothing else on the machine writes, and for
 * refreshing the fuzz seeds. `image_sample --list` names them all.
 */
#include <stdio.h>
#include <string.h>

#include "tests/ws/image_samples.h"

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: image_sample NAME > FILE   (image_sample --list)\n");
    return 2;
  }
  if (strcmp(argv[1], "--list") == 0) {
    for (int i = 0; sample_names[i] != NULL; i++)
      puts(sample_names[i]);
    return 0;
  }
  GBytes *b = sample_named(argv[1]);
  if (b == NULL) {
    fprintf(stderr, "image_sample: no sample %s\n", argv[1]);
    return 2;
  }
  gsize len;
  const void *d = g_bytes_get_data(b, &len);
  gboolean ok = fwrite(d, 1, len, stdout) == len && fflush(stdout) == 0;
  g_bytes_unref(b);
  return ok ? 0 : 1;
}
