/* DWARF layout lookup on structs compiled into this binary: offsets and sizes from the compiler. */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "symbols/dwarf_types.h"
#include "symbols/layout.h"
#include "tests/support_py.h"

struct fx_deep {
    char c;
    long d;
};
struct fx_inner {
    int a;
    short b;
    struct fx_deep deep;
};
struct fx_bits {
    long pad;
    char c;
    unsigned int f : 4;
    unsigned int g : 11;
    unsigned int h : 1;
    unsigned char byte_a : 3;
    unsigned char byte_b : 5;
};
struct fx_outer {
    char pad;
    struct fx_inner in;
    union {
        int u_i;
        double u_d;
    };
    struct {
        char anon_c;
        int anon_i;
        union {
            short deep_anon_s;
            char deep_anon_arr[6];
        };
    };
    struct fx_bits bits;
    unsigned int lead : 7;
    unsigned int follow : 9;
    char *ptr;
    long tail[3];
};
typedef struct fx_outer fx_outer_t;
typedef struct {
    int x;
    char y[10];
} fx_anon_typedef_t;
union fx_union {
    int i;
    char s[13];
};
/* A struct only reachable through a pointer member, as _collectionsmodule.c's block is. */
typedef struct fx_linked {
    struct fx_linked *left;
    long data[5];
    struct fx_linked *right;
} fx_linked_t;
struct fx_holder {
    long pad;
    fx_linked_t *first;
    struct fx_inner *inner;
};

__attribute__((used)) fx_outer_t fx_outer_instance;
__attribute__((used)) fx_anon_typedef_t fx_anon_instance;
__attribute__((used)) union fx_union fx_union_instance;
__attribute__((used)) struct fx_holder fx_holder_instance;

static struct pk_dwarf *open_self(void)
{
    struct pk_dwarf *d = NULL;
    struct pk_err e = {0};
    cr_assert_eq(pk_dwarf_open("/proc/self/exe", &d, &e), 0, "%s", e.msg);
    return d;
}

static struct pk_field query(const char *types, const char *member)
{
    struct pk_dwarf *d = open_self();
    struct pk_dwarf_query q = {types, member};
    struct pk_field f;
    struct pk_err e = {0};
    int r = pk_dwarf_resolve(d, &q, 1, &f, &e);
    pk_dwarf_close(d);
    cr_assert_geq(r, 0, "%s", e.msg);
    cr_assert_eq(r, pk_field_ok(f), "resolved count disagrees with the field");
    return f;
}

#define EXPECT_MEMBER(types, path, want_off, want_size)                                            \
    do {                                                                                           \
        struct pk_field f_ = query(types, path);                                                   \
        cr_assert_eq(f_.off, (int32_t)(want_off), "%s %s: offset %d, compiler says %zu", types,    \
                     path, f_.off, (size_t)(want_off));                                            \
        cr_assert_eq(f_.size, (uint32_t)(want_size), "%s %s: size %u, compiler says %zu", types,   \
                     path, f_.size, (size_t)(want_size));                                          \
        cr_assert_eq(f_.bit_size, 0, "%s %s is no bitfield", types, path);                         \
    } while (0)

#define EXPECT_SIZE(types, sz)                                                                     \
    do {                                                                                           \
        struct pk_field f_ = query(types, NULL);                                                   \
        cr_assert_eq(f_.off, 0, "%s", types);                                                      \
        cr_assert_eq(f_.size, (uint32_t)(sz), "%s: size %u, compiler says %zu", types, f_.size,    \
                     (size_t)(sz));                                                                \
    } while (0)

Test(dwarf, struct_sizes_by_tag_and_typedef)
{
    EXPECT_SIZE("fx_outer", sizeof(struct fx_outer));
    EXPECT_SIZE("fx_outer_t", sizeof(fx_outer_t));
    EXPECT_SIZE("fx_anon_typedef_t", sizeof(fx_anon_typedef_t));
    EXPECT_SIZE("fx_union", sizeof(union fx_union));
    EXPECT_SIZE("fx_no_such_type|fx_inner", sizeof(struct fx_inner));
}

