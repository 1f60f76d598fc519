/* Reading Python str objects from synthetic memory: compact ASCII, latin-1, UCS2, UCS4, legacy
   (data pointer), cut-off long strings and corrupt headers. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cpython/pystr.h"
#include "tests/support_heap.h"

struct strfx {
    struct img *im;
    struct pk_layout l;
};

static void setup(struct strfx *fx)
{
    support_layout(&fx->l);
    fx->im = img_new(1 << 18);
}

/* A str object as CPython 3.11 lays it out: the header struct depends on compact/ascii, the
   characters follow it (compact) or sit in a separate buffer (data.any). */
static uint64_t new_str(struct strfx *fx, unsigned kind, int compact, int ascii, Py_ssize_t length,
                        const void *chars, size_t nchars)
{
    PyUnicodeObject u;
    memset(&u, 0, sizeof u);
    PyASCIIObject *a = &u._base._base;
    a->length = length;
    a->hash = -1;
    a->state.kind = kind & 7;
    a->state.compact = compact ? 1 : 0;
    a->state.ascii = ascii ? 1 : 0;
    a->state.ready = 1;
    size_t hdr = compact ? (ascii ? sizeof(PyASCIIObject) : sizeof(PyCompactUnicodeObject))
                         : sizeof(PyUnicodeObject);
    size_t bytes = nchars * (kind ? kind : 1);
    uint64_t s = img_alloc(fx->im, hdr + bytes + 4);
    uint64_t data = s + hdr;
    if (!compact) {
        data = img_alloc(fx->im, bytes + 4);
        u.data.any = (void *)(uintptr_t)data;
    }
    img_put(fx->im, s, &u, hdr);
    if (bytes) img_put(fx->im, data, chars, bytes);
    return s;
}

static long read_str(struct strfx *fx, uint64_t s, char *out, size_t cap)
{
    return pk_pystr_read(fx->im->mem, &fx->l, s, out, cap);
}

static void expect_str(struct strfx *fx, uint64_t s, const char *want)
{
    char out[256];
    long n = read_str(fx, s, out, sizeof out);
    cr_assert_eq(n, (long)strlen(want), "returned %ld for \"%s\"", n, want);
    cr_assert_str_eq(out, want);
}

Test(pystr, compact_ascii)
{
    struct strfx fx;
    setup(&fx);
    expect_str(&fx, new_str(&fx, 1, 1, 1, 5, "hello", 5), "hello");
    expect_str(&fx, new_str(&fx, 1, 1, 1, 0, "", 0), "");
    img_free(fx.im);
}

Test(pystr, compact_latin1_ucs2_ucs4)
{
    struct strfx fx;
    setup(&fx);
    const uint8_t latin1[] = {'c', 'a', 'f', 0xE9};
    expect_str(&fx, new_str(&fx, 1, 1, 0, 4, latin1, 4), "caf\xC3\xA9");
    const uint16_t ucs2[] = {0x20AC, 'u', 'r', 'o', 0x3042};
    expect_str(&fx, new_str(&fx, 2, 1, 0, 5, ucs2, 5), "\xE2\x82\xACuro\xE3\x81\x82");
    const uint32_t ucs4[] = {'>', 0x1F600, 0x10FFFF, '<'};
    expect_str(&fx, new_str(&fx, 4, 1, 0, 4, ucs4, 4), ">\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF<");
    img_free(fx.im);
}

Test(pystr, lone_surrogates_and_bad_code_points_become_replacement)
{
    struct strfx fx;
    setup(&fx);
    const uint16_t ucs2[] = {'a', 0xD800, 'b', 0xDFFF};
    expect_str(&fx, new_str(&fx, 2, 1, 0, 4, ucs2, 4),
               "a\xEF\xBF\xBD"
               "b\xEF\xBF\xBD");
    const uint32_t ucs4[] = {'x', 0x110000, 0xFFFFFFFF};
    expect_str(&fx, new_str(&fx, 4, 1, 0, 3, ucs4, 3), "x\xEF\xBF\xBD\xEF\xBF\xBD");
    img_free(fx.im);
}

Test(pystr, legacy_string_with_data_pointer)
{
    struct strfx fx;
    setup(&fx);
    const uint16_t ucs2[] = {'o', 'l', 'd', 0xE9};
    expect_str(&fx, new_str(&fx, 2, 0, 0, 4, ucs2, 4), "old\xC3\xA9");
    img_free(fx.im);
}

