/* libFuzzer harness for saved snapshot files (hostile input to pypeek diff, html and
   --format folded): the bytes go through pk_snapshot_read_file via a memfd, then the shape
   check, the diff of the document with itself and with a well-formed one, the text rendering
   of both diffs, the folded stacks and the HTML report of it (alone and after the good one). */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "report/diff.h"
#include "report/folded_out.h"
#include "report/html_out.h"
#include "report/snapshot_file.h"

static FILE *devnull;
static json_t *good; /* a minimal well-formed snapshot document */

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
    good = json_loads(GOOD, 0, NULL);
    if (!devnull || !good) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("snapshot", MFD_CLOEXEC);
    if (fd < 0) abort();
    if (size && write(fd, data, size) != (ssize_t)size) abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    json_t *doc = NULL;
    struct pk_err e = {0};
    int r = pk_snapshot_read_file(path, &doc, &e);
    close(fd);
    if (r == 0) {
        if (!doc) abort();
        json_t *d1 = pk_diff_docs(doc, doc, 5), *d2 = pk_diff_docs(good, doc, 0);
        json_t *d3 = pk_diff_docs(doc, good, 0);
        struct pk_err pe = {0};
        if (d1) pk_diff_print_text(devnull, d1, 5, &pe);
        if (d2) pk_diff_print_text(devnull, d2, 0, &pe);
        if (d3) pk_diff_print_text(devnull, d3, 3, &pe);
        json_decref(d1);
        json_decref(d2);
        json_decref(d3);
        pk_folded_write(devnull, doc, &pe);
        json_t *pair[2] = {good, doc};
        pk_html_write(devnull, pair + 1, 1, 20, &pe);
        pk_html_write(devnull, pair, 2, 20, &pe);
        json_decref(doc);
    } else if (doc || e.code != PK_E_BAD_FILE) {
        abort(); /* refused files are exit 7, with nothing returned */
    }
    return 0;
}