Test(dwarf, plain_and_nested_members)
{
    typedef struct fx_outer O;
    EXPECT_MEMBER("fx_outer", "pad", offsetof(O, pad), 1);
    EXPECT_MEMBER("fx_outer", "in", offsetof(O, in), sizeof(struct fx_inner));
    EXPECT_MEMBER("fx_outer", "in.b", offsetof(O, in.b), sizeof(short));
    EXPECT_MEMBER("fx_outer", "in.deep", offsetof(O, in.deep), sizeof(struct fx_deep));
    EXPECT_MEMBER("fx_outer", "in.deep.d", offsetof(O, in.deep.d), sizeof(long));
    EXPECT_MEMBER("fx_outer", "ptr", offsetof(O, ptr), sizeof(char *));
    EXPECT_MEMBER("fx_outer", "tail", offsetof(O, tail), sizeof(long[3]));
    EXPECT_MEMBER("fx_outer_t", "in.deep.c", offsetof(O, in.deep.c), 1);
    EXPECT_MEMBER("fx_anon_typedef_t", "y", offsetof(fx_anon_typedef_t, y), 10);
    EXPECT_MEMBER("fx_union", "s", offsetof(union fx_union, s), 13);
}

Test(dwarf, anonymous_struct_and_union_members)
{
    typedef struct fx_outer O;
    EXPECT_MEMBER("fx_outer", "u_i", offsetof(O, u_i), sizeof(int));
    EXPECT_MEMBER("fx_outer", "u_d", offsetof(O, u_d), sizeof(double));
    EXPECT_MEMBER("fx_outer", "anon_c", offsetof(O, anon_c), 1);
    EXPECT_MEMBER("fx_outer", "anon_i", offsetof(O, anon_i), sizeof(int));
    EXPECT_MEMBER("fx_outer", "deep_anon_s", offsetof(O, deep_anon_s), sizeof(short));
    EXPECT_MEMBER("fx_outer", "deep_anon_arr", offsetof(O, deep_anon_arr), 6);
}

Test(dwarf, missing_members_and_types)
{
    cr_assert_lt(query("fx_outer", "nope").off, 0);
    cr_assert_lt(query("fx_outer", "in.nope").off, 0);
    cr_assert_lt(query("fx_outer", "in.a.x").off, 0, "path through an int");
    cr_assert_lt(query("fx_outer", "ptr.x").off, 0, "path through a pointer");
    cr_assert_lt(query("fx_outer", "").off, 0);
    cr_assert_lt(query("fx_outer", "in.").off, 0);
    cr_assert_lt(query("fx_no_such_type", NULL).off, 0);
    cr_assert_lt(query("fx_no_such_type", "a").off, 0);
    cr_assert_lt(query("fx_deep", "in").off, 0, "member of another struct");
}

Test(dwarf, members_through_a_pointer)
{
    EXPECT_MEMBER("fx_holder", "first->data", offsetof(fx_linked_t, data), sizeof(long[5]));
    EXPECT_MEMBER("fx_holder", "first->right", offsetof(fx_linked_t, right), sizeof(void *));
    EXPECT_MEMBER("fx_holder", "first->right->data", offsetof(fx_linked_t, data), sizeof(long[5]));
    EXPECT_MEMBER("fx_holder", "inner->deep.d", offsetof(struct fx_inner, deep.d), sizeof(long));
    cr_assert_lt(query("fx_holder", "pad->x").off, 0, "-> through a long");
    cr_assert_lt(query("fx_outer", "in->a").off, 0, "-> through a struct, not a pointer");
    cr_assert_lt(query("fx_outer", "ptr->x").off, 0, "-> to a char");
    cr_assert_lt(query("fx_holder", "first->").off, 0);
    cr_assert_lt(query("fx_holder", "first->nope").off, 0);
}

/* Where the compiler put a bitfield: the bits that change when it is set, counted from the
   start of the struct (little-endian). */
struct measured {
    int first, count;
};
static struct measured measure(const unsigned char *zero, const unsigned char *set, size_t n)
{
    struct measured m = {-1, 0};
    for (size_t i = 0; i < n * 8; i++) {
        int changed = ((zero[i / 8] ^ set[i / 8]) >> (i % 8)) & 1;
        if (changed && m.first < 0) m.first = (int)i;
        m.count += changed;
    }
    return m;
}

