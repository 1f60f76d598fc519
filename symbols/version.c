/* Which CPython a module is: Py_Version, _Py_DebugOffsets, or the PY_VERSION string. */
#include "symbols/version.h"

#include <stdio.h>
#include <string.h>

int pk_version_parse(const char *s, size_t len, uint32_t *hex)
{
    unsigned v[3] = {0, 0, 0};
    size_t i = 0;
    for (int part = 0; part < 3; part++) {
        int digits = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 3) {
            v[part] = v[part] * 10 + (unsigned)(s[i++] - '0');
            digits++;
        }
        if (!digits) return -1;
        if (part < 2) {
            if (i >= len || s[i] != '.') return -1;
            i++;
        }
    }
    unsigned level = 0xF, serial = 0;
    if (i < len && s[i] != '+') {
        if (s[i] == 'a')
            level = 0xA, i++;
        else if (s[i] == 'b')
            level = 0xB, i++;
        else if (i + 1 < len && s[i] == 'r' && s[i + 1] == 'c')
            level = 0xC, i += 2;
        else
            return -1;
        int digits = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 2) {
            serial = serial * 10 + (unsigned)(s[i++] - '0');
            digits++;
        }
        if (!digits || serial > 15) return -1;
    }
    if (i < len && s[i] == '+') i++;
    if (i != len || v[0] != 3 || v[1] > 255 || v[2] > 255) return -1;
    *hex = v[0] << 24 | v[1] << 16 | v[2] << 8 | level << 4 | serial;
    return 0;
}

void pk_version_format(uint32_t hex, char *buf, size_t cap)
{
    unsigned level = (hex >> 4) & 0xF, serial = hex & 0xF;
    const char *lv = level == 0xA ? "a" : level == 0xB ? "b" : level == 0xC ? "rc" : "";
    if (*lv)
        snprintf(buf, cap, "%u.%u.%u%s%u", hex >> 24, (hex >> 16) & 0xff, (hex >> 8) & 0xff, lv,
                 serial);
    else
        snprintf(buf, cap, "%u.%u.%u", hex >> 24, (hex >> 16) & 0xff, (hex >> 8) & 0xff);
}

struct scan_state {
    int want_minor; /* from the file name, -1 if unknown */
    int tails;      /* also try the tail of longer strings (see scan_one) */
    uint32_t hex;
};

static int scan_version(struct scan_state *st, const char *s, size_t len)
{
    uint32_t hex;
    if (len < 5 || len > 16 || s[0] != '3' || s[1] != '.') return 0;
    if (pk_version_parse(s, len, &hex) < 0) return 0;
    if (st->want_minor >= 0 && (int)((hex >> 16) & 0xff) != st->want_minor) return 0;
    st->hex = hex;
    return 1;
}

/* The PY_VERSION literal is a whole string, or, when the linker merged it into a longer string
   that ends the same way (pyenv's 3.9/3.10: "/root/.pyenv/versions/3.9.18" holds "3.9.18"),
   that string's tail after a '/' or '-'. */
static int scan_one(const char *s, size_t len, void *arg)
{
    struct scan_state *st = arg;
    if (!st->tails) return scan_version(st, s, len);
    for (size_t i = len > 16 ? len - 16 : 1; i + 5 <= len; i++)
        if ((s[i - 1] == '/' || s[i - 1] == '-') && scan_version(st, s + i, len - i)) return 1;
    return 0;
}

/* "python3.9", "libpython3.10.so.1.0" -> 9, 10; -1 when the name says nothing. */
static int minor_from_name(const char *path)
{
    const char *p = strstr(path, "python3.");
    if (!p) return -1;
    p += 8;
    int m = 0, digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 3)
        m = m * 10 + (*p++ - '0'), digits++;
    return digits ? m : -1;
}

int pk_version_detect(struct pk_elf *mod, uint64_t runtime_vaddr, const char *module_path,
                      uint32_t *hex, struct pk_err *e)
{
    struct pk_elf_sym sym;
    uint64_t v;
    if (pk_elf_find_symbol(mod, "Py_Version", 0, &sym) && sym.size >= 4 &&
        pk_elf_read_vaddr(mod, sym.value, &v, sym.size >= 8 ? 8 : 4) == 0 && (v >> 24) == 3) {
        *hex = (uint32_t)v;
        return 0;
    }
    unsigned char head[16];
    if (pk_elf_read_vaddr(mod, runtime_vaddr, head, sizeof head) == 0 &&
        !memcmp(head, "xdebugpy", 8)) {
        memcpy(&v, head + 8, 8);
        if ((v >> 24) == 3) {
            *hex = (uint32_t)v;
            return 0;
        }
    }
    struct scan_state st = {minor_from_name(module_path), 0, 0};
    for (st.tails = 0; st.tails < 2; st.tails++) {
        if (pk_elf_scan_strings(mod, ".rodata", scan_one, &st)) {
            *hex = st.hex;
            return 0;
        }
    }
    return pk_fail(e, PK_E_NOT_PYTHON, "%s defines _PyRuntime but its CPython version is unknown",
                   module_path);
}