Test(pystr, long_string_is_cut_with_dots)
{
    struct strfx fx;
    setup(&fx);
    size_t n = PK_STR_MAX_CHARS + 1000;
    char *chars = malloc(n);
    cr_assert(chars);
    for (size_t i = 0; i < n; i++)
        chars[i] = (char)('a' + i % 26);
    uint64_t s = new_str(&fx, 1, 1, 1, (Py_ssize_t)n, chars, n);
    size_t cap = 3 * PK_STR_MAX_CHARS;
    char *out = malloc(cap);
    cr_assert(out);
    long got = read_str(&fx, s, out, cap);
    cr_assert_eq(got, PK_STR_MAX_CHARS + 3);
    cr_assert_eq(strlen(out), (size_t)got);
    cr_assert_eq(memcmp(out, chars, PK_STR_MAX_CHARS), 0);
    cr_assert_str_eq(out + PK_STR_MAX_CHARS, "...");
    /* a small buffer cuts too, and still ends in dots within cap */
    char small[16];
    got = read_str(&fx, s, small, sizeof small);
    cr_assert_gt(got, 3);
    cr_assert_lt(got, (long)sizeof small);
    cr_assert_eq(strlen(small), (size_t)got);
    cr_assert_str_eq(small + got - 3, "...");
    cr_assert_eq(memcmp(small, chars, (size_t)got - 3), 0);
    /* multi-byte characters are never split */
    uint32_t wide[40];
    for (size_t i = 0; i < 40; i++)
        wide[i] = 0x1F600;
    s = new_str(&fx, 4, 1, 0, 40, wide, 40);
    got = read_str(&fx, s, small, sizeof small);
    cr_assert_lt(got, (long)sizeof small);
    cr_assert_str_eq(small + got - 3, "...");
    cr_assert_eq((got - 3) % 4, 0);
    for (long i = 0; i + 3 < got; i += 4)
        cr_assert_eq(memcmp(small + i, "\xF0\x9F\x98\x80", 4), 0);
    free(out);
    free(chars);
    img_free(fx.im);
}

Test(pystr, corrupt_headers_are_refused)
{
    struct strfx fx;
    setup(&fx);
    char out[64];
    cr_assert_eq(read_str(&fx, new_str(&fx, 3, 1, 0, 2, "abcdefgh", 2), out, sizeof out),
                 -PK_E_INCONSISTENT, "kind 3");
    cr_assert_eq(read_str(&fx, new_str(&fx, 0, 1, 0, 2, "ab", 2), out, sizeof out),
                 -PK_E_INCONSISTENT, "kind 0");
    cr_assert_eq(read_str(&fx, new_str(&fx, 1, 1, 1, -5, "ab", 2), out, sizeof out),
                 -PK_E_INCONSISTENT, "negative length");
    cr_assert_eq(read_str(&fx, img_hole(fx.im), out, sizeof out), -PK_E_UNMAPPED);
    cr_assert_lt(read_str(&fx, new_str(&fx, 1, 1, 1, 2, "ab", 2), out, 4), 0, "cap < 8");
    img_free(fx.im);
}

Test(pystr, characters_past_the_mapping_are_an_error)
{
    struct strfx fx;
    setup(&fx);
    /* a str at the very end of the image claiming more characters than are mapped */
    uint64_t s = fx.im->base + fx.im->size - sizeof(PyASCIIObject) - 4;
    PyASCIIObject a;
    memset(&a, 0, sizeof a);
    a.length = 100;
    a.state.kind = 1;
    a.state.compact = 1;
    a.state.ascii = 1;
    img_put(fx.im, s, &a, sizeof a);
    char out[256];
    cr_assert_eq(read_str(&fx, s, out, sizeof out), -PK_E_UNMAPPED);
    a.length = 1u << 30; /* absurd length: read is bounded, still refused */
    img_put(fx.im, s, &a, sizeof a);
    cr_assert_lt(read_str(&fx, s, out, sizeof out), 0);
    a.length = 4;
    img_put(fx.im, s, &a, sizeof a);
    img_put(fx.im, s + sizeof a, "tail", 4);
    cr_assert_eq(read_str(&fx, s, out, sizeof out), 4, "exactly fits");
    cr_assert_str_eq(out, "tail");
    img_free(fx.im);
}
