/* Finding processes in /proc: pids, command lines, other roots and namespaces, access. */
#include "attach/proc_scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach/proc.h"

static int cmp_pid(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

int pk_proc_list_pids(pid_t **pids, size_t *n, struct pk_err *e)
{
    *pids = NULL;
    *n = 0;
    DIR *d = opendir("/proc");
    if (!d) return pk_fail(e, PK_E_INTERNAL, "cannot list /proc: %s", strerror(errno));
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && *n < PK_PROC_MAX_PIDS) {
        long pid = pk_parse_id(de->d_name, 0x3fffffff);
        if (pid < 0) continue;
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 256;
            pid_t *np = realloc(*pids, nc * sizeof *np);
            if (!np) {
                closedir(d);
                free(*pids);
                *pids = NULL;
                *n = 0;
                return pk_fail(e, PK_E_INTERNAL, "out of memory");
            }
            *pids = np;
            cap = nc;
        }
        (*pids)[(*n)++] = (pid_t)pid;
    }
    closedir(d);
    if (*n) qsort(*pids, *n, sizeof **pids, cmp_pid);
    return 0;
}

void pk_proc_cmdline(int procfd, char *out, size_t cap)
{
    char *text = NULL;
    size_t len = 0;
    struct pk_err ignore = {0};
    out[0] = '\0';
    if (cap == 0 || pk_proc_read_file(procfd, "cmdline", 64 * 1024, &text, &len, &ignore) < 0)
        return;
    while (len > 0 && text[len - 1] == '\0')
        len--;
    size_t k = len < cap - 1 ? len : cap - 1;
    for (size_t i = 0; i < k; i++)
        out[i] = text[i] ? text[i] : ' ';
    out[k] = '\0';
    free(text);
}

void pk_proc_container(int procfd, struct pk_proc_container *c)
{
    memset(c, 0, sizeof *c);
    struct stat mine, theirs;
    if (stat("/proc/self/root/", &mine) == 0 && fstatat(procfd, "root/", &theirs, 0) == 0)
        c->other_root = mine.st_dev != theirs.st_dev || mine.st_ino != theirs.st_ino;
    ssize_t n = readlinkat(procfd, "root", c->root, sizeof c->root - 1);
    c->root[n > 0 ? n : 0] = '\0';
    char self_ns[64];
    n = readlinkat(procfd, "ns/mnt", c->mnt_ns, sizeof c->mnt_ns - 1);
    c->mnt_ns[n > 0 ? n : 0] = '\0';
    n = readlink("/proc/self/ns/mnt", self_ns, sizeof self_ns - 1);
    self_ns[n > 0 ? n : 0] = '\0';
    c->other_mnt_ns = c->mnt_ns[0] && self_ns[0] && strcmp(c->mnt_ns, self_ns) != 0;
}

int pk_proc_ptrace_access(int procfd)
{
    int fd = openat(procfd, "mem", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno ? errno : EACCES;
    close(fd);
    return 0;
}
