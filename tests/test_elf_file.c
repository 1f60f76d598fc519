/* ELF symbols, build-id, load base and initialised data, read from the test binary itself. */
#include <criterion/criterion.h>
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbols/elf_file.h"

/* Fixture symbols. The asm labels give symbols exactly the names LTO (".lto_priv.N") and GCC
   (".N" for function-local statics) give renamed statics. */
int pk_fixture_global = 42;
int pk_fixture_bss_global;
__attribute__((used)) static int pk_fixture_static = 7;
__attribute__((used)) static int fixture_lto_var __asm__("pk_fixture_lto.lto_priv.0") = 11;
__attribute__((used)) static int fixture_num_var __asm__("pk_fixture_num.3") = 12;
__attribute__((used)) static int fixture_bad_var __asm__("pk_fixture_bad.lto_priv.x") = 13;
__attribute__((used)) static int fixture_bad2_var __asm__("pk_fixture_bad2.") = 14;
int pk_fixture_prefixed = 15;
int pk_fixture_both = 16;
__attribute__((used)) static int fixture_both_lto __asm__("pk_fixture_both.lto_priv.1") = 17;
__attribute__((used)) const char pk_fixture_rodata_marker[] = "pk-fixture-rodata-marker-7d1e";

static struct pk_elf *elf_open_self(void)
{
    struct pk_elf *f = NULL;
    struct pk_err e = {0};
    cr_assert_eq(pk_elf_open("/proc/self/exe", &f, &e), 0, "%s", e.msg);
    return f;
}

struct main_prog {
    uint64_t bias;
    unsigned char build_id[64];
    size_t build_id_len;
};

/* The loader's view of the main program: its load bias and the build-id note in memory. */
static int main_prog_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct main_prog *mp = arg;
    mp->bias = info->dlpi_addr;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE) continue;
        const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
        const unsigned char *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *nh = (const void *)p;
            const unsigned char *name = p + sizeof *nh;
            const unsigned char *desc = name + ((nh->n_namesz + 3) & ~3u);
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && !memcmp(name, "GNU", 4) &&
                nh->n_descsz <= sizeof mp->build_id) {
                memcpy(mp->build_id, desc, nh->n_descsz);
                mp->build_id_len = nh->n_descsz;
            }
            p = desc + ((nh->n_descsz + 3) & ~3u);
        }
    }
    return 1; /* the first entry is the main program */
}

static struct main_prog main_prog(void)
{
    struct main_prog mp;
    memset(&mp, 0, sizeof mp);
    dl_iterate_phdr(main_prog_cb, &mp);
    return mp;
}

/* Load bias as pypeek computes it: start of the exe's offset-0 mapping minus the load base. */
static uint64_t bias_from_maps(struct pk_elf *f)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    cr_assert_gt(n, 0);
    exe[n] = '\0';
    FILE *m = fopen("/proc/self/maps", "r");
    cr_assert(m);
    char line[8192];
    uint64_t start = 0;
    int found = 0;
    while (!found && fgets(line, sizeof line, m)) {
        unsigned long long s, e, off;
        char path[4096] = "";
        if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %4095[^\n]", &s, &e, &off, path) == 4 &&
            off == 0 && !strcmp(path, exe)) {
            start = s;
            found = 1;
        }
    }
    fclose(m);
    cr_assert(found, "no offset-0 mapping of %s", exe);
    uint64_t base;
    cr_assert_eq(pk_elf_load_base(f, &base), 0);
    return start - base;
}

static void expect_symbol_at(struct pk_elf *f, const char *name, int allow_lto, const void *addr,
                             size_t size)
{
    struct pk_elf_sym s;
    cr_assert_eq(pk_elf_find_symbol(f, name, allow_lto, &s), 1, "%s not found", name);
    uint64_t bias = bias_from_maps(f);
    cr_assert_eq(s.value + bias, (uint64_t)(uintptr_t)addr, "%s at the wrong address", name);
    cr_assert_eq(s.size, size, "%s has the wrong size", name);
}

Test(elf, load_bias_agrees_with_the_loader)
{
    struct pk_elf *f = elf_open_self();
    struct main_prog mp = main_prog();
    cr_assert_eq(bias_from_maps(f), mp.bias);
    pk_elf_close(f);
}

