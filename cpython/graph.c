/* Copying the object graph while the target is frozen: nodes, sizes and labelled references. */
#include "cpython/graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpython/caps.h"
#include "cpython/census.h"
#include "cpython/frames.h"
#include "cpython/gc_state.h"
#include "cpython/pydict.h"
#include "cpython/pystr.h"
#include "cpython/referents.h"

#define NONE32 UINT32_MAX
#define MAX_GLOBALS (1u << 22) /* module globals of all modules together */
#define MAX_LABEL_CHARS 64
#define MAX_REFCNT PK_MAX_COUNT /* more references than any heap can hold: corrupt */

/* address -> node, open addressing */
struct addr_map {
    uint64_t *keys;
    uint32_t *vals;
    size_t cap, n;
};

static size_t hash64(uint64_t a, size_t mask)
{
    a ^= a >> 33;
    a *= 0xff51afd7ed558ccdull;
    a ^= a >> 33;
    return (size_t)a & mask;
}

static uint32_t map_get(const struct addr_map *m, uint64_t k)
{
    size_t mask = m->cap - 1, h = hash64(k, mask);
    while (m->keys[h]) {
        if (m->keys[h] == k) return m->vals[h];
        h = (h + 1) & mask;
    }
    return NONE32;
}

static int map_grow(struct addr_map *m)
{
    size_t nc = m->cap ? m->cap * 2 : 1 << 16;
    uint64_t *k = calloc(nc, sizeof *k);
    uint32_t *v = malloc(nc * sizeof *v);
    if (!k || !v) {
        free(k);
        free(v);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t h = hash64(m->keys[i], nc - 1);
        while (k[h])
            h = (h + 1) & (nc - 1);
        k[h] = m->keys[i];
        v[h] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = k;
    m->vals = v;
    m->cap = nc;
    return 0;
}

static int map_put(struct addr_map *m, uint64_t k, uint32_t v)
{
    if ((m->n + 1) * 2 > m->cap && map_grow(m) < 0) return -1;
    size_t mask = m->cap - 1, h = hash64(k, mask);
    while (m->keys[h])
        h = (h + 1) & mask;
    m->keys[h] = k;
    m->vals[h] = v;
    m->n++;
    return 0;
}

static void map_free(struct addr_map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* Object address -> node: open addressing over node ids alone, the key read back from
   g->addr, so a slot costs 4 bytes instead of 12 (the index is the largest part of the graph's
   memory while it is read, next to the image). A slot holds id + 1 in its low 28 bits (0:
   empty; PK_GRAPH_MAX_NODES is 2^27) and 4 more bits of the address's hash, which spare the
   read of g->addr for 15 in 16 of the other keys met while probing; filled up to 3/4. */
#define SLOT_ID_BITS 28
#define SLOT_ID_MASK ((1u << SLOT_ID_BITS) - 1)
struct node_index {
    uint32_t *slots;
    size_t cap, n;
};

static uint64_t addr_mix(uint64_t a)
{
    a ^= a >> 33;
    a *= 0xff51afd7ed558ccdull;
    a ^= a >> 33;
    return a;
}

static uint32_t slot_tag(uint64_t mix)
{
    return (uint32_t)(mix >> 60) << SLOT_ID_BITS;
}

static uint32_t index_get(const struct node_index *x, const uint64_t *addr, uint64_t k)
{
    uint64_t mix = addr_mix(k);
    uint32_t tag = slot_tag(mix);
    size_t mask = x->cap - 1, h = (size_t)mix & mask;
    for (uint32_t s; (s = x->slots[h]) != 0; h = (h + 1) & mask)
        if ((s & ~SLOT_ID_MASK) == tag && addr[(s & SLOT_ID_MASK) - 1] == k)
            return (s & SLOT_ID_MASK) - 1;
    return NONE32;
}

static void index_place(uint32_t *slots, size_t mask, uint64_t addr, uint32_t id)
{
    uint64_t mix = addr_mix(addr);
    size_t h = (size_t)mix & mask;
    while (slots[h])
        h = (h + 1) & mask;
    slots[h] = slot_tag(mix) | (id + 1);
}

static int index_grow(struct node_index *x, const uint64_t *addr)
{
    size_t nc = x->cap ? x->cap * 2 : 1 << 16;
    uint32_t *ns = calloc(nc, sizeof *ns);
    if (!ns) return -1;
    for (size_t i = 0; i < x->cap; i++) {
        uint32_t s = x->slots[i];
        if (s) index_place(ns, nc - 1, addr[(s & SLOT_ID_MASK) - 1], (s & SLOT_ID_MASK) - 1);
    }
    free(x->slots);
    x->slots = ns;
    x->cap = nc;
    return 0;
}

/* Indexes node id (below PK_GRAPH_MAX_NODES), whose address is already in addr[id]. */
static int index_put(struct node_index *x, const uint64_t *addr, uint32_t id)
{
    if ((x->n + 1) * 4 > x->cap * 3 && index_grow(x, addr) < 0) return -1;
    index_place(x->slots, x->cap - 1, addr[id], id);
    x->n++;
    return 0;
}

_Static_assert(PK_GRAPH_MAX_NODES < (1u << SLOT_ID_BITS), "node ids fit a slot");

struct builder {
    struct pk_graph *g;
    struct pk_mem *m;
    const struct pk_target *t;
    const struct pk_layout *l;
    struct pk_types *types;
    struct pk_referents *refs;
    struct node_index nodes; /* object address -> node */
    struct addr_map names;   /* name key -> pool offset + 1 */
    struct addr_map modict;  /* module dict node -> index into mods */
    /* virtual nodes' references, made before their turn in the CSR */
    uint32_t *root_dst, *root_name;
    size_t nroot, root_cap;
    struct {
        uint32_t first_slot, nslots;
    } * mods;
    size_t nmods, mods_cap;
    uint32_t *slot_ids; /* slot nodes in the order made; mods[] index into it */
    size_t nslots, slot_cap;
    /* thread frames: the root's edges to threads, and (parent, child) virtual edges of the
       thread -> frame -> local slot tree, sorted by parent once the walk is done */
    uint32_t *thread_ids;
    size_t nthreads, thread_cap;
    uint32_t *local_ids; /* frame-local slot nodes, in the order made */
    size_t nlocals, local_cap;
    struct tree_edge {
        uint32_t parent, child;
    } * tree;
    size_t ntree, tree_cap;
    uint32_t cur_thread, cur_frame; /* NONE32 until the thread/frame has a local */
    char thread_label[64], frame_label[MAX_LABEL_CHARS * 4 + 96];
    char func[MAX_LABEL_CHARS * 4 + 8];
    uint32_t cur;          /* node being read */
    uint8_t tracked_flags; /* flags of the GC list being walked (PK_GN_PERMANENT) */
    /* the node table could not grow: it never can again (its budget counts capacities, which
       only grow, and the node limit stays) */
    int nodes_full;
    const struct pk_walk_limits *lim;
    struct pk_err *e;
};

static uint64_t node_bytes(void)
{
    return 8 + 4 + 8 + 1 + 4 + 8 /* refcnt */ + 8 /* edge_first */ + 24 /* map share */;
}

static int over_budget(struct builder *b, uint64_t extra)
{
    struct pk_graph *g = b->g;
    g->bytes = (uint64_t)g->cap * node_bytes() + g->ecap * 8 + g->pool_cap;
    if (g->bytes + extra <= g->budget) return 0;
    if (!g->partial) {
        g->partial = 1;
        snprintf(g->partial_reason, sizeof g->partial_reason,
                 "the object graph reached its memory budget (%llu MiB): objects beyond it "
                 "are missing",
                 (unsigned long long)(g->budget >> 20));
    }
    return 1;
}

static int grow_nodes(struct builder *b)
{
    struct pk_graph *g = b->g;
    if (g->n < g->cap) return 0;
    uint32_t nc = g->cap ? g->cap * 2 : 1 << 16;
    if (nc > PK_GRAPH_MAX_NODES || over_budget(b, (uint64_t)(nc - g->cap) * node_bytes())) {
        b->nodes_full = 1;
        if (!g->partial) {
            g->partial = 1;
            snprintf(g->partial_reason, sizeof g->partial_reason, "more than %u objects",
                     PK_GRAPH_MAX_NODES);
        }
        return 1;
    }
#define GROW(p)                                                                                    \
    do {                                                                                           \
        void *np = realloc(g->p, (size_t)nc * sizeof *g->p);                                       \
        if (!np) return -PK_E_INTERNAL;                                                            \
        g->p = np;                                                                                 \
    } while (0)
    GROW(addr);
    GROW(type);
    GROW(size);
    GROW(flags);
    GROW(text);
    GROW(refcnt);
#undef GROW
    uint64_t *ef = realloc(g->edge_first, ((size_t)nc + 1) * sizeof *ef);
    if (!ef) return -PK_E_INTERNAL;
    g->edge_first = ef;
    g->cap = nc;
    return 0;
}

/* The reference count of the object at addr as the collector sees it (Py_REFCNT), or
   PK_REFCNT_EXTERNAL: immortal, unreadable, or a value no live object has. */
static int64_t read_refcnt(struct builder *b, uint64_t addr)
{
    const struct pk_layout *l = b->l;
    struct pk_field f = PK_F(l, object_refcnt);
    uint64_t raw = 0;
    if (!pk_field_ok(f) || (f.size != 4 && f.size != 8) ||
        pk_mem_read(b->m, addr + (uint64_t)f.off, &raw, f.size) < 0)
        return PK_REFCNT_EXTERNAL;
    int64_t v;
    if (l->refcnt_low32_immortal) {
        uint32_t low = (uint32_t)raw;
        if (low & 0x80000000u) return PK_REFCNT_EXTERNAL; /* immortal */
        v = low;
    } else {
        v = f.size == 4 ? (int64_t)(int32_t)raw : (int64_t)raw;
    }
    return v <= 0 || v > MAX_REFCNT ? PK_REFCNT_EXTERNAL : v;
}

/* Appends a node. Returns its id, NONE32 when a limit stops it, or NONE32-1 on OOM. */
static uint32_t new_node(struct builder *b, uint64_t addr, uint32_t type, uint8_t flags)
{
    struct pk_graph *g = b->g;
    int r = grow_nodes(b);
    if (r < 0) return NONE32 - 1;
    if (r > 0) return NONE32;
    uint32_t id = g->n++;
    g->addr[id] = addr;
    g->type[id] = type;
    g->size[id] = 0;
    g->flags[id] = flags;
    g->text[id] = NONE32;
    g->refcnt[id] = addr ? read_refcnt(b, addr) : 0;
    if (addr && index_put(&b->nodes, g->addr, id) < 0) return NONE32 - 1;
    return id;
}

/* The node of the object at addr, adding it (untracked) after validating its type. */
static uint32_t node_of(struct builder *b, uint64_t addr)
{
    if (!addr || (addr & 7)) return NONE32;
    uint32_t id = index_get(&b->nodes, b->g->addr, addr);
    if (id != NONE32) return id;
    uint64_t type;
    if (!pk_mem_is_mapped(b->m, addr, 16) ||
        pk_mem_read_u64(b->m, addr + PK_OFF(b->l, object_type), &type) < 0) {
        b->g->unreadable++;
        return NONE32;
    }
    int rc = 0;
    const struct pk_type_info *ti = pk_types_get(b->types, type, &rc);
    if (!ti) {
        if (rc == -PK_E_INTERNAL) return NONE32 - 1;
        b->g->unreadable++;
        return NONE32;
    }
    return new_node(b, addr, ti->index, 0);
}

static uint32_t pool_add(struct builder *b, const char *s)
{
    struct pk_graph *g = b->g;
    size_t len = strlen(s) + 1;
    if (g->pool_len + len > 0x0ffffff0u) return PK_EDGE_ARG_NONE;
    if (g->pool_len + len > g->pool_cap) {
        size_t nc = g->pool_cap ? g->pool_cap * 2 : 1 << 16;
        while (nc < g->pool_len + len)
            nc *= 2;
        if (over_budget(b, nc - g->pool_cap)) return PK_EDGE_ARG_NONE;
        char *np = realloc(g->pool, nc);
        if (!np) return PK_EDGE_ARG_NONE;
        g->pool = np;
        g->pool_cap = nc;
    }
    memcpy(g->pool + g->pool_len, s, len);
    uint32_t off = (uint32_t)g->pool_len;
    g->pool_len += len;
    return off;
}

static uint32_t intern(struct builder *b, uint64_t key, const char *text)
{
    uint32_t v = key ? map_get(&b->names, key) : NONE32;
    if (v != NONE32) return v - 1;
    uint32_t off = pool_add(b, text);
    if (off != PK_EDGE_ARG_NONE && key) map_put(&b->names, key, off + 1);
    return off;
}

static int add_edge(struct builder *b, uint32_t dst, uint32_t label)
{
    struct pk_graph *g = b->g;
    if (g->nedges == g->ecap) {
        uint64_t nc = g->ecap ? g->ecap * 2 : 1 << 18;
        if (over_budget(b, (nc - g->ecap) * 8)) return 1;
        uint32_t *d = realloc(g->edge_dst, nc * sizeof *d);
        if (!d) return -PK_E_INTERNAL;
        g->edge_dst = d;
        uint32_t *lb = realloc(g->edge_label, nc * sizeof *lb);
        if (!lb) return -PK_E_INTERNAL;
        g->edge_label = lb;
        g->ecap = nc;
    }
    g->edge_dst[g->nedges] = dst;
    g->edge_label[g->nedges] = label;
    g->nedges++;
    return 0;
}

/* Keeps the text of a str used as a dict key, for chain labels. */
static void keep_key_text(struct builder *b, uint32_t node)
{
    struct pk_graph *g = b->g;
    if (g->text[node] != NONE32 || (g->flags[node] & PK_GN_KEYSTR)) return;
    g->flags[node] |= PK_GN_KEYSTR;
    const struct pk_type_info *ti = pk_types_at(b->types, g->type[node]);
    if (!ti || !pk_referents_is_str(b->refs, ti)) return;
    char text[MAX_LABEL_CHARS * 4 + 8];
    if (pk_pystr_read(b->m, b->l, g->addr[node], text, sizeof text) < 0) return;
    g->text[node] = intern(b, 0, text);
}

static int on_ref(const struct pk_ref *r, void *arg)
{
    struct builder *b = arg;
    uint32_t dst = node_of(b, r->obj);
    if (dst == NONE32 - 1) return -PK_E_INTERNAL;
    if (dst == NONE32) return 0;
    uint32_t label;
    switch (r->kind) {
    case PK_EK_INDEX:
        label = PK_EDGE(PK_EK_INDEX, r->arg < PK_EDGE_ARG_NONE ? r->arg : PK_EDGE_ARG_NONE);
        break;
    case PK_EK_VALUE: {
        uint32_t k = index_get(&b->nodes, b->g->addr, r->arg);
        if (k != NONE32) keep_key_text(b, k);
        label = PK_EDGE(PK_EK_VALUE, k == NONE32 || k >= PK_EDGE_ARG_NONE ? PK_EDGE_ARG_NONE : k);
        break;
    }
    case PK_EK_ATTR:
        label = PK_EDGE(PK_EK_ATTR, intern(b, r->name_key, r->name ? r->name : "?"));
        break;
    default:
        label = PK_EDGE(r->kind, PK_EDGE_ARG_NONE);
    }
    int rc = add_edge(b, dst, label);
    return rc < 0 ? rc : 0;
}

/* A module dict's globals: edges to its keys and to its slot nodes, in table order. */
struct modict_walk {
    struct builder *b;
    const uint32_t *slots;
    uint32_t n, i;
};

static int modict_entry(uint64_t key, uint64_t value, void *arg)
{
    struct modict_walk *w = arg;
    (void)value;
    uint32_t k = node_of(w->b, key);
    if (k == NONE32 - 1) return -PK_E_INTERNAL;
    if (k != NONE32 && add_edge(w->b, k, PK_EDGE(PK_EK_KEY, PK_EDGE_ARG_NONE)) < 0)
        return -PK_E_INTERNAL;
    if (w->i < w->n) {
        uint32_t slot = w->slots[w->i++];
        if (add_edge(w->b, slot, PK_EDGE(PK_EK_GLOBAL, PK_EDGE_ARG_NONE)) < 0)
            return -PK_E_INTERNAL;
    }
    return 0;
}

static int cmp_tree_edge(const void *x, const void *y)
{
    const struct tree_edge *a = x, *b = y;
    if (a->parent != b->parent) return a->parent < b->parent ? -1 : 1;
    return (a->child > b->child) - (a->child < b->child);
}

/* A thread or frame node's children, from the sorted tree edges. */
static int tree_children(struct builder *b, uint32_t i)
{
    size_t lo = 0, hi = b->ntree;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->tree[mid].parent < i)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < b->ntree && b->tree[lo].parent == i; lo++)
        if (add_edge(b, b->tree[lo].child, PK_EDGE(PK_EK_NONE, PK_EDGE_ARG_NONE)) < 0)
            return -PK_E_INTERNAL;
    return 0;
}

