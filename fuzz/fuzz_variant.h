/* The templates fuzz_walkers chooses among (the input's first byte): the mini 3.11 interpreter
   built from this binary's DWARF (fuzz_walkers.c), and the same kind of interpreter written
   through a layout record's offsets in the shape of 3.9, 3.12, 3.13, 3.14.0-3.14.4
   (incremental GC), 3.14.5+ and 3.15 (ring-buffer GC stats), with file and socket objects for
   the fd owner walk (fuzz_record_heap.c). */
#ifndef PK_FUZZ_VARIANT_H
#define PK_FUZZ_VARIANT_H

#include <stddef.h>
#include <stdint.h>

#include "fuzz/fuzz_patch.h"
#include "symbols/layout.h"
#include "symbols/target.h"

struct fuzz_variant {
    const char *name;
    struct pk_layout layout;
    struct pk_target target; /* runtime_addr, builtin types, obmalloc symbols, layout */
    struct fuzz_template tmpl;
    uint64_t str_addrs[4], dict_addrs[3], type_addrs[8]; /* read directly by the harness */
    uint64_t *objs;                                      /* op 7's targets (owned), or NULL */
    /* What the unpatched template must collect to (checked before fuzzing starts), so a
       template that silently stopped exercising its path fails the run. */
    uint64_t expect_objects; /* GC objects counted, permanent generation included */
    uint64_t expect_gen[3];  /* of them in gc.get_objects(0), (1) and (2) */
    size_t expect_owners;    /* fd owners reported */
};

enum fuzz_shape {
    FZ_SHAPE_3_9,
    FZ_SHAPE_3_12,
    FZ_SHAPE_3_13,
    FZ_SHAPE_3_14_INCREMENTAL,
    FZ_SHAPE_3_14,
    FZ_SHAPE_3_15,
    FZ_SHAPE_COUNT
};

/* Builds the template of one shape into v (aborts when a record or its layout is unusable). */
void fuzz_record_variant(enum fuzz_shape shape, struct fuzz_variant *v);

#endif
