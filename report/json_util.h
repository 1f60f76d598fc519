/* Small jansson helpers shared by the JSON writers: strings from the target made valid UTF-8,
   unsigned counts clamped to JSON's integer range. */
#ifndef PK_JSON_UTIL_H
#define PK_JSON_UTIL_H

#include <jansson.h>
#include <stdint.h>

/* A JSON string of s with invalid UTF-8 replaced by U+FFFD (NULL on out-of-memory). */
json_t *pk_json_str(const char *s);
/* A JSON integer of v, clamped to INT64_MAX. */
json_t *pk_json_u64(uint64_t v);

#endif
