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
    "       pypeek --format folded PID|FILE    retained bytes as folded stacks (flame graphs)\n"
    "       pypeek snapshot [options] PID -o FILE\n"
    "                                          save its full JSON snapshot to FILE\n"
    "       pypeek diff [--json] [--top N] OLD NEW\n"
    "                                          what changed between two snapshot files\n"
    "       pypeek watch [options] PID [--interval S] [--count N]\n"
    "                                          sample repeatedly and name leak suspects\n"
    "       pypeek html SNAPSHOT... -o FILE    one self-contained HTML report (charts; growth\n"
    "                                          over the snapshots, oldest first)\n"
    "       pypeek ps [--json]                 the CPython processes on this host (containers\n"
    "                                          too) and whether pypeek can read each\n"
    "       pypeek why [options] PID TYPE [--limit K | --dot]\n"
    "                                          shortest reference chains from module globals\n"
    "                                          and thread frame locals to instances of TYPE\n"
    "                                          (LargeObject,\n"
    "                                          __main__.LargeObject, bytearray)\n"
    "       pypeek stacks [options] PID [--native] [--locals]\n"
    "                                          every thread's Python stack (and native)\n"
    "       pypeek core [options] CORE [--exe PATH] [--sysroot DIR]\n"
    "                                          the report from a core file (gcore, kernel);\n"
    "                                          snapshot and why take --core CORE for a PID\n"
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
    "  --format FMT       report as text, json, prometheus or folded: one line per module\n"
    "                     global or frame local and type it retains, 'root;container;type\n"
    "                     bytes' (flamegraph.pl, speedscope, inferno); folded also reads a\n"
    "                     snapshot FILE instead of a PID\n"
    "  --top N            list N types (default 20 in text and Prometheus, all in JSON);\n"
    "                     Prometheus sums the other types as type=\"(other)\"\n"
    "  -o, --output FILE  snapshot: write to FILE through a temporary file in the same\n"
    "                     directory, fsync and rename (readers never see a partial file)\n"
    "  --interval S       watch: seconds between samples (default 5; fractions allowed)\n"
    "  --count N          watch: stop after N samples (default: until Ctrl-C)\n"
    "  --min-growth N     watch, html: net growth a type needs to be a suspect (default 20)\n"
    "  --holders          watch: take the object graph each sample too, so a holder of the\n"
    "                     heap (a global, frame local or shared object) whose retained\n"
    "                     objects keep growing is a suspect\n"
    "  --html FILE        watch: also write the samples as an HTML report (growth charts)\n"
    "  --limit K          why: print K chains (default 10)\n"
    "  --dot              why: every instance's shortest path as a Graphviz graph (DOT), those\n"
    "                     reached the same way merged with a count: pypeek why PID T --dot |\n"
    "                     dot -Tsvg > why.svg\n"
    "  --native           stacks: the native frames of each thread too (libdw)\n"
    "  --locals           stacks: each frame's local variables: None, bool, int, float, str,\n"
    "                     bytes by value (cut short), containers by type and length; at most\n"
    "                     256 locals and 16 KiB of text per thread\n"
    "  --no-stacks        report/snapshot/watch: no thread stacks (no registers read)\n"
    "  --no-graph         report/snapshot/watch: skip the object graph (untracked objects,\n"
    "                     retained sizes, unreachable cycles): a shorter pause (and shorter\n"
    "                     samples), the GC-tracked census only\n"
    "  --graph-pause MS   report --streaming: longest the object graph may add to the pause\n"
    "                     (default 250; 0 = no limit); past it the report has no graph, says\n"
    "                     so, and the target is resumed. snapshot and why take no limit\n"
    "  --streaming        walk the heap while the target is stopped instead of copying its\n"
    "                     data and reading the copy after resuming it (the default when what\n"
    "                     must be copied fits 192 MiB and half the available RAM; -v says)\n"
    "  --core CORE        snapshot, why, stacks: read the core file CORE instead of a process\n"
    "  --exe PATH         core: the executable the process ran (default: the path the core\n"
    "                     names, under --sysroot)\n"
    "  --sysroot DIR      core: the root the process saw (a copy of its container's or\n"
    "                     machine's /): mapped files and debug files are looked up under it\n"
    "  --nonblocking      never stop the target; validate as it reads instead\n"
    "  --max-pause MS     resume the target and give up if it would stay stopped longer\n"
    "  --allow-inconsistent  print what was read even if the heap never settled (exit 0)\n"
    "  --debug-dir DIR    also look for the interpreter's debug file in DIR\n"
    "                     (DIR/.build-id/xx/yyyy.debug or DIR/<debuglink name>)\n"
    "  --no-color         no colour (colour is only used on a terminal, never when the\n"
    "                     NO_COLOR environment variable is set or TERM is dumb)\n"
    "  -q, --quiet        no warnings or progress on stderr (progress lines are only\n"
    "                     written when stderr is a terminal)\n"
    "  -v, --verbose      say what pypeek is doing on stderr\n"
    "  -h, --help         this text\n"
    "  -V, --version      print the version\n"
    "\n"
    "watch: the target's layout is resolved once, then it is frozen and read once per sample.\n"
    "A type, fd kind or fd target is a leak suspect when its count rose in at least 80% of\n"
    "the intervals between samples and grew by at least --min-growth objects (1 for fds)\n"
    "from the first sample to the last (3 samples at least); so is a type among the\n"
    "unreachable cycles awaiting collection (gc.unreachable); a type in gc.garbage is a\n"
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
    OPT_HOLDERS,
    OPT_DOT,
    OPT_FORMAT,
    OPT_HTML,
    OPT_NO_COLOR,
    OPT_NATIVE,
    OPT_NO_STACKS,
    OPT_LOCALS,
    OPT_CORE,
    OPT_EXE,
    OPT_SYSROOT,
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

