/* Strings from the target made safe: UTF-8 sanitising and terminal escaping. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"

#define FFFD "\xEF\xBF\xBD"

static const char *sanitize(const char *s)
{
    static char out[256];
    memset(out, 'Z', sizeof out);
    pk_utf8_sanitize(s, out, sizeof out);
    return out;
}

/* out is prefix, then one or more U+FFFD, then suffix, and nothing else. */
static void expect_replaced(const char *in, const char *prefix, const char *suffix)
{
    const char *out = sanitize(in);
    size_t pl = strlen(prefix), sl = strlen(suffix), n = strlen(out);
    cr_assert_geq(n, pl + 3 + sl, "\"%s\" too short", out);
    cr_assert_eq(memcmp(out, prefix, pl), 0, "prefix lost in \"%s\"", out);
    cr_assert_str_eq(out + n - sl, suffix);
    size_t mid = n - pl - sl;
    cr_assert_eq(mid % 3, 0, "middle of \"%s\" is not U+FFFDs", out);
    for (size_t i = pl; i < pl + mid; i += 3)
        cr_assert_eq(memcmp(out + i, FFFD, 3), 0, "byte %zu of \"%s\" is not U+FFFD", i, out);
}

Test(utf8, valid_text_is_unchanged)
{
    const char *ok = "plain h\xC3\xA9llo \xE2\x82\xAC \xF0\x9D\x84\x9E \xF4\x8F\xBF\xBF end";
    cr_assert_str_eq(sanitize(ok), ok);
    cr_assert_str_eq(sanitize(""), "");
}

Test(utf8, invalid_bytes_become_replacement)
{
    cr_assert_str_eq(sanitize("a\xFF"
                              "b"),
                     "a" FFFD "b");
    cr_assert_str_eq(sanitize("a\x80"
                              "b"),
                     "a" FFFD "b", "lone continuation byte");
    expect_replaced("a\xE2\x82"
                    "b",
                    "a", "b");                 /* truncated 3-byte sequence */
    expect_replaced("a\xF0\x9F\x98", "a", ""); /* truncated at the end */
    expect_replaced("a\xF8\x88\x80\x80\x80"
                    "b",
                    "a", "b"); /* 5-byte form */
    expect_replaced("x\xF4\x90\x80\x80"
                    "y",
                    "x", "y"); /* above U+10FFFF */
}

Test(utf8, overlong_forms_are_refused)
{
    expect_replaced("a\xC0\xAF"
                    "b",
                    "a", "b"); /* '/' in two bytes */
    expect_replaced("a\xC1\xBF"
                    "b",
                    "a", "b");
    expect_replaced("a\xE0\x80\xAF"
                    "b",
                    "a", "b"); /* '/' in three bytes */
    expect_replaced("a\xF0\x82\x82\xAC"
                    "b",
                    "a", "b"); /* U+20AC in four bytes */
    cr_assert_str_eq(sanitize("\xE0\xA0\x80"), "\xE0\xA0\x80", "U+0800 is the shortest form");
}

Test(utf8, surrogates_are_refused)
{
    expect_replaced("a\xED\xA0\x80"
                    "b",
                    "a", "b"); /* U+D800 */
    expect_replaced("a\xED\xBF\xBF"
                    "b",
                    "a", "b"); /* U+DFFF */
    cr_assert_str_eq(sanitize("\xED\x9F\xBF"), "\xED\x9F\xBF", "U+D7FF is fine");
}

Test(utf8, cut_at_a_character_boundary)
{
    char out[5];
    pk_utf8_sanitize("\xE2\x82\xAC\xE2\x82\xAC", out, sizeof out);
    cr_assert_str_eq(out, "\xE2\x82\xAC");
    char one[1] = {'Z'};
    pk_utf8_sanitize("abc", one, sizeof one);
    cr_assert_eq(one[0], '\0');
    char four[4];
    pk_utf8_sanitize("a\xFF", four, sizeof four);
    cr_assert_str_eq(four, "a", "no room for U+FFFD and the NUL");
}

static const char *escape(const char *s)
{
    static char out[512];
    pk_escape(s, out, sizeof out);
    return out;
}

Test(escape, control_characters)
{
    cr_assert_str_eq(escape("a\nb\tc\\d"), "a\\nb\\tc\\\\d");
    cr_assert_str_eq(escape("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
    cr_assert_str_eq(escape("bell\x07 cr\r del\x7f"), "bell\\x07 cr\\x0d del\\x7f");
    cr_assert_str_eq(escape("\x01"), "\\x01");
}

Test(escape, c1_controls_and_invalid_bytes)
{
    const char *o = escape("x\xC2\x9B"
                           "31m y\xC2\x85z");
    cr_assert_null(strstr(o, "\xC2\x9B"), "raw CSI in \"%s\"", o);
    cr_assert_null(strstr(o, "\xC2\x85"), "raw NEL in \"%s\"", o);
    cr_assert_str_eq(o, "x\\u009b31m y\\u0085z");
    cr_assert_str_eq(escape("a\xFF"
                            "b"),
                     "a\\xffb");
    cr_assert_str_eq(escape("a\xC0\xAF"), "a\\xc0\\xaf", "overlong bytes escaped one by one");
    cr_assert_str_eq(escape("\xED\xA0\x80"), "\\xed\\xa0\\x80", "surrogate");
}

Test(escape, printable_utf8_is_kept)
{
    cr_assert_str_eq(escape("h\xC3\xA9llo \xE2\x82\xAC\xC2\xA0!"),
                     "h\xC3\xA9llo \xE2\x82\xAC\xC2\xA0!");
}

Test(escape, long_strings_end_in_dots)
{
    size_t n = 100000;
    char *s = malloc(n + 1);
    cr_assert(s);
    memset(s, 'a', n);
    s[n] = '\0';
    char out[64];
    pk_escape(s, out, sizeof out);
    size_t len = strlen(out);
    cr_assert_lt(len, sizeof out);
    cr_assert_str_eq(out + len - 3, "...");
    for (size_t i = 0; i + 3 < len; i++)
        cr_assert_eq(out[i], 'a');
    /* an escape sequence is never cut in half */
    memset(s, '\n', n);
    pk_escape(s, out, sizeof out);
    len = strlen(out);
    cr_assert_str_eq(out + len - 3, "...");
    cr_assert_eq((len - 3) % 2, 0);
    for (size_t i = 0; i + 3 < len; i += 2)
        cr_assert_eq(memcmp(out + i, "\\n", 2), 0);
    free(s);
}

static char *fputs_escaped(const char *s, size_t max)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert(f);
    pk_fputs_escaped(f, s, max);
    fclose(f);
    return buf;
}

Test(escape, fputs_shows_at_most_max_bytes)
{
    char *o = fputs_escaped("abcdefghij", 4);
    cr_assert_str_eq(o, "abcd...");
    free(o);
    o = fputs_escaped("abcd", 4);
    cr_assert_str_eq(o, "abcd");
    free(o);
    o = fputs_escaped("a\x1b"
                      "b",
                      100);
    cr_assert_str_eq(o, "a\\x1bb");
    free(o);
}
