/* SIGINT/SIGTERM/SIGHUP only set a flag; the work loops poll it and the normal path detaches. */
#include "cli/signals.h"

#include <string.h>

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    interrupted = sig;
}

const volatile sig_atomic_t *pk_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* no SA_RESTART: a blocking waitpid returns EINTR and the loop sees the flag */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    return &interrupted;
}

void pk_signals_reraise(void)
{
    int sig = interrupted;
    if (!sig) return;
    signal(sig, SIG_DFL);
    raise(sig);
}