static int read_node(struct builder *b, uint32_t i)
{
    struct pk_graph *g = b->g;
    if (g->flags[i] & PK_GN_VIRTUAL) {
        if (i == 0) {
            for (size_t k = 0; k < b->nroot; k++)
                if (add_edge(b, b->root_dst[k], PK_EDGE(PK_EK_MODULE, b->root_name[k])) < 0)
                    return -PK_E_INTERNAL;
            for (size_t k = 0; k < b->nthreads; k++)
                if (add_edge(b, b->thread_ids[k], PK_EDGE(PK_EK_NONE, PK_EDGE_ARG_NONE)) < 0)
                    return -PK_E_INTERNAL;
            /* the root joined to every root (module global and frame local slots), so the
               dominator tree's first level is the roots and what several of them share */
            for (size_t k = 0; k < b->nslots; k++)
                if (add_edge(b, b->slot_ids[k], PK_EDGE(PK_EK_NONE, PK_EDGE_ARG_NONE)) < 0)
                    return -PK_E_INTERNAL;
            for (size_t k = 0; k < b->nlocals; k++)
                if (add_edge(b, b->local_ids[k], PK_EDGE(PK_EK_NONE, PK_EDGE_ARG_NONE)) < 0)
                    return -PK_E_INTERNAL;
        } else if (g->addr[i] == NONE32) { /* a thread or a frame (or an empty slot) */
            return tree_children(b, i);
        } else { /* a slot: addr holds its value's node */
            if (add_edge(b, (uint32_t)g->addr[i], PK_EDGE(PK_EK_NONE, PK_EDGE_ARG_NONE)) < 0)
                return -PK_E_INTERNAL;
        }
        return 0;
    }
    const struct pk_type_info *ti = pk_types_at(b->types, g->type[i]);
    if (!ti) return 0;
    uint64_t size = 0;
    int rc = pk_object_sizeof(b->m, b->l, ti, g->addr[i], &size);
    if (rc == -PK_E_NO_PROCESS) return rc;
    if (rc < 0) {
        g->flags[i] |= PK_GN_UNREADABLE;
        g->unreadable++;
        return 0;
    }
    g->size[i] = size;
    uint32_t mi = b->modict.cap ? map_get(&b->modict, g->addr[i]) : NONE32;
    if (mi != NONE32) {
        /* no globals read yet: slot_ids may still be NULL */
        const uint32_t *slots = b->mods[mi].nslots ? b->slot_ids + b->mods[mi].first_slot : NULL;
        struct modict_walk w = {b, slots, b->mods[mi].nslots, 0};
        rc = pk_pydict_foreach(b->m, b->l, g->addr[i], modict_entry, &w);
        if (rc == -PK_E_NO_PROCESS || rc == -PK_E_INTERNAL) return rc;
        return 0;
    }
    int complete = 1;
    rc = pk_referents_of(b->refs, g->addr[i], ti, on_ref, b, &complete);
    if (rc == -PK_E_NO_PROCESS || rc == -PK_E_INTERNAL) return rc;
    if (rc < 0) {
        g->flags[i] |= PK_GN_UNREADABLE;
        g->unreadable++;
    }
    if (!complete) g->flags[i] |= PK_GN_UNTRAVERSED;
    return 0;
}

