/* The target's OS threads: names and states from /proc before the freeze, registers during. */
#include "attach/threads.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>

#include "attach/proc.h"

static void read_name_state(int procfd, struct pk_thread_regs *t)
{
    char path[64], *text = NULL;
    struct pk_err ignored = {0};
    t->state = '?';
    t->name[0] = 0;
    snprintf(path, sizeof path, "task/%d/comm", (int)t->tid);
    if (pk_proc_read_file(procfd, path, 64, &text, NULL, &ignored) == 0) {
        size_t n = strcspn(text, "\n");
        if (n >= sizeof t->name) n = sizeof t->name - 1;
        memcpy(t->name, text, n);
        t->name[n] = 0;
    }
    free(text);
    text = NULL;
    /* "TID (comm) S ...": the comm may hold ')' and spaces, so the state follows the last ')' */
    snprintf(path, sizeof path, "task/%d/stat", (int)t->tid);
    if (pk_proc_read_file(procfd, path, 4096, &text, NULL, &ignored) == 0) {
        const char *rp = strrchr(text, ')');
        if (rp && rp[1] == ' ' && rp[2] >= 'A' && rp[2] <= 'z') t->state = rp[2];
    }
    free(text);
    text = NULL;
    /* "NSpid:\t4242\t7": the last is the tid the thread's own namespace gives it */
    t->ns_tid = t->tid;
    snprintf(path, sizeof path, "task/%d/status", (int)t->tid);
    if (pk_proc_read_file(procfd, path, 16384, &text, NULL, &ignored) == 0) {
        const char *ns = strstr(text, "\nNSpid:");
        if (ns) {
            ns += 7;
            long last = -1;
            for (;;) {
                while (*ns == ' ' || *ns == '\t')
                    ns++;
                char *end;
                long v = strtol(ns, &end, 10);
                if (end == ns || v <= 0 || v > 0x3fffffff) break;
                last = v;
                ns = end;
            }
            if (last > 0) t->ns_tid = (pid_t)last;
        }
    }
    free(text);
}

int pk_threads_list(int procfd, struct pk_threads *out, struct pk_err *e)
{
    pid_t *tids;
    size_t n;
    memset(out, 0, sizeof *out);
    int r = pk_proc_list_tasks(procfd, &tids, &n, e);
    if (r < 0) return r;
    if (n > PK_THREADS_MAX) n = PK_THREADS_MAX;
    out->v = calloc(n ? n : 1, sizeof *out->v);
    if (!out->v) {
        free(tids);
        return pk_fail(e, PK_E_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        out->v[i].tid = tids[i];
        read_name_state(procfd, &out->v[i]);
    }
    out->n = n;
    free(tids);
    return 0;
}

static int cmp_tid(const void *a, const void *b)
{
    pid_t x = ((const struct pk_thread_regs *)a)->tid, y = ((const struct pk_thread_regs *)b)->tid;
    return (x > y) - (x < y);
}

int pk_threads_capture_regs(struct pk_threads *th, const struct pk_freeze *f)
{
    int n = pk_freeze_thread_count(f);
    size_t listed = th->n;
    for (int i = 0; i < n; i++) {
        pid_t tid = pk_freeze_tid(f, i);
        if (!tid) continue;
        struct pk_thread_regs key = {.tid = tid}, *t = NULL;
        if (listed) t = bsearch(&key, th->v, listed, sizeof *th->v, cmp_tid);
        if (!t) { /* started after the list was read */
            if (th->n >= PK_THREADS_MAX) continue;
            struct pk_thread_regs *nv = realloc(th->v, (th->n + 1) * sizeof *nv);
            if (!nv) return -PK_E_INTERNAL;
            th->v = nv;
            t = &th->v[th->n++];
            memset(t, 0, sizeof *t);
            t->tid = tid;
            t->ns_tid = tid;
            t->state = '?';
        }
        t->have_regs = ptrace(PTRACE_GETREGS, tid, 0, &t->regs) == 0;
        t->frozen = 1;
    }
    /* threads listed before the freeze that it did not find had exited meanwhile */
    size_t k = 0;
    for (size_t i = 0; i < th->n; i++)
        if (th->v[i].frozen) th->v[k++] = th->v[i];
    th->n = k;
    qsort(th->v, th->n, sizeof *th->v, cmp_tid);
    return 0;
}

size_t pk_threads_stack_pointers(const struct pk_threads *th, uint64_t *sp, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < th->n && k < cap; i++)
        if (th->v[i].have_regs) sp[k++] = th->v[i].regs.rsp;
    return k;
}

void pk_threads_free(struct pk_threads *th)
{
    free(th->v);
    memset(th, 0, sizeof *th);
}
