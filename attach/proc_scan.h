/* Finding processes: every pid in /proc, its command line, whether it runs in another root or
   mount namespace than pypeek (a container or a chroot), and whether pypeek may read it. */
#ifndef PK_PROC_SCAN_H
#define PK_PROC_SCAN_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/error.h"

#define PK_PROC_MAX_PIDS (1u << 22) /* /proc/sys/kernel/pid_max's ceiling */

/* Every numeric entry of /proc (processes, not threads), ascending. *pids is malloc'd. */
int pk_proc_list_pids(pid_t **pids, size_t *n, struct pk_err *e);

/* The command line with NULs as spaces, at most cap - 1 bytes (untrusted text). */
void pk_proc_cmdline(int procfd, char *out, size_t cap);

struct pk_proc_container {
    int other_root;      /* /proc/PID/root is not pypeek's root directory */
    int other_mnt_ns;    /* another mount namespace */
    char root[PATH_MAX]; /* readlink of /proc/PID/root, "" if unreadable */
    char mnt_ns[64];     /* "mnt:[4026532282]", "" if unreadable */
};
/* Whether the process sees another root or mount namespace than pypeek does. */
void pk_proc_container(int procfd, struct pk_proc_container *c);

/* 0 when the kernel grants pypeek ptrace-attach access to the process (it lets pypeek open
   /proc/PID/mem, the same check PTRACE_SEIZE makes), else the errno (EACCES, EPERM...). */
int pk_proc_ptrace_access(int procfd);

#endif