static int on_tracked(uint64_t obj, uint64_t type, void *arg)
{
    struct builder *b = arg;
    int rc = 0;
    const struct pk_type_info *ti = pk_types_get(b->types, type, &rc);
    if (!ti) return rc == -PK_E_INTERNAL ? rc : -PK_E_INCONSISTENT;
    /* Once the node table could not grow (budget or node limit), a node
       could not be added whether or not obj has one: no lookup, a cache miss in a table of
       millions, for each of the objects beyond it. */
    if (b->nodes_full) return 0;
    if (index_get(&b->nodes, b->g->addr, obj) != NONE32) return 0;
    uint32_t id = new_node(b, obj, ti->index, PK_GN_TRACKED | b->tracked_flags);
    if (id == NONE32 - 1) return -PK_E_INTERNAL;
    return 0;
}

#define PUSH(arr, n, cap, v)                                                                       \
    do {                                                                                           \
        if ((n) == (cap)) {                                                                        \
            size_t nc_ = (cap) ? (cap)*2 : 256;                                                    \
            void *np_ = realloc((arr), nc_ * sizeof *(arr));                                       \
            if (!np_) return -PK_E_INTERNAL;                                                       \
            (arr) = np_;                                                                           \
            (cap) = nc_;                                                                           \
        }                                                                                          \
        (arr)[(n)++] = (v);                                                                        \
    } while (0)

