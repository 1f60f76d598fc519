/* Mini CPython 3.11 structs with CPython's own type and member names, so that the layout pypeek
   reads from this test binary's DWARF describes them; synthetic heaps are built with offsetof. */
#ifndef PK_TEST_SUPPORT_PY_H
#define PK_TEST_SUPPORT_PY_H

#include <stdint.h>
#include <sys/types.h>

typedef ssize_t Py_ssize_t;
typedef Py_ssize_t Py_hash_t;

typedef struct {
    uintptr_t _gc_next;
    uintptr_t _gc_prev;
} PyGC_Head;

struct _typeobject;
typedef struct _object {
    Py_ssize_t ob_refcnt;
    struct _typeobject *ob_type;
} PyObject;

typedef struct {
    PyObject ob_base;
    Py_ssize_t ob_size;
} PyVarObject;

typedef struct _typeobject {
    PyVarObject ob_base;
    const char *tp_name;
    Py_ssize_t tp_basicsize, tp_itemsize;
    void *tp_slots_a[15]; /* tp_dealloc .. tp_as_buffer in CPython */
    unsigned long tp_flags;
    const char *tp_doc;
    void *tp_slots_b[9]; /* tp_traverse .. tp_getset */
    struct _typeobject *tp_base;
    PyObject *tp_dict;
    void *tp_slots_c[16];
} PyTypeObject;

typedef struct _heaptypeobject {
    PyTypeObject ht_type;
    void *as_async[4], *as_number[36], *as_mapping[3], *as_sequence[10], *as_buffer[2];
    PyObject *ht_name, *ht_slots, *ht_qualname;
    void *ht_cached_keys;
    PyObject *ht_module;
} PyHeapTypeObject;

typedef struct {
    PyObject ob_base;
    Py_ssize_t length;
    Py_hash_t hash;
    struct {
        unsigned int interned : 2;
        unsigned int kind : 3;
        unsigned int compact : 1;
        unsigned int ascii : 1;
        unsigned int ready : 1;
        unsigned int : 24;
    } state;
    void *wstr;
} PyASCIIObject;

typedef struct {
    PyASCIIObject _base;
    Py_ssize_t utf8_length;
    char *utf8;
    Py_ssize_t wstr_length;
} PyCompactUnicodeObject;

typedef struct {
    PyCompactUnicodeObject _base;
    union {
        void *any;
        uint8_t *latin1;
        uint16_t *ucs2;
        uint32_t *ucs4;
    } data;
} PyUnicodeObject;

typedef struct {
    PyVarObject ob_base;
    PyObject **ob_item;
    Py_ssize_t allocated;
} PyListObject;

typedef struct {
    PyVarObject ob_base;
    PyObject *ob_item[1];
} PyTupleObject;

typedef struct {
    Py_hash_t me_hash;
    PyObject *me_key;
    PyObject *me_value;
} PyDictKeyEntry;

typedef struct {
    PyObject *me_key;
    PyObject *me_value;
} PyDictUnicodeEntry;

struct _dictkeysobject {
    Py_ssize_t dk_refcnt;
    uint8_t dk_log2_size;
    uint8_t dk_log2_index_bytes;
    uint8_t dk_kind;
    uint32_t dk_version;
    Py_ssize_t dk_usable;
    Py_ssize_t dk_nentries;
    char dk_indices[];
};
typedef struct _dictkeysobject PyDictKeysObject;

struct _dictvalues {
    PyObject *values[1];
};
typedef struct _dictvalues PyDictValues;

typedef struct {
    PyObject ob_base;
    Py_ssize_t ma_used;
    uint64_t ma_version_tag;
    PyDictKeysObject *ma_keys;
    PyDictValues *ma_values;
} PyDictObject;

typedef struct {
    PyObject *key;
    Py_hash_t hash;
} setentry;

typedef struct {
    PyObject ob_base;
    Py_ssize_t fill, used, mask;
    setentry *table;
    Py_hash_t hash;
    Py_ssize_t finger;
    setentry smalltable[8];
    PyObject *weakreflist;
} PySetObject;

struct gc_generation {
    PyGC_Head head;
    int threshold;
    int count;
};

struct gc_generation_stats {
    Py_ssize_t collections;
    Py_ssize_t collected;
    Py_ssize_t uncollectable;
};

struct _gc_runtime_state {
    PyObject *trash_delete_later;
    int trash_delete_nesting;
    int enabled;
    int debug;
    struct gc_generation generations[3];
    PyGC_Head *generation0;
    struct gc_generation permanent_generation;
    struct gc_generation_stats generation_stats[3];
    int collecting;
    PyObject *garbage;
    PyObject *callbacks;
    Py_ssize_t long_lived_total;
    Py_ssize_t long_lived_pending;
};

typedef struct _ts {
    struct _ts *prev;
    struct _ts *next;
    struct _is *interp;
    int _initialized;
    unsigned long native_thread_id;
} PyThreadState;

typedef struct _is {
    struct _is *next;
    struct pythreads {
        uint64_t next_unique_id;
        PyThreadState *head;
        long count;
    } threads;
    void *runtime;
    int64_t id;
    int64_t id_refcount;
    int requires_idref;
    void *id_mutex;
    int _initialized;
    int finalizing;
    struct _gc_runtime_state gc;
    PyObject *modules;
} PyInterpreterState;

typedef struct pyruntimestate {
    int _initialized;
    int preinitializing;
    int preinitialized;
    int core_initialized;
    int initialized;
    void *_finalizing;
    struct pyinterpreters {
        void *mutex;
        PyInterpreterState *head;
        PyInterpreterState *main;
        int64_t next_id;
    } interpreters;
} _PyRuntimeState;

/* CPython's Include/object.h flag bits (facts about CPython, used to build test heaps). */
#define FX_TPFLAGS_HEAPTYPE (1ul << 9)
#define FX_TPFLAGS_HAVE_GC (1ul << 14)
#define FX_TPFLAGS_TYPE_SUBCLASS (1ul << 31)
/* Include/internal/pycore_gc.h: _PyGC_PREV_MASK_FINALIZED, a flag kept in _gc_prev. */
#define FX_GC_PREV_MASK_FINALIZED 1u

#endif
