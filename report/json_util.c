/* Small jansson helpers shared by the JSON writers. */
#include "report/json_util.h"

#include <stdlib.h>
#include <string.h>

#include "util/text.h"

json_t *pk_json_str(const char *s)
{
    size_t cap = strlen(s) * 3 + 1;
    char *buf = malloc(cap);
    if (!buf) return NULL;
    pk_utf8_sanitize(s, buf, cap);
    json_t *j = json_string(buf);
    free(buf);
    return j;
}

json_t *pk_json_u64(uint64_t v)
{
    return json_integer((json_int_t)(v > (uint64_t)INT64_MAX ? INT64_MAX : v));
}
