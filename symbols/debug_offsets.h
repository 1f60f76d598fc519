/* _Py_DebugOffsets (3.13+): the offsets table CPython puts at the start of _PyRuntime. Its
   cookie and version are validated, and every offset it shares with the layout is compared
   with DWARF (a mismatch is a warning naming the field; DWARF wins). */
#ifndef PK_DEBUG_OFFSETS_H
#define PK_DEBUG_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

#include "symbols/dwarf_types.h"
#include "symbols/elf_file.h"
#include "symbols/layout.h"

#define PK_DEBUG_OFFSETS_MAX_WARNINGS 8

struct pk_debug_offsets_result {
    int present; /* the cookie was found */
    int checked; /* offsets compared with DWARF */
    int filled;  /* layout fields DWARF lacked, taken from _Py_DebugOffsets */
    int mismatches;
    char warnings[PK_DEBUG_OFFSETS_MAX_WARNINGS][256];
    int nwarnings;
};

/* Reads _Py_DebugOffsets from the module's file image at runtime_vaddr (its static
   initialiser is what the running interpreter has). d may be NULL (nothing to compare). */
void pk_debug_offsets_check(struct pk_elf *mod, uint64_t runtime_vaddr, uint32_t py_version_hex,
                            struct pk_dwarf *d, struct pk_layout *l,
                            struct pk_debug_offsets_result *res);

/* The same check with the members' positions given (from a layout record or the cache). */
void pk_debug_offsets_check_at(struct pk_elf *mod, uint64_t runtime_vaddr, uint32_t py_version_hex,
                               const struct pk_field *where, struct pk_layout *l,
                               struct pk_debug_offsets_result *res);
/* The members compared, and where each lives in _Py_DebugOffsets per this DWARF (for layout
   records, which carry them so a stripped interpreter can still be compared). */
size_t pk_debug_offsets_count(void);
const char *pk_debug_offsets_member(size_t i);
int pk_debug_offsets_positions(struct pk_dwarf *d, struct pk_field *where, size_t cap);
/* Compares the interpreter's own _Py_DebugOffsets (members at `where`) with l. Returns the
   number of offsets that agree (0 when there is no table to compare), or -1 on the first
   disagreement, described in why. */
int pk_debug_offsets_compare(struct pk_elf *mod, uint64_t runtime_vaddr, uint32_t py_version_hex,
                             const struct pk_field *where, const struct pk_layout *l, char *why,
                             size_t cap);

#endif
