/* /proc facts about a target: one directory fd, bounded file reads, thread ids, status fields. */
#include "attach/proc.h"

#include "attach/eperm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int pk_proc_open(pid_t pid, struct pk_err *e)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d", (int)pid);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ESRCH)
            return pk_fail(e, PK_E_NO_PROCESS, "no such process: %d", (int)pid);
        if (errno == EACCES || errno == EPERM)
            return pk_fail(e, PK_E_PERMISSION, "cannot open %s: %s", path, strerror(errno));
        return pk_fail(e, PK_E_NO_PROCESS, "cannot open %s: %s", path, strerror(errno));
    }
    return fd;
}

int pk_proc_read_file(int procfd, const char *name, size_t max, char **out, size_t *len,
                      struct pk_err *e)
{
    *out = NULL;
    if (len) *len = 0;
    int fd = openat(procfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        if (err == ENOENT || err == ESRCH)
            return pk_fail(e, PK_E_NO_PROCESS, "process exited (reading /proc/PID/%s)", name);
        if (err == EACCES || err == EPERM) {
            int r =
                pk_fail(e, PK_E_PERMISSION, "cannot read /proc/PID/%s: %s", name, strerror(err));
            if (e && e->code == PK_E_PERMISSION) pk_eperm_annotate(procfd, 0, e);
            return r;
        }
        return pk_fail(e, PK_E_NO_PROCESS, "cannot read /proc/PID/%s: %s", name, strerror(err));
    }
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return pk_fail(e, PK_E_INTERNAL, "out of memory");
    }
    for (;;) {
        if (n + 1 >= cap) {
            if (cap >= max) break; /* bounded: the rest is ignored */
            size_t ncap = cap * 2 > max ? max : cap * 2;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                close(fd);
                return pk_fail(e, PK_E_INTERNAL, "out of memory");
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0) {
            if (errno == EINTR) continue;
            int err = errno;
            free(buf);
            close(fd);
            if (err == ESRCH)
                return pk_fail(e, PK_E_NO_PROCESS, "process exited (reading /proc/PID/%s)", name);
            return pk_fail(e, PK_E_NO_PROCESS, "reading /proc/PID/%s: %s", name, strerror(err));
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *out = buf;
    if (len) *len = n;
    return 0;
}

long pk_parse_decimal(const char *s, long max)
{
    if (!s || !*s) return -1;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        v = v * 10 + (*p - '0');
        if (v > max) return -1;
    }
    return v;
}

long pk_parse_id(const char *s, long max)
{
    long v = pk_parse_decimal(s, max);
    return v >= 1 ? v : -1;
}

/* Exactly ndigits hex digits (ndigits 0: 1..16 digits) into *v. */
int pk_parse_hex(const char **pp, int ndigits, uint64_t *v)
{
    const char *p = *pp;
    uint64_t x = 0;
    int n = 0;
    for (;; p++, n++) {
        int d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            d = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            d = *p - 'A' + 10;
        else
            break;
        if (n >= 16 || (ndigits && n >= ndigits)) return -1;
        x = x << 4 | (uint64_t)d;
    }
    if (n == 0 || (ndigits && n != ndigits)) return -1;
    *pp = p;
    *v = x;
    return 0;
}

static int cmp_pid(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

int pk_proc_list_tasks(int procfd, pid_t **tids, size_t *n, struct pk_err *e)
{
    *tids = NULL;
    *n = 0;
    int dfd = openat(procfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return pk_fail(e, PK_E_NO_PROCESS, "process exited (listing its threads)");
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return pk_fail(e, PK_E_INTERNAL, "fdopendir: %s", strerror(errno));
    }
    size_t cap = 16, cnt = 0;
    pid_t *v = malloc(cap * sizeof *v);
    struct dirent *de;
    while (v && (de = readdir(d)) != NULL) {
        long id = pk_parse_id(de->d_name, 0x3fffffff);
        if (id < 0) continue;
        if (cnt == cap) {
            if (cap >= 1u << 20) break; /* more threads than any real process: stop */
            pid_t *nv = realloc(v, cap * 2 * sizeof *v);
            if (!nv) {
                free(v);
                v = NULL;
                break;
            }
            v = nv;
            cap *= 2;
        }
        v[cnt++] = (pid_t)id;
    }
    closedir(d);
    if (!v) return pk_fail(e, PK_E_INTERNAL, "out of memory");
    qsort(v, cnt, sizeof *v, cmp_pid);
    *tids = v;
    *n = cnt;
    return 0;
}

static uint64_t parse_kb(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    uint64_t v = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 19) {
        v = v * 10 + (uint64_t)(*p - '0');
        p++;
        digits++;
    }
    return v * 1024;
}

/* A signal set as status prints it: "\t0000000000000200" (16 hex digits); 0 if malformed. */
static void parse_sigset(const char *p, uint64_t *set)
{
    while (*p == ' ' || *p == '\t')
        p++;
    if (pk_parse_hex(&p, 16, set) < 0) *set = 0;
}

/* Example line: "State:\tS (sleeping)" */
int pk_proc_status_parse(const char *text, struct pk_proc_status *st)
{
    memset(st, 0, sizeof *st);
    st->state = '?';
    const char *line = text;
    while (line && *line) {
        const char *nl = strchr(line, '\n');
        if (!strncmp(line, "State:", 6)) {
            const char *p = line + 6;
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p && *p != '\n') st->state = *p;
        } else if (!strncmp(line, "Tgid:", 5)) {
            st->tgid = (pid_t)strtol(line + 5, NULL, 10);
        } else if (!strncmp(line, "TracerPid:", 10)) {
            st->tracer = (pid_t)strtol(line + 10, NULL, 10);
        } else if (!strncmp(line, "Uid:", 4)) {
            char *end;
            st->uid_real = (uid_t)strtoul(line + 4, &end, 10);
            st->uid_effective = (uid_t)strtoul(end, NULL, 10);
        } else if (!strncmp(line, "Threads:", 8)) {
            st->threads = (int)strtol(line + 8, NULL, 10);
        } else if (!strncmp(line, "VmRSS:", 6)) {
            st->rss_bytes = parse_kb(line + 6);
            st->have_rss = 1;
        } else if (!strncmp(line, "VmHWM:", 6)) {
            st->hwm_bytes = parse_kb(line + 6);
        } else if (!strncmp(line, "VmSwap:", 7)) {
            st->swap_bytes = parse_kb(line + 7);
        } else if (!strncmp(line, "ShdPnd:", 7)) {
            parse_sigset(line + 7, &st->shared_pending);
        } else if (!strncmp(line, "SigBlk:", 7)) {
            parse_sigset(line + 7, &st->main_blocked);
        }
        line = nl ? nl + 1 : NULL;
    }
    return st->state == '?' ? -1 : 0;
}

int pk_proc_read_status(int procfd, struct pk_proc_status *st, struct pk_err *e)
{
    char *text;
    int r = pk_proc_read_file(procfd, "status", 1 << 16, &text, NULL, e);
    if (r < 0) return r;
    r = pk_proc_status_parse(text, st);
    free(text);
    if (r < 0) return pk_fail(e, PK_E_NO_PROCESS, "process exited (unreadable status)");
    return 0;
}

void pk_proc_comm(pid_t pid, char *buf, size_t cap)
{
    char path[64];
    if (!cap) return;
    buf[0] = '\0';
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (!fgets(buf, (int)(cap < 4096 ? cap : 4096), f)) buf[0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
}
