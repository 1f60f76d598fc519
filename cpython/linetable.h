/* The source line of a code object's bytecode offset, from its line table: co_lnotab (3.8,
   3.9), the PEP 626 co_linetable (3.10) or the PEP 657 location table (3.11+). */
#ifndef PK_LINETABLE_H
#define PK_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

#include "attach/mem.h"
#include "symbols/layout.h"

#define PK_LINETABLE_MAX (1u << 20) /* longer tables are not read (corrupt) */

enum pk_linetable_kind {
    PK_LT_LNOTAB,   /* 3.8, 3.9: (address delta, signed line delta) byte pairs */
    PK_LT_PEP626,   /* 3.10: (address delta, signed line delta), -128 = no line */
    PK_LT_LOCATION, /* 3.11+: varint-coded location entries, code units */
};

/* What PyCode_Addr2Line(code, addr) answers for the table's bytes: the line, or -1 when the
   instruction has no line. addr < 0 gives firstlineno, like CPython. Pure: tested on bytes. */
int pk_linetable_addr2line(enum pk_linetable_kind kind, const uint8_t *table, size_t len,
                           int firstlineno, int64_t addr);

/* The same for the code object at code in the target: reads co_firstlineno and its table.
   Returns the line, -1 when it has none, or -PK_E_* when unreadable. */
int pk_code_addr2line(struct pk_mem *m, const struct pk_layout *l, uint64_t code, int64_t addr);

#endif
