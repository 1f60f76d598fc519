"""Holders of the reachable heap (issue 21): a module global retaining most of the heap (the
leak suspect), and a dict shared by globals of two modules (no single root dominates it: a
level-0 holder of kind object reached from 2 roots).

The target computes, by gc.get_referents from the roots pypeek uses (every module, every
frame's locals; static types: their dict, MRO and bases), what each of them retains: the
sys.getsizeof sum and count of the objects reachable from it that the roots no longer reach
without it (for the global, without its slot; for the shared dict, without the dict). Then it
blocks holding the GIL (oracle.py)."""
import gc
import sys
import types

import oracle

HEAPTYPE = 1 << 9


class Blob:
    def __init__(self, i):
        self.data = bytearray(20000 + i)


_big = [Blob(i) for i in range(400)]
_shared = {"k%d" % i: ["shared-%d" % i] * 3 for i in range(300)}
_other = types.ModuleType("holders_other")
_other.shared = _shared
sys.modules["holders_other"] = _other


def reach(skip_obj=None, skip_slot=None):
    """Objects reachable from the roots, not passing through skip_obj, nor through the
    __main__ global skip_slot."""
    main_dict = sys.modules["__main__"].__dict__
    stack = list(sys.modules.values())
    seen = {}
    while stack:
        o = stack.pop()
        if id(o) in seen or o is skip_obj:
            continue
        seen[id(o)] = o
        if o is main_dict:
            stack.extend(main_dict.keys())
            stack.extend(v for k, v in main_dict.items() if k != skip_slot)
            continue
        stack.extend(gc.get_referents(o))
        if isinstance(o, dict):
            stack.extend(o.keys())
        if isinstance(o, type) and not (o.__flags__ & HEAPTYPE):
            stack.extend(gc.get_referents(o.__dict__))
            stack.extend((o.__mro__, o.__bases__))
    return seen


def retained(full, without):
    out = {"bytes": 0, "count": 0}
    for i, o in full.items():
        if i not in without:
            out["bytes"] += sys.getsizeof(o)
            out["count"] += 1
    return out


def main():
    gc.collect()
    full = reach()
    facts = {"reachable_bytes": sum(sys.getsizeof(o) for o in full.values()),
             "big": retained(full, reach(skip_slot="_big")),
             "shared": retained(full, reach(skip_obj=_shared))}
    del full
    oracle.report_and_block(facts)


main()
