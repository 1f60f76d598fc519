/* Type objects of the target: validated once, named the way Python prints them
   (__module__ + "." + __qualname__, bare for builtins), cached by address. */
#ifndef PK_TYPES_H
#define PK_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "attach/mem.h"
#include "symbols/layout.h"
#include "symbols/target.h"

/* How sys.getsizeof sizes an instance: the builtin whose __sizeof__ the type inherits. */
enum pk_size_kind {
    PK_SIZE_GENERIC, /* object.__sizeof__: basicsize + |ob_size| * itemsize */
    PK_SIZE_LIST,
    PK_SIZE_DICT,
    PK_SIZE_SET,
    PK_SIZE_TYPE,      /* type.__sizeof__: PyHeapTypeObject + cached keys, or PyTypeObject */
    PK_SIZE_BASIC,     /* basicsize only, never ob_size: generators, coroutines, frames (their
                          own __sizeof__ adds the frame's slots, so an estimate) */
    PK_SIZE_STR,       /* unicode_sizeof: compact ascii / compact / legacy, + utf8 and wstr */
    PK_SIZE_LONG,      /* int___sizeof__: digits from ob_size (<= 3.11) or lv_tag (3.12+) */
    PK_SIZE_BYTEARRAY, /* bytearray_sizeof: basicsize + ob_alloc (3.15+: + the bytes header) */
    PK_SIZE_CODE,      /* code_sizeof (3.11+): _PyObject_VAR_SIZE, rounded to 8 (+ co_extra) */
    PK_SIZE_DEQUE,     /* deque___sizeof__: basicsize + blocks in use * sizeof(block) */
    PK_SIZE_GEN,       /* gen_sizeof (3.11+): the frame's slots; basicsize before */
    PK_SIZE_FRAME,     /* frame_sizeof (3.9/3.10): the slots; 3.11+ an estimate (basicsize) */
};

struct pk_type_info {
    uint64_t addr;
    uint32_t index; /* dense, 0..count-1, in order of first sight */
    char *name;     /* UTF-8, from the target: sanitise before printing */
    uint64_t flags;
    int64_t basicsize, itemsize;
    /* where the inherited __sizeof__ starts: basicsize, except for int subclasses (int's
       __sizeof__ starts from int's own basic size, not counting a subclass's __dict__) */
    int64_t sizeof_basicsize;
    uint32_t header_bytes; /* GC header and pre-header, added by sys.getsizeof */
    /* the same for an instance that is a static (non-heap) type object: <= 3.10 none for any
       metatype (type_is_gc() is false for it); 3.11 and 3.12 header_bytes; from 3.13 none
       when the metatype is type itself (sys.getsizeof skips a static type's pre-header) */
    uint32_t static_type_header_bytes;
    enum pk_size_kind size_kind;
    int size_exact;  /* 1 when size_kind reproduces the type's own __sizeof__ */
    uint8_t fd_role; /* enum pk_fd_role (cpython/fd_owners.h): instances may hold an fd */
};

struct pk_types;

struct pk_types *pk_types_new(struct pk_mem *m, const struct pk_layout *l,
                              const uint64_t builtin[PK_BT_COUNT]);
void pk_types_free(struct pk_types *t);
/* The cached info for the type at addr, reading and validating it on first sight.
   NULL with *rc = -PK_E_INCONSISTENT when addr is not a type object. */
const struct pk_type_info *pk_types_get(struct pk_types *t, uint64_t addr, int *rc);
size_t pk_types_count(const struct pk_types *t);
/* 1 when the type at addr is collections.deque itself (by tp_name, with the basic size of the
   layout's dequeobject), not a subclass. */
int pk_types_is_deque(struct pk_types *t, uint64_t addr);
const struct pk_type_info *pk_types_at(const struct pk_types *t, size_t index);

#endif
