"""Suspended generators and coroutines in the object graph (issue 10): module globals hold
generators suspended mid-loop (a local list of Payloads plus the loop's iterator on the value
stack), coroutines suspended in an await, a generator not started yet (its arguments are its
locals) and a finished one (its frame is cleared). The target computes with gc.get_referents
and sys.getsizeof what each global retains (as graph_fixture.py does), then blocks holding the
GIL (oracle.py)."""
import gc
import sys

import oracle


class Payload:
    def __init__(self, i):
        self.text = "payload-%d" % i
        self.nums = [i, i + 0.5]


def producer(k):
    batch = [Payload(k * 100 + i) for i in range(20)]
    for item in batch:
        yield item


class Suspend:
    def __await__(self):
        yield self


async def worker(k):
    pending = [Payload(50000 + k * 10 + i) for i in range(5)]
    await Suspend()
    return pending


def unstarted(arg):
    yield arg


def finished():
    held = [Payload(-1)]
    yield held


_gens = []
for _k in range(30):
    _g = producer(1000 + _k)  # no small ints: those are shared with other roots
    next(_g)
    _gens.append(_g)
_coros = []
for _k in range(10):
    _c = worker(1000 + _k)
    _c.send(None)
    _coros.append(_c)
_unstarted = unstarted([Payload(-2), "an argument"])
_finished = finished()
for _ in _finished:
    pass
del _k, _g, _c, _

FIXTURE = ("_gens", "_coros", "_unstarted", "_finished")


def retained(name):
    main_dict = sys.modules["__main__"].__dict__
    without = oracle.reach(list(sys.modules.values()), main_dict, name)
    out = {"bytes": 0, "count": 0, "types": {}}
    for i, o in oracle.reach([main_dict[name]], None, None).items():
        if i not in without:
            s = sys.getsizeof(o)
            out["bytes"] += s
            out["count"] += 1
            e = out["types"].setdefault(oracle.type_name(type(o)), {"count": 0, "bytes": 0})
            e["count"] += 1
            e["bytes"] += s
    return out


def main():
    gc.collect()
    facts = {"retained": {"__main__." + n: retained(n) for n in FIXTURE},
             "version": list(sys.version_info[:2])}
    oracle.report_and_block(facts)


main()