static const char *const cmd_names[] = {"report", "snapshot", "diff", "watch", "why",
                                        "layout", "ps",       "html", "stacks"};

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
    {"holders", no_argument, NULL, OPT_HOLDERS},
    {"graph-pause", required_argument, NULL, OPT_GRAPH_PAUSE},
    {"streaming", no_argument, NULL, OPT_STREAMING},
    {"layout-record", required_argument, NULL, OPT_LAYOUT_RECORD},
    {"dot", no_argument, NULL, OPT_DOT},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"html", required_argument, NULL, OPT_HTML},
    {"no-color", no_argument, NULL, OPT_NO_COLOR},
    {"native", no_argument, NULL, OPT_NATIVE},
    {"no-stacks", no_argument, NULL, OPT_NO_STACKS},
    {"locals", no_argument, NULL, OPT_LOCALS},
    {"core", required_argument, NULL, OPT_CORE},
    {"exe", required_argument, NULL, OPT_EXE},
    {"sysroot", required_argument, NULL, OPT_SYSROOT},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

#define KEEP_GOING (-1)     /* a phase of pk_cli_parse found nothing to stop for */
#define UNKNOWN_OPTION (-2) /* getopt_long's '?' or ':' */

static void set_defaults(struct pk_opts *o)
{
    memset(o, 0, sizeof *o);
    o->interval_ms = 5000;
    o->min_growth = 20;
    o->limit = 10;
    o->graph_pause_ms = PK_DEFAULT_GRAPH_PAUSE_MS;
}

/* The options that take a number. */
static int numeric_option(int c, const char *arg, struct pk_opts *o)
{
    long n;
    switch (c) {
    case OPT_TOP:
        if ((n = pk_parse_id(arg, 1000000)) < 0)
            return usage_error("--top needs a number from 1 to 1000000");
        o->top = (size_t)n;
        return KEEP_GOING;
    case OPT_MAX_PAUSE:
        if ((n = pk_parse_id(arg, 3600 * 1000)) < 0)
            return usage_error("--max-pause needs milliseconds from 1 to 3600000");
        o->max_pause_ms = (unsigned)n;
        return KEEP_GOING;
    case OPT_INTERVAL:
        if (!(o->interval_ms = parse_interval(arg)))
            return usage_error("--interval needs seconds from 0.1 to 86400, not '%s'", arg);
        return KEEP_GOING;
    case OPT_COUNT:
        if ((n = pk_parse_id(arg, 10000000)) < 1)
            return usage_error("--count needs a number from 1 to 10000000");
        o->count = (unsigned)n;
        return KEEP_GOING;
    case OPT_MIN_GROWTH:
        if ((n = pk_parse_id(arg, 0x3fffffff)) < 1)
            return usage_error("--min-growth needs a number from 1 to 1073741823");
        o->min_growth = (uint64_t)n;
        return KEEP_GOING;
    case OPT_LIMIT:
        if ((n = pk_parse_id(arg, 100000)) < 1)
            return usage_error("--limit needs a number from 1 to 100000");
        o->limit = (unsigned)n;
        return KEEP_GOING;
    case OPT_GRAPH_PAUSE:
        if ((n = pk_parse_decimal(arg, 3600 * 1000)) < 0)
            return usage_error("--graph-pause needs milliseconds from 0 to 3600000");
        o->graph_pause_ms = (unsigned)n;
        return KEEP_GOING;
    }
    return usage_error("unknown option"); /* not reached: the caller lists these */
}