/* sys.modules: the root's edges to each module, and a slot node per module global. */
struct mods_walk {
    struct builder *b;
    int err;
};

struct globals_walk {
    struct builder *b;
    const char *modname;
    uint32_t n;
};

static int global_entry(uint64_t key, uint64_t value, void *arg)
{
    struct globals_walk *w = arg;
    struct builder *b = w->b;
    if (b->nslots >= MAX_GLOBALS) return 1;
    char kt[MAX_LABEL_CHARS * 4 + 8], full[MAX_LABEL_CHARS * 8 + 32];
    if (pk_pystr_read(b->m, b->l, key, kt, sizeof kt) < 0) snprintf(kt, sizeof kt, "?");
    snprintf(full, sizeof full, "%s.%s", w->modname, kt);
    uint32_t slot = new_node(b, 0, NONE32, PK_GN_VIRTUAL);
    if (slot == NONE32 - 1) return -PK_E_INTERNAL;
    if (slot == NONE32) return 1;
    b->g->text[slot] = pool_add(b, full);
    uint32_t dst = node_of(b, value);
    if (dst == NONE32 - 1) return -PK_E_INTERNAL;
    b->g->addr[slot] = dst; /* a virtual node's addr holds its value's node (or NONE32) */
    PUSH(b->slot_ids, b->nslots, b->slot_cap, slot);
    w->n++;
    return 0;
}

