/* Which CPython a module is: Py_Version (3.11+), the _Py_DebugOffsets header (3.13+), or the
   PY_VERSION string in .rodata (3.9, 3.10). */
#ifndef PK_VERSION_H
#define PK_VERSION_H

#include <stddef.h>
#include <stdint.h>

#include "symbols/elf_file.h"
#include "util/error.h"

int pk_version_detect(struct pk_elf *mod, uint64_t runtime_vaddr, const char *module_path,
                      uint32_t *hex, struct pk_err *e);
/* Parses "3.11.2", "3.14.0rc1", "3.15.0a2+" into PY_VERSION_HEX. Returns 0 or -1. */
int pk_version_parse(const char *s, size_t len, uint32_t *hex);
void pk_version_format(uint32_t hex, char *buf, size_t cap);

#endif
