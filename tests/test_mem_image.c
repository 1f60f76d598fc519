/* The image source on a real child process: only pages that hold data are copied, pages never
   touched read as zeros and stay untouched in the target (its own pagemap says so). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attach/maps.h"
#include "attach/mem.h"
#include "attach/mem_image.h"
#include "attach/pagemap.h"
#include "attach/payload.h"
#include "attach/proc.h"

#define PAGES 64
static const int touched[] = {0, 5, 6, 63};

static int is_touched(int page)
{
    for (size_t i = 0; i < sizeof touched / sizeof *touched; i++)
        if (touched[i] == page) return 1;
    return 0;
}

/* A child that writes a pattern into a few pages of region and waits until hold is closed. */
static pid_t start_child(unsigned char *region, size_t page, int *hold_w)
{
    int ready[2], hold[2];
    cr_assert_eq(pipe(ready), 0);
    cr_assert_eq(pipe(hold), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(ready[0]);
        close(hold[1]);
        for (int p = 0; p < PAGES; p++)
            if (is_touched(p)) memset(region + (size_t)p * page, 0xA0 + p, page);
        char c = 1;
        if (write(ready[1], &c, 1) != 1) _exit(1);
        while (read(hold[0], &c, 1) > 0) {
        }
        _exit(0);
    }
    close(ready[1]);
    close(hold[0]);
    char c;
    cr_assert_eq(read(ready[0], &c, 1), 1, "the child did not start");
    close(ready[0]);
    *hold_w = hold[1];
    return pid;
}

/* Resident pages of [addr, addr+len) in pid, from its pagemap: the truth. */
static int resident_pages(pid_t pid, uint64_t addr, size_t page, int npages)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/pagemap", (int)pid);
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0);
    uint64_t e[PAGES];
    cr_assert_eq(pread(fd, e, sizeof e, (off_t)(addr / page * 8)), (ssize_t)sizeof e);
    close(fd);
    int n = 0;
    for (int i = 0; i < npages; i++)
        n += (e[i] >> 62) != 0;
    return n;
}

