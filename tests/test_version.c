/* CPython version strings <-> PY_VERSION_HEX: known values, round trips, and garbage refused. */
#include <criterion/criterion.h>
#include <string.h>

#include "symbols/version.h"

static uint32_t parse(const char *s)
{
    uint32_t hex = 0xdeadbeef;
    cr_assert_eq(pk_version_parse(s, strlen(s), &hex), 0, "\"%s\" refused", s);
    return hex;
}

/* PY_VERSION_HEX as Include/patchlevel.h builds it. */
#define HEX(maj, min, mic, level, serial)                                                          \
    ((uint32_t)(maj) << 24 | (uint32_t)(min) << 16 | (uint32_t)(mic) << 8 | (level) << 4 | (serial))

Test(version, parses_known_versions)
{
    cr_assert_eq(parse("3.11.2"), HEX(3, 11, 2, 0xF, 0));
    cr_assert_eq(parse("3.9.18"), HEX(3, 9, 18, 0xF, 0));
    cr_assert_eq(parse("3.14.0rc1"), HEX(3, 14, 0, 0xC, 1));
    cr_assert_eq(parse("3.15.0a2+"), HEX(3, 15, 0, 0xA, 2));
    cr_assert_eq(parse("3.12.0b4"), HEX(3, 12, 0, 0xB, 4));
    cr_assert_eq(parse("3.13.1+"), HEX(3, 13, 1, 0xF, 0));
    cr_assert_eq(parse("3.10.15"), 0x030a0ff0);
}

Test(version, length_bounds_the_parse)
{
    uint32_t hex = 0;
    cr_assert_eq(pk_version_parse("3.11.2junk", 6, &hex), 0);
    cr_assert_eq(hex, HEX(3, 11, 2, 0xF, 0));
    cr_assert_eq(pk_version_parse("3.11.2", 4, &hex), -1, "\"3.11\" is incomplete");
}

Test(version, rejects_garbage)
{
    static const char *const bad[] = {
        "",           "3",        "3.",      "3.11",       "3.11.",    "3..2",
        ".3.11.2",    "2.7.18",   "4.0.0",   "3.11.2x",    "3.11.2rc", "3.11.2a",
        "3.11.2rc16", "3.11.2c1", "3.11.2 ", " 3.11.2",    "3.11.2++", "3.256.0",
        "3.11.1000",  "3.1111.0", "-3.11.2", "3.11.2rc1x", "3.11.-2",  "three",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        uint32_t hex = 0x12345678;
        cr_assert_eq(pk_version_parse(bad[i], strlen(bad[i]), &hex), -1, "\"%s\" accepted", bad[i]);
        cr_assert_eq(hex, 0x12345678, "\"%s\": output written on failure", bad[i]);
    }
}

Test(version, format_round_trips)
{
    static const char *const good[] = {"3.9.0",    "3.11.2",   "3.14.0rc1", "3.15.0a2",
                                       "3.12.0b4", "3.13.255", "3.255.7",   "3.10.0rc15"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        char buf[32];
        uint32_t hex = parse(good[i]);
        pk_version_format(hex, buf, sizeof buf);
        cr_assert_str_eq(buf, good[i]);
        cr_assert_eq(parse(buf), hex);
    }
}

Test(version, format_respects_the_buffer)
{
    char buf[5];
    memset(buf, 'x', sizeof buf);
    pk_version_format(HEX(3, 11, 2, 0xF, 0), buf, sizeof buf);
    cr_assert_str_eq(buf, "3.11");
}
