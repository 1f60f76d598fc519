/* Command-line options: parsed without side effects beyond --help/--version output. */
#ifndef PK_OPTIONS_H
#define PK_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum pk_cli_action { PK_CLI_RUN, PK_CLI_EXIT_OK, PK_CLI_EXIT_USAGE };

enum pk_command {
    PK_CMD_REPORT,   /* pypeek PID */
    PK_CMD_SNAPSHOT, /* pypeek snapshot PID -o FILE */
    PK_CMD_DIFF,     /* pypeek diff OLD NEW */
    PK_CMD_WATCH,    /* pypeek watch PID */
    PK_CMD_WHY,      /* pypeek why PID TYPE */
    PK_CMD_LAYOUT,   /* pypeek layout dump PATH */
    PK_CMD_PS,       /* pypeek ps */
    PK_CMD_HTML,     /* pypeek html SNAPSHOT... -o FILE */
    PK_CMD_STACKS,   /* pypeek stacks PID */
};

/* The report's object graph may add at most this to the pause by default: large heaps then
   get the census without the graph (and a note) instead of a pause of seconds. */
#define PK_DEFAULT_GRAPH_PAUSE_MS 250

struct pk_opts {
    enum pk_command cmd;
    pid_t pid;
    int json;
    int prometheus;
    size_t top; /* 0: default (text 20, JSON all, Prometheus 20) */
    int nonblocking;
    int allow_inconsistent; /* report (exit 0) even when reads never settled */
    unsigned max_pause_ms;  /* 0: no limit */
    const char *debug_dir;
    const char *layout_record; /* --layout-record FILE: an extra candidate record */
    const char *layout_path;   /* layout dump: the interpreter binary or libpython */
    int quiet, verbose;
    int no_color;       /* --no-color (colour is also off off a terminal and with NO_COLOR) */
    const char *output; /* snapshot: -o FILE */
    const char *old_path, *new_path; /* diff */
    unsigned interval_ms;            /* watch: --interval S (default 5 s) */
    unsigned count;                  /* watch: --count N (0: until interrupted) */
    uint64_t min_growth;             /* watch: --min-growth N objects (default 20) */
    const char *why_type;            /* why: the type whose holders are asked for */
    unsigned limit;                  /* why: --limit K chains (default 10) */
    int dot;                         /* why --dot: Graphviz DOT of the merged paths */
    int folded;                      /* --format folded: retained bytes as folded stacks */
    const char *snapshot_path;       /* report --format folded FILE: a saved snapshot */
    char **html_inputs;              /* html: the snapshot files, oldest first */
    size_t nhtml_inputs;
    const char *html_path;   /* watch --html FILE */
    int watch_holders;       /* watch --holders: the object graph each sample */
    int no_graph;            /* --no-graph: the tracked census only */
    unsigned graph_pause_ms; /* --graph-pause: report's graph time bound; 0 = none */
    int streaming;           /* --streaming: walk the heap frozen, never copy it */
    int native;              /* stacks: --native, the native frames too */
    int locals;              /* stacks: --locals, each frame's locals (bounded) */
    int no_stacks;           /* --no-stacks: no thread stacks (no registers read) */
    const char *core_path;   /* pypeek core CORE, --core CORE: read a core file */
    const char *exe_path;    /* --exe PATH: the core's executable */
    const char *sysroot;     /* --sysroot DIR: the root the core's process saw */
};

enum pk_cli_action pk_cli_parse(int argc, char **argv, struct pk_opts *o);

#endif
