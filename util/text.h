/* Making strings from the target safe: valid UTF-8 for JSON, and escaped for terminals
   (control characters, ANSI escapes and invalid bytes shown as \xNN). */
#ifndef PK_TEXT_H
#define PK_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Copies s into out as valid UTF-8: each invalid, overlong or surrogate sequence becomes U+FFFD.
   out is always NUL-terminated; output is cut at a character boundary if cap is too small. */
void pk_utf8_sanitize(const char *s, char *out, size_t cap);
/* Writes s for a terminal: printable UTF-8 as is; C0/C1 controls, DEL, backslash and invalid
   bytes escaped (\n, \t, \\, \xNN). At most max_bytes of s are shown, then "...". */
void pk_fputs_escaped(FILE *f, const char *s, size_t max_bytes);
/* Same into a buffer (NUL-terminated). Returns the display width in columns (approximate). */
size_t pk_escape(const char *s, char *out, size_t cap);

#endif
