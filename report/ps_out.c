/* Printing `pypeek ps`: one line per CPython process (plus its container and why it cannot
   be read), or a pypeek.ps/1 JSON document. */
#include "report/ps_out.h"

#include <jansson.h>

#include "report/json_util.h"
#include "report/report.h"
#include "util/text.h"

int pk_ps_text(FILE *f, const struct pk_ps_entry *v, size_t n, const struct pk_colors *c,
               struct pk_err *e)
{
    fprintf(f, "%s%-8s %-10s %-9s %-13s %11s %7s  %-8s %s%s\n", c->bold, "PID", "USER", "PYTHON",
            "BUILD", "RSS", "THREADS", "READABLE", "COMMAND", c->reset);
    for (size_t i = 0; i < n; i++) {
        const struct pk_ps_entry *p = &v[i];
        char user[96], ver[64], rss[32];
        pk_escape(p->user[0] ? p->user : "?", user, sizeof user);
        pk_escape(p->version[0] ? p->version : "?", ver, sizeof ver);
        pk_fmt_bytes(p->rss_bytes, rss, sizeof rss);
        fprintf(f, "%-8d %-10s %-9s %-13s %11s %7d  %s%-8s%s ", (int)p->pid, user, ver,
                p->build ? p->build : "?", rss, p->threads, p->readable ? c->green : c->red,
                p->readable ? "yes" : "no", c->reset);
        pk_fputs_escaped(f, p->cmdline[0] ? p->cmdline : p->exe, 120);
        fputc('\n', f);
        if (p->in_container) {
            fputs("         container: root ", f);
            pk_fputs_escaped(f, p->root[0] ? p->root : "?", 200);
            fputs(", mount namespace ", f);
            pk_fputs_escaped(f, p->mnt_ns[0] ? p->mnt_ns : "?", 64);
            fputc('\n', f);
        }
        if (!p->readable) {
            fprintf(f, "         %snot readable:%s ", c->red, c->reset);
            pk_fputs_escaped(f, p->reason, 600);
            fputc('\n', f);
        }
    }
    if (n == 0) fputs("(no CPython process found)\n", f);
    if (ferror(f)) return pk_fail(e, PK_E_INTERNAL, "writing failed");
    return 0;
}

static json_t *str_or_null(const char *s)
{
    return s && *s ? pk_json_str(s) : json_null();
}

int pk_ps_json(FILE *f, const struct pk_ps_entry *v, size_t n, struct pk_err *e)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n && arr; i++) {
        const struct pk_ps_entry *p = &v[i];
        json_t *container = json_null();
        if (p->in_container)
            container = json_pack("{s:o, s:o}", "root", str_or_null(p->root), "mount_namespace",
                                  str_or_null(p->mnt_ns));
        json_array_append_new(
            arr,
            json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:i, s:o, s:b, s:o, s:o}", "pid",
                      (int)p->pid, "uid", p->uid >= 0 ? json_integer(p->uid) : json_null(), "user",
                      str_or_null(p->user), "exe", str_or_null(p->exe), "cmdline",
                      str_or_null(p->cmdline), "python_version", str_or_null(p->version), "build",
                      p->build ? json_string(p->build) : json_null(), "rss_bytes",
                      pk_json_u64(p->rss_bytes), "threads", p->threads, "container", container,
                      "readable", p->readable, "layout_source", str_or_null(p->layout_source),
                      "reason", str_or_null(p->reason)));
    }
    json_t *doc = json_pack("{s:s, s:o}", "schema", "pypeek.ps/1", "processes", arr);
    if (!doc) return pk_fail(e, PK_E_INTERNAL, "out of memory");
    int r = json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (r < 0 || fputc('\n', f) == EOF) return pk_fail(e, PK_E_INTERNAL, "writing JSON failed");
    return 0;
}
