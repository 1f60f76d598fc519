/* Core files as a source of target memory (see core.h): libelf for the headers and notes,
   pread for the bytes, the mapped files for what the core left out. */
#include "attach/core.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach/core_unpack.h"
#include "util/grow.h"

#define MAX_NOTE_BYTES ((size_t)256 << 20)
#define MAX_WARNINGS 8
#define BUILD_ID_MAX 64

struct segment {
    uint64_t vaddr, memsz, offset, filesz;
    unsigned perms; /* PK_MAP_* */
};

struct mapped_file {
    uint64_t start, end, file_ofs; /* file_ofs in bytes */
    size_t path_index;             /* into paths */
};

struct file_state {
    char *path;  /* as the process saw it */
    char *host;  /* where pypeek opens it: --exe, under the sysroot, found by build-id; NULL:
                    nowhere */
    int verdict; /* 0 unchecked, 1 same build as the core's header, -1 unusable */
    int missing; /* an ELF file with a build-id in the core, not here as that build */
    char build_id[2 * BUILD_ID_MAX + 1]; /* hex, from the core's copy of its header, or "" */
    uint64_t inode;                      /* synthetic, distinct per path (maps want one) */
};

struct pk_core {
    char *path;
    int fd;
    uint64_t size;
    int64_t mtime;
    size_t truncated; /* segments that extend past the end of the file */
    char *sysroot;
    Elf *elf;
    struct segment *segs; /* sorted by vaddr */
    size_t nsegs;
    struct mapped_file *files; /* sorted by start */
    size_t nfiles;
    struct file_state *paths;
    size_t npaths;
    struct pk_core_thread *threads;
    size_t nthreads;
    pid_t pid;
    int signal;
    char command[81];
    uint64_t at_entry;
    char *warnings[MAX_WARNINGS];
    size_t nwarnings;
    char **found; /* files found by build-id, one line each */
    size_t nfound;
};

static int file_verdict(struct pk_core *c, struct file_state *fs);
static int place_files(struct pk_core *c, const char *exe_override);
static int find_files(struct pk_core *c, const char *exe_override,
                      const struct pk_core_finder *finder);

__attribute__((format(printf, 2, 3))) static void core_warn(struct pk_core *c, const char *fmt, ...)
{
    if (c->nwarnings >= MAX_WARNINGS) return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    c->warnings[c->nwarnings] = strdup(buf);
    if (c->warnings[c->nwarnings]) c->nwarnings++;
}

