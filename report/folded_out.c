/* Folded stacks of retained bytes from a snapshot document (`--format folded`). */
#include "report/folded_out.h"

#include <stdint.h>
#include <string.h>

#include "util/text.h"

#define FRAME_MAX 1024 /* bytes of one escaped frame */

void pk_folded_frame(FILE *f, const char *s)
{
    char buf[FRAME_MAX];
    pk_escape(s, buf, sizeof buf);
    for (const char *p = buf; *p; p++)
        if (*p == ';')
            fputs("\\x3b", f);
        else
            fputc(*p, f);
}

static int64_t count_of(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? (int64_t)json_integer_value(v) : -1;
}

static void line(FILE *f, const char *root, const char *container, const char *type, int64_t bytes)
{
    pk_folded_frame(f, root);
    fputc(';', f);
    pk_folded_frame(f, container);
    fputc(';', f);
    pk_folded_frame(f, type);
    fprintf(f, " %lld\n", (long long)bytes);
}

int pk_folded_write(FILE *f, const json_t *doc, struct pk_err *e)
{
    const json_t *rets = json_object_get(doc, "retainers");
    if (!json_is_array(rets) || !json_is_object(json_object_get(doc, "graph")))
        return pk_fail(e, PK_E_BAD_FILE,
                       "the snapshot has no object graph (taken with --no-graph, or the graph "
                       "was not read), so no retained sizes to fold");
    size_t i;
    const json_t *r;
    json_array_foreach(rets, i, r)
    {
        const char *kind = json_string_value(json_object_get(r, "kind"));
        const char *root = json_string_value(json_object_get(r, "root"));
        const char *container = json_string_value(json_object_get(r, "type"));
        int64_t total = count_of(r, "retained_bytes");
        const json_t *types = json_object_get(r, "types");
        if (!kind || (strcmp(kind, "global") && strcmp(kind, "frame_local"))) continue;
        if (!root || !container || total <= 0 || !json_is_array(types)) continue;
        int64_t left = total;
        size_t k;
        const json_t *t;
        json_array_foreach(types, k, t)
        {
            const char *name = json_string_value(json_object_get(t, "type"));
            int64_t b = count_of(t, "bytes");
            if (!name || b <= 0 || b > left) continue; /* a hostile file: never above the total */
            line(f, root, container, name, b);
            left -= b;
        }
        if (left > 0) line(f, root, container, "(other types)", left);
    }
    if (ferror(f)) return pk_fail(e, PK_E_INTERNAL, "writing folded stacks failed");
    return 0;
}
