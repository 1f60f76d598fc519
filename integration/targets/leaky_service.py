"""leaky_service: the sample service of `make demo`. It leaks in the four ways users hit:

  1. a module-level cache list `_cache` that grows with LargeObject instances, each holding a
     bytearray payload (64 KiB by default);
  2. file objects kept open in a list (real files in a private temporary directory, removed on
     exit);
  3. objects with __del__ in reference cycles: each cycle is dropped, the cyclic GC finds it,
     and the __del__ "schedules cleanup" by appending self to a queue nobody drains, so the
     pair is resurrected and lives forever (with --saveall, gc.DEBUG_SAVEALL also puts every
     collected cycle in gc.garbage; with --disable-gc, as services do for latency, the
     cycles are never collected and stay unreachable: pypeek's gc.unreachable);
  4. closures kept alive in a handler registry.

Run it under Debian's /usr/bin/python3 (see README.md in this directory). It prints its pid and
a banner on stderr; with --log FILE (or --log - for stdout) it appends one JSON line per tick
with its own counts, so a test can compare them with pypeek's. Memory is bounded: every
pattern stops growing at --max-objects (default: 192 MiB worth of payloads, so the whole
process stays well below 300 MiB), --max-files caps open files. SIGTERM/SIGINT stop it cleanly.
With --hold-after N it stops leaking after N ticks and reports its census through oracle.py
(one JSON line on stdout, then it blocks holding the GIL until released: a byte on stdin).
"""
import argparse
import gc
import json
import os
import resource
import shutil
import signal
import sys
import tempfile
import time

DEFAULT_PAYLOAD = 64 * 1024
MEMORY_BUDGET = 192 * 1024 * 1024  # payload bytes at the default --max-objects


class LargeObject:
    """A cached record holding a large buffer: pattern 1."""

    def __init__(self, key, size):
        self.key = key
        self.payload = bytearray(size)


class CycleNode:
    """A node of a reference cycle with a finalizer: pattern 3. Its __del__ 'schedules
    cleanup' by queueing self, which resurrects it (and through it its partner)."""

    def __init__(self, key):
        self.key = key
        self.partner = None

    def __del__(self):
        _cleanup_queue.append(self)


# --- the leaks: module-level state, as in the real services this imitates ---
_cache = []            # pattern 1: LargeObject instances, never evicted
_open_files = []       # pattern 2: file objects, never closed
_cleanup_queue = []    # pattern 3: finalized CycleNodes, never drained
_cycles_created = [0]
_handlers = {}         # pattern 4: closures, never unregistered


def make_handler(key):
    """A closure over per-request state: pattern 4."""
    context = {"key": key, "seen": []}

    def handler(event):
        context["seen"].append(event)
        return key

    return handler


def leak_large(n, payload, cap):
    for _ in range(n):
        if len(_cache) >= cap:
            return
        _cache.append(LargeObject(len(_cache), payload))


def leak_cycles(n, cap):
    for _ in range(n):
        if _cycles_created[0] >= cap:
            return
        a, b = CycleNode(_cycles_created[0]), CycleNode(_cycles_created[0])
        a.partner, b.partner = b, a
        _cycles_created[0] += 1
        del a, b  # unreachable now: only the cyclic GC can find them


def leak_closures(n, cap):
    for _ in range(n):
        if len(_handlers) >= cap:
            return
        key = "handler-%d" % len(_handlers)
        _handlers[key] = make_handler(key)


def leak_files(n, cap, directory):
    for _ in range(n):
        if len(_open_files) >= cap:
            return
        path = os.path.join(directory, "leak-%05d.log" % len(_open_files))
        f = open(path, "w")
        f.write("opened by leaky_service pid %d\n" % os.getpid())
        f.flush()
        _open_files.append(f)


def counts(tick, started):
    """The service's own view of its leaks (what the tick log records)."""
    return {
        "tick": tick,
        "elapsed": round(time.monotonic() - started, 3),
        "pid": os.getpid(),
        "large_objects": len(_cache),
        "payload_bytes": sum(len(o.payload) for o in _cache),
        "open_files": len(_open_files),
        "open_file_fds": sorted(f.fileno() for f in _open_files),
        "cycles": _cycles_created[0],
        "cycle_nodes_finalized": len(_cleanup_queue),
        "closures": len(_handlers),
        "gc_garbage": len(gc.garbage),
        "gc_count": list(gc.get_count()),
    }


