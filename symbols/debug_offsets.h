/* _Py_DebugOffsets (3.13+): the offsets table CPython puts at the start of _PyRuntime. Its
   cookie and version are validated, and every offset it shares with the layout is compared
   with DWARF (a mismatch is a warning naming the field; DWARF wins). */
#ifndef PK_DEBUG_OFFSETS_H
#define PK_DEBUG_OFFSETS_H

#include <stdint.h>

#include "symbols/dwarf_types.h"
#include "symbols/elf_file.h"
#include "symbols/layout.h"

#define PK_DEBUG_OFFSETS_MAX_WARNINGS 8

struct pk_debug_offsets_result {
    int present;  /* the cookie was found */
    int checked;  /* offsets compared with DWARF */
    int filled;   /* layout fields DWARF lacked, taken from _Py_DebugOffsets */
    int mismatches;
    char warnings[PK_DEBUG_OFFSETS_MAX_WARNINGS][256];
    int nwarnings;
};

/* Reads _Py_DebugOffsets from the module's file image at runtime_vaddr (its static
   initialiser is what the running interpreter has). d may be NULL (nothing to compare). */
void pk_debug_offsets_check(struct pk_elf *mod, uint64_t runtime_vaddr, uint32_t py_version_hex,
                            struct pk_dwarf *d, struct pk_layout *l,
                            struct pk_debug_offsets_result *res);

#endif
