"""Benchmark target: a heap of N GC-tracked objects (a mix of instances, small lists, tuples
and dicts) plus a heartbeat thread that measures, from inside, how long the process stalls.

usage: bench_target.py N [threads=K] [payload=M]
  threads=K  K more threads parked in read(2) on a pipe (an idle service's workers)
  payload=M  M bytearrays of 1 MiB (bytearray(1 << 20): zero-filled, resident) in a global
             list, the seed's leak

Commands on stdin, one JSON answer line each on stdout:
  ready?   -> {"objects": len(gc.get_objects()), "rss": ...}      (printed once at start)
  reset    -> {}                  forget the heartbeat's largest gap
  gap      -> {"gap_us": N}       largest gap between heartbeats since reset
  census   -> {"census_us": N, "objects": N}   Counter(type(o) for o in gc.get_objects()),
                                  timed in-process
  count    -> {"objects": N}      len(gc.get_objects())
  types    -> {"types": {name: N}}  the same census by type name
  quit
The heartbeat thread allocates no GC-tracked object: it sleeps 100 us, reads
time.monotonic_ns() and keeps the largest gap in a preallocated array."""
import array
import collections
import gc
import json
import os
import sys
import threading
import time


class Record:
    def __init__(self, i):
        self.i = i
        self.name = "r"
        self.parent = None


def build(n):
    """n tracked objects in units of four: an instance, a list, a tuple, a dict. Every
    container holds a tracked object so a collection does not untrack it."""
    units = []
    for i in range(n // 4):
        r = Record(i)
        units.append((r, [i, r], {"rec": r, "i": i}))
    return units


beat = array.array("q", [0, 0])  # [largest gap ns, last beat ns]: no tracked allocation
stop = [False]


def heartbeat():
    now = time.monotonic_ns
    sleep = time.sleep
    beat[1] = now()
    while not stop[0]:
        sleep(0.0001)
        t = now()
        g = t - beat[1]
        if g > beat[0]:
            beat[0] = g
        beat[1] = t


def answer(d):
    sys.stdout.write(json.dumps(d) + "\n")
    sys.stdout.flush()


PAYLOAD = []  # the seed's leak: big bytearrays held by a global list
PARKED = []  # the write ends of the idle threads' pipes


def park(r):
    os.read(r, 1)


def commands():
    """The command lines on stdin, read with os.read: blocked in it, the target holds no
    object that it would not hold while it counts itself (sys.stdin's buffered read holds a
    memoryview and its managed buffer while it waits), so pypeek's census and the target's
    own count see the same heap."""
    pending = b""
    while True:
        while b"\n" not in pending:
            chunk = os.read(0, 4096)
            if not chunk:
                return
            pending += chunk
        line, pending = pending.split(b"\n", 1)
        yield line.decode().strip()


def main():
    n = int(sys.argv[1])
    opts = dict(a.split("=", 1) for a in sys.argv[2:])
    for _ in range(int(opts.get("threads", 0))):
        r, w = os.pipe()
        PARKED.append(w)
        threading.Thread(target=park, args=(r,), daemon=True).start()
    PAYLOAD.extend(bytearray(1 << 20) for _ in range(int(opts.get("payload", 0))))
    gc.disable()
    heap = build(n)  # noqa: F841 (kept alive)
    gc.collect()
    gc.enable()
    th = threading.Thread(target=heartbeat, daemon=True)
    th.start()
    answer({"objects": len(gc.get_objects()), "pid": os.getpid(),
            "threads": threading.active_count()})
    for cmd in commands():
        if cmd == "reset":
            beat[0] = 0
            answer({})
        elif cmd == "gap":
            answer({"gap_us": beat[0] // 1000})
        elif cmd == "census":
            t0 = time.perf_counter_ns()
            c = collections.Counter(type(o) for o in gc.get_objects())
            us = (time.perf_counter_ns() - t0) // 1000
            total = sum(c.values())
            del c
            answer({"census_us": us, "objects": total})
        elif cmd == "count":  # the census total alone, the same way, untimed
            answer({"objects": len(gc.get_objects())})
        elif cmd == "types":  # the census by type name, untimed
            objs = gc.get_objects()  # before any object this command makes (no genexpr)
            types = {}
            for o in objs:
                name = type(o).__name__
                types[name] = types.get(name, 0) + 1
            del objs
            answer({"types": types})
        elif cmd == "quit":
            break
    stop[0] = True


main()