Test(image, copies_only_the_pages_that_hold_data)
{
    size_t page = (size_t)pk_page_size();
    unsigned char *region =
        mmap(NULL, PAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(region, MAP_FAILED);
    int hold;
    pid_t pid = start_child(region, page, &hold);
    uint64_t addr = (uint64_t)(uintptr_t)region;
    int ntouched = (int)(sizeof touched / sizeof *touched);
    cr_assert_eq(resident_pages(pid, addr, page, PAGES), ntouched);

    struct pk_err e = {0};
    int procfd = pk_proc_open(pid, &e);
    cr_assert_geq(procfd, 0, "%s", e.msg);
    struct pk_maps maps = {0};
    cr_assert_eq(pk_maps_read(procfd, &maps, &e), 0, "%s", e.msg);
    struct pk_image_estimate est;
    cr_assert_eq(pk_image_estimate(procfd, &maps, NULL, &est), 0);
    cr_assert_eq(est.pagemap, 1);
    cr_assert_geq(est.untouched_bytes, (uint64_t)(PAGES - ntouched) * page);
    struct pk_image *img = pk_image_new(est.copy_bytes + ((uint64_t)1 << 20));
    cr_assert_not_null(img);
    cr_assert_eq(pk_image_copy(img, pid, procfd, &maps, 0, NULL, &e), 0, "%s", e.msg);
    uint64_t copy, untouched, below_sp;
    pk_image_plan_bytes(img, &copy, &untouched, &below_sp);
    cr_assert_geq(untouched, (uint64_t)(PAGES - ntouched) * page);
    cr_assert_leq(pk_image_bytes(img), est.writable_bytes - (uint64_t)(PAGES - ntouched) * page);

    /* Every byte reads as the child holds it: its pattern or zeros. */
    struct pk_mem *mem = pk_mem_open_image(img, pid, &maps);
    cr_assert_not_null(mem);
    static unsigned char got[PAGES * 65536];
    cr_assert_eq(pk_mem_read(mem, addr, got, PAGES * page), 0);
    for (int p = 0; p < PAGES; p++) {
        unsigned char want = is_touched(p) ? (unsigned char)(0xA0 + p) : 0;
        for (size_t i = 0; i < page; i++)
            cr_assert_eq(got[(size_t)p * page + i], want, "page %d byte %zu: %#x, want %#x", p, i,
                         got[(size_t)p * page + i], want);
    }
    /* Small reads (a view of the copy when one copied span holds them) inside pages and
       across every page edge, copied or never touched, read the same bytes. */
    for (int p = 1; p < PAGES; p++) {
        uint64_t edge = addr + (uint64_t)p * page;
        unsigned char small[16];
        for (int k = 0; k < 3; k++) {
            uint64_t at = edge + (k == 0 ? (uint64_t)0 - 8 : k == 1 ? 0 : 100);
            cr_assert_eq(pk_mem_read(mem, at, small, sizeof small), 0, "read at page %d", p);
            cr_assert_eq(pk_mem_is_mapped(mem, at, sizeof small), 1);
            cr_assert_eq(memcmp(small, got + (at - addr), sizeof small), 0,
                         "16 bytes at page %d + %lld", p, (long long)(at - edge));
        }
    }
    cr_assert_eq(pk_image_misses(img), 0);
    /* Reading it mapped nothing into the child: the untouched pages are still not there. */
    cr_assert_eq(resident_pages(pid, addr, page, PAGES), ntouched);

    pk_mem_free(mem);
    pk_maps_free(&maps);
    close(procfd);
    close(hold);
    waitpid(pid, NULL, 0);
    munmap(region, PAGES * page);
}

Test(image, stack_pointer_is_the_next_to_last_field)
{
    /* Read from a stopped child (as pypeek reads a frozen target): its one thread's stack
       pointer lies in its [stack], which the maps say independently. */
    int hold;
    size_t page = (size_t)pk_page_size();
    unsigned char *region =
        mmap(NULL, PAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    pid_t pid = start_child(region, page, &hold);
    struct pk_err e = {0};
    int procfd = pk_proc_open(pid, &e);
    cr_assert_geq(procfd, 0);
    struct pk_maps maps = {0};
    cr_assert_eq(pk_maps_read(procfd, &maps, &e), 0);
    int st;
    cr_assert_eq(kill(pid, SIGSTOP), 0);
    cr_assert_eq(waitpid(pid, &st, WUNTRACED), pid);
    cr_assert(WIFSTOPPED(st));
    uint64_t sp[4];
    int n = pk_thread_stack_pointers(procfd, sp, 4);
    kill(pid, SIGCONT);
    cr_assert_eq(n, 1);
    const struct pk_map *m = pk_maps_find(&maps, sp[0]);
    cr_assert_not_null(m, "sp %#llx is in no mapping", (unsigned long long)sp[0]);
    cr_assert_str_eq(m->path, "[stack]");
    pk_maps_free(&maps);
    close(procfd);
    close(hold);
    waitpid(pid, NULL, 0);
    munmap(region, PAGES * page);
}

/* A child whose region holds a page of pointers (to itself), then 32 pages of text. */
static pid_t start_payload_child(uint64_t *words, size_t page, int *hold_w)
{
    int ready[2], hold[2];
    cr_assert_eq(pipe(ready), 0);
    cr_assert_eq(pipe(hold), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(ready[0]);
        close(hold[1]);
        for (size_t i = 0; i < page / 8; i++)
            words[i] = (uint64_t)(uintptr_t)words; /* a pointer into a readable mapping */
        memset((char *)words + page, 'x', 32 * page);
        char c = 1;
        if (write(ready[1], &c, 1) != 1) _exit(1);
        while (read(hold[0], &c, 1) > 0) {
        }
        _exit(0);
    }
    close(ready[1]);
    close(hold[0]);
    char c;
    cr_assert_eq(read(ready[0], &c, 1), 1, "the child did not start");
    close(ready[0]);
    *hold_w = hold[1];
    return pid;
}

Test(image, payload_pages_are_left_out_and_reads_there_are_misses)
{
    size_t page = (size_t)pk_page_size();
    uint64_t *words =
        mmap(NULL, PAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(words, MAP_FAILED);
    int hold;
    pid_t pid = start_payload_child(words, page, &hold);
    uint64_t addr = (uint64_t)(uintptr_t)words;
    struct pk_err e = {0};
    int procfd = pk_proc_open(pid, &e);
    cr_assert_geq(procfd, 0);
    struct pk_maps maps = {0};
    cr_assert_eq(pk_maps_read(procfd, &maps, &e), 0);
    struct pk_payload pl;
    cr_assert_eq(pk_payload_scan(pid, procfd, &maps, NULL, &pl), 0);
    const struct pk_range *r = pk_payload_next(&pl, addr);
    cr_assert_not_null(r);
    cr_assert_eq(r->start, addr + page, "the text run starts at %#llx, want %#llx",
                 (unsigned long long)r->start, (unsigned long long)(addr + page));
    cr_assert_eq(r->end, addr + 33 * page);

    struct pk_image_estimate est;
    cr_assert_eq(pk_image_estimate(procfd, &maps, &pl, &est), 0);
    cr_assert_geq(est.payload_bytes, 32 * page);
    struct pk_image *img = pk_image_new(est.copy_bytes + ((uint64_t)1 << 20));
    pk_image_leave_out(img, &pl);
    cr_assert_eq(pk_image_copy(img, pid, procfd, &maps, 0, NULL, &e), 0, "%s", e.msg);
    struct pk_mem *mem = pk_mem_open_image(img, pid, &maps);
    uint64_t w;
    cr_assert_eq(pk_mem_read_u64(mem, addr + 8, &w), 0);
    cr_assert_eq(w, addr, "the pointer page reads %#llx", (unsigned long long)w);
    cr_assert_eq(pk_image_misses(img), 0);
    char text[8];
    cr_assert_lt(pk_mem_read(mem, addr + 2 * page, text, sizeof text), 0,
                 "a payload page read as if it had been copied");
    cr_assert_eq(pk_image_misses(img), 1);
    pk_mem_free(mem);
    pk_maps_free(&maps);
    close(procfd);
    close(hold);
    waitpid(pid, NULL, 0);
    munmap(words, PAGES * page);
}

/* Pages of the child's that it shares with this process (written before fork, untouched
   since), from its pagemap: present and not exclusively mapped (bit 56 clear). */
static int shared_pages(pid_t pid, uint64_t addr, size_t page, int npages)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/pagemap", (int)pid);
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0);
    uint64_t e[PAGES];
    cr_assert_eq(pread(fd, e, sizeof e, (off_t)(addr / page * 8)), (ssize_t)sizeof e);
    close(fd);
    int n = 0;
    for (int i = 0; i < npages; i++)
        n += (e[i] >> 63) && !((e[i] >> 56) & 1);
    return n;
}

Test(image, pages_shared_since_fork_stay_shared)
{
    size_t page = (size_t)pk_page_size();
    unsigned char *region =
        mmap(NULL, PAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(region, MAP_FAILED);
    for (int p = 0; p < 8; p++) /* written before the fork: shared with the child */
        memset(region + (size_t)p * page, 0x50 + p, page);
    int hold;
    pid_t pid = start_child(region, page, &hold); /* touches pages 0, 5, 6, 63 */
    uint64_t addr = (uint64_t)(uintptr_t)region;
    int shared = shared_pages(pid, addr, page, PAGES);
    cr_assert_eq(shared, 5, "pages 1-4 and 7 shared with the child: %d", shared);

    struct pk_err e = {0};
    int procfd = pk_proc_open(pid, &e);
    struct pk_maps maps = {0};
    cr_assert_eq(pk_maps_read(procfd, &maps, &e), 0);
    struct pk_image_estimate est;
    cr_assert_eq(pk_image_estimate(procfd, &maps, NULL, &est), 0);
    struct pk_image *img = pk_image_new(est.copy_bytes + ((uint64_t)1 << 20));
    cr_assert_eq(pk_image_copy(img, pid, procfd, &maps, 0, NULL, &e), 0, "%s", e.msg);
    struct pk_mem *mem = pk_mem_open_image(img, pid, &maps);
    static unsigned char got[PAGES * 65536];
    cr_assert_eq(pk_mem_read(mem, addr, got, 8 * page), 0);
    for (int p = 0; p < 8; p++) {
        unsigned char want = is_touched(p) ? (unsigned char)(0xA0 + p) : (unsigned char)(0x50 + p);
        cr_assert_eq(got[(size_t)p * page], want, "page %d", p);
        cr_assert_eq(got[(size_t)p * page + page - 1], want, "page %d", p);
    }
    /* Copying them unshared nothing: the child holds no copy of its own. */
    cr_assert_eq(shared_pages(pid, addr, page, PAGES), 5);
    pk_mem_free(mem);
    pk_maps_free(&maps);
    close(procfd);
    close(hold);
    waitpid(pid, NULL, 0);
    munmap(region, PAGES * page);
}

Test(image, live_reads_leave_pages_shared_since_fork_shared)
{
    /* The streaming reader (pk_mem_open_pid) on a child sharing 4 MiB with this process. */
    size_t page = (size_t)pk_page_size(), len = (size_t)4 << 20;
    unsigned char *big =
        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(big, MAP_FAILED);
    for (size_t i = 0; i < len; i += page)
        memset(big + i, (int)(i / page % 251), page);
    unsigned char *region =
        mmap(NULL, PAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int hold;
    pid_t pid = start_child(region, page, &hold);
    uint64_t addr = (uint64_t)(uintptr_t)big;
    cr_assert_eq(shared_pages(pid, addr, page, PAGES), PAGES);

    struct pk_err e = {0};
    int procfd = pk_proc_open(pid, &e);
    struct pk_maps maps = {0};
    cr_assert_eq(pk_maps_read(procfd, &maps, &e), 0);
    struct pk_mem *mem = pk_mem_open_pid(pid, procfd, &maps);
    cr_assert_not_null(mem);
    static unsigned char got[PAGES * 65536];
    cr_assert_eq(pk_mem_read(mem, addr, got, PAGES * page), 0);
    for (int p = 0; p < PAGES; p++)
        cr_assert_eq(got[(size_t)p * page], (unsigned char)(p % 251), "page %d", p);
    cr_assert_eq(shared_pages(pid, addr, page, PAGES), PAGES,
                 "reading the child gave it private copies of pages it shared");
    pk_mem_free(mem);
    pk_maps_free(&maps);
    close(procfd);
    close(hold);
    waitpid(pid, NULL, 0);
    munmap(region, PAGES * page);
    munmap(big, len);
}
