/* Native unwinding from saved registers and a memory reader, with libdwfl. */
#include "symbols/unwind.h"

#include <elfutils/libdwfl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct unwind_ctx {
    struct pk_mem *m;
    const struct pk_threads *th;
    size_t next; /* next_thread's position */
};

struct frames_ctx {
    Dwfl *dwfl;
    struct pk_unwound_stack *out;
    const char *truncated;
};

static const struct pk_thread_regs *find_thread(const struct pk_threads *th, pid_t tid)
{
    for (size_t i = 0; i < th->n; i++)
        if (th->v[i].tid == tid && th->v[i].have_regs) return &th->v[i];
    return NULL;
}

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
    (void)dwfl;
    struct unwind_ctx *c = arg;
    while (c->next < c->th->n && !c->th->v[c->next].have_regs)
        c->next++;
    if (c->next >= c->th->n) return 0;
    *thread_argp = (void *)&c->th->v[c->next];
    return c->th->v[c->next++].tid;
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
    (void)dwfl;
    struct unwind_ctx *c = arg;
    const struct pk_thread_regs *t = find_thread(c->th, tid);
    if (!t) return false;
    *thread_argp = (void *)t;
    return true;
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
    (void)dwfl;
    struct unwind_ctx *c = arg;
    uint64_t v;
    if (pk_mem_read_u64(c->m, addr, &v) < 0) return false;
    *result = v;
    return true;
}

/* x86-64 DWARF register numbers 0-16 (elfutils backends/x86_64_initreg.c). */
static bool set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
    const struct user_regs_struct *r = &((const struct pk_thread_regs *)thread_arg)->regs;
    Dwarf_Word regs[17] = {r->rax, r->rdx, r->rcx, r->rbx, r->rsi, r->rdi, r->rbp, r->rsp, r->r8,
                           r->r9,  r->r10, r->r11, r->r12, r->r13, r->r14, r->r15, r->rip};
    return dwfl_thread_state_registers(thread, 0, 17, regs);
}

static const Dwfl_Thread_Callbacks callbacks = {
    .next_thread = next_thread,
    .get_thread = get_thread,
    .memory_read = memory_read,
    .set_initial_registers = set_initial_registers,
};

static int on_frame(Dwfl_Frame *state, void *arg)
{
    struct frames_ctx *fc = arg;
    struct pk_unwound_stack *out = fc->out;
    Dwarf_Addr pc;
    bool activation;
    if (!dwfl_frame_pc(state, &pc, &activation)) {
        fc->truncated = "no pc for a frame";
        return DWARF_CB_ABORT;
    }
    if (out->n >= PK_UNWIND_MAX_FRAMES) {
        fc->truncated = "more native frames than pypeek reads per thread";
        return DWARF_CB_ABORT;
    }
    if (!out->v && !(out->v = calloc(PK_UNWIND_MAX_FRAMES, sizeof *out->v))) {
        fc->truncated = "out of memory";
        return DWARF_CB_ABORT;
    }
    /* a return address points after the call: look up the call instruction */
    Dwarf_Addr lookup = activation ? pc : pc - 1;
    struct pk_unwound_frame *f = &out->v[out->n++];
    f->address = pc;
    Dwfl_Module *mod = dwfl_addrmodule(fc->dwfl, lookup);
    if (!mod) return DWARF_CB_OK;
    GElf_Off off = 0;
    GElf_Sym sym;
    const char *name = dwfl_module_addrinfo(mod, lookup, &off, &sym, NULL, NULL, NULL);
    if (name) {
        f->function = strdup(name);
        f->offset = off + (pc - lookup);
    }
    const char *file = NULL; /* known once the symbol lookup opened the module's file */
    dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &file, NULL);
    if (file) f->module = strdup(file);
    return DWARF_CB_OK;
}

/* The modules of a core: each mapped file at its mapping of file offset 0 (an ELF file's
   first PT_LOAD), reported by path. A file that is not ELF is skipped by libdwfl. */
static int report_mapped_files(Dwfl *dwfl, const struct pk_maps *maps)
{
    for (size_t i = 0; i < maps->n; i++) {
        const struct pk_map *mp = &maps->v[i];
        if (mp->path[0] != '/' || mp->offset != 0) continue;
        int dup = 0;
        for (size_t k = 0; k < i && !dup; k++)
            dup = maps->v[k].offset == 0 && strcmp(maps->v[k].path, mp->path) == 0;
        if (dup) continue;
        const char *base = strrchr(mp->path, '/');
        dwfl_report_elf(dwfl, base ? base + 1 : mp->path, mp->path, -1, mp->start, true);
    }
    return dwfl_report_end(dwfl, NULL, NULL);
}

int pk_unwind_threads(pid_t pid, int live, struct pk_mem *m, const struct pk_threads *th,
                      const char *debug_dir, struct pk_unwound_stack *out)
{
    char path[4096];
    snprintf(path, sizeof path, "-:.debug:/usr/lib/debug%s%s", debug_dir ? ":" : "",
             debug_dir ? debug_dir : "");
    char *debuginfo_path = path;
    const Dwfl_Callbacks proc_callbacks = {
        .find_elf = dwfl_linux_proc_find_elf,
        .find_debuginfo = dwfl_standard_find_debuginfo,
        .debuginfo_path = &debuginfo_path,
    };
    Dwfl *dwfl = dwfl_begin(&proc_callbacks);
    if (!dwfl) return -PK_E_INTERNAL;
    struct unwind_ctx c = {m, th, 0};
    int reported =
        live ? dwfl_linux_proc_report(dwfl, pid) == 0 && dwfl_report_end(dwfl, NULL, NULL) == 0
             : report_mapped_files(dwfl, pk_mem_maps(m)) == 0;
    if (!reported || !dwfl_attach_state(dwfl, NULL, pid, &callbacks, &c)) {
        dwfl_end(dwfl);
        return -PK_E_INTERNAL;
    }
    for (size_t i = 0; i < th->n; i++) {
        if (!th->v[i].have_regs) continue;
        struct frames_ctx fc = {dwfl, &out[i], NULL};
        int r = dwfl_getthread_frames(dwfl, th->v[i].tid, on_frame, &fc);
        out[i].available = 1;
        /* the outermost frame ends in an error on some systems: only an early stop counts */
        if (fc.truncated)
            out[i].truncated = fc.truncated;
        else if (r == -1 && out[i].n < 2)
            out[i].truncated = "the stack could not be unwound";
    }
    dwfl_end(dwfl);
    return 0;
}

void pk_unwound_stack_free(struct pk_unwound_stack *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].function);
        free(s->v[i].module);
    }
    free(s->v);
    memset(s, 0, sizeof *s);
}
