/* The snapshot: everything pypeek learned about one target at one moment, as plain data.
   The only thing report/ sees; its JSON form is schema pypeek.snapshot/1. */
#ifndef PK_SNAPSHOT_H
#define PK_SNAPSHOT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PK_SNAPSHOT_SCHEMA "pypeek.snapshot/1"
#define PK_MAX_WARNINGS 32

struct pk_graph;

struct pk_type_stat {
    char *name; /* UTF-8 from the target: sanitise before printing */
    uint64_t count, bytes;
    uint64_t frozen; /* of count: in the permanent generation (gc.freeze()) */
    int size_exact;
    /* full census (cpython/graph.h): untracked instances reachable from tracked objects */
    uint64_t untracked_count, untracked_bytes;
};

/* A module global or thread frame local (or a large container) and the bytes only it keeps
   alive: the nodes its slot dominates in the object graph rooted at sys.modules and the
   threads' frames (cpython/retained.c). */
struct pk_retainer {
    char *root;  /* "__main__._cache", "thread 812 frame main local x", or a container's path */
    char *type;  /* the type of the object it names */
    int64_t len; /* items of a list/tuple/dict/set, else -1 */
    uint64_t retained_bytes, retained_count;
    int is_global;              /* a module global's slot */
    int is_frame_local;         /* a thread frame local's slot */
    struct pk_type_stat *types; /* what it retains, by type (count/bytes), bytes descending */
    size_t ntypes;
};

/* A holder: a node of the dominator tree under a virtual root joined to every root
   (cpython/holders.c). Level 0 are the roots (module globals, frame locals, modules in
   sys.modules) and the objects several roots share; together they retain everything
   reachable, each byte once. Below a level-0 holder, the next levels of its dominator subtree. */
enum pk_holder_kind { PK_HK_GLOBAL, PK_HK_FRAME_LOCAL, PK_HK_MODULE, PK_HK_OBJECT };

struct pk_holder {
    char *name;     /* level 0: "__main__._cache", "thread N frame F local x", "sys.modules['m']"
                       or an object's shortest chain; below: the reference from its parent
                       (".env", "['key']", "[3]"), or "" when reached through several */
    char *type;     /* the type of the object it names */
    int kind;       /* enum pk_holder_kind */
    int64_t parent; /* index into holders[] of the holder it is under, -1 at level 0 */
    uint32_t depth;
    int64_t len; /* items of a list/tuple/dict/set, else -1 */
    uint64_t retained_bytes, retained_count;
    uint64_t roots;   /* level-0 objects: how many roots reach it (at least, when capped) */
    int roots_capped; /* the count stopped at its bound */
};

/* A holder with a large share of the reachable heap (cpython/holders.c: the rule). */
struct pk_leak_suspect {
    size_t holder;              /* index into holders[] */
    double share;               /* of reachable_bytes */
    struct pk_type_stat *types; /* what it retains by type, bytes descending */
    size_t ntypes;
};

/* The object graph's summary: full census totals, coverage, retained sizes. */
struct pk_graph_snap {
    int available;
    int partial;
    char partial_reason[160];
    uint64_t nodes, edges, untracked_count, untracked_bytes;
    uint64_t tracked_traversed, tracked_untraversed, unreadable;
    struct pk_type_stat *untraversed_types; /* count only */
    size_t nuntraversed_types;
    uint64_t unreachable_tracked;           /* tracked objects not reachable from sys.modules */
    struct pk_type_stat *unreachable_types; /* ... by type, count only, descending */
    size_t nunreachable_types;
    struct pk_retainer *retainers;
    size_t nretainers;
    uint64_t graph_bytes, frozen_us, analysis_us;
    /* what the roots reach (tracked or not): count, tracked count, sys.getsizeof sum; and the
       objects in the graph they do not reach (held from C or through unread references) */
    uint64_t reachable_count, reachable_tracked, reachable_bytes;
    uint64_t held_from_c_count, held_from_c_bytes;
    /* reachable_bytes split by level-0 holder kind: globals (and modules), frame locals,
       objects several roots share */
    uint64_t globals_bytes, frames_bytes, shared_bytes;
    struct pk_holder *holders; /* level 0 by retained bytes, each followed by its subtree */
    size_t nholders;
    uint64_t level0_total; /* level-0 holders in full (listed or not) */
    struct pk_leak_suspect *suspects;
    size_t nsuspects;
};

/* One type among the unreachable objects: count, sys.getsizeof bytes, and how many of them
   have a finalizer (tp_finalize, i.e. __del__, or a legacy tp_del). */
struct pk_unreachable_type {
    char *name; /* UTF-8 from the target: sanitise before printing */
    uint64_t count, bytes, finalizers;
};

