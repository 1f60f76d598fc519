/* Making strings from the target safe for JSON and for terminals. */
#include "util/text.h"

#include <stdint.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid. Decodes into *cp. */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    uint32_t v, min;
    if ((c & 0xE0) == 0xC0)
        n = 2, v = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0)
        n = 3, v = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0)
        n = 4, v = c & 0x07, min = 0x10000;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = v << 6 | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return n;
}

void pk_utf8_sanitize(const char *s, char *out, size_t cap)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    if (cap == 0) return;
    while (*p) {
        uint32_t cp;
        size_t n = utf8_next(p, &cp);
        const char *src = (const char *)p;
        size_t len = n;
        if (n == 0) {
            src = "\xEF\xBF\xBD";
            len = 3;
            n = 1;
        }
        if (o + len + 1 > cap) break;
        memcpy(out + o, src, len);
        o += len;
        p += n;
    }
    out[o] = '\0';
}

size_t pk_escape(const char *s, char *out, size_t cap)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0, width = 0;
    if (cap == 0) return 0;
    while (*p) {
        char tmp[16];
        const char *src = tmp;
        size_t len;
        uint32_t cp;
        size_t n = utf8_next(p, &cp);
        if (n == 0) {
            snprintf(tmp, sizeof tmp, "\\x%02x", *p);
            len = 4;
            n = 1;
        } else if (cp == '\n') {
            src = "\\n";
            len = 2;
        } else if (cp == '\t') {
            src = "\\t";
            len = 2;
        } else if (cp == '\\') {
            src = "\\\\";
            len = 2;
        } else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
            snprintf(tmp, sizeof tmp, "\\x%02x", (unsigned)(cp & 0xFF));
            len = 4;
            if (cp >= 0x80) {
                snprintf(tmp, sizeof tmp, "\\u%04x", (unsigned)cp);
                len = 6;
            }
        } else {
            src = (const char *)p;
            len = n;
        }
        if (o + len + 4 > cap) {
            if (o + 4 <= cap) memcpy(out + o, "...", 3), o += 3;
            break;
        }
        memcpy(out + o, src, len);
        o += len;
        width += (src == (const char *)p) ? 1 : len;
        p += n;
    }
    out[o] = '\0';
    return width;
}

void pk_fputs_escaped(FILE *f, const char *s, size_t max_bytes)
{
    char buf[4096];
    size_t cap = max_bytes + 4 < sizeof buf ? max_bytes + 4 : sizeof buf;
    pk_escape(s, buf, cap);
    fputs(buf, f);
}