static int module_entry(uint64_t key, uint64_t value, void *arg)
{
    struct mods_walk *w = arg;
    struct builder *b = w->b;
    const struct pk_layout *l = b->l;
    char name[MAX_LABEL_CHARS * 4 + 8];
    if (pk_pystr_read(b->m, l, key, name, sizeof name) < 0) snprintf(name, sizeof name, "?");
    uint32_t mod = node_of(b, value);
    if (mod == NONE32 - 1) return -PK_E_INTERNAL;
    if (mod == NONE32) return 0;
    uint32_t off = pool_add(b, name);
    PUSH(b->root_dst, b->nroot, b->root_cap, mod);
    b->root_name[b->nroot - 1] = off;
    /* is it a module? then its dict's entries become global slots */
    uint64_t type = 0, modtype = b->t->builtin_types[PK_BT_MODULE], cur;
    if (!modtype || !PK_HAS(l, module_dict)) return 0;
    if (pk_mem_read_u64(b->m, value + PK_OFF(l, object_type), &type) < 0) return 0;
    cur = type;
    int is_module = 0;
    for (int d = 0; cur && d < 32 && !is_module; d++) {
        is_module = cur == modtype;
        if (pk_mem_read_u64(b->m, cur + PK_OFF(l, type_base), &cur) < 0) break;
    }
    uint64_t dict;
    if (!is_module || pk_mem_read_u64(b->m, value + PK_OFF(l, module_dict), &dict) < 0 || !dict)
        return 0;
    uint32_t dn = node_of(b, dict);
    if (dn >= NONE32 - 1 || map_get(&b->modict, dict) != NONE32)
        return dn == NONE32 - 1 ? -PK_E_INTERNAL : 0;
    struct globals_walk gw = {b, name, 0};
    uint32_t first = (uint32_t)b->nslots;
    int rc = pk_pydict_foreach(b->m, l, dict, global_entry, &gw);
    if (rc < 0 && rc != -PK_E_UNMAPPED && rc != -PK_E_INCONSISTENT) return rc;
    if (b->nmods == b->mods_cap) {
        size_t nc = b->mods_cap ? b->mods_cap * 2 : 256;
        void *np = realloc(b->mods, nc * sizeof *b->mods);
        if (!np) return -PK_E_INTERNAL;
        b->mods = np;
        b->mods_cap = nc;
    }
    b->mods[b->nmods].first_slot = first;
    b->mods[b->nmods].nslots = gw.n;
    if (map_put(&b->modict, dict, (uint32_t)b->nmods) < 0) return -PK_E_INTERNAL;
    b->nmods++;
    return 0;
}

