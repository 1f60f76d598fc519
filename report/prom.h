/* Prometheus text exposition format (for node_exporter's textfile collector) of a snapshot:
   pypeek_ prefix, base units, HELP/TYPE lines, labels pid and exe on every sample. */
#ifndef PK_PROM_H
#define PK_PROM_H

#include <stddef.h>
#include <stdio.h>

#include "cpython/snapshot.h"
#include "util/error.h"

#define PK_PROM_DEFAULT_TOP 20

/* Writes the metrics of the snapshot's sections that exist (target, layout, attach, objects, gc,
   garbage, memory, fds). Per-type series are bounded: the top types by count (top, 0 =
   PK_PROM_DEFAULT_TOP) each get a series, the rest are summed as type="(other)". */
int pk_report_prometheus(FILE *f, const struct pk_snapshot *s, size_t top, struct pk_err *e);

#endif
