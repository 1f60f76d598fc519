/* Terminal manners: colour only on a terminal, never with NO_COLOR (no-color.org) or
   --no-color or TERM=dumb; progress lines only on a terminal. */
#ifndef PK_TERM_H
#define PK_TERM_H

#include <stdio.h>

/* Whether to colour what is written to f. */
int pk_term_color(FILE *f, int no_color_option);
/* Whether a progress line may be written to stderr (a terminal, and not --quiet). */
int pk_term_progress(int quiet);

/* SGR sequences, or "" when colour is off. */
struct pk_colors {
    const char *bold, *red, *green, *yellow, *reset;
};
void pk_colors_init(struct pk_colors *c, int on);

#endif
