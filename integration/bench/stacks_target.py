"""Benchmark target for thread stacks: N threads (argv[1], default 64) parked in
lock.acquire() at the end of a 10-frame Python call chain, the main thread blocked in pause()
holding the GIL. Prints {"threads": N} once every thread is parked."""
import ctypes
import json
import os
import sys
import threading

never = threading.Lock()
never.acquire()
parked = threading.Semaphore(0)


def chain(depth):
    if depth:
        return chain(depth - 1)
    parked.release()
    never.acquire()


n = int(sys.argv[1]) if len(sys.argv) > 1 else 64
for _ in range(n):
    threading.Thread(target=chain, args=(10,), daemon=True).start()
for _ in range(n):
    parked.acquire()
os.write(1, (json.dumps({"threads": n}) + "\n").encode())
ctypes.PyDLL(None).pause()