def parse_args(argv):
    ap = argparse.ArgumentParser(description="A Python service that leaks memory and files "
                                 "on purpose, for trying pypeek on.")
    ap.add_argument("--rate", type=float, default=200,
                    help="LargeObjects added per second (closures grow at half this rate, "
                    "cycles of two __del__ objects at a quarter; default 200)")
    ap.add_argument("--payload", type=int, default=DEFAULT_PAYLOAD,
                    help="bytes of each LargeObject's bytearray (default 65536)")
    ap.add_argument("--file-rate", type=float, default=5,
                    help="files opened (and kept open) per second (default 5)")
    ap.add_argument("--max-objects", type=int, default=None,
                    help="stop growing each pattern at this many objects (default: %d MiB "
                    "of payloads, 3072 at the default payload)" % (MEMORY_BUDGET >> 20))
    ap.add_argument("--max-files", type=int, default=200,
                    help="stop opening files at this many (default 200, and always 64 below "
                    "the open-files limit)")
    ap.add_argument("--tick", type=float, default=0.1, help="seconds per tick (default 0.1)")
    ap.add_argument("--duration", type=float, default=0,
                    help="exit after this many seconds (default: run until signalled)")
    ap.add_argument("--log", metavar="FILE",
                    help="append one JSON line of counts per tick to FILE ('-' = stdout)")
    ap.add_argument("--saveall", action="store_true",
                    help="gc.set_debug(gc.DEBUG_SAVEALL): collected cycles go to gc.garbage")
    ap.add_argument("--disable-gc", action="store_true",
                    help="gc.disable() from the start: the cycles are never collected")
    ap.add_argument("--hold-after", type=int, default=0, metavar="N",
                    help="after N ticks stop leaking, print the census via oracle.py on "
                    "stdout and block holding the GIL until released (a byte on stdin), "
                    "then exit")
    a = ap.parse_args(argv)
    if a.rate < 0 or a.file_rate < 0 or a.payload < 0 or a.tick <= 0:
        ap.error("--rate, --file-rate and --payload must be >= 0 and --tick > 0")
    if a.max_objects is None:
        a.max_objects = max(1, MEMORY_BUDGET // max(a.payload, 1))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY:
        a.max_files = max(0, min(a.max_files, soft - 64))
    return a


class Stop(Exception):
    pass


def _on_stop(signum, frame):
    # Once: a second SIGINT/SIGTERM (Ctrl-C reaches the whole process group, then the demo
    # sends SIGTERM) must not interrupt the clean-up.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise Stop()


def main(argv):
    a = parse_args(argv)
    if a.saveall:
        gc.set_debug(gc.DEBUG_SAVEALL)
    if a.disable_gc:
        gc.disable()
    workdir = tempfile.mkdtemp(prefix="leaky_service-")
    log = None
    if a.log == "-":
        log = sys.stdout
    elif a.log:
        log = open(a.log, "a")
    signal.signal(signal.SIGTERM, _on_stop)
    signal.signal(signal.SIGINT, _on_stop)
    sys.stderr.write("leaky_service: pid %d\n" % os.getpid())
    sys.stderr.write("leaky_service: python %s (%s); leaking %g LargeObject/s of %d bytes, "
                     "%g cycles/s, %g closures/s, %g open files/s; caps %d objects, %d files; "
                     "files in %s\n" % (sys.version.split()[0], sys.executable, a.rate,
                                        a.payload, a.rate / 4, a.rate / 2, a.file_rate,
                                        a.max_objects, a.max_files, workdir))
    sys.stderr.flush()
    started = time.monotonic()
    tick = 0
    try:
        while True:
            tick += 1
            elapsed = tick * a.tick
            # Targets by elapsed ticks, so fractional rates add up exactly over time.
            leak_large(int(a.rate * elapsed) - int(a.rate * (elapsed - a.tick)), a.payload,
                       a.max_objects)
            half, quarter = a.rate / 2, a.rate / 4
            leak_cycles(int(quarter * elapsed) - int(quarter * (elapsed - a.tick)),
                        a.max_objects)
            leak_closures(int(half * elapsed) - int(half * (elapsed - a.tick)), a.max_objects)
            leak_files(int(a.file_rate * elapsed) - int(a.file_rate * (elapsed - a.tick)),
                       a.max_files, workdir)
            if log is not None:
                log.write(json.dumps(counts(tick, started)) + "\n")
                log.flush()
            if a.hold_after and tick >= a.hold_after:
                hold()
                break
            if a.duration and time.monotonic() - started >= a.duration:
                break
            # Pace by the wall clock: sleep until this tick's slot ends.
            delay = started + tick * a.tick - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    except (Stop, KeyboardInterrupt):
        pass
    finally:
        for f in _open_files:
            f.close()
        shutil.rmtree(workdir, ignore_errors=True)
        if log is not None and log is not sys.stdout:
            log.close()
        sys.stderr.write("leaky_service: pid %d stopped after %d ticks\n" % (os.getpid(), tick))
    return 0


def hold():
    """Stop leaking, collect so every dropped cycle has been finalized (unless the collector
    is disabled: then they stay unreachable), state the census and block holding the GIL (the
    oracle protocol of the integration tests)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import oracle
    if gc.isenabled():
        gc.collect()
    import io
    facts = {
        "large_objects": len(_cache),
        "open_files": len(_open_files),
        "open_file_fds": sorted(f.fileno() for f in _open_files),
        "cycles": _cycles_created[0],
        "closures": len(_handlers),
        "gc_garbage": len(gc.garbage),
        "types": oracle.census(LargeObject, CycleNode, type(make_handler), io.TextIOWrapper),
        # what the cache retains, by the service's own reachability walk
        "cache_retains": oracle.retained(sys.modules[__name__].__dict__, "_cache"),
    }
    oracle.report_and_block(facts)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
