"""collections.deque in the object graph (issue 10): a module global deque of Item instances
spanning several blocks (with a popleft so it starts mid-block), and a deque subclass with an
attribute. The target computes with gc.get_referents and sys.getsizeof what each global
retains (as graph_fixture.py does), then blocks holding the GIL (oracle.py)."""
import collections
import gc
import sys

import oracle


class Item:
    def __init__(self, i):
        self.tag = "item-%d" % i
        self.payload = [i + 0.5]


class Tagged(collections.deque):
    pass


_queue = collections.deque(Item(i) for i in range(300))
for _ in range(5):
    _queue.popleft()
_queue.appendleft(Item(-1))
_tagged = Tagged(["t-%d" % i for i in range(70)])
_tagged.note = "a note held by the subclass instance"
del _

FIXTURE = ("_queue", "_tagged")


def retained(name):
    main_dict = sys.modules["__main__"].__dict__
    without = oracle.reach(list(sys.modules.values()), main_dict, name)
    out = {"bytes": 0, "count": 0, "items": len(main_dict[name])}
    for i, o in oracle.reach([main_dict[name]], None, None).items():
        if i not in without:
            out["bytes"] += sys.getsizeof(o)
            out["count"] += 1
    return out


def main():
    gc.collect()
    facts = {"retained": {"__main__." + n: retained(n) for n in FIXTURE},
             "deque_bytes": sys.getsizeof(_queue)}
    oracle.report_and_block(facts)


main()
