/* Walking one GC list from its head, validating every link, bounded by construction. */
#include "cpython/gc_list.h"

#include <string.h>

#define CANCEL_POLL_MASK 0xfff

uint64_t pk_gc_max_nodes(const struct pk_maps *maps, const struct pk_layout *l)
{
    uint64_t bytes = pk_maps_writable_bytes(maps);
    uint64_t per = PK_F(l, gchead_size).size + PK_F(l, object_size).size;
    return bytes / (per ? per : 32) + 1;
}

int pk_gc_list_walk(struct pk_mem *m, const struct pk_layout *l, uint64_t head,
                    const struct pk_walk_limits *lim, pk_gc_visit_fn visit, void *arg,
                    uint64_t *count, struct pk_err *e)
{
    const uint64_t mask = l->gc_link_mask;
    const uint64_t off_next = PK_OFF(l, gchead_next), off_prev = PK_OFF(l, gchead_prev);
    const uint64_t hdr = PK_F(l, gchead_size).size;
    const uint64_t off_type = hdr + PK_OFF(l, object_type);
    const size_t span = (size_t)(off_type + PK_PTR_SIZE);
    unsigned char node[128];
    uint64_t n = 0, prev = head, cur;
    *count = 0;
    if (span > sizeof node) return pk_fail(e, PK_E_INTERNAL, "GC header layout too large");
    int r = pk_mem_read_u64(m, head + off_next, &cur);
    if (r < 0) goto read_failed;
    cur &= mask;
    while (cur != head) {
        if (n >= lim->max_nodes)
            return pk_fail(e, PK_E_INCONSISTENT,
                           "GC list at 0x%llx: more than %llu objects without returning to its "
                           "head (corrupt or cyclic list)",
                           (unsigned long long)head, (unsigned long long)lim->max_nodes);
        if ((n & CANCEL_POLL_MASK) == 0) {
            if (lim->cancel && *lim->cancel)
                return pk_fail(e, PK_E_INTERRUPTED, "interrupted while walking the GC lists");
            if (lim->deadline_us && pk_monotonic_us() > lim->deadline_us)
                return pk_fail(e, PK_E_PAUSE_EXCEEDED,
                               "gave up: reading the heap would exceed --max-pause; the target "
                               "was resumed");
        }
        if (cur == 0 || (cur & 7))
            return pk_fail(e, PK_E_INCONSISTENT, "GC list at 0x%llx: bad link 0x%llx",
                           (unsigned long long)head, (unsigned long long)cur);
        if ((r = pk_mem_read(m, cur, node, span)) < 0) goto read_failed;
        uint64_t next, back, type;
        memcpy(&next, node + off_next, sizeof next);
        memcpy(&back, node + off_prev, sizeof back);
        memcpy(&type, node + off_type, sizeof type);
        if ((back & mask) != prev)
            return pk_fail(e, PK_E_INCONSISTENT,
                           "GC list at 0x%llx: object at 0x%llx does not link back to 0x%llx",
                           (unsigned long long)head, (unsigned long long)(cur + hdr),
                           (unsigned long long)(prev == head ? head : prev + hdr));
        n++;
        if (visit && (r = visit(cur + hdr, type, arg)) != 0) {
            *count = n;
            return r < 0 ? r : 0;
        }
        prev = cur;
        cur = next & mask;
    }
    *count = n;
    return 0;
read_failed:
    if (r == -PK_E_NO_PROCESS) return pk_fail(e, PK_E_NO_PROCESS, "the target exited");
    return pk_fail(e, PK_E_INCONSISTENT, "GC list at 0x%llx: link to unreadable memory",
                   (unsigned long long)head);
}
