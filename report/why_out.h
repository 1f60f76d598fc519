/* Printing `pypeek why`: reference chains as text lines or JSON (pypeek.why/1). */
#ifndef PK_WHY_OUT_H
#define PK_WHY_OUT_H

#include <stdio.h>

#include "cpython/why.h"

int pk_why_text(FILE *f, const struct pk_why *w, int pid, struct pk_err *e);
int pk_why_json(FILE *f, const struct pk_why *w, int pid, struct pk_err *e);

#endif
