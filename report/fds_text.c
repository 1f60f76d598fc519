/* The fd section of the text report: count vs limit, counts by kind, the paths and endpoints
   held most often, and who owns them. Target strings go through pk_escape. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report/fds_report.h"
#include "report/report.h"
#include "util/text.h"

#define KEY_COLS 52
#define OWNERS_SHOWN 3

/* What an fd is "to", so that leaks of the same thing group together. */
static char *group_key(const struct pk_fd_item *it)
{
    char buf[1024];
    const char *k = it->kind;
    int inet = !strcmp(k, "tcp") || !strcmp(k, "tcp6") || !strcmp(k, "udp") || !strcmp(k, "udp6");
    if (inet && it->local) {
        if (it->remote)
            snprintf(buf, sizeof buf, "%s -> %s %s", k, it->remote, it->state ? it->state : "");
        else
            snprintf(buf, sizeof buf, "%s %s %s", k, it->local, it->state ? it->state : "");
    } else if (!strcmp(k, "unix")) {
        snprintf(buf, sizeof buf, "unix %s %s", it->local ? it->local : "(unnamed)",
                 it->state ? it->state : "");
    } else if (it->target && it->target[0] == '/') {
        snprintf(buf, sizeof buf, "%s", it->target);
    } else if (!strcmp(k, "anon_inode") && it->target) {
        snprintf(buf, sizeof buf, "%s", it->target);
    } else {
        snprintf(buf, sizeof buf, "%s", k);
    }
    size_t n = strlen(buf);
    while (n && buf[n - 1] == ' ')
        buf[--n] = '\0';
    return strdup(buf);
}

struct keyed {
    char *key;
    const struct pk_fd_item *it;
};

struct group {
    const struct keyed *first;
    size_t n, owners;
};

static int cmp_keyed(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c) return c;
    return (x->it->fd > y->it->fd) - (x->it->fd < y->it->fd);
}

static int cmp_group(const void *a, const void *b)
{
    const struct group *x = a, *y = b;
    if (x->n != y->n) return x->n < y->n ? 1 : -1;
    return strcmp(x->first->key, y->first->key);
}

static void owner_line(FILE *out, const struct pk_fd_owner *w, int fd)
{
    char type[256], name[512];
    pk_escape(w->type, type, sizeof type);
    fprintf(out, "      fd %-6d %s at 0x%" PRIx64, fd, type, w->address);
    if (w->is_socket) {
        char fam[32], typ[32];
        pk_sock_family_text(w->family, fam, sizeof fam);
        pk_sock_type_text(w->socktype, typ, sizeof typ);
        fprintf(out, " (%s, %s)\n", fam, typ);
    } else {
        pk_escape(w->name ? w->name : "?", name, sizeof name);
        fprintf(out, " (%s, %s)\n", w->mode, name);
    }
}

/* "1,000 _io.TextIOWrapper, 2 _io.FileIO" for the owners of one group. */
static void owner_types(FILE *out, const struct pk_fds_snap *f, const struct group *g)
{
    const char *seen[8];
    size_t counts[8], ns = 0, other = 0;
    for (size_t i = 0; i < g->n; i++) {
        const struct pk_fd_item *it = g->first[i].it;
        for (size_t k = 0; k < it->nowners && it->owner_first + k < f->nowners; k++) {
            const char *t = f->owners[it->owner_first + k].type;
            size_t j = 0;
            while (j < ns && strcmp(seen[j], t))
                j++;
            if (j < ns)
                counts[j]++;
            else if (ns < 8)
                seen[ns] = t, counts[ns++] = 1;
            else
                other++;
        }
    }
    if (!ns) {
        fputs("(no Python object)", out);
        return;
    }
    for (size_t j = 0; j < ns; j++) {
        char c[32], t[256];
        pk_fmt_count(counts[j], c, sizeof c);
        pk_escape(seen[j], t, sizeof t);
        fprintf(out, "%s%s %s", j ? ", " : "", c, t);
    }
    if (other) fprintf(out, ", %zu more", other);
    if (g->owners < g->n) fprintf(out, " (%zu fds unowned)", g->n - g->owners);
}

