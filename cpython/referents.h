/* What an object refers to, read through the layout: list, tuple, dict (every table kind),
   set/frozenset, collections.deque, type, module, function, cell, bound method, generators,
   coroutines and async generators (their frame's locals and value stack while suspended),
   3.9/3.10 frame objects, and instances (instance dict, 3.11+ managed dicts and values, 3.13+
   inline values, __slots__ and other T_OBJECT members). */
#ifndef PK_REFERENTS_H
#define PK_REFERENTS_H

#include <stdint.h>

#include "attach/mem.h"
#include "cpython/types.h"
#include "symbols/target.h"

/* One reference: kind is an enum pk_edge_kind (cpython/graph.h). arg is the index for
   PK_EK_INDEX, the key's address for PK_EK_VALUE; name/name_key label PK_EK_ATTR (name_key:
   a stable key for interning, the str's address or the literal's). */
struct pk_ref {
    uint64_t obj;
    int kind;
    uint64_t arg;
    const char *name;
    uint64_t name_key;
};

/* Receives each reference; non-zero stops the walk with that value. */
typedef int (*pk_ref_fn)(const struct pk_ref *r, void *arg);
/* Interns a target string (by key) into the caller's pool; returns the label name to use. */
typedef const char *(*pk_ref_name_fn)(uint64_t key, const char *text, void *arg);

struct pk_referents;

struct pk_referents *pk_referents_new(struct pk_mem *m, const struct pk_target *t,
                                      struct pk_types *types);
void pk_referents_free(struct pk_referents *r);
/* The interpreter whose state holds 3.12+ static types' dicts (0: not read). */
void pk_referents_set_interp(struct pk_referents *r, uint64_t interp);

/* Calls fn for each reference of obj (whose type is ti). *complete is 0 when its type holds
   references pypeek cannot read. Returns 0, fn's value, or -PK_E_* when obj is unreadable. */
int pk_referents_of(struct pk_referents *r, uint64_t obj, const struct pk_type_info *ti,
                    pk_ref_fn fn, void *arg, int *complete);

/* 1 when the type is str or a subclass. */
int pk_referents_is_str(struct pk_referents *r, const struct pk_type_info *ti);

#endif
