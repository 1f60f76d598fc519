/* Before a live target is stopped: whether its data pages fit the image budget (copied while
   frozen, walked after resume) or the heap is walked while frozen (streaming). */
#include <stdio.h>

#include "attach/maps.h"
#include "attach/payload.h"
#include "capture/capture_internal.h"

/* Resident data beyond which payload pages (attach/payload.h) are looked for, before the
   stop, so that the copy leaves them out. */
#define PAYLOAD_SCAN_FROM ((uint64_t)64 << 20)

static double mib(uint64_t bytes)
{
    return (double)bytes / (1024.0 * 1024.0);
}

/* Room for a copy of the pages of the target's writable memory that hold data (less payload
   when there is much of it), when they fit the budget (the maps and pagemap are read again
   frozen), else NULL. -v says which and why. */
struct pk_image *pk_capture_image_reserve(const struct pk_capture_opts *o, pid_t pid, int procfd,
                                          const volatile sig_atomic_t *cancel)
{
    if (o->nonblocking || o->streaming) return NULL;
    struct pk_maps maps = {0};
    struct pk_err ignored = {0};
    if (pk_maps_read(procfd, &maps, &ignored) < 0) return NULL;
    struct pk_image_estimate est;
    struct pk_payload payload = {0};
    int fragmented = pk_image_estimate(procfd, &maps, NULL, &est) < 0;
    uint64_t data = est.copy_bytes;
    if (!fragmented && est.copy_bytes > PAYLOAD_SCAN_FROM &&
        pk_payload_scan(pid, procfd, &maps, cancel, &payload) == 0)
        fragmented = pk_image_estimate(procfd, &maps, &payload, &est) < 0;
    pk_maps_free(&maps);
    uint64_t budget = pk_image_budget();
    if (fragmented || est.copy_bytes > budget) {
        if (o->log)
            fprintf(
                o->log,
                "pypeek: read: streaming (walked while stopped): %s %.1f MiB to copy (%.1f "
                "MiB of data less %.1f MiB of payload) in %.1f MiB of writable mappings, "
                "image budget %.1f MiB\n",
                fragmented ? "too many fragments;" : "more than the budget:", mib(est.copy_bytes),
                mib(data), mib(est.payload_bytes), mib(est.writable_bytes), mib(budget));
        pk_payload_free(&payload);
        return NULL;
    }
    if (o->log)
        fprintf(o->log,
                "pypeek: read: image (copied while stopped, walked after): %.1f MiB to copy "
                "(%.1f MiB of data less %.1f MiB of payload) in %.1f MiB of writable mappings "
                "(%.1f MiB never touched%s), budget %.1f MiB\n",
                mib(est.copy_bytes), mib(data), mib(est.payload_bytes), mib(est.writable_bytes),
                mib(est.untouched_bytes), est.pagemap ? "" : "; pagemap unreadable: all counted",
                mib(budget));
    uint64_t cap = est.copy_bytes + est.copy_bytes / 8 + ((uint64_t)16 << 20); /* growth */
    struct pk_image *img = pk_image_new(cap < budget ? cap : budget);
    if (img) pk_image_leave_out(img, &payload);
    pk_payload_free(&payload);
    return img;
}
