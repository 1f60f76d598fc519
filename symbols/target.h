/* Finding the interpreter in a process: the module that defines _PyRuntime, its load bias, the
   CPython version, its debug info, and from that the layout. Runs before the target is stopped. */
#ifndef PK_TARGET_H
#define PK_TARGET_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "attach/maps.h"
#include "attach/mem.h"
#include "symbols/layout.h"
#include "util/error.h"

/* Builtin types whose instances pypeek sizes exactly, found by their exported symbols. */
enum pk_builtin_type {
    PK_BT_OBJECT,
    PK_BT_LIST,
    PK_BT_TUPLE,
    PK_BT_DICT,
    PK_BT_SET,
    PK_BT_FROZENSET,
    PK_BT_TYPE,
    /* Fixed-size objects whose type has a non-zero tp_itemsize but no ob_size (3.11+: the
       frame's slots live inline after the struct); ob_size there would read a pointer. */
    PK_BT_GENERATOR,
    PK_BT_COROUTINE,
    PK_BT_ASYNC_GENERATOR,
    PK_BT_FRAME,
    /* Atoms of the full census (sized exactly) and the object graph's core types. */
    PK_BT_STR,
    PK_BT_BYTES,
    PK_BT_BYTEARRAY,
    PK_BT_LONG,
    PK_BT_FLOAT,
    PK_BT_CELL,
    PK_BT_MODULE,
    PK_BT_FUNCTION,
    PK_BT_METHOD,
    PK_BT_CODE,
    /* More GC types whose references the object graph reads (cpython/referents.c). */
    PK_BT_GETSET_DESCR,
    PK_BT_MEMBER_DESCR,
    PK_BT_METHOD_DESCR,
    PK_BT_CLASSMETHOD_DESCR,
    PK_BT_WRAPPER_DESCR,
    PK_BT_METHOD_WRAPPER,
    PK_BT_CFUNCTION,
    PK_BT_CMETHOD,
    PK_BT_WEAKREF,
    PK_BT_WEAKPROXY,
    PK_BT_WEAKCALLABLEPROXY,
    PK_BT_TRACEBACK,
    PK_BT_PROPERTY,
    PK_BT_CLASSMETHOD,
    PK_BT_STATICMETHOD,
    PK_BT_MAPPINGPROXY,
    PK_BT_COUNT
};

#define PK_TARGET_MAX_WARNINGS 8

struct pk_target_opts {
    const char *debug_dir;     /* --debug-dir, or NULL */
    const char *layout_record; /* --layout-record FILE: an extra candidate, tried first */
    int quiet;                 /* no debuginfod progress line */
};

struct pk_target {
    pid_t pid;
    char exe[PATH_MAX];    /* /proc/PID/exe as the target sees it */
    char module[PATH_MAX]; /* the ELF defining _PyRuntime, as the target sees it */
    int module_is_shared;  /* libpython rather than the executable */
    uint64_t bias;         /* load bias of module */
    uint64_t runtime_addr; /* &_PyRuntime in the target */
    uint32_t py_version_hex;
    char py_version[32]; /* "3.11.2" */
    char build_id[41];   /* hex, "" if none */
    int free_threaded;   /* a --disable-gil build (3.13t+: _Py_DebugOffsets.free_threaded) */
    char layout_source[PATH_MAX + 160];  /* "dwarf:/usr/lib/debug/...", "record:NAME (how)" */
    uint64_t builtin_types[PK_BT_COUNT]; /* addresses in the target, 0 if not found */
    /* pymalloc's file-local statics (3.9-3.11; LTO renames them name.lto_priv.N), found in the
       module's or its debug file's .symtab. Addresses in the target, 0 if not found. */
    struct {
        uint64_t arenas, maxarenas, narenas, raw_allocated_blocks;
        uint64_t allocated_blocks; /* 3.8: _Py_AllocatedBlocks, getallocatedblocks() itself */
    } obmalloc_syms;
    uint64_t set_dummy; /* _PySet_Dummy: a deleted set slot's key; 0 if not found */
    /* subtype_traverse, the tp_traverse of every Python class (a heap type with another one
       was made by C code, PyType_FromSpec); 0 if not found */
    uint64_t subtype_traverse;
    uint64_t none_addr, true_addr, false_addr; /* _Py_NoneStruct, _Py_TrueStruct, ...False... */
    struct pk_layout layout;
    /* Facts about the layout the user should see (the snapshot's warnings) */
    char warnings[PK_TARGET_MAX_WARNINGS][256];
    int nwarnings;
};

/* Where the target's files and memory are: a live process or a core file. */
struct pk_target_where {
    pid_t pid;          /* the process (the core's: its pid when dumped) */
    int live;           /* a running process: /proc/PID/map_files opens deleted files */
    const char *root;   /* prefix of the paths the target saw: "/proc/PID/root", a --sysroot,
                           or "" */
    const char *exe;    /* the executable as the target saw it */
    struct pk_mem *mem; /* the target's memory: layout records are checked against it */
};

int pk_target_resolve_at(const struct pk_target_where *w, const struct pk_maps *maps,
                         const struct pk_target_opts *opts, struct pk_target *t, struct pk_err *e);
/* A running process: reads its exe link, checks records against its live memory. */
/* Resolves the interpreter of pid: the module, version and layout (the slow work, done while the
   target runs). On failure t still holds what was found before the failing step (exe, module,
   version and free_threaded once the version is known). */
int pk_target_resolve(pid_t pid, int procfd, const struct pk_maps *maps,
                      const struct pk_target_opts *opts, struct pk_target *t, struct pk_err *e);

#endif
