/* Native stacks of the frozen threads, unwound after the target resumed: libdwfl with
   pypeek's own thread callbacks (the registers saved during the freeze, stack memory from
   pypeek's reader, so the copy serves), symbols from each module's symbol table (the debug
   file's .symtab included: LTO-renamed statics such as os_read.lto_priv.0). */
#ifndef PK_UNWIND_H
#define PK_UNWIND_H

#include <stddef.h>
#include <stdint.h>

#include "attach/mem.h"
#include "attach/threads.h"

#define PK_UNWIND_MAX_FRAMES 256 /* per thread */

struct pk_unwound_frame {
    uint64_t address; /* the frame's pc (a return address for all but the innermost) */
    uint64_t offset;  /* from the symbol's start */
    char *function;   /* NULL when no symbol covers it */
    char *module;     /* the module's file, NULL when unknown */
};

struct pk_unwound_stack {
    int available; /* the thread had registers and was unwound */
    struct pk_unwound_frame *v;
    size_t n;
    const char *truncated; /* static text: why it stops early; NULL when complete */
};

/* Unwinds every thread of th that has registers; out[i] is th->v[i]'s stack (out has th->n
   entries, zeroed by the caller). debug_dir (may be NULL) is searched for debug files too.
   live: the modules are those /proc/PID/maps lists; otherwise (a core file) the mapped ELF
   files of the reader's maps (their paths already where they are on this machine).
   Returns 0, or -PK_E_INTERNAL when libdwfl could not be set up (out left empty). */
int pk_unwind_threads(pid_t pid, int live, struct pk_mem *m, const struct pk_threads *th,
                      const char *debug_dir, struct pk_unwound_stack *out);
void pk_unwound_stack_free(struct pk_unwound_stack *s); /* frees and zeroes */

#endif
