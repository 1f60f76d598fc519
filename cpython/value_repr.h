/* Short, bounded reprs of a frame local's value for `pypeek stacks --locals`: None, bool,
   int, float, str and bytes by value; containers as type and length; anything else as its
   type and address. Read through the layout; the text is UTF-8 from the target (sanitise it
   when printing). */
#ifndef PK_VALUE_REPR_H
#define PK_VALUE_REPR_H

#include <stddef.h>
#include <stdint.h>

#include "attach/mem.h"
#include "symbols/target.h"

#define PK_REPR_MAX 128 /* bytes of one repr, NUL included; longer ones end in "..." */

/* Writes the repr of the object at obj into out (cap >= 16). A cell shows its contents. */
void pk_value_repr(struct pk_mem *m, const struct pk_target *t, uint64_t obj, char *out,
                   size_t cap);

#endif
