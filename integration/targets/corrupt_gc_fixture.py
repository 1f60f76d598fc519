"""Corrupt-GC-list fixture: corrupts its own youngest generation's list with ctypes, then blocks
holding the GIL (the oracle's pause) so pypeek reads the corrupt list.

argv[1] is the corruption:
  backlink  b._gc_next points back to a (earlier in the list); a._gc_prev is left alone
  cycle     b._gc_next = a and a._gc_prev = b: a consistent-looking cycle not through the head
  unmapped  b._gc_next points to a page that was just unmapped
The collector is disabled first and never runs again, a and b are never freed, and nothing
walks the list (no gc.get_objects, no collection), so the target itself does not crash.
Prints {"pid", "corruption", "a", "b"} (addresses of the PyGC_Heads) before blocking."""
import ctypes
import gc
import json
import os
import sys

import oracle

gc.disable()
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
PROT_READ, MAP_PRIVATE, MAP_ANONYMOUS = 1, 0x02, 0x20
mode = sys.argv[1]
out = {"pid": os.getpid(), "corruption": mode}
gc.collect()  # everything so far moves to the oldest generation; a and b are the youngest
keep = []
a = []
b = []
keep.append((a, b))
GC_HEAD = 16  # sizeof(PyGC_Head) on 64-bit 3.9-3.13 release builds: {_gc_next, _gc_prev}
ha, hb = id(a) - GC_HEAD, id(b) - GC_HEAD
next_of = lambda h: ctypes.c_uint64.from_address(h)  # noqa: E731
prev_of = lambda h: ctypes.c_uint64.from_address(h + 8)  # noqa: E731
assert next_of(ha).value == hb, "test set-up: b does not follow a in generation 0"
if mode == "backlink":
    next_of(hb).value = ha
elif mode == "cycle":
    next_of(hb).value = ha
    prev_of(ha).value = hb | (prev_of(ha).value & 3)
elif mode == "unmapped":
    page = libc.mmap(None, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    assert page and page != ctypes.c_void_p(-1).value
    assert libc.munmap(page, 4096) == 0
    next_of(hb).value = page
    out["unmapped"] = page
else:
    raise SystemExit("unknown corruption %r" % mode)
out["a"], out["b"] = ha, hb
os.write(1, (json.dumps(out) + "\n").encode())
while oracle.wait_for_release():  # holding the GIL: no Python code runs, nothing touches the lists
    pass
