/* SIGINT/SIGTERM/SIGHUP only set a flag; the work loops poll it and the normal path detaches.
   The flag is pypeek's one piece of global mutable state: a signal handler needs it. */
#ifndef PK_SIGNALS_H
#define PK_SIGNALS_H

#include <signal.h>

/* Installs the handlers and returns the flag (the signal number once one arrived, else 0). */
const volatile sig_atomic_t *pk_signals_install(void);
/* After cleanup: re-raise the signal with its default action so the exit status is truthful. */
void pk_signals_reraise(void);

#endif
