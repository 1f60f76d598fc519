/* Command-line options: parsed without side effects beyond --help/--version output.
   The first operand may name a subcommand (snapshot, diff, watch); otherwise it is the PID. */
#include "cli/options.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach/proc.h"

static const char usage_text[] =
    "usage: pypeek [options] PID               report on a running CPython process\n"
    "       pypeek snapshot [options] PID -o FILE\n"
    "                                          save its full JSON snapshot to FILE\n"
    "       pypeek diff [--json] [--top N] OLD NEW\n"
    "                                          what changed between two snapshot files\n"
    "       pypeek watch [options] PID [--interval S] [--count N]\n"
    "                                          sample repeatedly and name leak suspects\n"
    "       pypeek why [options] PID TYPE [--limit K]\n"
    "                                          shortest reference chains from module globals\n"
    "                                          and thread frame locals to instances of TYPE\n"
    "                                          (LargeObject,\n"
    "                                          __main__.LargeObject, bytearray)\n"
    "\n"
    "Reports what holds the memory of a running CPython process: objects by type and size,\n"
    "what module globals retain, the garbage collector's state and gc.garbage, pymalloc\n"
    "next to RSS, and open file descriptors with the Python objects that own them. Reads\n"
    "the target with process_vm_readv while its threads are stopped for a moment (ptrace);\n"
    "never writes to it or runs code in it.\n"
    "\n"
    "options:\n"
    "  --json             JSON output (report: schema pypeek.snapshot/1; diff: pypeek.diff/1;\n"
    "                     watch: one pypeek.watch/1 summary at the end)\n"
    "  --prometheus       report as Prometheus text format (node_exporter textfile collector)\n"
    "  --top N            list N types (default 20 in text and Prometheus, all in JSON);\n"
    "                     Prometheus sums the other types as type=\"(other)\"\n"
    "  -o, --output FILE  snapshot: write to FILE through a temporary file in the same\n"
    "                     directory, fsync and rename (readers never see a partial file)\n"
    "  --interval S       watch: seconds between samples (default 5; fractions allowed)\n"
    "  --count N          watch: stop after N samples (default: until Ctrl-C)\n"
    "  --min-growth N     watch: net growth a type needs to be a suspect (default 20)\n"
    "  --limit K          why: print K chains (default 10)\n"
    "  --no-graph         report/snapshot: skip the object graph (untracked objects,\n"
    "                     retained sizes): a shorter pause, the GC-tracked census only\n"
    "  --graph-pause MS   report --streaming: longest the object graph may add to the pause\n"
    "                     (default 250; 0 = no limit); past it the report has no graph, says\n"
    "                     so, and the target is resumed. snapshot and why take no limit\n"
    "  --streaming        walk the heap while the target is stopped instead of copying its\n"
    "                     data and reading the copy after resuming it (the default when what\n"
    "                     must be copied fits 192 MiB and half the available RAM; -v says)\n"
    "  --nonblocking      never stop the target; validate as it reads instead\n"
    "  --max-pause MS     resume the target and give up if it would stay stopped longer\n"
    "  --allow-inconsistent  print what was read even if the heap never settled (exit 0)\n"
    "  --debug-dir DIR    also look for the interpreter's debug file in DIR\n"
    "                     (DIR/.build-id/xx/yyyy.debug or DIR/<debuglink name>)\n"
    "  -q, --quiet        no warnings or progress on stderr\n"
    "  -v, --verbose      say what pypeek is doing on stderr\n"
    "  -h, --help         this text\n"
    "  -V, --version      print the version\n"
    "\n"
    "watch: the target's layout is resolved once, then it is frozen and read once per sample.\n"
    "A type, fd kind or fd target is a leak suspect when its count rose in at least 80% of\n"
    "the intervals between samples and grew by at least --min-growth objects (1 for fds)\n"
    "from the first sample to the last (3 samples at least); a type in gc.garbage is a\n"
    "suspect as soon as it grows. Growth per minute is the least-squares slope. Ctrl-C ends\n"
    "the watch and prints the summary of the samples taken so far.\n"
    "\n"
    "exit codes:\n"
    "  0 ok                       1 usage error\n"
    "  2 no such process/exited   3 permission denied\n"
    "  4 not CPython/unsupported  5 no debug info (layout unavailable)\n"
    "  6 memory inconsistent      7 unreadable, truncated or foreign snapshot/core file\n"
    "  8 internal error           130 interrupted (or killed by the signal)\n";

enum {
    OPT_JSON = 256,
    OPT_PROMETHEUS,
    OPT_TOP,
    OPT_NONBLOCKING,
    OPT_DEBUG_DIR,
    OPT_MAX_PAUSE,
    OPT_ALLOW_INCONSISTENT,
    OPT_INTERVAL,
    OPT_COUNT,
    OPT_MIN_GROWTH,
    OPT_LIMIT,
    OPT_NO_GRAPH,
    OPT_GRAPH_PAUSE,
    OPT_STREAMING,
    OPT_LAYOUT_RECORD,
    OPT_OUTPUT = 'o',
};