void pk_fds_report_text(FILE *out, const struct pk_fds_snap *f, size_t top)
{
    if (!f->available) {
        fputs("\nOpen file descriptors: unavailable (see warnings)\n", out);
        return;
    }
    char c[32], soft[32], hard[32];
    pk_fmt_count(f->nitems, c, sizeof c);
    fprintf(out, "\nOpen file descriptors: %s", c);
    if (f->limit_soft >= 0) {
        pk_fmt_count((uint64_t)f->limit_soft, soft, sizeof soft);
        if (f->limit_hard >= 0)
            pk_fmt_count((uint64_t)f->limit_hard, hard, sizeof hard);
        else
            snprintf(hard, sizeof hard, "unlimited");
        fprintf(out, " of %s allowed (%.0f%% of the soft limit; hard limit %s)", soft,
                f->limit_soft ? 100.0 * (double)f->nitems / (double)f->limit_soft : 0.0, hard);
    }
    fputc('\n', out);
    /* by kind, most first */
    const char *kinds[32];
    size_t kc[32], nk = 0, owned = 0;
    for (size_t i = 0; i < f->nitems; i++) {
        owned += f->items[i].nowners > 0;
        size_t j = 0;
        while (j < nk && strcmp(kinds[j], f->items[i].kind))
            j++;
        if (j < nk)
            kc[j]++;
        else if (nk < 32)
            kinds[nk] = f->items[i].kind, kc[nk++] = 1;
    }
    for (size_t a = 1; a < nk; a++)
        for (size_t b = a; b > 0 && kc[b] > kc[b - 1]; b--) {
            size_t tc = kc[b];
            kc[b] = kc[b - 1], kc[b - 1] = tc;
            const char *tk = kinds[b];
            kinds[b] = kinds[b - 1], kinds[b - 1] = tk;
        }
    fputs("  by kind:", out);
    for (size_t j = 0; j < nk; j++) {
        pk_fmt_count(kc[j], c, sizeof c);
        fprintf(out, "%s %s %s", j ? "," : "", kinds[j], c);
    }
    fputc('\n', out);
    char o1[32], o2[32];
    pk_fmt_count(owned, o1, sizeof o1);
    pk_fmt_count(f->nitems - owned, o2, sizeof o2);
    fprintf(out, "  held by Python file/socket objects: %s; by no Python object: %s%s\n", o1, o2,
            f->owners_available ? "" : " (owners unavailable: see warnings)");
    if (!f->nitems) return;

    struct keyed *ks = calloc(f->nitems, sizeof *ks);
    struct group *gs = calloc(f->nitems, sizeof *gs);
    size_t ng = 0;
    if (!ks || !gs) goto out;
    for (size_t i = 0; i < f->nitems; i++) {
        ks[i].it = &f->items[i];
        if (!(ks[i].key = group_key(&f->items[i]))) goto out;
    }
    qsort(ks, f->nitems, sizeof *ks, cmp_keyed);
    for (size_t i = 0; i < f->nitems; i++) {
        if (!ng || strcmp(gs[ng - 1].first->key, ks[i].key))
            gs[ng++] = (struct group){&ks[i], 0, 0};
        gs[ng - 1].n++;
        gs[ng - 1].owners += ks[i].it->nowners > 0;
    }
    qsort(gs, ng, sizeof *gs, cmp_group);
    size_t shown = top && top < ng ? top : ng;
    fprintf(out, "\nHeld most often%*s %8s  owners\n", KEY_COLS - 15, "", "fds");
    for (size_t i = 0; i < shown; i++) {
        char key[KEY_COLS * 6 + 8];
        size_t w = pk_escape(gs[i].first->key, key, KEY_COLS + 4);
        pk_fmt_count(gs[i].n, c, sizeof c);
        fprintf(out, "  %s%*s %8s  ", key, w < KEY_COLS ? (int)(KEY_COLS - w) : 0, "", c);
        owner_types(out, f, &gs[i]);
        fputc('\n', out);
    }
    /* Owners of the top entries, a few each. */
    size_t top_owned = 0;
    for (size_t i = 0; i < shown && i < 5; i++)
        top_owned += gs[i].owners > 0;
    if (top_owned) fputs("\nOwners of the top entries\n", out);
    for (size_t i = 0; i < shown && i < 5; i++) {
        if (!gs[i].owners) continue;
        char key[KEY_COLS * 6 + 8];
        pk_escape(gs[i].first->key, key, KEY_COLS + 4);
        fprintf(out, "  %s\n", key);
        size_t listed = 0;
        for (size_t j = 0; j < gs[i].n && listed < OWNERS_SHOWN; j++) {
            const struct pk_fd_item *it = gs[i].first[j].it;
            for (size_t k = 0; k < it->nowners && listed < OWNERS_SHOWN; k++, listed++)
                owner_line(out, &f->owners[it->owner_first + k], it->fd);
        }
        if (gs[i].owners > listed) fprintf(out, "      ... and %zu more\n", gs[i].owners - listed);
    }
out:
    if (ks)
        for (size_t i = 0; i < f->nitems; i++)
            free(ks[i].key);
    free(ks);
    free(gs);
}
