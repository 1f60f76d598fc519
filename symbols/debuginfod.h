/* Fetching a module's debug file, or the module itself, by build-id from the servers in
   DEBUGINFOD_URLS (libdebuginfod: its cache under $DEBUGINFOD_CACHE_PATH or
   ~/.cache/debuginfod_client, its timeouts DEBUGINFOD_TIMEOUT/DEBUGINFOD_MAXTIME). A progress line
   on stderr when it is a TTY. */
#ifndef PK_DEBUGINFOD_H
#define PK_DEBUGINFOD_H

#include <stddef.h>

/* 0 with the cached file's path in out; -1 when DEBUGINFOD_URLS is unset or empty (why is
   then ""), or the servers have no such file or cannot be reached (why says so). */
int pk_debuginfod_fetch(const unsigned char *build_id, size_t len, int quiet, char *out, size_t cap,
                        char *why, size_t whycap);
/* The same for the executable or shared object itself (debuginfod_find_executable), for a core
   whose mapped files are not on this machine. 0 with the path in out; otherwise negative, with
   why "" when DEBUGINFOD_URLS is unset or empty (nothing asked), else why says what failed and
   the value is the negated errno: -ENOENT when the servers have no such file, anything else
   when they could not be asked. */
int pk_debuginfod_fetch_executable(const unsigned char *build_id, size_t len, int quiet, char *out,
                                   size_t cap, char *why, size_t whycap);

#endif