/* One reference cycle among the unreachable objects, as hops ("__main__.Node.other"): the
   source object's type and the reference it follows; the last hop leads back to the first. */
struct pk_unreachable_example {
    char *type; /* the group (type) it was found for */
    char **hops;
    size_t nhops;
    int truncated; /* longer than the hops kept */
};

/* What the next full collection would free (cpython/unreachable.c): tracked objects of the
   three generations whose references all come from each other, found with the collector's
   own algorithm on the copied graph. */
struct pk_unreachable_snap {
    int available;
    char reason[160]; /* why not, when !available */
    int absent;       /* read from a saved snapshot that has no gc.unreachable at all */
    uint64_t objects, bytes, finalizers;
    uint64_t retained_bytes; /* bytes plus the untracked objects only they reach */
    int complete;            /* every candidate's references were read: nothing under-reported */
    struct pk_unreachable_type *types; /* count descending */
    size_t ntypes;
    struct pk_type_stat *untraversed_types; /* candidates pypeek could not read (count only) */
    size_t nuntraversed_types;
    struct pk_unreachable_example *examples;
    size_t nexamples;
    uint64_t analysis_us; /* time it took, after the target was resumed */
};

struct pk_gen_snap {
    uint64_t objects;                              /* what len(gc.get_objects(i)) would say */
    int64_t threshold;                             /* gc.get_threshold()[i] */
    int64_t count;                                 /* gc.get_count()[i] */
    int64_t collections, collected, uncollectable; /* gc.get_stats()[i] */
};

struct pk_pymalloc_snap {
    int available; /* 0 when the arena statics or layout were not found */
    uint64_t arenas, arena_bytes, pools, allocated_blocks, used_bytes;
};

struct pk_interp_snap {
    int64_t id;
    uint64_t addr;
    int is_main;
    struct pk_gen_snap generations[3];
    uint64_t permanent_objects;
    /* every tracked object: the three generations (len(gc.get_objects())) plus the permanent
       generation (gc.get_freeze_count()); frozen_* are the permanent generation's share */
    uint64_t total_objects, total_bytes;
    uint64_t frozen_objects, frozen_bytes;
    struct pk_type_stat *types; /* sorted by count, descending */
    size_t ntypes;
    int gc_enabled, gc_collecting;
    int64_t gc_debug;
    uint64_t garbage_count;             /* len(gc.garbage) */
    struct pk_type_stat *garbage_types; /* sorted by count, descending */
    size_t ngarbage_types;
    struct pk_pymalloc_snap pymalloc;
    struct pk_graph_snap graph;             /* main interpreter only (cpython/graph.h) */
    struct pk_unreachable_snap unreachable; /* main interpreter only (cpython/unreachable.h) */
};

/* One Python object holding an fd (cpython/fd_owners.c): the outermost of a
   TextIOWrapper -> Buffered* -> FileIO chain, or a socket. Strings are UTF-8 from the target. */
struct pk_fd_owner {
    int fd;
    char *type;       /* the outermost object's type, e.g. "_io.TextIOWrapper" */
    uint64_t address; /* the outermost object: id() in CPython */
    char *chain;      /* "_io.TextIOWrapper > _io.BufferedWriter > _io.FileIO" */
    int is_socket;
    /* files: the FileIO's own view */
    uint64_t fileio; /* address of the FileIO */
    char *name;      /* its "name" attribute when a str or bytes, else NULL */
    char mode[8];    /* FileIO.mode, from its flag bits: "rb", "wb", "rb+", "ab", "xb" ... */
    int closefd;
    /* sockets */
    int family, socktype, proto;
};

/* One open fd (attach/fds.h facts) with its owners. */
struct pk_fd_item {
    int fd;
    char kind[16];  /* "file", "tcp", ... (see attach/fds.h) */
    char *target;   /* readlink text, untrusted */
    uint64_t inode; /* socket:[N] / pipe:[N], else 0 */
    int have_fdinfo;
    uint32_t flags;
    int64_t pos;
    char *local, *remote;        /* socket endpoints, NULL when unknown */
    const char *state;           /* static text or NULL */
    size_t owner_first, nowners; /* slice of pk_fds_snap.owners */
};

struct pk_fds_snap {
    int available;         /* the fd list was read */
    int owners_available;  /* the layout had the _io (and _socket) rows */
    int sockets_available; /* PySocketSockObject was in the layout */
    int truncated;
    int64_t limit_soft, limit_hard; /* -1 unlimited, -2 unknown */
    struct pk_fd_item *items;       /* sorted by fd */
    size_t nitems;
    struct pk_fd_owner *owners; /* sorted by fd, then address */
    size_t nowners;
};