static void expect_bitfield(const char *types, const char *path, struct measured m, size_t base)
{
    struct pk_field f = query(types, path);
    cr_assert(pk_field_ok(f), "%s %s missing", types, path);
    cr_assert_gt(f.bit_size, 0, "%s %s: not reported as a bitfield", types, path);
    cr_assert_eq(f.off % 4, 0, "%s %s: word not 4-aligned", types, path);
    cr_assert_leq(f.bit_off + f.bit_size, 32);
    cr_assert_eq(f.size, 4);
    cr_assert_eq((size_t)f.off * 8 + (size_t)f.bit_off, base * 8 + (size_t)m.first,
                 "%s %s: bit %d, compiler put it at bit %zu", types, path, f.off * 8 + f.bit_off,
                 base * 8 + (size_t)m.first);
    cr_assert_eq(f.bit_size, m.count, "%s %s: width", types, path);
}

#define EXPECT_BITFIELD(types, path, T, field, width, base)                                        \
    do {                                                                                           \
        T z_, s_;                                                                                  \
        memset(&z_, 0, sizeof z_);                                                                 \
        memset(&s_, 0, sizeof s_);                                                                 \
        s_.field = (1u << (width)) - 1;                                                            \
        expect_bitfield(                                                                           \
            types, path,                                                                           \
            measure((const unsigned char *)&z_, (const unsigned char *)&s_, sizeof z_), base);     \
    } while (0)

Test(dwarf, bitfields_where_the_compiler_puts_them)
{
    EXPECT_BITFIELD("fx_bits", "f", struct fx_bits, f, 4, 0);
    EXPECT_BITFIELD("fx_bits", "g", struct fx_bits, g, 11, 0);
    EXPECT_BITFIELD("fx_bits", "h", struct fx_bits, h, 1, 0);
    EXPECT_BITFIELD("fx_bits", "byte_a", struct fx_bits, byte_a, 3, 0);
    EXPECT_BITFIELD("fx_bits", "byte_b", struct fx_bits, byte_b, 5, 0);
    EXPECT_BITFIELD("fx_outer", "bits.g", struct fx_bits, g, 11, offsetof(struct fx_outer, bits));
    EXPECT_BITFIELD("fx_outer", "lead", struct fx_outer, lead, 7, 0);
    EXPECT_BITFIELD("fx_outer", "follow", struct fx_outer, follow, 9, 0);
    /* CPython's str state: bitfields in a member of an anonymous struct type */
    EXPECT_BITFIELD("PyASCIIObject", "state.kind", PyASCIIObject, state.kind, 3, 0);
    EXPECT_BITFIELD("PyASCIIObject", "state.compact", PyASCIIObject, state.compact, 1, 0);
    EXPECT_BITFIELD("PyASCIIObject", "state.ascii", PyASCIIObject, state.ascii, 1, 0);
}

Test(dwarf, many_queries_in_one_pass)
{
    struct pk_dwarf *d = open_self();
    struct pk_dwarf_query q[] = {
        {"fx_outer", "in.deep.d"}, {"fx_union", NULL}, {"fx_nothing", NULL},
        {"fx_outer_t", "anon_i"},  {"fx_outer", "zz"}, {"fx_inner", "b"},
    };
    struct pk_field f[6];
    struct pk_err e = {0};
    cr_assert_eq(pk_dwarf_resolve(d, q, 6, f, &e), 4, "%s", e.msg);
    cr_assert_eq(f[0].off, (int32_t)offsetof(struct fx_outer, in.deep.d));
    cr_assert_eq(f[1].size, sizeof(union fx_union));
    cr_assert_lt(f[2].off, 0);
    cr_assert_eq(f[3].off, (int32_t)offsetof(struct fx_outer, anon_i));
    cr_assert_lt(f[4].off, 0);
    cr_assert_eq(f[5].off, (int32_t)offsetof(struct fx_inner, b));
    pk_dwarf_close(d);
}

Test(dwarf, refuses_a_file_without_dwarf)
{
    struct pk_dwarf *d = NULL;
    struct pk_err e = {0};
    cr_assert_lt(pk_dwarf_open("/nonexistent/pypeek", &d, &e), 0);
    cr_assert_null(d);
    pk_err_clear(&e);
    cr_assert_lt(pk_dwarf_open("/proc/self/maps", &d, &e), 0, "not an ELF file");
    cr_assert_null(d);
}
