/* Fetching a module's debug file by build-id from the servers in DEBUGINFOD_URLS
   (libdebuginfod: its cache under $DEBUGINFOD_CACHE_PATH or ~/.cache/debuginfod_client, its
   timeouts DEBUGINFOD_TIMEOUT/DEBUGINFOD_MAXTIME). A progress line on stderr when it is a TTY. */
#ifndef PK_DEBUGINFOD_H
#define PK_DEBUGINFOD_H

#include <stddef.h>

/* 0 with the cached file's path in out; -1 when DEBUGINFOD_URLS is unset or empty (why is
   then ""), or the servers have no such file or cannot be reached (why says so). */
int pk_debuginfod_fetch(const unsigned char *build_id, size_t len, int quiet, char *out, size_t cap,
                        char *why, size_t whycap);

#endif