/* The options that take a file name or a word. */
static int text_option(int c, const char *arg, struct pk_opts *o)
{
    switch (c) {
    case OPT_DEBUG_DIR:
        o->debug_dir = arg;
        return KEEP_GOING;
    case OPT_OUTPUT:
        if (!*arg) return usage_error("-o needs a file name");
        o->output = arg;
        return KEEP_GOING;
    case OPT_LAYOUT_RECORD:
        if (!*arg) return usage_error("--layout-record needs a file name");
        o->layout_record = arg;
        return KEEP_GOING;
    case OPT_FORMAT:
        if (!strcmp(arg, "json"))
            o->json = 1;
        else if (!strcmp(arg, "prometheus"))
            o->prometheus = 1;
        else if (!strcmp(arg, "folded"))
            o->folded = 1;
        else if (strcmp(arg, "text"))
            return usage_error("--format takes text, json, prometheus or folded, not '%s'", arg);
        return KEEP_GOING;
    case OPT_HTML:
        if (!*arg) return usage_error("--html needs a file name");
        o->html_path = arg;
        return KEEP_GOING;
    case OPT_CORE:
        if (!*arg) return usage_error("--core needs a core file");
        o->core_path = arg;
        return KEEP_GOING;
    case OPT_EXE:
        if (!*arg) return usage_error("--exe needs a file name");
        o->exe_path = arg;
        return KEEP_GOING;
    case OPT_SYSROOT:
        if (!*arg) return usage_error("--sysroot needs a directory");
        o->sysroot = arg;
        return KEEP_GOING;
    }
    return usage_error("unknown option"); /* not reached: the caller lists these */
}

/* The options that set a flag, or do their job at once (--help, --version). */
static int flag_option(int c, struct pk_opts *o)
{
    switch (c) {
    case OPT_JSON:
        o->json = 1;
        break;
    case OPT_PROMETHEUS:
        o->prometheus = 1;
        break;
    case OPT_NONBLOCKING:
        o->nonblocking = 1;
        break;
    case OPT_ALLOW_INCONSISTENT:
        o->allow_inconsistent = 1;
        break;
    case OPT_NO_COLOR:
        o->no_color = 1;
        break;
    case OPT_DOT:
        o->dot = 1;
        break;
    case OPT_NO_GRAPH:
        o->no_graph = 1;
        break;
    case OPT_HOLDERS:
        o->watch_holders = 1;
        break;
    case OPT_NATIVE:
        o->native = 1;
        break;
    case OPT_LOCALS:
        o->locals = 1;
        break;
    case OPT_NO_STACKS:
        o->no_stacks = 1;
        break;
    case OPT_STREAMING:
        o->streaming = 1;
        break;
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
        return UNKNOWN_OPTION; /* the caller names it */
    }
    return KEEP_GOING;
}

static int apply_option(int c, const char *arg, struct pk_opts *o)
{
    switch (c) {
    case OPT_TOP:
    case OPT_MAX_PAUSE:
    case OPT_INTERVAL:
    case OPT_COUNT:
    case OPT_MIN_GROWTH:
    case OPT_LIMIT:
    case OPT_GRAPH_PAUSE:
        return numeric_option(c, arg, o);
    case OPT_DEBUG_DIR:
    case OPT_OUTPUT:
    case OPT_LAYOUT_RECORD:
    case OPT_FORMAT:
    case OPT_HTML:
    case OPT_CORE:
    case OPT_EXE:
    case OPT_SYSROOT:
        return text_option(c, arg, o);
    default:
        return flag_option(c, o);
    }
}

