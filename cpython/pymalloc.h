/* pymalloc's arenas and pools, summed the way sys.getallocatedblocks() sums them
   (_Py_GetAllocatedBlocks): arena statics in 3.9-3.11, interp->obmalloc in 3.12+. */
#ifndef PK_PYMALLOC_H
#define PK_PYMALLOC_H

#include "attach/mem.h"
#include "cpython/snapshot.h"
#include "symbols/target.h"

#define PK_MAX_ARENAS (1u << 22) /* 4 TiB of 1 MiB arenas */

/* Fills out->pymalloc for the interpreter at interp. Leaves available = 0 (and returns 0)
   when this build's arena state cannot be found; -PK_E_* when it is found but unreadable. */
int pk_pymalloc_read(struct pk_mem *m, const struct pk_target *t, uint64_t interp,
                     struct pk_interp_snap *out, struct pk_err *e);

#endif
