/* Strings from the target in DOT labels and folded-stack frames: escaped so that no name can
   end a DOT string or split a folded line (report/dot_out.c, report/folded_out.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/dot_out.h"
#include "report/folded_out.h"

static char *capture(void (*put)(FILE *, const char *), const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert(f);
    put(f, s);
    fclose(f);
    return buf;
}

static void dot(FILE *f, const char *s)
{
    pk_dot_fputs(f, s, 200);
}

Test(dot, quotes_backslashes_and_entities_escaped)
{
    char *out = capture(dot, "a\"b\\c&amp;<b>{x}\n]");
    /* '"' and '\' escaped for DOT; the newline shown as \n (then its backslash doubled); '&'
       as an entity so Graphviz shows it as typed */
    cr_assert_str_eq(out, "a\\\"b\\\\\\\\c&amp;amp;<b>{x}\\\\n]");
    free(out);
}

Test(dot, no_raw_quote_or_control_survives)
{
    char in[64];
    for (int c = 1; c < 0x20; c++) {
        snprintf(in, sizeof in, "x%c\"y", c);
        char *out = capture(dot, in);
        for (const char *p = out; *p; p++) {
            cr_assert((unsigned char)*p >= 0x20, "control 0x%02x left in %s", c, out);
            if (*p == '"') cr_assert(p > out && p[-1] == '\\', "raw quote in %s", out);
        }
        free(out);
    }
}

Test(dot, invalid_utf8_is_shown_as_hex)
{
    char *out = capture(dot, "a\xff"
                             "b");
    cr_assert_str_eq(out, "a\\\\xffb");
    free(out);
}

Test(folded, separator_and_newlines_cannot_split_a_stack)
{
    char *out = capture(pk_folded_frame, "mod.a;b\nc d");
    cr_assert_str_eq(out, "mod.a\\x3bb\\nc d");
    cr_assert_null(strchr(out, ';'));
    cr_assert_null(strchr(out, '\n'));
    free(out);
}
