/* Struct sizes and member offsets from DWARF (libdw), looked up by type and member name.
   "Not in this build" is its own state (off < 0), never a zero. */
#ifndef PK_DWARF_TYPES_H
#define PK_DWARF_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* Where one thing lives. For a size query, off is 0 and size the struct size. For a bitfield,
   the field is bits [bit_off, bit_off + bit_size) of the little-endian 32-bit word at off. */
struct pk_field {
    int32_t off; /* < 0: not in this build */
    uint32_t size;
    int8_t bit_off;
    int8_t bit_size; /* 0: not a bitfield */
};
#define PK_FIELD_MISSING ((struct pk_field){-1, 0, 0, 0})
static inline int pk_field_ok(struct pk_field f)
{
    return f.off >= 0;
}

struct pk_dwarf_query {
    const char *types;  /* typedef or struct/union tag names, '|'-separated: "PyGC_Head|_gc_head" */
    const char *member; /* "interpreters.head"; NULL asks for sizeof the type */
};

struct pk_dwarf;

/* Opens the DWARF of an ELF file (compressed sections are fine). */
int pk_dwarf_open(const char *path, struct pk_dwarf **out, struct pk_err *e);
void pk_dwarf_close(struct pk_dwarf *d); /* NULL is a no-op */

/* Resolves every query into out[i] (PK_FIELD_MISSING when the type or member is not found).
   One pass over the compile units, stopping once every type is found. Returns the number of
   queries resolved, or -PK_E_* when the DWARF itself is unreadable. */
int pk_dwarf_resolve(struct pk_dwarf *d, const struct pk_dwarf_query *q, size_t n,
                     struct pk_field *out, struct pk_err *e);

#endif
