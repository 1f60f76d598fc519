/* Folded stacks of retained bytes from a snapshot (`--format folded`). */
#include "report/folded_out.h"

#include <stdint.h>
#include <string.h>

#include "report/byname.h"
#include "report/graph_report.h"
#include "util/text.h"

#define FRAME_MAX 1024 /* bytes of one escaped frame */

void pk_folded_frame(FILE *f, const char *s)
{
    /* valid UTF-8 first, as the JSON output has it, so a live target and its saved file fold
       alike; escaping shows at most FRAME_MAX bytes of it */
    char clean[FRAME_MAX * 2], buf[FRAME_MAX];
    pk_utf8_sanitize(s, clean, sizeof clean);
    pk_escape(clean, buf, sizeof buf);
    for (const char *p = buf; *p; p++)
        if (*p == ';')
            fputs("\\x3b", f);
        else
            fputc(*p, f);
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

int pk_folded_write(FILE *f, const struct pk_snapshot *s, struct pk_err *e)
{
    const struct pk_interp_snap *m = pk_snapshot_main(s);
    if (!m || !m->graph.available)
        return pk_fail(e, PK_E_BAD_FILE,
                       "the snapshot has no object graph (taken with --no-graph, or the graph "
                       "was not read), so no retained sizes to fold");
    const struct pk_graph_snap *h = &m->graph;
    for (size_t i = 0; i < h->nretainers; i++) {
        const struct pk_retainer *r = &h->retainers[i];
        int64_t total = pk_jint(r->retained_bytes);
        if ((!r->is_global && !r->is_frame_local) || total <= 0) continue;
        int64_t left = total;
        for (size_t k = 0; k < r->ntypes && k < PK_JSON_RETAINER_TYPES; k++) {
            int64_t b = pk_jint(r->types[k].bytes);
            if (b <= 0 || b > left) continue; /* never above the total */
            line(f, r->root, r->type, r->types[k].name, b);
            left -= b;
        }
        if (left > 0) line(f, r->root, r->type, "(other types)", left);
    }
    if (ferror(f)) return pk_fail(e, PK_E_INTERNAL, "writing folded stacks failed");
    return 0;
}
