"""Object-graph fixture (issue 10): module globals holding instances with managed attributes,
__slots__ instances, dicts of tuples, closures over cells, a list shared by two globals, and
int subclass instances with attributes.
The target computes with gc.get_referents (plus dict keys, which dict_traverse skips
when they are all str) and sys.getsizeof what each global retains: the
objects reachable from it that are not reachable from sys.modules once that one global's
slot is taken away (the dominator definition pypeek documents), by type. Then it blocks
holding the GIL (oracle.py)."""
import gc
import sys

import oracle


class Rec:
    def __init__(self, i):
        self.name = "rec-%d" % i
        self.value = i * 1.5 + 0.25
        self.big = 10 ** 6 + i
        self.blob = b"b%06d" % i
        self.buf = bytearray(100 + i % 50)


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self, i):
        self.a = "slot-%d" % i
        self.b = [i + 7000.5]


class TaggedInt(int):
    """An int subclass with a __dict__: up to 3.11 the dict sits after the digits."""


def tagged(i):
    t = TaggedInt(10 ** 12 + i)
    t.label = "tagged-%d" % i
    return t


def make_closure(i):
    payload = ["c-%d" % i]

    def handler():
        return payload

    return handler


_recs = [Rec(i) for i in range(2000)]
_table = {"k%d" % i: ("v%d" % i, i + 5000, i / 7 + 0.5) for i in range(1500)}
_slots = [Slotted(i) for i in range(300)]
_closures = [make_closure(i) for i in range(200)]
_shared_a = ["shared-%d" % i for i in range(100)]
_shared_b = _shared_a
_tagged = [tagged(i) for i in range(100)]

FIXTURE = ("_recs", "_table", "_slots", "_closures", "_shared_a", "_tagged")
ATOMS = ("str", "bytes", "bytearray", "int", "float")


def retained(name):
    main_dict = sys.modules["__main__"].__dict__
    modules = list(sys.modules.values())
    without = oracle.reach(modules, main_dict, name)
    if id(main_dict[name]) in without:
        return {"bytes": 0, "count": 0, "types": {}}
    mine = oracle.reach([main_dict[name]], None, None)
    out = {"bytes": 0, "count": 0, "types": {}}
    for i, o in mine.items():
        if i in without:
            continue
        t = oracle.type_name(type(o))
        s = sys.getsizeof(o)
        out["bytes"] += s
        out["count"] += 1
        e = out["types"].setdefault(t, {"count": 0, "bytes": 0})
        e["count"] += 1
        e["bytes"] += s
    del without, mine
    return out


def main():
    gc.collect()
    facts = {"retained": {"__main__." + n: retained(n) for n in FIXTURE}}
    oracle.report_and_block(facts)


main()
