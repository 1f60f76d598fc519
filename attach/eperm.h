/* Why the kernel refused to let pypeek read or trace a process, and what the user can do:
   another tracer, ownership, Yama's ptrace_scope, CAP_SYS_PTRACE, containers. */
#ifndef PK_EPERM_H
#define PK_EPERM_H

#include <stddef.h>
#include <sys/types.h>

#include "util/error.h"

/* The facts the explanation is built from (read by pk_eperm_facts_read; tests fill them). */
struct pk_eperm_facts {
    pid_t pid;
    pid_t tracer;         /* TracerPid of the target, 0 if none */
    char tracer_comm[32]; /* its name, "" if unknown */
    long target_uid;      /* real uid of the target, -1 if unknown */
    long my_uid;          /* pypeek's real uid */
    int have_cap_ptrace;  /* CapEff bit 19 (CAP_SYS_PTRACE) */
    int yama_scope;       /* /proc/sys/kernel/yama/ptrace_scope, -1 when there is no Yama */
};

/* Reads the facts for the process open at procfd (pid). */
void pk_eperm_facts_read(int procfd, pid_t pid, struct pk_eperm_facts *f);
/* Writes the explanation: indented lines, each starting with a newline, most likely cause
   first, like strace's diagnose_attach_eperm. */
void pk_eperm_explain(const struct pk_eperm_facts *f, char *out, size_t cap);
/* Appends the explanation for procfd/pid (pid <= 0: taken from procfd) to e->msg, which
   already says what was denied. */
void pk_eperm_annotate(int procfd, pid_t pid, struct pk_err *e);

#endif
