/* Layout records: the layout pypeek resolved from one interpreter's DWARF, as text keyed by
   build-id, CPython version and build flavour. `pypeek layout dump` writes them; the repository
   carries one per interpreter of the test matrix (symbols/records, embedded into the binary at
   build time), and the per-build-id cache under $XDG_CACHE_HOME/pypeek uses the same format.

   Format (one item per line, '#' lines are comments):
       pypeek-layout 1
       fields <count> <fnv1a64 of the field table's names and DWARF queries>
       build-id <hex>
       version 3.11.2 0x030b02f0
       flavour release
       sym <name> <st_value in hex>      (module-relative; only the symbols found)
       dbgoff <member> <off> <size>      (where _Py_DebugOffsets keeps it; 3.13+)
       field <name> <off> <size> <bit_off> <bit_size> | field <name> -
       checksum <fnv1a64 of every byte before this line>
   A record is rejected on load when any line is malformed, a value is out of range, the
   checksum differs or the field table is another pypeek's. */
#ifndef PK_LAYOUT_RECORD_H
#define PK_LAYOUT_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "symbols/dwarf_types.h"
#include "symbols/elf_file.h"
#include "symbols/layout.h"
#include "util/error.h"

/* Module-level statics pypeek needs that only the full symbol table names (pymalloc 3.9-3.11). */
enum pk_record_sym {
    PK_RS_ARENAS,
    PK_RS_MAXARENAS,
    PK_RS_NARENAS,
    PK_RS_RAW_ALLOCATED_BLOCKS,
    PK_RS_ALLOCATED_BLOCKS,
    PK_RS_SUBTYPE_TRAVERSE, /* a Python class's tp_traverse (typeobject.c, static) */
    PK_RS_COUNT
};
extern const char *const pk_record_sym_names[PK_RS_COUNT];

/* _Py_DebugOffsets members compared with the layout (symbols/debug_offsets.c). */
#define PK_DBGOFF_MAX 32

struct pk_layout_record {
    char build_id[41];
    uint32_t py_version_hex;
    char flavour[32];
    uint64_t syms[PK_RS_COUNT];            /* st_value in the module, 0 when not found */
    struct pk_field dbgoff[PK_DBGOFF_MAX]; /* where each _Py_DebugOffsets member lives */
    struct pk_layout layout; /* f[] and py_version_hex only: constants come from finish */
};

/* "release", "debug", "freethreaded" or "debug-freethreaded", from the module's exported
   symbols (so a stripped interpreter has one too). */
void pk_record_flavour(struct pk_elf *mod, char *out, size_t cap);

/* Fills a record from the module and the file holding its DWARF. */
int pk_record_from_dwarf(struct pk_elf *mod, const char *debug_path, uint32_t py_version_hex,
                         struct pk_layout_record *r, struct pk_err *e);

int pk_record_write(FILE *f, const struct pk_layout_record *r);
/* Parses and validates a record. Returns 0, or -PK_E_BAD_FILE with the reason in e. */
int pk_record_parse(const char *text, size_t len, struct pk_layout_record *r, struct pk_err *e);
/* Reads a record file (at most 1 MiB). */
int pk_record_load(const char *path, struct pk_layout_record *r, struct pk_err *e);

/* The records built into pypeek (generated from the symbols/records files at build time). */
struct pk_builtin_record {
    const char *name; /* file name without .layout: "3.11.2-bookworm" */
    const char *text;
    size_t len;
};
extern const struct pk_builtin_record pk_builtin_records[];
extern const size_t pk_builtin_nrecords;

#endif
