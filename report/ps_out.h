/* `pypeek ps`: the CPython processes found, as a table or JSON (pypeek.ps/1). */
#ifndef PK_PS_OUT_H
#define PK_PS_OUT_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "util/error.h"
#include "util/term.h"

/* One process pypeek found running CPython (or, unreadable, naming python in its argv). */
struct pk_ps_entry {
    pid_t pid;
    long uid; /* real uid, -1 unknown */
    char user[64];
    char exe[PATH_MAX]; /* as the process sees it (untrusted) */
    char cmdline[256];  /* untrusted */
    char version[32];   /* "3.11.2"; "" when unknown */
    const char *build;  /* "gil", "free-threaded", NULL when unknown */
    uint64_t rss_bytes;
    int threads;
    int in_container;    /* another root directory or mount namespace than pypeek's */
    char root[PATH_MAX]; /* its root as pypeek sees it (readlink /proc/PID/root) */
    char mnt_ns[64];     /* "mnt:[4026532282]" */
    int readable;        /* pypeek PID would work as things stand */
    char layout_source[PATH_MAX + 160]; /* where the layout comes from, when found */
    char reason[2048];                  /* why not readable ("" when readable) */
};

/* The table; c colours READABLE and the reasons (pk_colors_init(c, 0): none). */
int pk_ps_text(FILE *f, const struct pk_ps_entry *v, size_t n, const struct pk_colors *c,
               struct pk_err *e);
int pk_ps_json(FILE *f, const struct pk_ps_entry *v, size_t n, struct pk_err *e);

#endif