/* A frame's local variable with a bounded repr (stacks --locals, cpython/value_repr.h). */
struct pk_local {
    char *name, *repr;
};

/* One Python frame of a thread (cpython/stacks.c). Strings are UTF-8 from the target. */
struct pk_pyframe {
    char *function;          /* co_qualname (co_name before 3.11) */
    char *file;              /* co_filename */
    int line;                /* the line being executed, -1 when unknown */
    int entry;               /* the outermost frame of its eval loop call (merged view) */
    struct pk_local *locals; /* --locals only */
    size_t nlocals;
};

/* One native frame (cpython/unwind.c), innermost first. */
struct pk_native_frame {
    uint64_t address;
    char *function; /* symbol name, NULL when unknown */
    uint64_t offset;
    char *module; /* the ELF file it is in, NULL when unknown */
};

/* One OS thread of the target, or a Python thread state no OS thread was found for (tid -1).
   Frames innermost first. */
struct pk_thread_snap {
    int64_t tid;       /* kernel thread id; -1 when unknown */
    int has_ident;     /* it has a Python thread state */
    uint64_t ident;    /* threading.get_ident() */
    int64_t interp_id; /* the interpreter it runs, -1 none */
    char name[16];     /* /proc/PID/task/TID/comm (untrusted) */
    char state;        /* kernel state letter before the freeze, '?' unknown */
    int holds_gil, gc_running;
    struct pk_pyframe *frames;
    size_t nframes;
    char *truncated;      /* why the Python frames stop early, NULL when complete */
    int locals_read;      /* --locals: the frames' locals were read */
    int locals_truncated; /* the thread's locals budget ran out */
    int native_available;
    struct pk_native_frame *native;
    size_t nnative;
    char *native_truncated; /* why the native frames stop early, NULL when complete */
};

struct pk_snapshot {
    char taken_at[40]; /* RFC 3339 UTC */
    struct {
        pid_t pid;
        char exe[PATH_MAX];
        char module[PATH_MAX];
        char python_version[32];
        char build_id[41];
        char layout_source[PATH_MAX + 160];
        const char *source; /* "process" (a live target) or "core" (a core file) */
    } target;
    struct {
        char path[PATH_MAX]; /* the core file */
        uint64_t size;       /* its bytes */
        int signal;          /* the signal that caused the dump, 0 if the notes say none */
    } core;                  /* target.source "core" only */
    struct {
        const char *mode; /* "frozen" */
        uint64_t pause_us;
        uint64_t wall_us;
        int retries;
        int consistent;
        int threads; /* OS threads stopped */
        uint64_t bytes_read, read_calls;
        const char *read;     /* "image" (copied, then read resumed) or "streaming" */
        uint64_t image_bytes; /* bytes of the copy */
    } attach;
    struct {
        uint64_t rss_bytes, hwm_bytes, swap_bytes; /* /proc/PID/status */
    } memory;
    struct pk_interp_snap *interps; /* main interpreter first */
    size_t ninterps;
    struct pk_fds_snap fds;         /* open fds and their owners (cpython/fd_owners.h) */
    int threads_available;          /* the thread stacks were read (cpython/stacks.h) */
    struct pk_thread_snap *threads; /* main thread first, then by tid */
    size_t nthreads;
    char *warnings[PK_MAX_WARNINGS];
    size_t nwarnings;
    struct pk_graph *graph; /* the object graph (cpython/graph_snap.h), or NULL; owned */
};

void pk_snapshot_free(struct pk_snapshot *s); /* frees the contents, not s */
void pk_fds_snap_free(struct pk_fds_snap *f); /* frees and zeroes; called by pk_snapshot_free */
void pk_interp_snap_clear(struct pk_interp_snap *is);
void pk_graph_snap_clear(struct pk_graph_snap *h);
/* Frees the retainer list alone (watch keeps older samples without it). */
void pk_graph_snap_free_retainers(struct pk_graph_snap *h);
void pk_unreachable_snap_clear(struct pk_unreachable_snap *u);
void pk_threads_snap_free(struct pk_snapshot *s);    /* frees and zeroes the thread list */
void pk_thread_snap_clear(struct pk_thread_snap *t); /* frees what t owns, zeroes it */
/* Adds a printf-formatted warning (dropped once PK_MAX_WARNINGS are recorded). */
void pk_snapshot_warn(struct pk_snapshot *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const struct pk_interp_snap *pk_snapshot_main(const struct pk_snapshot *s);
/* Read from a core file: no live-only sections (RSS, fds, pause). */
int pk_snapshot_from_core(const struct pk_snapshot *s);

#endif
