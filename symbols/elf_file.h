/* Reading one ELF file with libelf: symbols (.dynsym and .symtab, LTO-renamed statics), the
   build-id, .gnu_debuglink, sections, and initialised data at a virtual address. */
#ifndef PK_ELF_FILE_H
#define PK_ELF_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct pk_elf;

/* Opens path read-only; refuses anything but a regular file (special files can hang).
   On success the caller owns *out and must call pk_elf_close(). */
int pk_elf_open(const char *path, struct pk_elf **out, struct pk_err *e);
void pk_elf_close(struct pk_elf *f); /* NULL is a no-op */
const char *pk_elf_path(const struct pk_elf *f);
int pk_elf_is_exec(const struct pk_elf *f); /* ET_EXEC: absolute addresses, no load bias */

struct pk_elf_sym {
    uint64_t value; /* st_value: a link-time virtual address */
    uint64_t size;
};
/* Finds a *defined* symbol (not SHN_UNDEF) by exact name, or, when allow_lto is set, also as
   name + ".lto_priv.N" / ".N" (LTO and GCC rename file-local statics). Looks in .symtab then
   .dynsym. Returns 1 found, 0 not found. */
int pk_elf_find_symbol(struct pk_elf *f, const char *name, int allow_lto, struct pk_elf_sym *out);
/* Build-id note bytes. Returns the length (0 if none). */
size_t pk_elf_build_id(struct pk_elf *f, unsigned char *buf, size_t cap);
/* .gnu_debuglink file name. Returns 1 if present. */
int pk_elf_debuglink(struct pk_elf *f, char *name, size_t cap);
/* Whether the file carries DWARF (.debug_info, possibly compressed). */
int pk_elf_has_dwarf(struct pk_elf *f);
/* Whether the file is a whole executable or shared object, not a separate debug file: its
   executable PT_LOAD bytes are in the file and .text is PROGBITS (a debug file has NOBITS). */
int pk_elf_has_contents(struct pk_elf *f);
/* Lowest PT_LOAD p_vaddr rounded down to its alignment: subtract from the mapping start of file
   offset 0 to get the load bias. */
int pk_elf_load_base(struct pk_elf *f, uint64_t *vaddr);
/* Copies initialised bytes at link-time address vaddr from the file (PROGBITS sections only).
   Returns 0 or -PK_E_UNMAPPED. */
int pk_elf_read_vaddr(struct pk_elf *f, uint64_t vaddr, void *buf, size_t len);
/* Scans the section named secname for NUL-terminated strings; calls fn on each until it
   returns non-zero, which is then returned. */
int pk_elf_scan_strings(struct pk_elf *f, const char *secname,
                        int (*fn)(const char *s, size_t len, void *arg), void *arg);

#endif
