/* Command-line options: parsed without side effects beyond --help/--version output. */
#include "cli/options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach/proc.h"

static const char usage_text[] =
    "usage: pypeek [options] PID\n"
    "\n"
    "Reports what holds the memory of a running CPython process: GC-tracked objects by type\n"
    "and size, per GC generation. Reads the target with process_vm_readv while its threads\n"
    "are stopped for a moment (ptrace); never writes to it or runs code in it.\n"
    "\n"
    "options:\n"
    "  --json             print the snapshot as JSON (schema pypeek.snapshot/1)\n"
    "  --top N            list N types (default 20 in text, all in JSON)\n"
    "  --nonblocking      never stop the target; validate as it reads instead\n"
    "  --max-pause MS     resume the target and give up if it would stay stopped longer\n"
    "  --allow-inconsistent  print what was read even if the heap never settled (exit 0)\n"
    "  --debug-dir DIR    also look for the interpreter's debug file in DIR\n"
    "                     (DIR/.build-id/xx/yyyy.debug or DIR/<debuglink name>)\n"
    "  -q, --quiet        no warnings on stderr\n"
    "  -v, --verbose      say what pypeek is doing on stderr\n"
    "  -h, --help         this text\n"
    "  -V, --version      print the version\n"
    "\n"
    "exit codes:\n"
    "  0 ok                       1 usage error\n"
    "  2 no such process/exited   3 permission denied\n"
    "  4 not CPython/unsupported  5 no debug info (layout unavailable)\n"
    "  6 memory inconsistent      7 unreadable snapshot/core file\n"
    "  8 internal error           130 interrupted\n";

enum { OPT_JSON = 256, OPT_TOP, OPT_NONBLOCKING, OPT_DEBUG_DIR, OPT_MAX_PAUSE, OPT_ALLOW_INCONSISTENT };

enum pk_cli_action pk_cli_parse(int argc, char **argv, struct pk_opts *o)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, OPT_JSON},
        {"top", required_argument, NULL, OPT_TOP},
        {"nonblocking", no_argument, NULL, OPT_NONBLOCKING},
        {"debug-dir", required_argument, NULL, OPT_DEBUG_DIR},
        {"max-pause", required_argument, NULL, OPT_MAX_PAUSE},
        {"allow-inconsistent", no_argument, NULL, OPT_ALLOW_INCONSISTENT},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "qvhV", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_JSON:
            o->json = 1;
            break;
        case OPT_TOP: {
            long n = pk_parse_id(optarg, 1000000);
            if (n < 0) {
                fprintf(stderr, "pypeek: --top needs a number from 1 to 1000000\n");
                return PK_CLI_EXIT_USAGE;
            }
            o->top = (size_t)n;
            break;
        }
        case OPT_NONBLOCKING:
            o->nonblocking = 1;
            break;
        case OPT_MAX_PAUSE: {
            long n = pk_parse_id(optarg, 3600 * 1000);
            if (n < 0) {
                fprintf(stderr, "pypeek: --max-pause needs milliseconds from 1 to 3600000\n");
                return PK_CLI_EXIT_USAGE;
            }
            o->max_pause_ms = (unsigned)n;
            break;
        }
        case OPT_ALLOW_INCONSISTENT:
            o->allow_inconsistent = 1;
            break;
        case OPT_DEBUG_DIR:
            o->debug_dir = optarg;
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
            fprintf(stderr, "pypeek: unknown or incomplete option '%s'\n%s", argv[optind - 1],
                    usage_text);
            return PK_CLI_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "pypeek: expected one PID\n%s", usage_text);
        return PK_CLI_EXIT_USAGE;
    }
    long pid = pk_parse_id(argv[optind], 0x3fffffff);
    if (pid < 0) {
        fprintf(stderr, "pypeek: '%s' is not a process id\n", argv[optind]);
        return PK_CLI_EXIT_USAGE;
    }
    o->pid = (pid_t)pid;
    return PK_CLI_RUN;
}