/* `pypeek core CORE`, or the command word; the operands left are *args, *nargs. */
static int choose_command(char ***args, int *nargs, struct pk_opts *o)
{
    if (*nargs > 0 && strcmp((*args)[0], "core") == 0) { /* pypeek core CORE: the report */
        if (*nargs != 2) return usage_error("core needs one core file: pypeek core CORE");
        if (o->core_path) return usage_error("core takes the core file once");
        o->core_path = (*args)[1];
        *nargs = 0;
    }
    if (*nargs > 0) {
        for (int k = PK_CMD_SNAPSHOT; k <= PK_CMD_STACKS; k++)
            if (strcmp((*args)[0], cmd_names[k]) == 0) {
                o->cmd = (enum pk_command)k;
                (*args)++, (*nargs)--;
                break; /* args[0] may now be the NULL after the last operand */
            }
    }
    return KEEP_GOING;
}

/* Every option given applies to the command, and none excludes another. */
static int check_combination(const struct opt_rule *rules, const int *seen, size_t nrules,
                             const struct pk_opts *o)
{
    for (size_t i = 0; i < nrules; i++)
        if (seen[i] && !(rules[i].cmds & (1u << o->cmd))) {
            return usage_error("%s does not apply to %s", rules[i].name,
                               o->cmd == PK_CMD_REPORT ? "the report (pypeek PID)"
                                                       : cmd_names[o->cmd]);
        }
    if (o->json && o->prometheus) return usage_error("--json and --prometheus exclude each other");
    if (o->json && o->dot) return usage_error("--json and --dot exclude each other");
    if (o->folded && (o->json || o->prometheus))
        return usage_error("--format folded excludes --json and --prometheus");
    if (!o->core_path && (o->exe_path || o->sysroot))
        return usage_error("--exe and --sysroot apply to a core file (pypeek core CORE)");
    if (o->core_path &&
        (o->nonblocking || o->max_pause_ms || o->streaming || o->allow_inconsistent))
        return usage_error("--nonblocking, --max-pause, --streaming and --allow-inconsistent "
                           "apply to a running process, not to a core file");
    return KEEP_GOING;
}

/* The operands of the commands that take no PID: diff, layout, html, ps. */
static int file_command_operands(char **args, int nargs, struct pk_opts *o)
{
    switch (o->cmd) {
    case PK_CMD_DIFF:
        if (nargs != 2) return usage_error("diff needs two snapshot files: pypeek diff OLD NEW");
        o->old_path = args[0];
        o->new_path = args[1];
        return PK_CLI_RUN;
    case PK_CMD_LAYOUT:
        if (nargs != 2 || strcmp(args[0], "dump") != 0)
            return usage_error("layout needs: pypeek layout dump PATH");
        o->layout_path = args[1];
        return PK_CLI_RUN;
    case PK_CMD_HTML:
        if (nargs < 1) return usage_error("html needs snapshot files: pypeek html SNAP... -o FILE");
        if (!o->output) return usage_error("html needs -o FILE (the page to write)");
        o->html_inputs = args;
        o->nhtml_inputs = (size_t)nargs;
        return PK_CLI_RUN;
    case PK_CMD_PS:
        if (nargs != 0) return usage_error("ps takes no operand: pypeek ps [--json]");
        return PK_CLI_RUN;
    default:
        return KEEP_GOING;
    }
}

/* The operands of the commands on a process or core: why's type, then the PID (or none for
   a core, or a saved snapshot for --format folded). */
static int target_operands(char **args, int nargs, struct pk_opts *o)
{
    if (o->cmd == PK_CMD_WHY) {
        int want = o->core_path ? 1 : 2;
        if (nargs != want)
            return usage_error("why needs a PID (or --core CORE) and a type: pypeek why PID TYPE");
        if (!*args[want - 1]) return usage_error("why needs a type name");
        o->why_type = args[want - 1];
        nargs = want - 1;
    }
    if (o->cmd == PK_CMD_SNAPSHOT && !o->output)
        return usage_error("snapshot needs -o FILE (the file to write)");
    if (o->core_path) {
        if (nargs != 0) return usage_error("a core file takes no PID");
        return PK_CLI_RUN;
    }
    if (nargs != 1) return usage_error("expected one PID");
    long pid = pk_parse_id(args[0], 0x3fffffff);
    if (pid < 0 && o->folded && *args[0]) { /* a saved snapshot to fold */
        o->snapshot_path = args[0];
        return PK_CLI_RUN;
    }
    if (pid < 0) return usage_error("'%s' is not a process id", args[0]);
    o->pid = (pid_t)pid;
    return PK_CLI_RUN;
}

