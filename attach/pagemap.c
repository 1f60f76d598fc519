/* Resident pages from /proc/PID/pagemap, and stack pointers of stopped threads. */
#include "attach/pagemap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach/proc.h"

#define ENTRIES 8192 /* pagemap entries per read: 64 KiB, 32 MiB of address space */
#define PRESENT ((uint64_t)1 << 63)
#define SWAPPED ((uint64_t)1 << 62)
#define EXCLUSIVE ((uint64_t)1 << 56) /* "page exclusively mapped", Linux 4.2+ */

uint64_t pk_page_size(void)
{
    long page = sysconf(_SC_PAGESIZE);
    return page > 0 ? (uint64_t)page : 4096;
}

int pk_pagemap_open(int procfd)
{
    return openat(procfd, "pagemap", O_RDONLY | O_CLOEXEC);
}

static ssize_t pread_full(int fd, void *buf, size_t len, off_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t got = pread(fd, (char *)buf + done, len - done, off + (off_t)done);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return got < 0 && done == 0 ? -1 : (ssize_t)done;
        done += (size_t)got;
    }
    return (ssize_t)done;
}

int pk_pagemap_runs(int fd, uint64_t start, uint64_t end, pk_page_run_fn fn, void *ctx)
{
    static const uint64_t top = (uint64_t)1 << 56; /* pagemap offsets stay far below off_t's */
    const uint64_t page_size = pk_page_size();
    if (fd < 0 || start % page_size || end % page_size || end < start || end > top) return -1;
    uint64_t entries[ENTRIES];
    uint64_t run_start = start;
    int run_state = -1;
    for (uint64_t page = start; page < end;) {
        uint64_t n = (end - page) / page_size;
        if (n > ENTRIES) n = ENTRIES;
        ssize_t got = pread_full(fd, entries, (size_t)n * 8, (off_t)(page / page_size * 8));
        if (got < 8) return -1;
        n = (uint64_t)got / 8;
        for (uint64_t i = 0; i < n; i++, page += page_size) {
            uint64_t v = entries[i];
            int state = !(v & (PRESENT | SWAPPED))         ? PK_PAGE_NONE
                        : (v & PRESENT) && (v & EXCLUSIVE) ? PK_PAGE_EXCLUSIVE
                                                           : PK_PAGE_SHARED;
            if (state == run_state) continue;
            if (run_state >= 0 && fn(ctx, run_start, page, run_state)) return 0;
            run_start = page;
            run_state = state;
        }
    }
    if (run_state >= 0) fn(ctx, run_start, end, run_state);
    return 0;
}

static int add_resident(void *ctx, uint64_t start, uint64_t end, int state)
{
    if (state != PK_PAGE_NONE) *(uint64_t *)ctx += end - start;
    return 0;
}

uint64_t pk_pagemap_resident_bytes(int fd, uint64_t start, uint64_t end)
{
    uint64_t total = 0;
    return pk_pagemap_runs(fd, start, end, add_resident, &total) < 0 ? UINT64_MAX : total;
}

/* "nr arg1 .. arg6 sp pc", "-1 sp pc" or "running": the next-to-last field. */
static int parse_sp(const char *text, uint64_t *sp)
{
    const char *fields[9];
    size_t n = 0;
    for (const char *p = text; *p && n < 9;) {
        while (*p == ' ' || *p == '\n')
            p++;
        if (!*p) break;
        fields[n++] = p;
        while (*p && *p != ' ' && *p != '\n')
            p++;
    }
    if (n < 3) return -1;
    const char *f = fields[n - 2];
    if (f[0] != '0' || f[1] != 'x') return -1;
    f += 2;
    return pk_parse_hex(&f, 0, sp) < 0 || (*f != ' ' && *f != '\n') ? -1 : 0;
}

int pk_thread_stack_pointers(int procfd, uint64_t *sps, size_t cap)
{
    pid_t *tids = NULL;
    size_t ntids = 0;
    struct pk_err ignored = {0};
    if (pk_proc_list_tasks(procfd, &tids, &ntids, &ignored) < 0) return -1;
    size_t n = 0;
    for (size_t i = 0; i < ntids && n < cap; i++) {
        char name[48], text[256];
        snprintf(name, sizeof name, "task/%d/syscall", (int)tids[i]);
        int fd = openat(procfd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        ssize_t got = read(fd, text, sizeof text - 1);
        close(fd);
        if (got <= 0) continue;
        text[got] = '\0';
        if (parse_sp(text, &sps[n]) == 0) n++;
    }
    free(tids);
    return (int)n;
}