static int cmp_seg(const void *a, const void *b)
{
    const struct segment *x = a, *y = b;
    return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

static int cmp_file(const void *a, const void *b)
{
    const struct mapped_file *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static size_t path_index(struct pk_core *c, const char *name, size_t *cap)
{
    for (size_t i = 0; i < c->npaths; i++)
        if (strcmp(c->paths[i].path, name) == 0) return i;
    if (pk_grow((void **)&c->paths, cap, c->npaths + 1, sizeof *c->paths) < 0) return SIZE_MAX;
    char *p = strdup(name);
    if (!p) return SIZE_MAX;
    c->paths[c->npaths] = (struct file_state){p, NULL, 0, 0, "", (uint64_t)c->npaths + 1};
    return c->npaths++;
}

/* NT_FILE: count, page size, count (start, end, page offset) triples, then count names. */
static int parse_nt_file(struct pk_core *c, const unsigned char *d, size_t len, struct pk_err *e)
{
    uint64_t count, page;
    if (len < 16) return pk_fail(e, PK_E_BAD_FILE, "%s: NT_FILE note is truncated", c->path);
    memcpy(&count, d, 8);
    memcpy(&page, d + 8, 8);
    if (count > PK_CORE_MAX_FILES || count * 24 > len - 16 || page == 0 || page > (1u << 30))
        return pk_fail(e, PK_E_BAD_FILE, "%s: NT_FILE note is malformed (%llu files)", c->path,
                       (unsigned long long)count);
    c->files = calloc(count ? count : 1, sizeof *c->files);
    if (!c->files) return pk_fail(e, PK_E_INTERNAL, "out of memory");
    const unsigned char *names = d + 16 + count * 24, *end = d + len;
    size_t cap = 0;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t v[3];
        memcpy(v, d + 16 + i * 24, sizeof v);
        const unsigned char *nul = memchr(names, 0, (size_t)(end - names));
        if (!nul || v[1] <= v[0] || v[2] > UINT64_MAX / page)
            return pk_fail(e, PK_E_BAD_FILE, "%s: NT_FILE entry %llu is malformed", c->path,
                           (unsigned long long)i);
        size_t pi = path_index(c, (const char *)names, &cap);
        if (pi == SIZE_MAX) return pk_fail(e, PK_E_INTERNAL, "out of memory");
        c->files[c->nfiles++] = (struct mapped_file){v[0], v[1], v[2] * page, pi};
        names = nul + 1;
    }
    qsort(c->files, c->nfiles, sizeof *c->files, cmp_file);
    return 0;
}

static int parse_notes(struct pk_core *c, Elf_Data *data, size_t *thread_cap, struct pk_err *e)
{
    GElf_Nhdr nh;
    size_t off = 0, name_off, desc_off, next;
    while ((next = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
        const unsigned char *desc = (const unsigned char *)data->d_buf + desc_off;
        const char *name = (const char *)data->d_buf + name_off;
        int core_owner = nh.n_namesz == 5 && memcmp(name, "CORE", 5) == 0;
        int linux_owner = nh.n_namesz == 6 && memcmp(name, "LINUX", 6) == 0;
        off = next;
        if (!core_owner && !linux_owner) continue;
        if (nh.n_type == NT_PRSTATUS && nh.n_descsz >= sizeof(prstatus_t)) {
            if (c->nthreads >= PK_CORE_MAX_THREADS) continue;
            if (pk_grow((void **)&c->threads, thread_cap, c->nthreads + 1, sizeof *c->threads) < 0)
                return pk_fail(e, PK_E_INTERNAL, "out of memory");
            prstatus_t st;
            memcpy(&st, desc, sizeof st);
            struct pk_core_thread *t = &c->threads[c->nthreads++];
            memset(t, 0, sizeof *t);
            t->tid = st.pr_pid;
            t->cursig = st.pr_cursig;
            _Static_assert(sizeof st.pr_reg == sizeof t->regs, "x86-64 user_regs_struct");
            memcpy(t->regs, &st.pr_reg, sizeof t->regs);
            struct user_regs_struct regs;
            memcpy(&regs, &st.pr_reg, sizeof regs);
            t->sp = regs.rsp;
            t->ip = regs.rip;
            if (!c->signal && st.pr_cursig) c->signal = st.pr_cursig;
        } else if (nh.n_type == NT_PRPSINFO && nh.n_descsz >= sizeof(prpsinfo_t)) {
            prpsinfo_t ps;
            memcpy(&ps, desc, sizeof ps);
            c->pid = ps.pr_pid;
            memcpy(c->command, ps.pr_psargs, sizeof ps.pr_psargs);
            c->command[sizeof ps.pr_psargs] = '\0';
        } else if (nh.n_type == NT_SIGINFO && nh.n_descsz >= sizeof(int)) {
            int signo;
            memcpy(&signo, desc, sizeof signo);
            if (signo > 0 && signo < 128) c->signal = signo;
        } else if (nh.n_type == NT_AUXV) {
            for (size_t i = 0; i + 16 <= nh.n_descsz; i += 16) {
                uint64_t kv[2];
                memcpy(kv, desc + i, sizeof kv);
                if (kv[0] == AT_ENTRY) c->at_entry = kv[1];
            }
        } else if (nh.n_type == NT_FILE && !c->files) {
            int r = parse_nt_file(c, desc, nh.n_descsz, e);
            if (r < 0) return r;
        }
    }
    return 0;
}

static unsigned seg_perms(GElf_Word flags)
{
    return ((flags & PF_R) ? PK_MAP_R : 0) | ((flags & PF_W) ? PK_MAP_W : 0) |
           ((flags & PF_X) ? PK_MAP_X : 0) | PK_MAP_P;
}

static int read_headers(struct pk_core *c, struct pk_err *e)
{
    if (elf_kind(c->elf) != ELF_K_ELF)
        return pk_fail(e, PK_E_BAD_FILE, "%s is not an ELF file", c->path);
    if (gelf_getclass(c->elf) != ELFCLASS64)
        return pk_fail(e, PK_E_BAD_FILE,
                       "%s is the core of a 32-bit process: pypeek reads x86-64 processes",
                       c->path);
    GElf_Ehdr eh;
    if (!gelf_getehdr(c->elf, &eh))
        return pk_fail(e, PK_E_BAD_FILE, "%s: unreadable ELF header (%s)", c->path, elf_errmsg(-1));
    if (eh.e_type != ET_CORE)
        return pk_fail(e, PK_E_BAD_FILE, "%s is an ELF file but not a core file", c->path);
    if (eh.e_machine != EM_X86_64)
        return pk_fail(e, PK_E_BAD_FILE,
                       "%s is the core of another architecture (ELF machine %u): pypeek reads "
                       "x86-64 processes",
                       c->path, (unsigned)eh.e_machine);
    size_t nph;
    if (elf_getphdrnum(c->elf, &nph) != 0 || nph == 0 || nph > PK_CORE_MAX_SEGMENTS)
        return pk_fail(e, PK_E_BAD_FILE, "%s: no readable program headers (truncated?)", c->path);
    c->segs = calloc(nph, sizeof *c->segs);
    if (!c->segs) return pk_fail(e, PK_E_INTERNAL, "out of memory");
    size_t thread_cap = 0, notes = 0, truncated = 0;
    for (size_t i = 0; i < nph; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(c->elf, (int)i, &ph))
            return pk_fail(e, PK_E_BAD_FILE, "%s: program header %zu unreadable", c->path, i);
        if (ph.p_type == PT_NOTE) {
            if (ph.p_filesz > MAX_NOTE_BYTES || ph.p_offset > c->size ||
                ph.p_filesz > c->size - ph.p_offset) {
                truncated++;
                continue;
            }
            Elf_Data *d =
                elf_getdata_rawchunk(c->elf, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_NHDR);
            if (!d) continue;
            notes++;
            int r = parse_notes(c, d, &thread_cap, e);
            if (r < 0) return r;
        } else if (ph.p_type == PT_LOAD && ph.p_memsz > 0) {
            if (ph.p_vaddr + ph.p_memsz < ph.p_vaddr) continue;
            struct segment s = {ph.p_vaddr, ph.p_memsz, ph.p_offset, ph.p_filesz,
                                seg_perms(ph.p_flags)};
            if (s.filesz > s.memsz) s.filesz = s.memsz;
            if (s.offset > c->size)
                s.filesz = 0, truncated++;
            else if (s.filesz > c->size - s.offset)
                s.filesz = c->size - s.offset, truncated++;
            c->segs[c->nsegs++] = s;
        }
    }
    if (!notes)
        return pk_fail(e, PK_E_BAD_FILE, "%s has no notes (no threads, no mapped files): %s",
                       c->path, truncated ? "the file is truncated" : "not a process core");
    if (!c->nthreads)
        return pk_fail(e, PK_E_BAD_FILE, "%s has no thread (NT_PRSTATUS) note", c->path);
    if (!c->nsegs) return pk_fail(e, PK_E_BAD_FILE, "%s holds no memory (no PT_LOAD)", c->path);
    c->truncated = truncated;
    if (truncated)
        core_warn(c,
                  "%s is truncated: %zu segment(s) extend past its end (those bytes are "
                  "unreadable)",
                  c->path, truncated);
    qsort(c->segs, c->nsegs, sizeof *c->segs, cmp_seg);
    for (size_t i = 1; i < c->nsegs; i++)
        if (c->segs[i].vaddr < c->segs[i - 1].vaddr + c->segs[i - 1].memsz)
            return pk_fail(e, PK_E_BAD_FILE, "%s: memory segments overlap at 0x%llx", c->path,
                           (unsigned long long)c->segs[i].vaddr);
    for (size_t i = 1; i < c->nfiles; i++)
        if (c->files[i].start < c->files[i - 1].end)
            return pk_fail(e, PK_E_BAD_FILE, "%s: mapped files overlap at 0x%llx", c->path,
                           (unsigned long long)c->files[i].start);
    return 0;
}

static struct file_state *exe_state(struct pk_core *c)
{
    const char *exe = pk_core_exe(c);
    for (size_t i = 0; i < c->npaths; i++)
        if (strcmp(c->paths[i].path, exe) == 0) return &c->paths[i];
    return NULL;
}

/* --exe must be the executable the process ran: the same build-id as the core's copy. */
static int check_exe(struct pk_core *c, const char *exe, struct pk_err *e)
{
    struct file_state *fs = exe_state(c);
    if (!fs)
        return pk_fail(e, PK_E_BAD_FILE, "%s names no executable for --exe to replace", c->path);
    size_t before = c->nwarnings;
    if (file_verdict(c, fs) > 0) return 0;
    return pk_fail(e, PK_E_BAD_FILE, "--exe %s: %s", exe,
                   c->nwarnings > before ? c->warnings[before] : "not the process's executable");
}

int pk_core_open(const char *path, const char *sysroot, const char *exe,
                 const struct pk_core_finder *finder, struct pk_core **out, struct pk_err *e)
{
    *out = NULL;
    struct pk_core *c = calloc(1, sizeof *c);
    if (!c) return pk_fail(e, PK_E_INTERNAL, "out of memory");
    c->fd = -1;
    c->path = strdup(path);
    c->sysroot = strdup(sysroot ? sysroot : "");
    if (!c->path || !c->sysroot) {
        pk_core_close(c);
        return pk_fail(e, PK_E_INTERNAL, "out of memory");
    }
    c->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (c->fd < 0 || fstat(c->fd, &st) < 0) {
        int err = errno;
        pk_core_close(c);
        return pk_fail(e, PK_E_BAD_FILE, "cannot open core file %s: %s", path, strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        pk_core_close(c);
        return pk_fail(e, PK_E_BAD_FILE, "%s is not a regular file", path);
    }
    c->mtime = (int64_t)st.st_mtime;
    int unpacked;
    int ur = pk_core_unpack(c->fd, path, &unpacked, e);
    if (ur < 0) {
        pk_core_close(c);
        return ur;
    }
    if (ur == 1) { /* read the unpacked copy from now on */
        close(c->fd);
        c->fd = unpacked;
        if (fstat(c->fd, &st) < 0) {
            pk_core_close(c);
            return pk_fail(e, PK_E_BAD_FILE, "%s: unpacked copy unreadable", path);
        }
    }
    c->size = (uint64_t)st.st_size;
    elf_version(EV_CURRENT);
    c->elf = elf_begin(c->fd, ELF_C_READ_MMAP, NULL);
    int r =
        c->elf ? read_headers(c, e)
               : pk_fail(e, PK_E_BAD_FILE, "%s is not an ELF core file (%s)", path, elf_errmsg(-1));
    if (r == 0 && (place_files(c, exe) < 0 || find_files(c, exe, finder) < 0))
        r = pk_fail(e, PK_E_INTERNAL, "out of memory");
    if (r == 0 && exe) r = check_exe(c, exe, e);
    if (r < 0) {
        pk_core_close(c);
        return r;
    }
    *out = c;
    return 0;
}

void pk_core_close(struct pk_core *c)
{
    if (!c) return;
    if (c->elf) elf_end(c->elf);
    if (c->fd >= 0) close(c->fd);
    for (size_t i = 0; i < c->npaths; i++) {
        free(c->paths[i].path);
        free(c->paths[i].host);
    }
    for (size_t i = 0; i < c->nwarnings; i++)
        free(c->warnings[i]);
    for (size_t i = 0; i < c->nfound; i++)
        free(c->found[i]);
    free(c->found);
    free(c->paths);
    free(c->files);
    free(c->segs);
    free(c->threads);
    free(c->sysroot);
    free(c->path);
    free(c);
}

const char *pk_core_path(const struct pk_core *c)
{
    return c->path;
}

uint64_t pk_core_file_size(const struct pk_core *c)
{
    return c->size;
}

size_t pk_core_truncated(const struct pk_core *c)
{
    return c->truncated;
}

int64_t pk_core_mtime(const struct pk_core *c)
{
    return c->mtime;
}

pid_t pk_core_pid(const struct pk_core *c)
{
    return c->pid ? c->pid : c->threads[0].tid;
}

int pk_core_signal(const struct pk_core *c)
{
    return c->signal;
}

const char *pk_core_command(const struct pk_core *c)
{
    return c->command;
}

size_t pk_core_nthreads(const struct pk_core *c)
{
    return c->nthreads;
}

const struct pk_core_thread *pk_core_thread(const struct pk_core *c, size_t i)
{
    return i < c->nthreads ? &c->threads[i] : NULL;
}

size_t pk_core_nwarnings(const struct pk_core *c)
{
    return c->nwarnings;
}

const char *pk_core_warning(const struct pk_core *c, size_t i)
{
    return i < c->nwarnings ? c->warnings[i] : "";
}

size_t pk_core_nfound(const struct pk_core *c)
{
    return c->nfound;
}

const char *pk_core_found(const struct pk_core *c, size_t i)
{
    return i < c->nfound ? c->found[i] : "";
}

size_t pk_core_nmissing(const struct pk_core *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->npaths; i++)
        n += c->paths[i].missing != 0;
    return n;
}

const char *pk_core_missing(const struct pk_core *c, size_t i, const char **build_id)
{
    for (size_t k = 0; k < c->npaths; k++) {
        if (!c->paths[k].missing || i-- > 0) continue;
        *build_id = c->paths[k].build_id;
        return c->paths[k].path;
    }
    *build_id = "";
    return "";
}

static const struct mapped_file *file_at(const struct pk_core *c, uint64_t addr)
{
    size_t lo = 0, hi = c->nfiles;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->files[mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->nfiles && c->files[lo].start <= addr ? &c->files[lo] : NULL;
}

static const struct segment *segment_at(const struct pk_core *c, uint64_t addr)
{
    size_t lo = 0, hi = c->nsegs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->segs[mid].vaddr + c->segs[mid].memsz <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->nsegs && c->segs[lo].vaddr <= addr ? &c->segs[lo] : NULL;
}

const char *pk_core_exe(const struct pk_core *c)
{
    const struct mapped_file *f = c->at_entry ? file_at(c, c->at_entry) : NULL;
    if (!f && c->nfiles) f = &c->files[0];
    return f ? c->paths[f->path_index].path : "";
}

static int push_map(struct pk_maps *out, size_t *cap, uint64_t start, uint64_t end, uint64_t offset,
                    unsigned perms, const struct file_state *fs)
{
    if (pk_grow((void **)&out->v, cap, out->n + 1, sizeof *out->v) < 0) return -1;
    char *path = strdup(fs ? (fs->host ? fs->host : fs->path) : "");
    if (!path) return -1;
    out->v[out->n++] = (struct pk_map){start, end, offset, fs ? fs->inode : 0, 0, 0, perms, path};
    return 0;
}

static int cmp_map(const void *a, const void *b)
{
    const struct pk_map *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

int pk_core_maps(const struct pk_core *c, struct pk_maps *out, struct pk_err *e)
{
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    for (size_t i = 0; i < c->nsegs; i++) {
        const struct segment *s = &c->segs[i];
        /* A segment may span several mapped files or parts of one: split at their edges. */
        uint64_t a = s->vaddr, end = s->vaddr + s->memsz;
        while (a < end) {
            const struct mapped_file *f = file_at(c, a);
            uint64_t stop = end;
            if (f && f->end < stop) stop = f->end;
            if (!f) { /* up to the next file's start */
                for (size_t k = 0; k < c->nfiles; k++)
                    if (c->files[k].start > a && c->files[k].start < stop) stop = c->files[k].start;
            }
            const struct file_state *fs = f ? &c->paths[f->path_index] : NULL;
            uint64_t off = f ? f->file_ofs + (a - f->start) : 0;
            if (push_map(out, &cap, a, stop, off, s->perms, fs) < 0) goto oom;
            a = stop;
        }
    }
    /* Mapped files the core holds no segment of (text a debugger or the kernel left out). */
    for (size_t k = 0; k < c->nfiles; k++) {
        const struct mapped_file *f = &c->files[k];
        uint64_t a = f->start;
        while (a < f->end) {
            const struct segment *s = segment_at(c, a);
            if (s) {
                a = s->vaddr + s->memsz;
                continue;
            }
            uint64_t stop = f->end;
            for (size_t i = 0; i < c->nsegs; i++)
                if (c->segs[i].vaddr > a && c->segs[i].vaddr < stop) stop = c->segs[i].vaddr;
            if (push_map(out, &cap, a, stop, f->file_ofs + (a - f->start),
                         PK_MAP_R | PK_MAP_X | PK_MAP_P, &c->paths[f->path_index]) < 0)
                goto oom;
            a = stop;
        }
    }
    qsort(out->v, out->n, sizeof *out->v, cmp_map);
    return 0;
oom:
    pk_maps_free(out);
    return pk_fail(e, PK_E_INTERNAL, "out of memory");
}

/* Reads through a byte source (the core's memory or a file): [at, at+len) or -1. */
typedef int (*byte_fn)(void *ctx, uint64_t at, void *buf, size_t len);

/* The NT_GNU_BUILD_ID of the ELF image whose header starts at base in a byte source. */
static size_t build_id_at(byte_fn rd, void *ctx, uint64_t base, unsigned char *out)
{
    Elf64_Ehdr eh;
    if (rd(ctx, base, &eh, sizeof eh) < 0 || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) ||
        eh.e_phnum > 256)
        return 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        if (rd(ctx, base + eh.e_phoff + i * sizeof ph, &ph, sizeof ph) < 0) return 0;
        if (ph.p_type != PT_NOTE || ph.p_filesz > 4096) continue;
        unsigned char notes[4096];
        if (rd(ctx, base + ph.p_offset, notes, (size_t)ph.p_filesz) < 0) continue;
        size_t off = 0;
        while (off + sizeof(Elf64_Nhdr) <= ph.p_filesz) {
            Elf64_Nhdr nh;
            memcpy(&nh, notes + off, sizeof nh);
            size_t name_at = off + sizeof nh, desc_at = name_at + ((nh.n_namesz + 3u) & ~3u);
            size_t next = desc_at + ((nh.n_descsz + 3u) & ~3u);
            if (next > ph.p_filesz || next <= off) break;
            if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
                memcmp(notes + name_at, "GNU", 4) == 0 && nh.n_descsz > 0 &&
                nh.n_descsz <= BUILD_ID_MAX) {
                memcpy(out, notes + desc_at, nh.n_descsz);
                return nh.n_descsz;
            }
            off = next;
        }
    }
    return 0;
}

