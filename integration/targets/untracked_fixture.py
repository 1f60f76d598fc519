"""Untracked-census fixture (issue 20): module globals holding objects the collector does not
track (str, bytes, int, float, complex, bool, bytearray, range, untracked tuples and dicts of
those) beside tracked ones (an int subclass among them), and the target's own census of
every untracked object a tracked one reaches (oracle.untracked_census: gc.get_referents from
gc.get_objects(), by id, by type, with sys.getsizeof sums). Says it is ready, reads from stdin
the types pypeek cannot read (one line, tab-separated: the test takes them from a first
snapshot), writes one JSON line {"untracked": {type: [count, bytes]}, "opaque": [those with
instances]} and blocks holding the GIL (oracle.untracked_report_and_block)."""
import gc
import os

import oracle


class Plain(int):
    __slots__ = ()


class Holder:
    def __init__(self, i):
        self.name = "holder-%d" % i
        self.value = i * 0.5 + 0.125
        self.big = 10 ** 20 + i
        self.pair = ("p-%d" % i, i + 3000)  # an atomic tuple: untracked by the collector
        self.meta = {"k": "m-%d" % i}       # a dict of atoms: untracked
        self.raw = b"r%05d" % i


_holders = [Holder(i) for i in range(500)]
_strs = ["s-%d" % i for i in range(400)]
_ints = [10 ** 9 + i for i in range(300)]
_floats = [i / 3 for i in range(200)]
_complex = [complex(i, 1) for i in range(50)]
_bytes = [b"x" * (i % 40) + b"%d" % i for i in range(120)]
_bufs = [bytearray(i) for i in range(60)]
_ranges = [range(i, 10 ** 10 + i) for i in range(30)]
_plain = [Plain(10 ** 15 + i) for i in range(40)]
_tuples = [("t", i, i + 0.5, b"b") for i in range(100)]
_nested = [(("n", i), (i, (i, "deep-%d" % i))) for i in range(80)]
_dicts = [{"a%d" % i: i + 70000, 7 + i: "v%d" % i} for i in range(90)]
_shared = "shared-string-" + "x" * 50
_refs = [_shared] * 25 + [(_shared, _shared)]
_flags = [True, False, None, ..., NotImplemented]


def opaque_types():
    """The names of the types whose references pypeek cannot read (its graph.untraversed_types
    of this same heap), sent by the test as one line on stdin."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(0, 65536)
        if not chunk:
            raise SystemExit("fixture: stdin closed before the opaque types were sent")
        data += chunk
    return tuple(n for n in data.decode().rstrip("\n").split("\t") if n)


def main():
    gc.collect()
    gc.disable()  # no collection may untrack or free anything from here on
    os.write(1, b'{"ready": true}\n')
    # a global, so the names are held by the same (tracked) module dict during the walk and
    # while blocked, not by a frame local that is gone by then
    global _opaque
    _opaque = opaque_types()
    oracle.untracked_report_and_block({}, _opaque)


main()
