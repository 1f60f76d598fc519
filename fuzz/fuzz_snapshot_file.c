/* libFuzzer harness for saved snapshot files (hostile input to pypeek diff, html and
   --format folded): the bytes go through pk_snapshot_read_file via a memfd into struct
   pk_snapshot, then the diff of it with itself and with a well-formed one, the text rendering
   of the diffs, the Prometheus text, the folded stacks, the HTML report (alone and after the
   good one), the text and JSON reports, and the round trip: the JSON of what was read, read
   again, gives the same JSON. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "report/diff.h"
#include "report/folded_out.h"
#include "report/html_out.h"
#include "report/prom.h"
#include "report/report.h"
#include "report/snapshot_file.h"

static FILE *devnull;
static struct pk_snapshot good; /* a minimal well-formed snapshot */

static const char GOOD[] =
    "{\"schema\":\"pypeek.snapshot/1\",\"taken_at\":\"2024-01-01T00:00:00.000000Z\","
    "\"target\":{\"pid\":1,\"exe\":\"/usr/bin/python3\",\"python_version\":\"3.11.2\"},"
    "\"attach\":{\"mode\":\"frozen\",\"pause_us\":1,\"retries\":0,\"consistent\":true},"
    "\"memory\":{\"rss_bytes\":1,\"hwm_bytes\":1},"
    "\"gc\":{\"enabled\":true,\"generations\":[{\"objects\":1,\"threshold\":700,\"count\":1}]},"
    "\"garbage\":{\"count\":0,\"types\":[]},"
    "\"objects\":{\"total\":2,\"bytes\":64,\"types\":[{\"type\":\"dict\",\"count\":2,"
    "\"bytes\":64}]}}";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    devnull = fopen("/dev/null", "w");
    json_t *doc = json_loads(GOOD, 0, NULL);
    struct pk_err e = {0};
    if (!devnull || !doc || pk_snapshot_from_json(doc, &good, &e) < 0) abort();
    json_decref(doc);
    return 0;
}

static json_t *comparable_json(const struct pk_snapshot *s)
{
    struct pk_report_opts all = {0};
    return pk_snapshot_to_json(s, &all);
}

static void round_trip(const struct pk_snapshot *s)
{
    json_t *a = comparable_json(s);
    struct pk_snapshot again;
    struct pk_err e = {0};
    if (!a) return;
    if (pk_snapshot_from_json(a, &again, &e) < 0) {
        fprintf(stderr, "the JSON of a snapshot read back fails: %s\n", e.msg);
        abort();
    }
    json_t *b = comparable_json(&again);
    if (b && !json_equal(a, b)) {
        fputs("round trip differs\n", stderr);
        abort();
    }
    json_decref(a);
    json_decref(b);
    pk_snapshot_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("snapshot", MFD_CLOEXEC);
    if (fd < 0) abort();
    if (size && write(fd, data, size) != (ssize_t)size) abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct pk_snapshot s;
    struct pk_err e = {0};
    int r = pk_snapshot_read_file(path, &s, &e);
    close(fd);
    if (r == 0) {
        json_t *d1 = pk_diff_snapshots(&s, &s, 5), *d2 = pk_diff_snapshots(&good, &s, 0);
        json_t *d3 = pk_diff_snapshots(&s, &good, 0);
        struct pk_err pe = {0};
        struct pk_report_opts ro = {3};
        if (d1) pk_diff_print_text(devnull, d1, 5, &pe);
        if (d2) pk_diff_print_text(devnull, d2, 0, &pe);
        if (d3) pk_diff_print_text(devnull, d3, 3, &pe);
        json_decref(d1);
        json_decref(d2);
        json_decref(d3);
        pk_report_prometheus(devnull, &s, 3, &pe);
        pk_folded_write(devnull, &s, &pe);
        const struct pk_snapshot *pair[2] = {&good, &s};
        pk_html_write(devnull, pair + 1, 1, 20, &pe);
        pk_html_write(devnull, pair, 2, 20, &pe);
        pk_report_text(devnull, &s, &ro, &pe);
        pk_report_json(devnull, &s, &ro, &pe);
        round_trip(&s);
        pk_snapshot_free(&s);
    } else if (e.code != PK_E_BAD_FILE) {
        abort(); /* refused files are exit 7 */
    }
    return 0;
}
