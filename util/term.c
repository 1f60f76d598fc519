/* Terminal manners: when colour and progress lines are wanted. */
#include "util/term.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int pk_term_color(FILE *f, int no_color_option)
{
    const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
    if (no_color_option || (nc && *nc)) return 0;
    if (!term || !strcmp(term, "dumb")) return 0;
    return isatty(fileno(f));
}

int pk_term_progress(int quiet)
{
    return !quiet && isatty(STDERR_FILENO);
}

void pk_colors_init(struct pk_colors *c, int on)
{
    c->bold = on ? "\033[1m" : "";
    c->red = on ? "\033[31m" : "";
    c->green = on ? "\033[32m" : "";
    c->yellow = on ? "\033[33m" : "";
    c->reset = on ? "\033[0m" : "";
}
