/* pypeek ps: every process on the host (its containers included) that runs CPython, with
   whether pypeek can read it as things stand: a layout (debug info, the cache or a record) and
   ptrace access. Resolving is what `pypeek PID` does before it stops a target: nothing is
   stopped here. */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach/eperm.h"
#include "attach/maps.h"
#include "attach/proc.h"
#include "attach/proc_scan.h"
#include "cli/commands.h"
#include "report/ps_out.h"
#include "symbols/target.h"
#include "util/term.h"

static int names_python(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return strstr(base, "python") != NULL;
}

/* A file of the process names python (libpython3.X.so, python3.X): worth resolving. */
static int maps_name_python(const struct pk_maps *m)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->v[i].path[0] == '/' && names_python(m->v[i].path)) return 1;
    return 0;
}

/* e->msg or an eperm explanation on one line: "\n  cause: " becomes "; ". */
static void one_line(char *s)
{
    char *w = s;
    for (const char *r = s; *r;) {
        if (*r == '\n') {
            while (*r == '\n' || *r == ' ')
                r++;
            if (w != s && w[-1] != '.') *w++ = ';';
            if (w != s) *w++ = ' ';
            continue;
        }
        *w++ = *r++;
    }
    *w = '\0';
}

static void set_reason(struct pk_ps_entry *p, const char *why)
{
    snprintf(p->reason, sizeof p->reason, "%s", why);
    one_line(p->reason);
}

static void ptrace_reason(int procfd, pid_t pid, int err, struct pk_ps_entry *p)
{
    struct pk_eperm_facts f;
    char why[1024];
    pk_eperm_facts_read(procfd, pid, &f);
    pk_eperm_explain(&f, why, sizeof why);
    snprintf(p->reason, sizeof p->reason, "ptrace not allowed (%s)%s", strerror(err), why);
    one_line(p->reason);
}

/* Fills p for pid; returns 1 when it runs CPython (or may: it names python and hides its
   maps), 0 when it does not or is gone. */
static int inspect(pid_t pid, const struct pk_opts *o, struct pk_target *t, struct pk_ps_entry *p)
{
    struct pk_err e = {0};
    memset(p, 0, sizeof *p);
    p->pid = pid;
    p->uid = -1;
    int procfd = pk_proc_open(pid, &e);
    if (procfd < 0) return 0;
    struct pk_proc_status st;
    struct pk_maps maps = {0};
    int found = 0;
    if (pk_proc_read_status(procfd, &st, &e) < 0 || !st.have_rss || st.tgid != pid) goto out;
    p->uid = (long)st.uid_real;
    p->rss_bytes = st.rss_bytes;
    p->threads = st.threads;
    struct passwd pw, *pwp = NULL;
    char pwbuf[1024];
    if (getpwuid_r(st.uid_real, &pw, pwbuf, sizeof pwbuf, &pwp) == 0 && pwp)
        snprintf(p->user, sizeof p->user, "%s", pw.pw_name);
    else
        snprintf(p->user, sizeof p->user, "%ld", p->uid);
    pk_proc_cmdline(procfd, p->cmdline, sizeof p->cmdline);
    ssize_t n = readlinkat(procfd, "exe", p->exe, sizeof p->exe - 1);
    p->exe[n > 0 ? n : 0] = '\0';
    struct pk_proc_container c;
    pk_proc_container(procfd, &c);
    p->in_container = c.other_root || c.other_mnt_ns;
    snprintf(p->root, sizeof p->root, "%s", c.root);
    snprintf(p->mnt_ns, sizeof p->mnt_ns, "%s", c.mnt_ns);
    if (pk_maps_read(procfd, &maps, &e) < 0) {
        /* Its maps are closed to pypeek: list it when its command names python. */
        char argv0[256];
        snprintf(argv0, sizeof argv0, "%s", p->cmdline);
        argv0[strcspn(argv0, " ")] = '\0';
        if (!names_python(argv0) && !names_python(p->exe)) goto out;
        found = 1;
        if (e.code == PK_E_PERMISSION)
            ptrace_reason(procfd, pid, EACCES, p);
        else
            set_reason(p, e.msg);
        goto out;
    }
    if (!maps_name_python(&maps) && !names_python(p->exe)) goto out;
    struct pk_target_opts topts = {o->debug_dir, o->layout_record, o->quiet};
    pk_err_clear(&e);
    int r = pk_target_resolve(pid, procfd, &maps, &topts, t, &e);
    if (r < 0 && (e.code == PK_E_NOT_PYTHON || e.code == PK_E_NO_PROCESS)) goto out;
    found = 1;
    snprintf(p->version, sizeof p->version, "%s", t->py_version);
    if (t->py_version[0]) p->build = t->free_threaded ? "free-threaded" : "gil";
    int access = pk_proc_ptrace_access(procfd);
    if (r < 0) {
        set_reason(p, e.msg);
    } else if (t->free_threaded) {
        set_reason(p, "a free-threaded build (--disable-gil): pypeek reads GIL builds only");
    } else if (access) {
        ptrace_reason(procfd, pid, access, p);
    } else if (st.tracer > 0) {
        char comm[64];
        pk_proc_comm(st.tracer, comm, sizeof comm);
        snprintf(p->reason, sizeof p->reason,
                 "already traced by process %d (%.60s): a process has one tracer", (int)st.tracer,
                 comm);
    } else {
        p->readable = 1;
    }
    if (r == 0) snprintf(p->layout_source, sizeof p->layout_source, "%s", t->layout_source);
out:
    pk_maps_free(&maps);
    close(procfd);
    return found;
}

int pk_cmd_ps(const struct pk_opts *o)
{
    struct pk_err e = {0};
    pid_t *pids = NULL;
    size_t npids = 0, n = 0, cap = 0;
    struct pk_ps_entry *v = NULL;
    struct pk_target *t = malloc(sizeof *t); /* large: keep it off the stack */
    int r = t ? pk_proc_list_pids(&pids, &npids, &e) : pk_fail(&e, PK_E_INTERNAL, "out of memory");
    pid_t self = getpid();
    int progress = pk_term_progress(o->quiet); /* resolving can read DWARF: seconds each */
    for (size_t i = 0; r == 0 && i < npids; i++) {
        if (pids[i] == self) continue;
        if (progress)
            fprintf(stderr, "\r\033[Kpypeek ps: process %zu of %zu (pid %d), %zu CPython found",
                    i + 1, npids, (int)pids[i], n);
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            struct pk_ps_entry *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                r = pk_fail(&e, PK_E_INTERNAL, "out of memory");
                break;
            }
            v = nv;
            cap = nc;
        }
        n += inspect(pids[i], o, t, &v[n]);
    }
    if (progress) fputs("\r\033[K", stderr);
    struct pk_colors colors;
    pk_colors_init(&colors, pk_term_color(stdout, o->no_color));
    if (r == 0) r = o->json ? pk_ps_json(stdout, v, n, &e) : pk_ps_text(stdout, v, n, &colors, &e);
    if (r == 0) r = pk_cli_flush_stdout(&e);
    free(v);
    free(pids);
    free(t);
    return pk_cli_finish(r, &e, NULL);
}
