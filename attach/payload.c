/* Finding payload pages (attach/payload.h): resident runs read while the target runs, each
   page tested for a word that points into a readable mapping. */
#include "attach/payload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "attach/pagemap.h"
#include "util/grow.h"

#define PIECE ((size_t)4 << 20) /* bytes read per call */
#define MIN_RUN ((uint64_t)64 << 10)

struct scan {
    pid_t pid;
    const struct pk_maps *maps;
    uint64_t lo, hi; /* every readable mapping lies in [lo, hi) */
    unsigned char *buf;
    uint64_t page;
    uint64_t run_start, run_end; /* the payload run being built */
    struct pk_payload *out;
    const volatile sig_atomic_t *cancel;
    int failed;
    int memfd; /* /proc/PID/mem: pages shared with another process are read there */
};

static int holds_pointer(const struct scan *s, const unsigned char *page)
{
    const uint64_t *w = (const uint64_t *)page;
    for (size_t i = 0; i < s->page / 8; i++) {
        uint64_t v = w[i];
        if (v < s->lo || v >= s->hi || (v & 7)) continue;
        const struct pk_map *m = pk_maps_find(s->maps, v);
        if (m && (m->perms & PK_MAP_R)) return 1;
    }
    return 0;
}

static int close_run(struct scan *s)
{
    if (s->run_end - s->run_start >= MIN_RUN) {
        struct pk_payload *p = s->out;
        if (pk_grow((void **)&p->v, &p->cap, p->n + 1, sizeof *p->v)) return -1;
        p->v[p->n++] = (struct pk_range){s->run_start, s->run_end};
        p->bytes += s->run_end - s->run_start;
    }
    s->run_start = s->run_end = 0;
    return 0;
}

static int on_page(struct scan *s, uint64_t addr, int payload)
{
    if (payload && s->run_end == addr && s->run_end) {
        s->run_end += s->page;
        return 0;
    }
    if (close_run(s) < 0) return -1;
    if (payload) s->run_start = addr, s->run_end = addr + s->page;
    return 0;
}

static int on_run(void *ctx, uint64_t start, uint64_t end, int state)
{
    struct scan *s = ctx;
    if (state == PK_PAGE_NONE) return 0;
    if (state == PK_PAGE_SHARED && s->memfd < 0) return 0; /* not read: not payload either */
    for (uint64_t a = start; a < end;) {
        if (s->cancel && *s->cancel) return s->failed = 1;
        size_t len = end - a < PIECE ? (size_t)(end - a) : PIECE;
        struct iovec l = {s->buf, len}, r = {(void *)(uintptr_t)a, len};
        ssize_t got = state == PK_PAGE_SHARED
                          ? pread(s->memfd, s->buf, len, (off_t)a) /* no pin: no unshare */
                          : process_vm_readv(s->pid, &l, 1, &r, 1, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return s->failed = 1;
        uint64_t whole = (uint64_t)got / s->page * s->page;
        if (!whole) return s->failed = 1;
        for (uint64_t off = 0; off < whole; off += s->page)
            if (on_page(s, a + off, !holds_pointer(s, s->buf + off)) < 0) return s->failed = 1;
        s->out->scanned += whole;
        a += whole;
    }
    return 0;
}

static int anonymous_private_rw(const struct pk_map *m)
{
    unsigned want = PK_MAP_R | PK_MAP_W | PK_MAP_P;
    return (m->perms & want) == want && m->inode == 0 &&
           (m->path[0] == '\0' || !strcmp(m->path, "[heap]"));
}

int pk_payload_scan(pid_t pid, int procfd, const struct pk_maps *maps,
                    const volatile sig_atomic_t *cancel, struct pk_payload *out)
{
    memset(out, 0, sizeof *out);
    struct scan s = {pid, maps, UINT64_MAX, 0, NULL, pk_page_size(), 0, 0, out, cancel, 0, -1};
    for (size_t i = 0; i < maps->n; i++) {
        if (!(maps->v[i].perms & PK_MAP_R)) continue;
        if (maps->v[i].start < s.lo) s.lo = maps->v[i].start;
        if (maps->v[i].end > s.hi) s.hi = maps->v[i].end;
    }
    int fd = pk_pagemap_open(procfd);
    s.memfd = openat(procfd, "mem", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || !(s.buf = malloc(PIECE))) {
        if (s.memfd >= 0) close(s.memfd);
        if (fd >= 0) close(fd);
        return -1;
    }
    for (size_t i = 0; i < maps->n && !s.failed; i++) {
        const struct pk_map *m = &maps->v[i];
        if (!anonymous_private_rw(m)) continue;
        if (pk_pagemap_runs(fd, m->start, m->end, on_run, &s) < 0) s.failed = 1;
        if (!s.failed && close_run(&s) < 0) s.failed = 1;
    }
    close(fd);
    if (s.memfd >= 0) close(s.memfd);
    free(s.buf);
    if (s.failed) pk_payload_free(out);
    return s.failed ? -1 : 0;
}

const struct pk_range *pk_payload_next(const struct pk_payload *p, uint64_t addr)
{
    size_t lo = 0, hi = p ? p->n : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->v[mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return p && lo < p->n ? &p->v[lo] : NULL;
}

void pk_payload_free(struct pk_payload *p)
{
    if (!p) return;
    free(p->v);
    memset(p, 0, sizeof *p);
}