Test(elf, finds_global_and_static_symbols)
{
    struct pk_elf *f = elf_open_self();
    expect_symbol_at(f, "pk_fixture_global", 0, &pk_fixture_global, sizeof pk_fixture_global);
    expect_symbol_at(f, "pk_fixture_bss_global", 0, &pk_fixture_bss_global, sizeof(int));
    expect_symbol_at(f, "pk_fixture_static", 0, &pk_fixture_static, sizeof pk_fixture_static);
    struct pk_elf_sym s;
    cr_assert_eq(pk_elf_find_symbol(f, "elf_open_self", 0, &s), 1, "a static function");
    cr_assert_eq(s.value + bias_from_maps(f), (uint64_t)(uintptr_t)&elf_open_self);
    cr_assert_gt(s.size, 0);
    pk_elf_close(f);
}

Test(elf, undefined_and_missing_symbols_are_not_found)
{
    struct pk_elf *f = elf_open_self();
    struct pk_elf_sym s;
    cr_assert_eq(pk_elf_find_symbol(f, "pk_fixture_no_such_symbol", 1, &s), 0);
    cr_assert_eq(pk_elf_find_symbol(f, "pk_fixture_prefix", 1, &s), 0, "a prefix is no match");
    cr_assert_eq(pk_elf_find_symbol(f, "pk_fixture_", 1, &s), 0);
    cr_assert_eq(pk_elf_find_symbol(f, "", 1, &s), 0, "the empty name");
    /* malloc is referenced by the binary but defined in libc: SHN_UNDEF here */
    cr_assert_eq(pk_elf_find_symbol(f, "malloc", 0, &s), 0, "undefined symbol reported");
    pk_elf_close(f);
}

Test(elf, lto_and_numbered_suffixes)
{
    struct pk_elf *f = elf_open_self();
    struct pk_elf_sym s;
    cr_assert_eq(pk_elf_find_symbol(f, "pk_fixture_lto", 0, &s), 0, "suffix without allow_lto");
    expect_symbol_at(f, "pk_fixture_lto", 1, &fixture_lto_var, sizeof(int));
    cr_assert_eq(pk_elf_find_symbol(f, "pk_fixture_num", 0, &s), 0);
    expect_symbol_at(f, "pk_fixture_num", 1, &fixture_num_var, sizeof(int));
    cr_assert_eq(pk_elf_find_symbol(f, "pk_fixture_bad", 1, &s), 0, "non-digit LTO suffix");
    cr_assert_eq(pk_elf_find_symbol(f, "pk_fixture_bad2", 1, &s), 0, "bare dot suffix");
    /* the exact name wins over a renamed static of the same base name */
    expect_symbol_at(f, "pk_fixture_both", 1, &pk_fixture_both, sizeof(int));
    expect_symbol_at(f, "pk_fixture_lto.lto_priv.0", 0, &fixture_lto_var, sizeof(int));
    (void)fixture_bad_var;
    (void)fixture_bad2_var;
    (void)fixture_both_lto;
    pk_elf_close(f);
}

Test(elf, build_id_matches_the_loaded_note)
{
    struct pk_elf *f = elf_open_self();
    struct main_prog mp = main_prog();
    cr_assert_gt(mp.build_id_len, 0, "test binary linked without a build-id");
    unsigned char id[64];
    size_t n = pk_elf_build_id(f, id, sizeof id);
    cr_assert_eq(n, mp.build_id_len);
    cr_assert_arr_eq(id, mp.build_id, n);
    unsigned char small[4] = {0};
    cr_assert_eq(pk_elf_build_id(f, small, sizeof small), sizeof small, "cut at cap");
    cr_assert_arr_eq(small, mp.build_id, sizeof small);
    pk_elf_close(f);
}

Test(elf, header_facts)
{
    struct pk_elf *f = elf_open_self();
    FILE *fp = fopen("/proc/self/exe", "rb");
    cr_assert(fp);
    Elf64_Ehdr eh;
    cr_assert_eq(fread(&eh, sizeof eh, 1, fp), 1);
    fclose(fp);
    cr_assert_eq(pk_elf_is_exec(f), eh.e_type == ET_EXEC);
    cr_assert_eq(pk_elf_is_exec(f), main_prog().bias == 0, "ET_EXEC iff no load bias");
    cr_assert_eq(pk_elf_has_dwarf(f), 1, "the test binary is built with -g");
    cr_assert_str_eq(pk_elf_path(f), "/proc/self/exe");
    pk_elf_close(f);
}

