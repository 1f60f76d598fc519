"""Busy target: 4 threads allocate and free containers (and make cycles for the collector) in
a loop. Prints {"pid": ..., "ready": true} once the threads run; on each SIGUSR1 prints the
threads' iteration counters so a test can see they still make progress.

No thread blocks SIGUSR1, as in most services: the kernel hands a signal to the main thread
when it can take it, and the handler runs only there. The main thread sleeps in Event.wait(),
which only a signal to the main thread itself interrupts, so a SIGUSR1 taken by a worker is
never answered: test_busy.py relies on that to show pypeek leaves signals to the main thread."""
import json
import os
import signal
import sys
import threading

counters = [0, 0, 0, 0]
requests = []


def worker(k):
    keep = []
    while True:
        d = {"k": k, "l": [k, k + 1], "t": (k, [])}
        a, b = [d], [d]
        a.append(b)
        b.append(a)  # a cycle: the collector runs regularly
        keep.append(d)
        if len(keep) > 2000:
            del keep[:1000]
        counters[k] += 1


def on_usr1(signum, frame):
    sys.stdout.write(json.dumps({"counters": list(counters)}) + "\n")
    sys.stdout.flush()


signal.signal(signal.SIGUSR1, on_usr1)
threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(4)]
for t in threads:
    t.start()
while not all(counters):
    pass
sys.stdout.write(json.dumps({"pid": os.getpid(), "ready": True}) + "\n")
sys.stdout.flush()
threading.Event().wait()
