/* Reading one ELF file with libelf: symbols, build-id, debuglink, sections, initialised data. */
#include "symbols/elf_file.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct pk_elf {
    int fd;
    Elf *elf;
    GElf_Ehdr ehdr;
    char *path;
};

int pk_elf_open(const char *path, struct pk_elf **out, struct pk_err *e)
{
    *out = NULL;
    elf_version(EV_CURRENT);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return pk_fail(e, PK_E_NOT_PYTHON, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return pk_fail(e, PK_E_NOT_PYTHON, "%s is not a regular file", path);
    }
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    if (!elf || elf_kind(elf) != ELF_K_ELF) {
        if (elf) elf_end(elf);
        close(fd);
        return pk_fail(e, PK_E_NOT_PYTHON, "%s is not an ELF file", path);
    }
    struct pk_elf *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path)) || !gelf_getehdr(elf, &f->ehdr)) {
        if (f) free(f->path);
        free(f);
        elf_end(elf);
        close(fd);
        return pk_fail(e, PK_E_NOT_PYTHON, "%s: unreadable ELF header", path);
    }
    f->fd = fd;
    f->elf = elf;
    *out = f;
    return 0;
}

void pk_elf_close(struct pk_elf *f)
{
    if (!f) return;
    elf_end(f->elf);
    close(f->fd);
    free(f->path);
    free(f);
}

const char *pk_elf_path(const struct pk_elf *f)
{
    return f->path;
}

int pk_elf_is_exec(const struct pk_elf *f)
{
    return f->ehdr.e_type == ET_EXEC;
}

static Elf_Scn *find_section(struct pk_elf *f, const char *name, GElf_Shdr *sh)
{
    size_t shstrndx;
    if (elf_getshdrstrndx(f->elf, &shstrndx) != 0) return NULL;
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(f->elf, scn)) != NULL) {
        if (!gelf_getshdr(scn, sh)) continue;
        const char *n = elf_strptr(f->elf, shstrndx, sh->sh_name);
        if (n && !strcmp(n, name)) return scn;
    }
    return NULL;
}

/* name matches want, or want + ".lto_priv.<digits>" or want + ".<digits>". */
static int name_matches(const char *name, const char *want, size_t wlen, int allow_lto)
{
    if (strncmp(name, want, wlen) != 0) return 0;
    const char *rest = name + wlen;
    if (*rest == '\0') return 1;
    if (!allow_lto) return 0;
    if (!strncmp(rest, ".lto_priv.", 10))
        rest += 10;
    else if (*rest == '.')
        rest += 1;
    else
        return 0;
    if (!*rest) return 0;
    for (; *rest; rest++)
        if (*rest < '0' || *rest > '9') return 0;
    return 1;
}

static int lookup_in(struct pk_elf *f, Elf64_Word type, const char *name, int allow_lto,
                     struct pk_elf_sym *out)
{
    Elf_Scn *scn = NULL;
    size_t wlen = strlen(name);
    while ((scn = elf_nextscn(f->elf, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != type || sh.sh_entsize == 0) continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        if (!d) continue;
        size_t n = sh.sh_size / sh.sh_entsize;
        for (size_t i = 0; i < n; i++) {
            GElf_Sym s;
            if (!gelf_getsym(d, (int)i, &s) || s.st_shndx == SHN_UNDEF || s.st_name == 0) continue;
            const char *sn = elf_strptr(f->elf, sh.sh_link, s.st_name);
            if (sn && name_matches(sn, name, wlen, allow_lto)) {
                out->value = s.st_value;
                out->size = s.st_size;
                return 1;
            }
        }
    }
    return 0;
}

int pk_elf_find_symbol(struct pk_elf *f, const char *name, int allow_lto, struct pk_elf_sym *out)
{
    /* An exact name wins over a renamed static that shares its base name. */
    if (lookup_in(f, SHT_SYMTAB, name, 0, out) || lookup_in(f, SHT_DYNSYM, name, 0, out)) return 1;
    if (!allow_lto) return 0;
    return lookup_in(f, SHT_SYMTAB, name, 1, out) || lookup_in(f, SHT_DYNSYM, name, 1, out);
}

size_t pk_elf_build_id(struct pk_elf *f, unsigned char *buf, size_t cap)
{
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(f->elf, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE) continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        if (!d) continue;
        size_t off = 0, name_off, desc_off;
        GElf_Nhdr nh;
        while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
            if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
                !memcmp((char *)d->d_buf + name_off, "GNU", 4)) {
                size_t n = nh.n_descsz < cap ? nh.n_descsz : cap;
                memcpy(buf, (char *)d->d_buf + desc_off, n);
                return n;
            }
        }
    }
    return 0;
}

