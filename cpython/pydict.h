/* Iterating Python dicts in target memory: combined and split tables, every keys layout
   (3.9/3.10 entries, 3.11+ general and unicode kinds). Bounded by the table's own size. */
#ifndef PK_PYDICT_H
#define PK_PYDICT_H

#include <stdint.h>

#include "attach/mem.h"
#include "symbols/layout.h"

#define PK_DICT_MAX_ENTRIES (1u << 26)

/* Calls fn(key, value) for each live entry; a non-zero return stops with that value.
   Returns 0 when done, fn's value, or -PK_E_*. */
int pk_pydict_foreach(struct pk_mem *m, const struct pk_layout *l, uint64_t dict,
                      int (*fn)(uint64_t key, uint64_t value, void *arg), void *arg);

/* Looks up a str key (ASCII) by content. Returns 1 and sets *value, 0 absent, or -PK_E_*. */
int pk_pydict_get_str(struct pk_mem *m, const struct pk_layout *l, uint64_t dict, const char *key,
                      uint64_t *value);

/* sys.getsizeof's dict part (_PyDict_SizeOf) minus the header: computed from the table. */
int pk_pydict_sizeof(struct pk_mem *m, const struct pk_layout *l, uint64_t dict, uint64_t basicsize,
                     uint64_t *size);

/* _PyDict_KeysSize of the keys object at keys (type.__sizeof__ counts ht_cached_keys). */
int pk_pydict_keys_size(struct pk_mem *m, const struct pk_layout *l, uint64_t keys, uint64_t *size);

#endif
