/* /proc/PID/maps parser: well-formed lines, refused input, and the binary search. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach/maps.h"

static const char sample[] =
    "55d0c0a00000-55d0c0a21000 r--p 00000000 08:01 1234567                    /usr/bin/python3.11\n"
    "55d0c0a21000-55d0c0b00000 r-xp 00021000 08:01 1234567                    /usr/bin/python3.11\n"
    "55d0c2000000-55d0c2100000 rw-p 00000000 00:00 0                          [heap]\n"
    "7f2c1a000000-7f2c1a021000 r-xs 0000a000 fd:1f 99                         /tmp/my lib dir/x "
    "y.so\n"
    "7f2c1a021000-7f2c1a022000 rw-p 00000000 00:00 0 \n"
    "7f2c1a030000-7f2c1a031000 ---p 00001000 08:01 42   /tmp/gone.so (deleted)\n"
    "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

static struct pk_maps parse_ok(const char *text)
{
    struct pk_maps m;
    struct pk_err e = {0};
    cr_assert_eq(pk_maps_parse(text, &m, &e), 0, "unexpected error: %s", e.msg);
    return m;
}

static void expect_refused(const char *text, const char *what)
{
    struct pk_maps m = {(void *)1, 99};
    struct pk_err e = {0};
    int r = pk_maps_parse(text, &m, &e);
    cr_assert_eq(r, -PK_E_INCONSISTENT, "%s: accepted (r=%d)", what, r);
    cr_assert_eq(e.code, PK_E_INCONSISTENT, "%s", what);
    cr_assert_neq(strstr(e.msg, "line"), NULL, "%s: message names no line: %s", what, e.msg);
    cr_assert_eq(m.n, 0, "%s: regions left after an error", what);
    cr_assert_null(m.v, "%s", what);
}

Test(maps, parses_every_field)
{
    struct pk_maps m = parse_ok(sample);
    cr_assert_eq(m.n, 7);
    cr_assert_eq(m.v[0].start, 0x55d0c0a00000ull);
    cr_assert_eq(m.v[0].end, 0x55d0c0a21000ull);
    cr_assert_eq(m.v[0].perms, PK_MAP_R | PK_MAP_P);
    cr_assert_str_eq(m.v[0].path, "/usr/bin/python3.11");
    cr_assert_eq(m.v[0].inode, 1234567);
    cr_assert_eq(m.v[0].dev_major, 8);
    cr_assert_eq(m.v[0].dev_minor, 1);
    cr_assert_eq(m.v[1].offset, 0x21000);
    cr_assert_eq(m.v[1].perms, PK_MAP_R | PK_MAP_X | PK_MAP_P);
    cr_assert_str_eq(m.v[2].path, "[heap]");
    cr_assert_eq(m.v[2].perms, PK_MAP_R | PK_MAP_W | PK_MAP_P);
    cr_assert_str_eq(m.v[3].path, "/tmp/my lib dir/x y.so");
    cr_assert_eq(m.v[3].perms, PK_MAP_R | PK_MAP_X, "shared mapping has no P bit");
    cr_assert_eq(m.v[3].offset, 0xa000);
    cr_assert_eq(m.v[3].dev_major, 0xfd);
    cr_assert_eq(m.v[3].dev_minor, 0x1f);
    cr_assert_str_eq(m.v[4].path, "", "anonymous mapping");
    cr_assert_eq(m.v[4].inode, 0);
    cr_assert_str_eq(m.v[5].path, "/tmp/gone.so (deleted)");
    cr_assert_eq(m.v[5].perms, PK_MAP_P);
    cr_assert_eq(m.v[6].start, 0xffffffffff600000ull);
    cr_assert_str_eq(m.v[6].path, "[vsyscall]");
    pk_maps_free(&m);
    cr_assert_eq(m.n, 0);
}

Test(maps, empty_text_and_blank_lines)
{
    struct pk_maps m = parse_ok("");
    cr_assert_eq(m.n, 0);
    pk_maps_free(&m);
    m = parse_ok("\n1000-2000 r--p 00000000 00:00 0\n\n2000-3000 r--p 00000000 00:00 0");
    cr_assert_eq(m.n, 2, "adjacent regions and a last line without newline");
    cr_assert_eq(m.v[1].end, 0x3000);
    pk_maps_free(&m);
}

Test(maps, malformed_lines_are_refused)
{
    expect_refused("1000-2000 r--p 00000000 00:00\n", "no inode");
    expect_refused("1000 r--p 00000000 00:00 0\n", "no end address");
    expect_refused("1000-2000 rwzp 00000000 00:00 0\n", "bad permission letter");
    expect_refused("1000-2000 r--x 00000000 00:00 0\n", "neither private nor shared");
    expect_refused("2000-1000 r--p 00000000 00:00 0\n", "end before start");
    expect_refused("1000-1000 r--p 00000000 00:00 0\n", "empty region");
    expect_refused("10000000000000000-10000000000000001 r--p 00000000 00:00 0\n",
                   "17-digit address");
    expect_refused("g000-2000 r--p 00000000 00:00 0\n", "not hex");
    expect_refused("1000-2000 r--p 00000000 0000 0\n", "device without colon");
    expect_refused("1000-2000 r--p 00000000 00:00 0/lib.so\n", "path glued to inode");
    expect_refused("1000-2000 r--p 00000000 00:00 123456789012345678901 /x\n", "huge inode");
    expect_refused("1000-2000\n", "truncated line");
    expect_refused("garbage\n", "garbage");
    expect_refused("1000-2000 r--p 00000000 00:00 0\nnot a maps line\n", "second line bad");
}

Test(maps, overlapping_or_unsorted_regions_are_refused)
{
    expect_refused("1000-3000 r--p 00000000 00:00 0\n2000-4000 r--p 00000000 00:00 0\n", "overlap");
    expect_refused("5000-6000 r--p 00000000 00:00 0\n1000-2000 r--p 00000000 00:00 0\n",
                   "unsorted");
    expect_refused("1000-2000 r--p 00000000 00:00 0\n1000-2000 r--p 00000000 00:00 0\n",
                   "duplicate");
}

Test(maps, absurdly_long_line_is_refused)
{
    size_t n = 100000;
    char *text = malloc(n + 64);
    cr_assert(text);
    int k = snprintf(text, 64, "1000-2000 r--p 00000000 00:00 1 /");
    memset(text + k, 'a', n);
    strcpy(text + k + n, "\n");
    expect_refused(text, "100 kB line");
    free(text);
}

Test(maps, find_binary_search_edges)
{
    struct pk_maps m = parse_ok("1000-2000 r--p 00000000 00:00 0\n"
                                "2000-3000 rw-p 00000000 00:00 0\n"
                                "5000-6000 r--p 00000000 00:00 0\n"
                                "7000-8000 r--p 00000000 00:00 0\n"
                                "9000-a000 r--p 00000000 00:00 0\n");
    cr_assert_null(pk_maps_find(&m, 0));
    cr_assert_null(pk_maps_find(&m, 0xfff), "just below the first region");
    cr_assert_eq(pk_maps_find(&m, 0x1000), &m.v[0], "first byte");
    cr_assert_eq(pk_maps_find(&m, 0x1fff), &m.v[0], "last byte");
    cr_assert_eq(pk_maps_find(&m, 0x2000), &m.v[1], "end is exclusive: next region");
    cr_assert_null(pk_maps_find(&m, 0x3000), "end of a region before a gap");
    cr_assert_null(pk_maps_find(&m, 0x4fff), "gap");
    cr_assert_eq(pk_maps_find(&m, 0x5800), &m.v[2]);
    cr_assert_eq(pk_maps_find(&m, 0x7000), &m.v[3]);
    cr_assert_eq(pk_maps_find(&m, 0x9fff), &m.v[4], "last byte of the last region");
    cr_assert_null(pk_maps_find(&m, 0xa000), "end of the last region");
    cr_assert_null(pk_maps_find(&m, UINT64_MAX));
    /* every address agrees with a linear scan */
    for (uint64_t a = 0; a < 0xb000; a += 0x80) {
        const struct pk_map *want = NULL;
        for (size_t i = 0; i < m.n; i++)
            if (a >= m.v[i].start && a < m.v[i].end) want = &m.v[i];
        cr_assert_eq(pk_maps_find(&m, a), want, "address 0x%llx", (unsigned long long)a);
    }
    pk_maps_free(&m);
    struct pk_maps none = {NULL, 0};
    cr_assert_null(pk_maps_find(&none, 0x1000), "empty maps");
}

int pk_fixture_maps_global = 1;

Test(maps, reads_own_maps)
{
    int procfd = open("/proc/self", O_RDONLY | O_DIRECTORY);
    cr_assert_geq(procfd, 0);
    struct pk_maps m;
    struct pk_err e = {0};
    cr_assert_eq(pk_maps_read(procfd, &m, &e), 0, "%s", e.msg);
    close(procfd);
    cr_assert_gt(m.n, 3);
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    cr_assert_gt(n, 0);
    exe[n] = '\0';
    const struct pk_map *r = pk_maps_find(&m, (uint64_t)(uintptr_t)&pk_fixture_maps_global);
    cr_assert(r, "a global's address is in no region");
    cr_assert_str_eq(r->path, exe);
    cr_assert(r->perms & PK_MAP_W);
    r = pk_maps_find(&m, (uint64_t)(uintptr_t)&expect_refused);
    cr_assert(r && (r->perms & PK_MAP_X), "code is in an executable region");
    pk_maps_free(&m);
}
