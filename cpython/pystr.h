/* Reading Python str objects from target memory into bounded, NUL-terminated UTF-8. */
#ifndef PK_PYSTR_H
#define PK_PYSTR_H

#include <stddef.h>
#include <stdint.h>

#include "attach/mem.h"
#include "symbols/layout.h"

#define PK_STR_MAX_CHARS 4096 /* longer strings are cut and end in "..." */

/* Decodes the str at addr into out (cap >= 8). Code points are written as UTF-8; surrogates
   and invalid code points become U+FFFD. Returns the number of bytes written, or -PK_E_*.
   The caller checks the object's type; this only trusts the str layout. */
long pk_pystr_read(struct pk_mem *m, const struct pk_layout *l, uint64_t addr, char *out,
                   size_t cap);

#endif
