"""Threads parked at the end of known call chains: plain functions, a generator driven by a
for loop, a method. Each worker blocks in lock.acquire() (no GIL held) on a lock that is
never released. The main thread records sys._current_frames() (qualname, file, line per frame,
innermost first; co_name before 3.11) for every thread, its own included, and blocks holding
the GIL on the same source line, so its recorded frames are the ones it blocks in. Prints
{"threads": {native_id: {"ident", "name", "frames"}}, "main": native_id, "pid"} first."""
import ctypes
import json
import os
import sys
import threading

_libc = ctypes.PyDLL(None)
_pause = _libc.pause
_pause.argtypes = []
_pause.restype = ctypes.c_int
never = threading.Lock()
never.acquire()
parked = {}  # native id -> (function, line) it blocks at


def park():
    never.acquire()  # blocks forever, without the GIL


def leaf_c():
    # locals of every kind pypeek shows by value, by type and length, or by type and address
    nothing, yes, no = None, True, False
    small, negative, big = 42, -12345678901, 2 ** 100
    ratio, whole = 0.1, 3.0
    text, long_text = "h\u00e9llo w\u00f6rld", "x" * 100
    raw, long_raw = b"a\x00b'\\", bytes(range(40))
    items, pair, table = [1, 2, 3], (4, 5), {"a": 1}
    members, frozen = {1, 2}, frozenset()
    cell = 7
    def closure():
        return cell
    park()


def leaf_b():
    leaf_c()


def chain_a():
    leaf_b()


def gen_body():
    yield 1
    park()
    yield 2


def gen_driver():
    for _ in gen_body():
        pass


class Service:
    def handle(self, depth):
        if depth:
            return self.handle(depth - 1)
        park()


def service_main():
    Service().handle(3)


def func_name(code):
    return getattr(code, "co_qualname", code.co_name)


def stack_of(frame):
    out = []
    while frame is not None:
        out.append({"function": func_name(frame.f_code), "file": frame.f_code.co_filename,
                    "line": frame.f_lineno})
        frame = frame.f_back
    return out


def expected_repr(v):
    """pypeek stacks --locals' repr rules (README), computed here from the values."""
    if v is None or isinstance(v, (bool, float)):
        return repr(v)
    if type(v) is int:
        if abs(v) < 2 ** 60:
            return repr(v)
        return "<int, %d digits of 30 bits>" % ((v.bit_length() + 29) // 30)
    if type(v) is str:
        return "'" + v[:48] + "'" + ("..." if len(v) > 48 else "")
    if type(v) is bytes:
        shown = "".join(chr(c) if 0x20 <= c < 0x7f and c not in b"'\\" else "\\x%02x" % c
                        for c in v[:24])
        return "b'" + shown + "'" + ("..." if len(v) > 24 else "")
    if type(v) in (list, tuple, dict, set, frozenset):
        return "<%s, len %d>" % (type(v).__name__, len(v))
    return "<%s object at 0x%x>" % (type(v).__name__, id(v))


def locals_of(frame):
    return {k: expected_repr(v) for k, v in dict(frame.f_locals).items()}


def all_parked(ids):
    """Every worker's innermost frame is park() at its acquire line."""
    frames = sys._current_frames()
    for ident in ids:
        f = frames.get(ident)
        if f is None or f.f_code is not park.__code__ or f.f_lineno != park.__code__.co_firstlineno + 1:
            return False
    return True


def record_and_block(workers):
    # one line: the frames recorded are those the main thread blocks in
    cur = sys._current_frames(); report(cur, workers); _pause()  # noqa: E702


def report(cur, workers):
    threads = {}
    for t in workers + [threading.main_thread()]:
        threads[str(t.native_id)] = {"ident": t.ident, "name": t.name,
                                     "frames": stack_of(cur[t.ident])}
        if t.name == "chain":  # the locals of leaf_c, the frame below park
            threads[str(t.native_id)]["locals"] = locals_of(cur[t.ident].f_back)
    line = json.dumps({"threads": threads, "main": threading.main_thread().native_id,
                       "pid": os.getpid()})
    os.write(1, (line + "\n").encode())


def main():
    workers = [threading.Thread(target=f, name=n, daemon=True)
               for f, n in ((chain_a, "chain"), (gen_driver, "generator"),
                            (service_main, "service"))]
    for t in workers:
        t.start()
    ids = [t.ident for t in workers]
    switch = threading.Event()
    while not all_parked(ids):
        switch.wait(0.001)  # let the workers run until they are parked
    record_and_block(workers)


main()
