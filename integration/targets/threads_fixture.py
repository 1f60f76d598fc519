"""Multi-threaded target for the signal and kill tests: 8 threads that sleep briefly and count
in a loop (so they are caught running, sleeping and waiting for the GIL), and a heap of
HEAP_OBJECTS tracked objects so a frozen read takes a while. Prints {"pid", "threads"} once
every thread has counted; on each SIGUSR1 prints the threads' counters, so a test can see
they still make progress. The heap size is argv[1] (default 200000)."""
import json
import os
import signal
import sys
import threading
import time

counters = [0] * 8


def worker(k):
    # SIGUSR1 goes to the main thread only: a handler tripped in a worker would wait for the
    # main thread's next bytecode, which may be an hour away in time.sleep().
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    while True:
        counters[k] += 1
        time.sleep(0.0002)


def on_usr1(signum, frame):
    sys.stdout.write(json.dumps({"counters": list(counters)}) + "\n")
    sys.stdout.flush()


signal.signal(signal.SIGUSR1, on_usr1)
heap = [[i] for i in range(int(sys.argv[1]) if len(sys.argv) > 1 else 200000)]
threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(len(counters))]
for t in threads:
    t.start()
while not all(counters):
    time.sleep(0.001)
sys.stdout.write(json.dumps({"pid": os.getpid(), "threads": 1 + len(threads)}) + "\n")
sys.stdout.flush()
while True:
    time.sleep(0.05)
