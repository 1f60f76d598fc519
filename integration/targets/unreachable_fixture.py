"""Unreachable-cycles fixture: the collector is disabled while known cycles become
unreachable (pairs of a class with __del__, self-referencing instances, handler <-> closure
cycles, holders of suspended generators that hold them, self-containing lists), some of them first aged into the oldest generation, and
reachable cycles are held by a global, and dropped cycles sit in the permanent generation. Before blocking, a forked twin (the process has no
other thread) runs gc.set_debug(gc.DEBUG_SAVEALL); gc.collect() on the identical heap and
reports the census of gc.garbage (per type: count, sys.getsizeof bytes, objects whose type
has __del__): the interpreter's own answer of what the next collection frees. The parent
reports it through oracle.report_and_block as "twin" and blocks.

  (no argument)  as above
  rounds         twice: after the release, more of the same garbage, a new twin, block again
  grow TICK LOG  no twin, no block: garbage made every TICK s, one JSON line per tick
                 appended to LOG with the fixture objects made so far (a line on stdout
                 once the first is logged), for pypeek watch"""
import gc
import json
import os
import sys
import time

import oracle


class Finalized:
    def __del__(self):
        pass


class SelfRef:
    pass


class Handler:
    """A handler whose callback closes over it: handler -> function -> cell -> handler."""

    def __init__(self):
        def callback():
            return self

        self.callback = callback


class Looped(list):
    pass


class GenHolder:
    """holder -> suspended generator -> its frame's locals -> holder."""


def holding(holder, n):
    x = holder
    for i in range(n):
        yield x, i


class Reachable:
    pass


class Frozen:
    """Cycles moved to the permanent generation (gc.freeze()) and then dropped: no collection
    examines them, so they are not what the next one frees."""


HELD = []  # reachable cycles: never garbage


def make_pairs(n, cls):
    out = []
    for _ in range(n):
        a, b = cls(), cls()
        a.other, b.other = b, a
        out.append(a)
    return out


def make_garbage(scale):
    make_pairs(60 * scale, Finalized)
    for _ in range(50 * scale):
        s = SelfRef()
        s.me = s
    for _ in range(30 * scale):
        Handler()
    for _ in range(15 * scale):
        h = GenHolder()
        h.gen = holding(h, 3)
        next(h.gen)
    for _ in range(20 * scale):
        lst = Looped()
        lst.append(lst)
        plain = []
        plain.append(plain)


def twin_census():
    """In the forked twin: what gc.collect() finds unreachable. gc.DEBUG_COLLECTABLE (and
    _UNCOLLECTABLE) make the collector name every object it found, by tp_name, before any
    finalizer runs ("found"); gc.DEBUG_SAVEALL keeps what is still unreachable after the
    finalizers in gc.garbage, whose census gives bytes and finalizers ("types"). A finalizer
    that breaks its cycle (a suspended generator's close()) frees objects by reference
    counting before they reach gc.garbage: they are only in "found"."""
    import io
    sys.stderr = io.StringIO()
    gc.set_debug(gc.DEBUG_SAVEALL | gc.DEBUG_COLLECTABLE | gc.DEBUG_UNCOLLECTABLE)
    gc.collect()
    log, sys.stderr = sys.stderr.getvalue(), sys.__stderr__
    found = {}
    for line in log.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == "gc:" and parts[2].startswith("<"):
            name = parts[2][1:]
            found[name] = found.get(name, 0) + 1
    types = {}
    objects = nbytes = 0
    for o in gc.garbage:
        t = type(o)
        e = types.setdefault(oracle.type_name(t), {"count": 0, "bytes": 0, "finalizers": 0})
        size = sys.getsizeof(o)
        e["count"] += 1
        e["bytes"] += size
        e["finalizers"] += 1 if hasattr(t, "__del__") else 0
        objects += 1
        nbytes += size
    return {"objects": objects, "bytes": nbytes, "types": types, "found": found,
            "found_objects": sum(found.values())}


def fork_twin():
    """The twin's census, read from a pipe; the parent waits for it to exit."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.write(w, (json.dumps(twin_census()) + "\n").encode())
        finally:
            os._exit(0)
    os.close(w)
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(r, 1 << 20)
        if not chunk:
            break
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return json.loads(data)


def grow(tick, log):
    made = 0
    with open(log, "a") as f:
        while True:
            make_garbage(1)
            made += 1
            f.write(json.dumps({"rounds": made, "finalized": 60 * 2 * made}) + "\n")
            f.flush()
            if made == 1:
                os.write(sys.stdout.fileno(), b'{"started": true}\n')
            time.sleep(tick)


def main(mode):
    gc.disable()
    gc.collect()  # start from no garbage at all
    if mode == "grow":
        grow(float(sys.argv[2]), sys.argv[3])
    frozen = make_pairs(30, Frozen)
    gc.freeze()
    del frozen
    HELD.extend(make_pairs(40, Reachable))
    # some cycles age into the oldest generation while still referenced, then are dropped
    aged = make_pairs(25, Finalized)
    gc.collect()
    del aged
    make_garbage(1)
    oracle.report_and_block({"twin": fork_twin(), "held": len(HELD),
                             "frozen": gc.get_freeze_count()})
    if mode == "rounds":
        make_garbage(2)
        oracle.report_and_block({"twin": fork_twin(), "held": len(HELD),
                                 "frozen": gc.get_freeze_count()})


main(sys.argv[1] if len(sys.argv) > 1 else "once")