static int grow_root_names(struct builder *b)
{
    /* root_name parallels root_dst */
    uint32_t *np = realloc(b->root_name, (b->root_cap ? b->root_cap : 1) * sizeof *np);
    if (!np) return -PK_E_INTERNAL;
    b->root_name = np;
    return 0;
}

static int module_entry_outer(uint64_t key, uint64_t value, void *arg)
{
    struct mods_walk *w = arg;
    struct builder *b = w->b;
    if (b->nroot == b->root_cap) {
        size_t nc = b->root_cap ? b->root_cap * 2 : 256;
        uint32_t *np = realloc(b->root_dst, nc * sizeof *np);
        if (!np) return -PK_E_INTERNAL;
        b->root_dst = np;
        b->root_cap = nc;
        if (grow_root_names(b) < 0) return -PK_E_INTERNAL;
    }
    return module_entry(key, value, arg);
}

static int read_roots(struct builder *b, uint64_t interp)
{
    const struct pk_layout *l = b->l;
    uint64_t modules = 0;
    if (PK_HAS(l, interp_modules))
        pk_mem_read_u64(b->m, interp + PK_OFF(l, interp_modules), &modules);
    else if (PK_HAS(l, interp_imports_modules))
        pk_mem_read_u64(b->m, interp + PK_OFF(l, interp_imports_modules), &modules);
    if (!modules) return 0;
    struct mods_walk w = {b, 0};
    int rc = pk_pydict_foreach(b->m, l, modules, module_entry_outer, &w);
    if (rc == -PK_E_NO_PROCESS || rc == -PK_E_INTERNAL) return rc;
    return 0;
}

/* A virtual node of the frame tree, with its label. */
static uint32_t frame_node(struct builder *b, const char *label)
{
    uint32_t id = new_node(b, 0, NONE32, PK_GN_VIRTUAL | PK_GN_FRAME);
    if (id >= NONE32 - 1) return id;
    b->g->addr[id] = NONE32;
    b->g->text[id] = pool_add(b, label);
    return id;
}

static int tree_add(struct builder *b, uint32_t parent, uint32_t child)
{
    struct tree_edge te = {parent, child};
    PUSH(b->tree, b->ntree, b->tree_cap, te);
    return 0;
}

/* Thread frame locals as roots: root -> "thread N" -> "thread N frame F" -> a slot per bound
   local ("thread N frame F local x"), the same depth as a module global's slot. */
