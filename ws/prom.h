/* prom.h — one metric in the Prometheus text format (0.0.4), for /metrics.
 *
 * Every module that reports figures appends them to the same GString with
 * this, so HELP/TYPE lines and number formatting are the same everywhere.
 */
#ifndef TOURCAST_PROM_H
#define TOURCAST_PROM_H

#include <glib.h>

/* Appends "# HELP", "# TYPE" and one sample of `name` to `out`. `type` is
 * "gauge" or "counter"; `labels` is NULL or a ready label set like
 * "{code=\"200\"}". Strings are borrowed. */
void prom_metric(GString *out, const char *name, const char *type, const char *help,
                 const char *labels, double value);

#endif
