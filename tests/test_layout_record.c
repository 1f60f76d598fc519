/* Layout record parsing at the edges of its buffer: the text is not NUL-terminated (a file is
   parsed as read), so nothing may be read past its length (the sanitizer build catches it). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/layout_record.h"

static int parse_exact(const char *s)
{
    size_t n = strlen(s);
    char *buf = malloc(n ? n : 1); /* exactly n bytes: no NUL after the text */
    cr_assert(buf);
    memcpy(buf, s, n);
    static struct pk_layout_record r;
    struct pk_err e = {0};
    int rc = pk_record_parse(buf, n, &r, &e);
    free(buf);
    return rc;
}

Test(layout_record, cut_in_the_checksum_line_is_refused_within_its_length)
{
    cr_assert_lt(parse_exact("pypeek-layout 1\nche"), 0);
    cr_assert_lt(parse_exact("pypeek-layout 1\nchecksum 0123"), 0);
    cr_assert_lt(parse_exact("checksum 0123456789abcdef"), 0); /* no newline */
    cr_assert_lt(parse_exact(""), 0);
}
