/* Checking a layout that did not come from this interpreter's own DWARF (a layout record)
   against the live heap before trusting it: GC list heads that link back to themselves,
   generation0 pointing at generations[0], builtin type objects whose ob_type is `type` and
   whose tp_name is theirs, objects on the GC lists whose type's type is a type, and agreement
   with _Py_DebugOffsets on 3.13+. Reads the target through the memory reader (a running one before
   it is stopped). */
#ifndef PK_LAYOUT_VALIDATE_H
#define PK_LAYOUT_VALIDATE_H

#include <stddef.h>

#include "symbols/elf_file.h"
#include "symbols/layout_record.h"
#include "symbols/target.h"

/* t: runtime_addr and builtin_types are used; mem reads the target; l: the candidate after
   pk_layout_finish. Returns 0 when every check passes, -1 with the first failure in why. */
int pk_layout_validate(const struct pk_target *t, struct pk_mem *mem, struct pk_elf *mod,
                       uint64_t runtime_vaddr, const struct pk_layout_record *rec,
                       const struct pk_layout *l, char *why, size_t cap);

#endif