/* Which commands each option applies to (bit per enum pk_command). */
#define CMDS(...) (cmd_bits((const int[]){__VA_ARGS__, -1}))
static unsigned cmd_bits(const int *cmds)
{
    unsigned b = 0;
    for (; *cmds >= 0; cmds++)
        b |= 1u << *cmds;
    return b;
}

struct opt_rule {
    int opt;
    const char *name;
    unsigned cmds;
};

static const char *const cmd_names[] = {"report", "snapshot", "diff", "watch", "why", "layout"};

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pypeek: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    /* the synopsis: usage_text up to its first blank line */
    fprintf(stderr, "\n%.*s\n(pypeek --help lists every option)\n",
            (int)(strstr(usage_text, "\n\n") - usage_text), usage_text);
    return PK_CLI_EXIT_USAGE;
}

/* Seconds with an optional fraction, 0.1 to 86400, as milliseconds; 0 on error. */
static unsigned parse_interval(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= 0.1 && v <= 86400)) return 0;
    return (unsigned)(v * 1000 + 0.5);
}

enum pk_cli_action pk_cli_parse(int argc, char **argv, struct pk_opts *o)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, OPT_JSON},
        {"prometheus", no_argument, NULL, OPT_PROMETHEUS},
        {"top", required_argument, NULL, OPT_TOP},
        {"nonblocking", no_argument, NULL, OPT_NONBLOCKING},
        {"debug-dir", required_argument, NULL, OPT_DEBUG_DIR},
        {"max-pause", required_argument, NULL, OPT_MAX_PAUSE},
        {"allow-inconsistent", no_argument, NULL, OPT_ALLOW_INCONSISTENT},
        {"output", required_argument, NULL, OPT_OUTPUT},
        {"interval", required_argument, NULL, OPT_INTERVAL},
        {"count", required_argument, NULL, OPT_COUNT},
        {"min-growth", required_argument, NULL, OPT_MIN_GROWTH},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"no-graph", no_argument, NULL, OPT_NO_GRAPH},
        {"graph-pause", required_argument, NULL, OPT_GRAPH_PAUSE},
        {"streaming", no_argument, NULL, OPT_STREAMING},
        {"layout-record", required_argument, NULL, OPT_LAYOUT_RECORD},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const unsigned live = CMDS(PK_CMD_REPORT, PK_CMD_SNAPSHOT, PK_CMD_WATCH, PK_CMD_WHY);
    const struct opt_rule rules[] = {
        {OPT_JSON, "--json", CMDS(PK_CMD_REPORT, PK_CMD_DIFF, PK_CMD_WATCH, PK_CMD_WHY)},
        {OPT_PROMETHEUS, "--prometheus", CMDS(PK_CMD_REPORT)},
        {OPT_TOP, "--top", CMDS(PK_CMD_REPORT, PK_CMD_DIFF, PK_CMD_WATCH)},
        {OPT_NONBLOCKING, "--nonblocking", live},
        {OPT_DEBUG_DIR, "--debug-dir", live | CMDS(PK_CMD_LAYOUT)},
        {OPT_LAYOUT_RECORD, "--layout-record", live},
        {OPT_MAX_PAUSE, "--max-pause", live},
        {OPT_ALLOW_INCONSISTENT, "--allow-inconsistent", live},
        {OPT_OUTPUT, "--output", CMDS(PK_CMD_SNAPSHOT)},
        {OPT_INTERVAL, "--interval", CMDS(PK_CMD_WATCH)},
        {OPT_COUNT, "--count", CMDS(PK_CMD_WATCH)},
        {OPT_MIN_GROWTH, "--min-growth", CMDS(PK_CMD_WATCH)},
        {OPT_LIMIT, "--limit", CMDS(PK_CMD_WHY)},
        {OPT_NO_GRAPH, "--no-graph", CMDS(PK_CMD_REPORT, PK_CMD_SNAPSHOT)},
        {OPT_GRAPH_PAUSE, "--graph-pause", CMDS(PK_CMD_REPORT)},
        {OPT_STREAMING, "--streaming", live},
    };
    const size_t nrules = sizeof rules / sizeof *rules;
    int seen[sizeof rules / sizeof *rules] = {0};
    memset(o, 0, sizeof *o);
    o->interval_ms = 5000;
    o->min_growth = 20;
    o->limit = 10;
    o->graph_pause_ms = PK_DEFAULT_GRAPH_PAUSE_MS;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "qvhVo:", longopts, NULL)) != -1) {
        for (size_t i = 0; i < nrules; i++)
            seen[i] |= rules[i].opt == c;
        switch (c) {
        case OPT_JSON:
            o->json = 1;
            break;
        case OPT_PROMETHEUS:
            o->prometheus = 1;
            break;
        case OPT_TOP: {
            long n = pk_parse_id(optarg, 1000000);
            if (n < 0) return usage_error("--top needs a number from 1 to 1000000");
            o->top = (size_t)n;
            break;
        }
        case OPT_NONBLOCKING:
            o->nonblocking = 1;
            break;
        case OPT_MAX_PAUSE: {
            long n = pk_parse_id(optarg, 3600 * 1000);
            if (n < 0) return usage_error("--max-pause needs milliseconds from 1 to 3600000");
            o->max_pause_ms = (unsigned)n;
            break;
        }
        case OPT_ALLOW_INCONSISTENT:
            o->allow_inconsistent = 1;
            break;
        case OPT_DEBUG_DIR:
            o->debug_dir = optarg;
            break;
        case OPT_OUTPUT:
            if (!*optarg) return usage_error("-o needs a file name");
            o->output = optarg;
            break;
        case OPT_INTERVAL:
            if (!(o->interval_ms = parse_interval(optarg)))
                return usage_error("--interval needs seconds from 0.1 to 86400, not '%s'", optarg);
            break;
        case OPT_COUNT: {
            long n = pk_parse_id(optarg, 10000000);
            if (n < 1) return usage_error("--count needs a number from 1 to 10000000");
            o->count = (unsigned)n;
            break;
        }
        case OPT_MIN_GROWTH: {
            long n = pk_parse_id(optarg, 0x3fffffff);
            if (n < 1) return usage_error("--min-growth needs a number from 1 to 1073741823");
            o->min_growth = (uint64_t)n;
            break;
        }
        case OPT_LIMIT: {
            long n = pk_parse_id(optarg, 100000);
            if (n < 1) return usage_error("--limit needs a number from 1 to 100000");
            o->limit = (unsigned)n;
            break;
        }
        case OPT_LAYOUT_RECORD:
            if (!*optarg) return usage_error("--layout-record needs a file name");
            o->layout_record = optarg;
            break;
        case OPT_NO_GRAPH:
            o->no_graph = 1;
            break;
        case OPT_STREAMING:
            o->streaming = 1;
            break;
        case OPT_GRAPH_PAUSE: {
            long n = pk_parse_decimal(optarg, 3600 * 1000);
            if (n < 0) return usage_error("--graph-pause needs milliseconds from 0 to 3600000");
            o->graph_pause_ms = (unsigned)n;
            break;
        }
        case 'q':
            o->quiet = 1;
            break;
        case 'v':
            o->verbose = 1;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return PK_CLI_EXIT_OK;
        case 'V':
            printf("pypeek %s\n", PYPEEK_VERSION);
            return PK_CLI_EXIT_OK;
        default:
            return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    char **args = argv + optind;
    int nargs = argc - optind;
    if (nargs > 0) {
        for (int k = PK_CMD_SNAPSHOT; k <= PK_CMD_LAYOUT; k++)
            if (strcmp(args[0], cmd_names[k]) == 0) {
                o->cmd = (enum pk_command)k;
                args++, nargs--;
            }
    }
    for (size_t i = 0; i < nrules; i++)
        if (seen[i] && !(rules[i].cmds & (1u << o->cmd))) {
            return usage_error("%s does not apply to %s", rules[i].name,
                               o->cmd == PK_CMD_REPORT ? "the report (pypeek PID)"
                                                       : cmd_names[o->cmd]);
        }
    if (o->json && o->prometheus) return usage_error("--json and --prometheus exclude each other");
    if (o->cmd == PK_CMD_DIFF) {
        if (nargs != 2) return usage_error("diff needs two snapshot files: pypeek diff OLD NEW");
        o->old_path = args[0];
        o->new_path = args[1];
        return PK_CLI_RUN;
    }
    if (o->cmd == PK_CMD_LAYOUT) {
        if (nargs != 2 || strcmp(args[0], "dump") != 0)
            return usage_error("layout needs: pypeek layout dump PATH");
        o->layout_path = args[1];
        return PK_CLI_RUN;
    }
    if (o->cmd == PK_CMD_WHY) {
        if (nargs != 2) return usage_error("why needs a PID and a type: pypeek why PID TYPE");
        if (!*args[1]) return usage_error("why needs a type name");
        o->why_type = args[1];
        nargs = 1;
    }
    if (o->cmd == PK_CMD_SNAPSHOT && !o->output)
        return usage_error("snapshot needs -o FILE (the file to write)");
    if (nargs != 1) return usage_error("expected one PID");
    long pid = pk_parse_id(args[0], 0x3fffffff);
    if (pid < 0) return usage_error("'%s' is not a process id", args[0]);
    o->pid = (pid_t)pid;
    return PK_CLI_RUN;
}