Test(elf, reads_initialised_data)
{
    struct pk_elf *f = elf_open_self();
    struct pk_elf_sym s;
    int v = 0;
    cr_assert_eq(pk_elf_find_symbol(f, "pk_fixture_global", 0, &s), 1);
    cr_assert_eq(pk_elf_read_vaddr(f, s.value, &v, sizeof v), 0);
    cr_assert_eq(v, 42);
    char buf[sizeof pk_fixture_rodata_marker];
    cr_assert_eq(pk_elf_find_symbol(f, "pk_fixture_rodata_marker", 0, &s), 1);
    cr_assert_eq(pk_elf_read_vaddr(f, s.value, buf, sizeof buf), 0);
    cr_assert_str_eq(buf, pk_fixture_rodata_marker);
    cr_assert_eq(pk_elf_find_symbol(f, "pk_fixture_bss_global", 0, &s), 1);
    cr_assert_eq(pk_elf_read_vaddr(f, s.value, &v, sizeof v), -PK_E_UNMAPPED, ".bss has no bytes");
    cr_assert_eq(pk_elf_read_vaddr(f, UINT64_C(0x7fffffff0000), &v, sizeof v), -PK_E_UNMAPPED);
    pk_elf_close(f);
}

static int find_marker(const char *str, size_t len, void *arg)
{
    (void)arg;
    return len == strlen(pk_fixture_rodata_marker) && !memcmp(str, pk_fixture_rodata_marker, len);
}

Test(elf, scans_rodata_strings)
{
    struct pk_elf *f = elf_open_self();
    cr_assert_eq(pk_elf_scan_strings(f, ".rodata", find_marker, NULL), 1);
    cr_assert_eq(pk_elf_scan_strings(f, ".no_such_section", find_marker, NULL), 0);
    pk_elf_close(f);
}

Test(elf, refuses_non_elf_and_special_files)
{
    struct pk_elf *f = NULL;
    struct pk_err e = {0};
    cr_assert_lt(pk_elf_open("/dev/null", &f, &e), 0, "a character device");
    cr_assert_null(f);
    pk_err_clear(&e);
    cr_assert_lt(pk_elf_open("/nonexistent/pypeek-test", &f, &e), 0);
    char path[] = "/tmp/pypeek-test-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd,
                       "\x7f"
                       "ELF not really",
                       15),
                 15);
    close(fd);
    pk_err_clear(&e);
    int r = pk_elf_open(path, &f, &e);
    unlink(path);
    cr_assert_lt(r, 0, "a truncated ELF header");
    cr_assert_null(f);
    pk_elf_close(NULL);
}

/* A copy of this test program with .text made NOBITS, as in a separate debug file. */
static void write_debug_only_copy(const char *out)
{
    FILE *in = fopen("/proc/self/exe", "rb");
    cr_assert(in);
    fseek(in, 0, SEEK_END);
    long size = ftell(in);
    cr_assert_gt(size, (long)sizeof(Elf64_Ehdr));
    unsigned char *buf = malloc((size_t)size);
    cr_assert(buf);
    fseek(in, 0, SEEK_SET);
    cr_assert_eq(fread(buf, 1, (size_t)size, in), (size_t)size);
    fclose(in);
    Elf64_Ehdr eh;
    memcpy(&eh, buf, sizeof eh);
    cr_assert(eh.e_shoff + (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr) <= (uint64_t)size);
    Elf64_Shdr strtab;
    memcpy(&strtab, buf + eh.e_shoff + eh.e_shstrndx * sizeof strtab, sizeof strtab);
    int patched = 0;
    for (unsigned i = 0; i < eh.e_shnum; i++) {
        unsigned char *at = buf + eh.e_shoff + i * sizeof(Elf64_Shdr);
        Elf64_Shdr sh;
        memcpy(&sh, at, sizeof sh);
        if (strcmp((const char *)buf + strtab.sh_offset + sh.sh_name, ".text") != 0) continue;
        sh.sh_type = SHT_NOBITS;
        memcpy(at, &sh, sizeof sh);
        patched = 1;
    }
    cr_assert(patched, "no .text in the test program");
    FILE *o = fopen(out, "wb");
    cr_assert(o);
    cr_assert_eq(fwrite(buf, 1, (size_t)size, o), (size_t)size);
    fclose(o);
    free(buf);
}

Test(elf, whole_file_has_contents_and_a_debug_only_one_has_not)
{
    struct pk_elf *f = elf_open_self();
    cr_assert_eq(pk_elf_has_contents(f), 1, "this program is a whole executable");
    pk_elf_close(f);
    char path[] = "/tmp/pypeek-debug-only-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    write_debug_only_copy(path);
    struct pk_err e = {0};
    cr_assert_eq(pk_elf_open(path, &f, &e), 0, "%s", e.msg);
    cr_assert_eq(pk_elf_has_contents(f), 0, ".text NOBITS: a debug-only file");
    pk_elf_close(f);
    unlink(path);
}
