/* libFuzzer harness for core files (hostile input to pypeek core): the bytes go through
   pk_core_open via a memfd, then the maps built from its segments and NT_FILE note, and reads
   through the core's memory reader at the start, middle and end of every region. Mapped files
   are looked up under a sysroot that does not exist, so no file of this machine is read. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "attach/core.h"

/* A finder that finds nothing: every mapped file with a build-id is looked up and stays
   missing. */
static int find_nothing(void *ctx, const char *mapped, const unsigned char *id, size_t len,
                        char *out, size_t cap, char *how, size_t howcap)
{
    (void)ctx, (void)mapped, (void)id, (void)len, (void)out, (void)cap, (void)how, (void)howcap;
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("core", MFD_CLOEXEC);
    if (fd < 0) abort();
    if (size && write(fd, data, size) != (ssize_t)size) abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct pk_core *c = NULL;
    struct pk_err e = {0};
    struct pk_core_finder none = {find_nothing, NULL};
    int r = pk_core_open(path, "/nonexistent-sysroot", NULL, &none, &c, &e);
    if (r < 0) {
        if (c || (e.code != PK_E_BAD_FILE && e.code != PK_E_INTERNAL)) abort();
        close(fd);
        return 0;
    }
    (void)pk_core_exe(c);
    (void)pk_core_pid(c);
    for (size_t i = 0; i < pk_core_nmissing(c); i++) {
        const char *id;
        if (!pk_core_missing(c, i, &id)[0] && !id) abort();
    }
    for (size_t i = 0; i < pk_core_nthreads(c); i++)
        if (!pk_core_thread(c, i)) abort();
    struct pk_maps maps;
    if (pk_core_maps(c, &maps, &e) == 0) {
        for (size_t i = 1; i < maps.n; i++)
            if (maps.v[i].start < maps.v[i - 1].end) abort(); /* sorted, disjoint */
        struct pk_mem *m = pk_mem_open_core(c, &maps);
        if (!m) abort();
        unsigned char buf[256];
        for (size_t i = 0; i < maps.n && i < 64; i++) {
            const struct pk_map *r0 = &maps.v[i];
            uint64_t at[3] = {r0->start, r0->start + (r0->end - r0->start) / 2, r0->end - 1};
            for (int k = 0; k < 3; k++) {
                (void)pk_mem_read_upto(m, at[k], buf, sizeof buf);
                (void)pk_mem_read(m, at[k], buf, 8);
            }
        }
        pk_mem_free(m);
        pk_maps_free(&maps);
    }
    pk_core_close(c);
    close(fd);
    return 0;
}
