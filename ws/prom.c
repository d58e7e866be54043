/* prom.c — formatting a Prometheus metric; see prom.h. */
#include "ws/prom.h"

void prom_metric(GString *out, const char *name, const char *type, const char *help,
                 const char *labels, double value) {
  g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s%s %.15g\n", name, help, name, type,
                         name, labels ? labels : "", value);
}
