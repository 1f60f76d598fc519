/* Core files as a source of target memory: the ELF core's PT_LOAD segments and notes (threads,
   mapped files, auxv), read with libelf; pages the core does not hold come from the mapped file
   itself, after its build-id is checked against the core's copy of its ELF header. */
#ifndef PK_CORE_H
#define PK_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "attach/maps.h"
#include "attach/mem.h"
#include "util/error.h"

#define PK_CORE_MAX_THREADS 65536
#define PK_CORE_MAX_FILES 65536
#define PK_CORE_MAX_SEGMENTS 1048576

/* One thread of the dumped process (NT_PRSTATUS). */
struct pk_core_thread {
    pid_t tid;
    int cursig;        /* the signal being delivered when dumped, 0 if none */
    uint64_t regs[27]; /* struct user_regs_struct of x86-64, in its order */
    uint64_t sp, ip;   /* rsp and rip, for convenience */
};

struct pk_core;

/* Looks a mapped ELF file up by its build-id, for one that is missing here or of another build
   (the caller's places: debug directories, debuginfod). Writes the path of a file to read
   instead into out and a few words on where it came from into how; 0, or -1 when none. */
struct pk_core_finder {
    int (*find)(void *ctx, const char *mapped_path, const unsigned char *build_id, size_t len,
                char *out, size_t cap, char *how, size_t howcap);
    void *ctx;
};

/* Opens path (a regular file), checks it is an x86-64 ELF64 core and reads its program headers
   and notes. sysroot ("" or NULL: /) prefixes the paths of mapped files; exe (or NULL) is the
   file to read for the executable's mapping instead, and must have its build-id. Mapped ELF
   files that are missing or of another build (but the executable given with exe) are looked
   up with finder (or NULL) by the build-id in the core's copy of their ELF header; what it
   finds must have that build-id. Errors are PK_E_BAD_FILE with one line saying what is wrong.
   The caller owns *out. */
int pk_core_open(const char *path, const char *sysroot, const char *exe,
                 const struct pk_core_finder *finder, struct pk_core **out, struct pk_err *e);
void pk_core_close(struct pk_core *c); /* NULL is a no-op */

const char *pk_core_path(const struct pk_core *c);
uint64_t pk_core_file_size(const struct pk_core *c);
size_t pk_core_truncated(const struct pk_core *c); /* segments cut off by the file's end */
int64_t pk_core_mtime(const struct pk_core *c); /* seconds since the epoch: when it was written */
pid_t pk_core_pid(const struct pk_core *c);     /* the dumped process's pid, 0 if no note says */
int pk_core_signal(const struct pk_core *c);    /* the signal that caused the dump, 0 if none */
const char *pk_core_command(const struct pk_core *c); /* NT_PRPSINFO's psargs (sanitise!) */
size_t pk_core_nthreads(const struct pk_core *c);
const struct pk_core_thread *pk_core_thread(const struct pk_core *c, size_t i);

/* The executable's path as the process saw it: the mapped file holding AT_ENTRY, else the
   first mapped file; "" when the core names none. */
const char *pk_core_exe(const struct pk_core *c);

/* The address space as maps: every PT_LOAD segment and every mapped file (NT_FILE), sorted and
   non-overlapping; perms from the segment flags (files without a segment: r-x private). Paths
   are where pypeek finds the files on this machine (under the sysroot, --exe). */
int pk_core_maps(const struct pk_core *c, struct pk_maps *out, struct pk_err *e);

/* A memory reader over the core (maps must be pk_core_maps' and outlive it): core bytes first;
   bytes a segment does not hold are read from the mapped file when its build-id matches the
   core's copy of its ELF header; otherwise they are unreadable, never zeros. */
struct pk_mem *pk_mem_open_core(struct pk_core *c, const struct pk_maps *maps);

/* Mapped files found by build-id (pk_core_finder): count, and the i-th as one line (the path
   the process had, the file read instead, where it came from), for -v. */
size_t pk_core_nfound(const struct pk_core *c);
const char *pk_core_found(const struct pk_core *c, size_t i);

/* Mapped ELF files that cannot be read here as the process had them (missing or of another
   build, and not found by build-id; known by the build-id in the core's copy of their header):
   count, and the i-th's path as the process saw it, with its build-id in hex in *build_id. */
size_t pk_core_nmissing(const struct pk_core *c);
const char *pk_core_missing(const struct pk_core *c, size_t i, const char **build_id);

/* Warnings gathered while reading (a mapped file missing or of another build): count, i-th. */
size_t pk_core_nwarnings(const struct pk_core *c);
const char *pk_core_warning(const struct pk_core *c, size_t i);

#endif
