/* Explaining EPERM/EACCES from ptrace and /proc, in the order strace's diagnose_attach_eperm
   checks: another tracer, ownership and CAP_SYS_PTRACE, Yama's ptrace_scope. */
#include "attach/eperm.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CAP_SYS_PTRACE_BIT 19 /* include/uapi/linux/capability.h */

/* Reads a small file into buf (NUL-terminated); -1 on failure. */
static int read_small(int dirfd, const char *path, char *buf, size_t cap)
{
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0) return -1;
    buf[n] = '\0';
    return 0;
}

static const char *status_field(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, name, n) && p[n] == ':') return p + n + 1;
    return NULL;
}

void pk_eperm_facts_read(int procfd, pid_t pid, struct pk_eperm_facts *f)
{
    char buf[4096];
    memset(f, 0, sizeof *f);
    f->pid = pid;
    f->target_uid = -1;
    f->my_uid = (long)getuid();
    f->yama_scope = -1;
    const char *v;
    if (read_small(procfd, "status", buf, sizeof buf) == 0) {
        if ((v = status_field(buf, "TracerPid"))) f->tracer = (pid_t)strtol(v, NULL, 10);
        if ((v = status_field(buf, "Uid"))) f->target_uid = strtol(v, NULL, 10);
    }
    if (f->tracer > 0) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/comm", (int)f->tracer);
        if (read_small(AT_FDCWD, path, f->tracer_comm, sizeof f->tracer_comm) == 0)
            f->tracer_comm[strcspn(f->tracer_comm, "\n")] = '\0';
    }
    if (read_small(AT_FDCWD, "/proc/self/status", buf, sizeof buf) == 0 &&
        (v = status_field(buf, "CapEff"))) {
        unsigned long long caps = strtoull(v, NULL, 16);
        f->have_cap_ptrace = (caps >> CAP_SYS_PTRACE_BIT) & 1;
    }
    if (read_small(AT_FDCWD, "/proc/sys/kernel/yama/ptrace_scope", buf, sizeof buf) == 0)
        f->yama_scope = atoi(buf);
}

struct out {
    char *p;
    size_t cap, n;
};

__attribute__((format(printf, 2, 3))) static void say(struct out *o, const char *fmt, ...)
{
    if (o->n >= o->cap) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(o->p + o->n, o->cap - o->n, fmt, ap);
    va_end(ap);
    if (k > 0) o->n += (size_t)k < o->cap - o->n ? (size_t)k : o->cap - o->n - 1;
}

void pk_eperm_explain(const struct pk_eperm_facts *f, char *buf, size_t cap)
{
    struct out o = {buf, cap, 0};
    if (cap) buf[0] = '\0';
    if (f->tracer > 0) {
        say(&o,
            "\n  cause: process %d is already traced by process %d%s%s%s; a process has "
            "only one tracer. Detach that debugger or profiler (gdb, strace, py-spy) first.",
            (int)f->pid, (int)f->tracer, f->tracer_comm[0] ? " (" : "", f->tracer_comm,
            f->tracer_comm[0] ? ")" : "");
        return;
    }
    if (!f->have_cap_ptrace) {
        if (f->target_uid >= 0 && f->target_uid != f->my_uid)
            say(&o,
                "\n  cause: process %d runs as uid %ld, pypeek as uid %ld without "
                "CAP_SYS_PTRACE. Run pypeek as the target's user (sudo -u '#%ld' pypeek "
                "%d) or as root.",
                (int)f->pid, f->target_uid, f->my_uid, f->target_uid, (int)f->pid);
        switch (f->yama_scope) {
        case 1:
            say(&o, "\n  cause: kernel.yama.ptrace_scope is 1: only a parent may trace its "
                    "children without CAP_SYS_PTRACE. Run pypeek as root, or (system-wide) "
                    "sysctl kernel.yama.ptrace_scope=0.");
            break;
        case 2:
            say(&o, "\n  cause: kernel.yama.ptrace_scope is 2: only processes with "
                    "CAP_SYS_PTRACE may trace. Run pypeek as root.");
            break;
        case 3:
            say(&o, "\n  cause: kernel.yama.ptrace_scope is 3: ptrace is disabled until the "
                    "next reboot; pypeek cannot work on this machine.");
            return;
        default:
            break;
        }
        if (f->target_uid == f->my_uid && f->yama_scope <= 0)
            say(&o, "\n  cause: the target is not dumpable (setuid/setcap program, or "
                    "prctl(PR_SET_DUMPABLE, 0)): only CAP_SYS_PTRACE may read it. Run pypeek "
                    "as root.");
    } else {
        say(&o, "\n  cause: pypeek has CAP_SYS_PTRACE, yet was refused: a security module "
                "(SELinux, AppArmor, seccomp) or a user namespace that does not own the "
                "target denies ptrace.");
    }
    say(&o, "\n  in a container: pypeek needs CAP_SYS_PTRACE and the target's PID namespace "
            "(docker run --cap-add SYS_PTRACE --pid container:NAME; Kubernetes: "
            "securityContext.capabilities.add: [\"SYS_PTRACE\"], shareProcessNamespace: "
            "true).");
}

void pk_eperm_annotate(int procfd, pid_t pid, struct pk_err *e)
{
    struct pk_eperm_facts f;
    char why[1400];
    if (pid <= 0) { /* from procfd, which is /proc/PID */
        char self[64], link[64];
        snprintf(self, sizeof self, "/proc/self/fd/%d", procfd);
        ssize_t n = readlink(self, link, sizeof link - 1);
        if (n <= 0) return;
        link[n] = '\0';
        pid = (pid_t)atoi(strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
    }
    pk_eperm_facts_read(procfd, pid, &f);
    pk_eperm_explain(&f, why, sizeof why);
    size_t n = strlen(e->msg);
    snprintf(e->msg + n, sizeof e->msg - n, "%s", why);
}
