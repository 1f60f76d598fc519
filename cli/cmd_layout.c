/* pypeek layout dump PATH: the layout record of an interpreter binary (or libpython), read
   from its DWARF (the file itself, its debug file by build-id or debuglink, --debug-dir, or
   SYSROOT/usr/lib/debug when PATH is inside an unpacked system tree). */
#include <limits.h>
#include <stdio.h>

#include "cli/commands.h"
#include "symbols/debuginfo.h"
#include "symbols/elf_file.h"
#include "symbols/layout_record.h"
#include "symbols/version.h"

int pk_cmd_layout(const struct pk_opts *o)
{
    struct pk_err e = {0};
    struct pk_elf *mod = NULL;
    struct pk_layout_record rec;
    int r = pk_elf_open(o->layout_path, &mod, &e);
    struct pk_elf_sym runtime;
    uint32_t hex = 0;
    char debug_path[PATH_MAX];
    if (r == 0 && !pk_elf_find_symbol(mod, "_PyRuntime", 0, &runtime))
        r = pk_fail(&e, PK_E_NOT_PYTHON,
                    "%s does not define _PyRuntime: not a CPython "
                    "interpreter or libpython",
                    o->layout_path);
    if (r == 0) r = pk_version_detect(mod, runtime.value, o->layout_path, &hex, &e);
    if (r == 0 && pk_debuginfo_find(mod, NULL, o->debug_dir, debug_path, sizeof debug_path) < 0)
        r = pk_fail(&e, PK_E_NO_LAYOUT, "no debug info for %s (pass --debug-dir DIR)",
                    o->layout_path);
    if (r == 0) r = pk_record_from_dwarf(mod, debug_path, hex, &rec, &e);
    if (r == 0) {
        struct pk_layout check = rec.layout;
        r = pk_layout_finish(&check, &e);
    }
    if (r == 0 && pk_record_write(stdout, &rec) < 0)
        r = pk_fail(&e, PK_E_INTERNAL, "writing to standard output failed");
    if (r == 0) r = pk_cli_flush_stdout(&e);
    pk_elf_close(mod);
    return pk_cli_finish(r, &e, NULL);
}