static int on_frame(const struct pk_frame_visit *v, void *arg)
{
    struct builder *b = arg;
    switch (v->kind) {
    case PK_FE_THREAD:
        snprintf(b->thread_label, sizeof b->thread_label,
                 v->native ? "thread %llu" : "thread ident %llu", (unsigned long long)v->thread_id);
        b->cur_thread = b->cur_frame = NONE32;
        return 0;
    case PK_FE_FRAME:
        snprintf(b->func, sizeof b->func, "%s", v->func);
        b->cur_frame = NONE32;
        return 0;
    case PK_FE_LOCAL:
        break;
    case PK_FE_THREAD_END:
        return 0;
    }
    if (b->cur_thread == NONE32) {
        uint32_t th = frame_node(b, b->thread_label);
        if (th >= NONE32 - 1) return th == NONE32 ? 1 : -PK_E_INTERNAL;
        PUSH(b->thread_ids, b->nthreads, b->thread_cap, th);
        b->cur_thread = th;
    }
    if (b->cur_frame == NONE32) {
        snprintf(b->frame_label, sizeof b->frame_label, "%s frame %s", b->thread_label, b->func);
        uint32_t fr = frame_node(b, b->frame_label);
        if (fr >= NONE32 - 1) return fr == NONE32 ? 1 : -PK_E_INTERNAL;
        if (tree_add(b, b->cur_thread, fr) < 0) return -PK_E_INTERNAL;
        b->cur_frame = fr;
    }
    char label[sizeof b->frame_label + MAX_LABEL_CHARS * 4 + 16];
    snprintf(label, sizeof label, "%s local %s", b->frame_label, v->name);
    uint32_t slot = frame_node(b, label);
    if (slot >= NONE32 - 1) return slot == NONE32 ? 1 : -PK_E_INTERNAL;
    uint32_t dst = node_of(b, v->value);
    if (dst == NONE32 - 1) return -PK_E_INTERNAL;
    b->g->addr[slot] = dst;
    PUSH(b->local_ids, b->nlocals, b->local_cap, slot);
    return tree_add(b, b->cur_frame, slot);
}

static int read_frames(struct builder *b, uint64_t interp)
{
    int rc = pk_frames_walk(b->m, b->t, interp, on_frame, b);
    if (rc == -PK_E_NO_PROCESS || rc == -PK_E_INTERNAL) return rc;
    if (b->ntree) qsort(b->tree, b->ntree, sizeof *b->tree, cmp_tree_edge);
    return 0;
}

static void copy_types(struct builder *b)
{
    struct pk_graph *g = b->g;
    size_t n = pk_types_count(b->types);
    g->type_names = calloc(n ? n : 1, sizeof *g->type_names);
    g->type_exact = calloc(n ? n : 1, 1);
    g->type_finalizer = calloc(n ? n : 1, 1);
    if (!g->type_names || !g->type_exact || !g->type_finalizer) return;
    const struct pk_layout *l = b->l;
    for (size_t i = 0; i < n; i++) {
        const struct pk_type_info *ti = pk_types_at(b->types, i);
        g->type_names[i] = strdup(ti->name);
        g->type_exact[i] = (uint8_t)ti->size_exact;
        uint64_t fin = 0, del = 0;
        if (PK_HAS(l, type_finalize))
            pk_mem_read_u64(b->m, ti->addr + PK_OFF(l, type_finalize), &fin);
        if (PK_HAS(l, type_del)) pk_mem_read_u64(b->m, ti->addr + PK_OFF(l, type_del), &del);
        g->type_finalizer[i] = fin || del;
    }
    g->ntypes = (uint32_t)n;
}

int pk_graph_collect(struct pk_mem *m, const struct pk_target *t, uint64_t interp,
                     const struct pk_walk_limits *lim, uint64_t budget, struct pk_graph **out,
                     struct pk_err *e)
{
    uint64_t t0 = pk_monotonic_us();
    *out = NULL;
    int need = pk_layout_need(&t->layout, PK_FEAT_GRAPH, e);
    if (need < 0) return need;
    struct pk_graph *g = calloc(1, sizeof *g);
    struct builder b = {0};
    b.g = g;
    b.m = m;
    b.t = t;
    b.l = &t->layout;
    b.lim = lim;
    b.e = e;
    b.types = pk_types_new(m, b.l, t->builtin_types);
    b.refs = b.types ? pk_referents_new(m, t, b.types) : NULL;
    if (b.refs) pk_referents_set_interp(b.refs, interp);
    int r = 0;
    if (!g || !b.types || !b.refs || index_grow(&b.nodes, NULL) < 0 || map_grow(&b.names) < 0 ||
        map_grow(&b.modict) < 0) {
        r = pk_fail(e, PK_E_INTERNAL, "out of memory");
        goto out;
    }
    g->budget = budget ? budget : PK_GRAPH_DEFAULT_BUDGET;
    if (new_node(&b, 0, NONE32, PK_GN_VIRTUAL) != 0) {
        r = pk_fail(e, PK_E_INTERNAL, "out of memory");
        goto out;
    }
    /* every tracked object: the generations and the permanent generation */
    const struct pk_layout *l = b.l;
    struct pk_gc_lists lists;
    pk_gc_lists(l, pk_gc_state_addr(l, t->runtime_addr, interp), &lists);
    const uint64_t heads[4] = {lists.head[0], lists.head[1], lists.head[2], lists.permanent};
    const int nh = 4;
    for (int i = 0; i < nh; i++) {
        uint64_t cnt;
        b.tracked_flags = i == nh - 1 ? PK_GN_PERMANENT : 0;
        r = pk_gc_list_walk(m, l, heads[i], lim, on_tracked, &b, &cnt, e);
        if (r < 0) goto out;
    }
    g->ntracked = g->n - 1;
    if ((r = read_roots(&b, interp)) < 0 || (r = read_frames(&b, interp)) < 0) {
        r = pk_fail(e, -r, r == -PK_E_NO_PROCESS ? "the target exited" : "out of memory");
        goto out;
    }
    /* read every node in order; new ones are appended and read in their turn */
    for (uint32_t i = 0; i < g->n; i++) {
        g->edge_first[i] = g->nedges;
        if ((i & 4095) == 0 && lim && lim->cancel && *lim->cancel) {
            r = pk_fail(e, PK_E_INTERRUPTED, "interrupted");
            goto out;
        }
        if ((i & 4095) == 0 && lim && lim->deadline_us && pk_monotonic_us() > lim->deadline_us) {
            r = pk_fail(e, PK_E_PAUSE_EXCEEDED, "copying it would exceed the pause bound");
            goto out;
        }
        if ((r = read_node(&b, i)) < 0) {
            r = pk_fail(e, -r, r == -PK_E_NO_PROCESS ? "the target exited" : "out of memory");
            goto out;
        }
    }
    g->edge_first[g->n] = g->nedges;
    copy_types(&b);
    g->frozen_us = pk_monotonic_us() - t0;
    g->bytes = (uint64_t)g->cap * node_bytes() + g->ecap * 8 + g->pool_cap;
    *out = g;
    g = NULL;
out:
    pk_graph_free(g);
    pk_referents_free(b.refs);
    pk_types_free(b.types);
    free(b.nodes.slots);
    map_free(&b.names);
    map_free(&b.modict);
    free(b.root_dst);
    free(b.root_name);
    free(b.mods);
    free(b.slot_ids);
    free(b.thread_ids);
    free(b.local_ids);
    free(b.tree);
    return r;
}

