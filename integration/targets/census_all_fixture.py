"""Whole-heap census fixture (issue 20): instances of every type whose size pypeek claims
exact (list, tuple, dict, set, frozenset, type objects, collections.deque, generators,
coroutines, async generators with their 3.9/3.10 frame objects, a frame that outlived its
call, and classes without their own __sizeof__), and the interpreter's own census of EVERY
tracked object by type (count and sys.getsizeof sum, oracle.census_into).

  plain   everything in the three generations
  freeze  the first half is built, counted and moved to the permanent generation with
          gc.freeze(); the second half is built after. gc.get_objects() does not return
          frozen objects, so the frozen half is counted just before gc.freeze() (with no
          tracked allocation between the two; checked against gc.get_freeze_count()) and is
          never touched after it.

Writes one JSON line {"types": {name: [count, bytes, frozen]}, "frozen", "frozen_unknown",
"frozen_bytes"}, then
blocks through oracle.report_and_block (its own line, the gc answers), which writes pymalloc's
own statistics (sys._debugmallocstats()) to the file named by argv[2] when given."""
import collections
import gc
import json
import os
import sys

import oracle


class Rec:
    def __init__(self, i):
        self.name = "rec-%d" % i
        self.value = i * 1.5
        self.items = [i, i + 1]


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self, i):
        self.a = i
        self.b = (i, "slot")


def producer(batch):
    for item in batch:
        yield item


def unstarted(arg):
    yield arg


class Suspend:
    def __await__(self):
        yield self


async def worker(k):
    pending = [k, k + 1]
    await Suspend()
    return pending


async def ticker(k):
    yield k
    yield k + 1


def escaped_frame(k):
    local = [k]  # noqa: F841 (a local of the frame that outlives the call)
    return sys._getframe()


def build(h):
    """One half of the fixture; everything reachable from the returned list."""
    n = 300
    keep = []
    keep.append([Rec(h * 1000 + i) for i in range(n)])
    keep.append([Slotted(i) for i in range(n // 2)])
    keep.append([[i] * (i % 7) for i in range(n)])                      # lists
    keep.append([(i, [i]) for i in range(n)])                           # tracked tuples
    keep.append([{"k%d" % j: j for j in range(i % 9)} for i in range(n)])   # dicts
    keep.append([{i, i + 1, (i, i)} for i in range(n)])                 # sets
    keep.append([frozenset([(i, j) for j in range(i % 11)]) for i in range(n)])
    dyn = [type("Dyn%d_%d" % (h, i), (object,), {"x": i}) for i in range(20)]
    keep.append(dyn)                                                    # heap types
    keep.append([d() for d in dyn])
    dq = collections.deque(Rec(-i) for i in range(200))
    for _ in range(3):
        dq.popleft()
    keep.append([dq, collections.deque([[1]] * 70), collections.deque()])
    gens = []
    for i in range(30):
        g = producer([Rec(i), Rec(i + 1)])
        next(g)
        gens.append(g)
    gens.append(unstarted([h]))
    keep.append(gens)
    coros = []
    for i in range(10):
        c = worker(i)
        c.send(None)
        coros.append(c)
    keep.append(coros)
    agens = []
    for i in range(10):
        a = ticker(i)
        try:
            a.__anext__().send(None)
        except StopIteration:
            pass
        agens.append(a)
    agens.append(ticker(-1))
    keep.append(agens)
    keep.append([escaped_frame(i) for i in range(5)])
    return keep


def truth(counts, sizes, names, frozen_counts, frozen_sizes, frozen_names, frozen_unknown):
    """{name: [count, bytes, frozen]} of both censuses, plus the frozen objects of unknown
    type, as JSON text."""
    now = oracle.census_by_name(counts, sizes, names)
    frozen = oracle.census_by_name(frozen_counts, frozen_sizes, frozen_names)
    out = {}
    for name in set(now) | set(frozen):
        c, b = now.get(name, (0, 0))
        fc, fb = frozen.get(name, (0, 0))
        out[name] = [c + fc, None if b is None or fb is None else b + fb, fc]
    frozen_bytes = sum(b for _, b in frozen.values() if b is not None)
    return json.dumps({"types": out, "frozen": frozen_unknown + sum(c for c, _ in frozen.values()),
                       "frozen_unknown": frozen_unknown, "frozen_bytes": frozen_bytes})


def main(mode, stats_path):
    # Objects the interpreter itself keeps in the permanent generation (3.12 has hundreds of
    # tuples there at startup): no Python API lists them, so the census can name their
    # number, not their types.
    frozen_unknown = gc.get_freeze_count()
    stats_fd = os.open(stats_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600) if stats_path else None
    gc.collect()
    gc.disable()  # no collection may move, free or untrack anything from here on
    first = build(0)
    fc, fs, fn = {}, {}, {}
    if mode == "freeze":
        oracle.census_into(fc, fs, fn)
        gc.freeze()
        if gc.get_freeze_count() != frozen_unknown + sum(fc.values()):
            sys.exit("fixture: gc.freeze() moved %d objects, the census before it counted %d"
                     % (gc.get_freeze_count() - frozen_unknown, sum(fc.values())))
    elif mode != "plain":
        sys.exit("unknown mode " + mode)
    second = build(1)
    counts, sizes, names = {}, {}, {}
    oracle.census_into(counts, sizes, names)
    os.write(1, (truth(counts, sizes, names, fc, fs, fn, frozen_unknown) + "\n").encode())
    oracle.report_and_block({}, malloc_stats_fd=stats_fd)
    del first, second


main(sys.argv[1] if len(sys.argv) > 1 else "plain", sys.argv[2] if len(sys.argv) > 2 else None)
