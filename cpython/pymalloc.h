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

/* The same in two steps, so the pool headers are copied in the background (by read-ahead's
   thread, when it runs) while the census walks: begin lists the arenas and starts the copy,
   end waits for it and sums. *scan is set even on failure; free it after end (or after a
   failed begin) with pk_pymalloc_scan_free. */
struct pk_pymalloc_scan;
int pk_pymalloc_begin(struct pk_mem *m, const struct pk_target *t, uint64_t interp,
                      struct pk_pymalloc_scan **scan, struct pk_err *e);
int pk_pymalloc_end(struct pk_mem *m, const struct pk_target *t, struct pk_pymalloc_scan *scan,
                    struct pk_interp_snap *out, struct pk_err *e);
/* Waits for a copy still running (after a failed begin or when end is not called) and frees. */
void pk_pymalloc_scan_free(struct pk_mem *m, struct pk_pymalloc_scan *scan);

/* Before the target is stopped: tells the reader's read-ahead what each pool holds (a hint:
   the target is running; errors are ignored) and seals it (pk_mem_note_chunk_run). */
void pk_pymalloc_classify(struct pk_mem *m, const struct pk_target *t, uint64_t interp);

#endif
