/* libFuzzer harness for layout records (symbols/layout_record.c), the format of the built-in
   records, of --layout-record files and of the per-build-id layout cache (layout_cache.c reads
   its entries with the same parser): hostile text must be refused or parsed, never crash.
   Input whose first byte is odd is re-signed (its checksum line replaced by a correct one) so
   the line parser behind the checksum is reached; a record that parses must write back to a
   text that parses again and writes identically, and its field table then goes through
   pk_layout_finish as a record or cache entry does before it is used (symbols/target.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/layout_record.h"

/* FNV-1a 64, the record format's checksum (layout_record.h). */
static uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
    return h;
}

/* The body (everything before a line starting "checksum ", or all of it) and a correct
   checksum line; malloc'd, *n its length. */
static char *resign(const char *text, size_t len, size_t *n)
{
    size_t body = len;
    const char *p = text, *end = text + len;
    while (p < end) {
        if ((size_t)(end - p) >= 9 && !memcmp(p, "checksum ", 9)) {
            body = (size_t)(p - text);
            break;
        }
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) break;
        p = nl + 1;
    }
    char *out = malloc(body + 32);
    if (!out) abort();
    memcpy(out, text, body);
    *n = body + (size_t)snprintf(out + body, 32, "checksum %016llx\n",
                                 (unsigned long long)fnv1a(text, body));
    return out;
}

static char *write_record(const struct pk_layout_record *r, size_t *n)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, n);
    if (!f) abort();
    if (pk_record_write(f, r) < 0) abort();
    if (fclose(f) != 0) abort();
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    size_t n = size - 1;
    char *text = malloc(n ? n : 1);
    if (!text) abort();
    memcpy(text, data + 1, n);
    if (data[0] & 1) {
        size_t m;
        char *signed_text = resign(text, n, &m);
        free(text);
        text = signed_text;
        n = m;
    }
    static struct pk_layout_record r, again;
    struct pk_err e = {0};
    if (pk_record_parse(text, n, &r, &e) == 0) {
        size_t n1, n2;
        char *w1 = write_record(&r, &n1);
        struct pk_err e2 = {0};
        if (pk_record_parse(w1, n1, &again, &e2) != 0) {
            fprintf(stderr, "a parsed record writes a text that does not parse: %s\n", e2.msg);
            abort();
        }
        char *w2 = write_record(&again, &n2);
        if (n1 != n2 || memcmp(w1, w2, n1) != 0) {
            fprintf(stderr, "a record does not write back identically\n");
            abort();
        }
        free(w1);
        free(w2);
        struct pk_layout l = r.layout;
        struct pk_err fe = {0};
        if (pk_layout_finish(&l, &fe) < 0 && fe.code == PK_E_OK) abort(); /* says why */
    }
    free(text);
    return 0;
}
