"""Hostile-strings fixture: classes whose names a terminal would obey (ANSI escapes, BEL, CR,
newlines), a qualname with a lone surrogate (not encodable as UTF-8), a 100 kB name, a module
name with an OSC title sequence, each with a known number of instances, and an open file
whose name holds a newline and an escape. States its own census and blocks (oracle)."""
import os
import tempfile

import oracle

NAMES = {
    "ansi": "\x1b[2J\x1b[31mEVIL\x1b[0m\x07\r\nFAKE: 0 objects",
    "surrogate": "sur\udcffrogate",
    "long": "L" * 100_000,
    "c1": "c1\x9b31mcontrol\x7fdel",
}
COUNTS = {"ansi": 3, "surrogate": 5, "long": 7, "c1": 9}


def make(key):
    cls = type("Placeholder", (), {})
    cls.__qualname__ = NAMES[key]
    if key == "c1":
        cls.__module__ = "mod\x1b]0;pwned\x07"
    return cls


classes = {k: make(k) for k in NAMES}
instances = [classes[k]() for k in NAMES for _ in range(COUNTS[k])]
tmpdir = tempfile.mkdtemp(prefix="pypeek-strings-")
path = os.path.join(tmpdir, "evil\n\x1b[2Jname")
f = open(path, "w")
facts = {
    "types": {k: {"module": classes[k].__module__, "qualname": classes[k].__qualname__,
                  "count": COUNTS[k]} for k in NAMES},
    "file": {"fd": f.fileno(), "path": path},
}
try:
    oracle.report_and_block(facts)
finally:
    f.close()
    os.unlink(path)
    os.rmdir(tmpdir)