enum pk_cli_action pk_cli_parse(int argc, char **argv, struct pk_opts *o)
{
    const unsigned live =
        CMDS(PK_CMD_REPORT, PK_CMD_SNAPSHOT, PK_CMD_WATCH, PK_CMD_WHY, PK_CMD_STACKS);
    const struct opt_rule rules[] = {
        {OPT_JSON, "--json",
         CMDS(PK_CMD_REPORT, PK_CMD_DIFF, PK_CMD_WATCH, PK_CMD_WHY, PK_CMD_PS, PK_CMD_STACKS)},
        {OPT_NATIVE, "--native", CMDS(PK_CMD_STACKS)},
        {OPT_LOCALS, "--locals", CMDS(PK_CMD_STACKS)},
        {OPT_NO_STACKS, "--no-stacks", CMDS(PK_CMD_REPORT, PK_CMD_SNAPSHOT, PK_CMD_WATCH)},
        {OPT_PROMETHEUS, "--prometheus", CMDS(PK_CMD_REPORT)},
        {OPT_TOP, "--top", CMDS(PK_CMD_REPORT, PK_CMD_DIFF, PK_CMD_WATCH)},
        {OPT_NONBLOCKING, "--nonblocking", live},
        {OPT_DEBUG_DIR, "--debug-dir", live | CMDS(PK_CMD_LAYOUT, PK_CMD_PS)},
        {OPT_LAYOUT_RECORD, "--layout-record", live | CMDS(PK_CMD_PS)},
        {OPT_MAX_PAUSE, "--max-pause", live},
        {OPT_ALLOW_INCONSISTENT, "--allow-inconsistent", live},
        {OPT_OUTPUT, "--output", CMDS(PK_CMD_SNAPSHOT, PK_CMD_HTML)},
        {OPT_HTML, "--html", CMDS(PK_CMD_WATCH)},
        {OPT_INTERVAL, "--interval", CMDS(PK_CMD_WATCH)},
        {OPT_COUNT, "--count", CMDS(PK_CMD_WATCH)},
        {OPT_MIN_GROWTH, "--min-growth", CMDS(PK_CMD_WATCH, PK_CMD_HTML)},
        {OPT_LIMIT, "--limit", CMDS(PK_CMD_WHY)},
        {OPT_DOT, "--dot", CMDS(PK_CMD_WHY)},
        {OPT_FORMAT, "--format", CMDS(PK_CMD_REPORT)},
        {OPT_NO_GRAPH, "--no-graph", CMDS(PK_CMD_REPORT, PK_CMD_SNAPSHOT, PK_CMD_WATCH)},
        {OPT_HOLDERS, "--holders", CMDS(PK_CMD_WATCH)},
        {OPT_GRAPH_PAUSE, "--graph-pause", CMDS(PK_CMD_REPORT)},
        {OPT_STREAMING, "--streaming", live},
        {OPT_CORE, "--core", CMDS(PK_CMD_REPORT, PK_CMD_SNAPSHOT, PK_CMD_WHY, PK_CMD_STACKS)},
        {OPT_EXE, "--exe", CMDS(PK_CMD_REPORT, PK_CMD_SNAPSHOT, PK_CMD_WHY, PK_CMD_STACKS)},
        {OPT_SYSROOT, "--sysroot", CMDS(PK_CMD_REPORT, PK_CMD_SNAPSHOT, PK_CMD_WHY, PK_CMD_STACKS)},
    };
    const size_t nrules = sizeof rules / sizeof *rules;
    int seen[sizeof rules / sizeof *rules] = {0};
    set_defaults(o);
    optind = 1;
    opterr = 0;
    int c, st;
    while ((c = getopt_long(argc, argv, "qvhVo:", longopts, NULL)) != -1) {
        for (size_t i = 0; i < nrules; i++)
            seen[i] |= rules[i].opt == c;
        st = apply_option(c, optarg, o);
        if (st == UNKNOWN_OPTION)
            return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
        if (st != KEEP_GOING) return (enum pk_cli_action)st;
    }
    char **args = argv + optind;
    int nargs = argc - optind;
    if ((st = choose_command(&args, &nargs, o)) != KEEP_GOING ||
        (st = check_combination(rules, seen, nrules, o)) != KEEP_GOING ||
        (st = file_command_operands(args, nargs, o)) != KEEP_GOING)
        return (enum pk_cli_action)st;
    return (enum pk_cli_action)target_operands(args, nargs, o);
}
