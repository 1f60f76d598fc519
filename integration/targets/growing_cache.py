"""growing_cache: a service whose module-level cache grows by --rate CacheEntry objects per
second while everything else stays flat (1,000 Config objects, 2,000 small dicts). For the
snapshot/diff/watch tests (issue 7).

  --log FILE       after every tick, append one JSON line with the wall time and the
                   interpreter's own census of every GC-tracked type (what gc.get_objects()
                   holds, counted with no live temporaries), so a test can tell which types
                   grew and which stayed flat during a pypeek watch
  --hold-at N,M..  at those ticks, state the census of CacheEntry and Config through the
                   oracle (one JSON line on stdout) and block holding the GIL until
                   released (a byte on stdin)

Runs until killed (or --ticks N)."""
import argparse
import gc
import json
import os
import sys
import time

import oracle


class CacheEntry:
    """What leaks: one per cached request, never evicted."""

    def __init__(self, key):
        self.key = key
        self.value = [key]


class Config:
    """What does not leak: built once at start-up."""

    def __init__(self, i):
        self.i = i


_cache = []
_config = [Config(i) for i in range(1000)]
_tables = [{"row": i} for i in range(2000)]


def full_census():
    """{type name: count} of every GC-tracked object. The list gc.get_objects() returns holds
    itself, so it is subtracted (counts holds only str and int: dicts of those are untracked)."""
    counts = {}
    objs = gc.get_objects()
    for o in objs:
        name = oracle.type_name(type(o))
        counts[name] = counts.get(name, 0) + 1
    counts["list"] -= 1   # objs itself
    del objs
    return counts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=300)
    ap.add_argument("--tick", type=float, default=0.1)
    ap.add_argument("--log")
    ap.add_argument("--hold-at", default="")
    ap.add_argument("--ticks", type=int, default=0)
    a = ap.parse_args()
    holds = {int(x) for x in a.hold_at.split(",") if x}
    log = open(a.log, "a") if a.log else None
    started = time.monotonic()
    tick = 0
    while not a.ticks or tick < a.ticks:
        tick += 1
        want = int(a.rate * tick * a.tick)
        while len(_cache) < want:
            _cache.append(CacheEntry(len(_cache)))
        if log is not None:
            log.write(json.dumps({"tick": tick, "time": time.time(),
                                  "counts": full_census()}) + "\n")
            log.flush()
        if tick in holds:
            gc.collect()
            oracle.report_and_block({"tick": tick, "cache": len(_cache),
                                     "types": oracle.census(CacheEntry, Config)})
        delay = started + tick * a.tick - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    return 0


if __name__ == "__main__":
    sys.exit(main())