/* Bytes the core itself holds at addr (no file fallback): count from the start. */
static size_t core_bytes(const struct pk_core *c, uint64_t addr, void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        const struct segment *s = segment_at(c, addr + done);
        if (!s) break;
        uint64_t in = addr + done - s->vaddr;
        if (in >= s->filesz) break;
        size_t n = (size_t)(s->filesz - in < len - done ? s->filesz - in : len - done);
        ssize_t got = pread(c->fd, (char *)buf + done, n, (off_t)(s->offset + in));
        if (got <= 0) break;
        done += (size_t)got;
    }
    return done;
}

static int core_rd(void *ctx, uint64_t at, void *buf, size_t len)
{
    return core_bytes(ctx, at, buf, len) == len ? 0 : -1;
}

struct file_rd {
    int fd;
};

static int file_rd(void *ctx, uint64_t at, void *buf, size_t len)
{
    const struct file_rd *f = ctx;
    return pread(f->fd, buf, len, (off_t)at) == (ssize_t)len ? 0 : -1;
}

static int open_mapped_file(const struct file_state *fs)
{
    if (!fs->host) return -1;
    int fd = open(fs->host, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Where each mapped file is found on this machine: the executable at --exe, the others under
   the sysroot; a deleted or relative path nowhere. */
static int place_files(struct pk_core *c, const char *exe_override)
{
    static const char deleted[] = " (deleted)";
    const char *exe = pk_core_exe(c);
    for (size_t i = 0; i < c->npaths; i++) {
        struct file_state *fs = &c->paths[i];
        size_t len = strlen(fs->path);
        if (exe_override && strcmp(fs->path, exe) == 0) {
            fs->host = strdup(exe_override);
        } else if (fs->path[0] == '/' &&
                   !(len >= sizeof deleted - 1 &&
                     !strcmp(fs->path + len - (sizeof deleted - 1), deleted))) {
            size_t n = strlen(c->sysroot) + len + 1;
            if ((fs->host = malloc(n))) snprintf(fs->host, n, "%s%s", c->sysroot, fs->path);
        } else {
            continue;
        }
        if (!fs->host) return -1;
    }
    return 0;
}

/* Whether the file now at fs->path is the build the core mapped: its build-id equals the one in
   the core's copy of its ELF header (the mapping at file offset 0). */
static int file_verdict(struct pk_core *c, struct file_state *fs)
{
    if (fs->verdict) return fs->verdict;
    fs->verdict = -1;
    uint64_t header = 0;
    for (size_t k = 0; k < c->nfiles && !header; k++)
        if (&c->paths[c->files[k].path_index] == fs && c->files[k].file_ofs == 0)
            header = c->files[k].start;
    unsigned char in_core[BUILD_ID_MAX], in_file[BUILD_ID_MAX];
    size_t ncore = header ? build_id_at(core_rd, c, header, in_core) : 0;
    int fd = open_mapped_file(fs);
    if (fd < 0) {
        core_warn(c,
                  "%s (mapped by the process) cannot be opened: the pages the core does not "
                  "hold are unreadable",
                  fs->host ? fs->host : fs->path);
        return -1;
    }
    struct file_rd fr = {fd};
    size_t nfile = build_id_at(file_rd, &fr, 0, in_file);
    close(fd);
    if (!ncore)
        core_warn(c,
                  "the core holds no ELF header of %s to check the file against: the pages "
                  "the core does not hold are unreadable",
                  fs->path);
    else if (nfile != ncore || memcmp(in_core, in_file, ncore) != 0)
        core_warn(c,
                  "%s is not the build the process mapped (build-id differs): the pages the "
                  "core does not hold are unreadable",
                  fs->host);
    else
        fs->verdict = 1;
    return fs->verdict;
}

/* The build-id in the core's copy of fs's ELF header (its mapping at file offset 0): length,
   0 when the core holds none. */
static size_t core_build_id(struct pk_core *c, const struct file_state *fs, unsigned char *id)
{
    for (size_t k = 0; k < c->nfiles; k++)
        if (&c->paths[c->files[k].path_index] == fs && c->files[k].file_ofs == 0)
            return build_id_at(core_rd, c, c->files[k].start, id);
    return 0;
}

/* Whether the file at path has this build-id. */
static int file_has_build_id(const char *path, const unsigned char *id, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0) return 0;
    unsigned char got[BUILD_ID_MAX];
    struct file_rd fr = {fd};
    size_t n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? build_id_at(file_rd, &fr, 0, got) : 0;
    close(fd);
    return n == len && memcmp(got, id, len) == 0;
}

/* Every mapped ELF file the core knows the build-id of and that is not here as that build (but
   the executable given with --exe, which must match): looked up by build-id with the finder;
   what it gives replaces the file (checked to carry that build-id), the rest stays missing. */
static int find_files(struct pk_core *c, const char *exe_override,
                      const struct pk_core_finder *finder)
{
    const char *exe = pk_core_exe(c);
    size_t cap = 0;
    for (size_t i = 0; i < c->npaths; i++) {
        struct file_state *fs = &c->paths[i];
        unsigned char id[BUILD_ID_MAX];
        size_t len = core_build_id(c, fs, id);
        if (!len) continue;
        for (size_t k = 0; k < len; k++)
            snprintf(fs->build_id + 2 * k, 3, "%02x", id[k]);
        if (exe_override && strcmp(fs->path, exe) == 0) continue;
        if (fs->host && file_has_build_id(fs->host, id, len)) continue;
        char found[4096], how[256] = "", line[8192];
        if (!finder ||
            finder->find(finder->ctx, fs->path, id, len, found, sizeof found, how, sizeof how) <
                0 ||
            !file_has_build_id(found, id, len)) {
            fs->missing = 1;
            continue;
        }
        snprintf(line, sizeof line, "%s (%s here) is read from %s, found by build-id %s (%s)",
                 fs->path, fs->host && access(fs->host, F_OK) == 0 ? "another build" : "missing",
                 found, fs->build_id, how);
        char *dup = strdup(found), *l = strdup(line);
        if (!dup || !l || pk_grow((void **)&c->found, &cap, c->nfound + 1, sizeof *c->found) < 0) {
            free(dup);
            free(l);
            return -1;
        }
        free(fs->host);
        fs->host = dup;
        fs->verdict = 0;
        c->found[c->nfound++] = l;
    }
    return 0;
}

/* Bytes at addr from the mapped file, for pages the core does not hold. */
static size_t file_bytes(struct pk_core *c, uint64_t addr, void *buf, size_t len)
{
    const struct mapped_file *f = file_at(c, addr);
    if (!f) return 0;
    struct file_state *fs = &c->paths[f->path_index];
    if (file_verdict(c, fs) < 0) return 0;
    if (len > f->end - addr) len = (size_t)(f->end - addr);
    int fd = open_mapped_file(fs);
    if (fd < 0) return 0;
    ssize_t got = pread(fd, buf, len, (off_t)(f->file_ofs + (addr - f->start)));
    close(fd);
    return got > 0 ? (size_t)got : 0;
}

static long core_source(void *ctx, uint64_t addr, void *buf, size_t len)
{
    struct pk_core *c = ctx;
    size_t done = 0;
    while (done < len) {
        uint64_t a = addr + done;
        if (a < addr) break;
        size_t n = core_bytes(c, a, (char *)buf + done, len - done);
        if (n == 0) n = file_bytes(c, a, (char *)buf + done, len - done);
        if (n == 0) break;
        /* only as far as this source holds: the next byte may come from the other one */
        done += n;
    }
    return (long)done;
}

struct pk_mem *pk_mem_open_core(struct pk_core *c, const struct pk_maps *maps)
{
    return pk_mem_new(core_source, c, NULL, maps, 0);
}