int pk_elf_debuglink(struct pk_elf *f, char *name, size_t cap)
{
    GElf_Shdr sh;
    Elf_Scn *scn = find_section(f, ".gnu_debuglink", &sh);
    if (!scn) return 0;
    Elf_Data *d = elf_getdata(scn, NULL);
    if (!d || d->d_size < 2) return 0;
    size_t n = strnlen(d->d_buf, d->d_size);
    if (n == 0 || n >= cap || n == d->d_size) return 0;
    memcpy(name, d->d_buf, n);
    name[n] = '\0';
    return strchr(name, '/') == NULL; /* a debuglink is a bare file name */
}

int pk_elf_has_dwarf(struct pk_elf *f)
{
    GElf_Shdr sh;
    Elf_Scn *scn = find_section(f, ".debug_info", &sh);
    return scn && sh.sh_type != SHT_NOBITS && sh.sh_size > 0;
}

int pk_elf_has_contents(struct pk_elf *f)
{
    if (f->ehdr.e_type != ET_EXEC && f->ehdr.e_type != ET_DYN) return 0;
    struct stat st;
    size_t n;
    if (fstat(f->fd, &st) < 0 || elf_getphdrnum(f->elf, &n) != 0) return 0;
    int loads = 0;
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(f->elf, (int)i, &ph) || ph.p_type != PT_LOAD) continue;
        if (ph.p_offset > (uint64_t)st.st_size || ph.p_filesz > (uint64_t)st.st_size - ph.p_offset)
            return 0; /* a debug file keeps the headers, not the bytes they describe */
        if ((ph.p_flags & PF_X) && ph.p_filesz > 0) loads++;
    }
    GElf_Shdr sh;
    Elf_Scn *text = find_section(f, ".text", &sh);
    return loads > 0 && text && sh.sh_type == SHT_PROGBITS && sh.sh_size > 0;
}

int pk_elf_load_base(struct pk_elf *f, uint64_t *vaddr)
{
    size_t n;
    if (elf_getphdrnum(f->elf, &n) != 0) return -1;
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(f->elf, (int)i, &ph) || ph.p_type != PT_LOAD) continue;
        uint64_t a = ph.p_align > 1 ? ph.p_align : 1;
        uint64_t base = (ph.p_vaddr - ph.p_offset) & ~(a - 1);
        if (!found || base < *vaddr) *vaddr = base;
        found = 1;
    }
    return found ? 0 : -1;
}

int pk_elf_read_vaddr(struct pk_elf *f, uint64_t vaddr, void *buf, size_t len)
{
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(f->elf, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_ALLOC))
            continue;
        if (vaddr < sh.sh_addr || vaddr - sh.sh_addr > sh.sh_size ||
            len > sh.sh_size - (vaddr - sh.sh_addr))
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        if (!d || !d->d_buf || d->d_size != sh.sh_size) return -PK_E_UNMAPPED;
        memcpy(buf, (char *)d->d_buf + (vaddr - sh.sh_addr), len);
        return 0;
    }
    return -PK_E_UNMAPPED;
}

int pk_elf_scan_strings(struct pk_elf *f, const char *secname,
                        int (*fn)(const char *s, size_t len, void *arg), void *arg)
{
    GElf_Shdr sh;
    Elf_Scn *scn = find_section(f, secname, &sh);
    if (!scn || sh.sh_type == SHT_NOBITS) return 0;
    Elf_Data *d = elf_getdata(scn, NULL);
    if (!d || !d->d_buf) return 0;
    const char *p = d->d_buf, *end = p + d->d_size;
    while (p < end) {
        const char *z = memchr(p, '\0', (size_t)(end - p));
        if (!z) break;
        if (z > p) {
            int r = fn(p, (size_t)(z - p), arg);
            if (r) return r;
        }
        p = z + 1;
    }
    return 0;
}