void pk_graph_free(struct pk_graph *g)
{
    if (!g) return;
    free(g->addr);
    free(g->type);
    free(g->size);
    free(g->flags);
    free(g->text);
    free(g->refcnt);
    free(g->edge_first);
    free(g->edge_dst);
    free(g->edge_label);
    for (uint32_t i = 0; i < g->ntypes; i++)
        free(g->type_names ? g->type_names[i] : NULL);
    free(g->type_names);
    free(g->type_exact);
    free(g->type_finalizer);
    free(g->pool);
    free(g);
}

const char *pk_graph_str(const struct pk_graph *g, uint32_t off)
{
    return off < g->pool_len ? g->pool + off : "?";
}

const char *pk_graph_type_name(const struct pk_graph *g, uint32_t node)
{
    if (node >= g->n) return "?";
    uint32_t t = g->type[node];
    if (t == NONE32 || t >= g->ntypes || !g->type_names || !g->type_names[t]) return "?";
    return g->type_names[t];
}

int64_t pk_graph_container_len(const struct pk_graph *g, uint32_t v)
{
    const char *t = pk_graph_type_name(g, v);
    int seq = !strcmp(t, "list") || !strcmp(t, "tuple") || !strcmp(t, "collections.deque");
    int map = !strcmp(t, "dict");
    int set = !strcmp(t, "set") || !strcmp(t, "frozenset");
    if (!seq && !map && !set) return -1;
    int64_t n = 0;
    for (uint64_t e = g->edge_first[v]; e < g->edge_first[v + 1]; e++) {
        unsigned k = PK_EDGE_KIND(g->edge_label[e]);
        n += (seq && k == PK_EK_INDEX) || (map && k == PK_EK_VALUE) || (set && k == PK_EK_ITEM);
    }
    return n;
}

void pk_graph_edge_label(const struct pk_graph *g, uint32_t label, char *buf, size_t cap)
{
    uint32_t arg = PK_EDGE_ARG(label);
    switch (PK_EDGE_KIND(label)) {
    case PK_EK_INDEX:
        if (arg == PK_EDGE_ARG_NONE)
            snprintf(buf, cap, "[...]");
        else
            snprintf(buf, cap, "[%u]", arg);
        break;
    case PK_EK_VALUE:
        if (arg < g->n && g->text[arg] != NONE32)
            snprintf(buf, cap, "['%.*s']", MAX_LABEL_CHARS, pk_graph_str(g, g->text[arg]));
        else if (arg < g->n)
            snprintf(buf, cap, "[<%s key>]", pk_graph_type_name(g, arg));
        else
            snprintf(buf, cap, "[?]");
        break;
    case PK_EK_KEY:
        snprintf(buf, cap, " (a key)");
        break;
    case PK_EK_ATTR:
        snprintf(buf, cap, ".%.*s", MAX_LABEL_CHARS, pk_graph_str(g, arg));
        break;
    case PK_EK_ITEM:
        snprintf(buf, cap, " (a member)");
        break;
    case PK_EK_MODULE:
        snprintf(buf, cap, "sys.modules['%.*s']", MAX_LABEL_CHARS, pk_graph_str(g, arg));
        break;
    default:
        buf[0] = '\0';
    }
}
