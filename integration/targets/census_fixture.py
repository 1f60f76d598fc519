"""Census fixture (issue: object census): 100k small lists, 1,000 instances of a user class,
200 instances of a __slots__ class, 4 worker threads. States its own answers, blocks holding
the GIL, and after release proves every worker thread still makes progress."""
import json
import sys
import threading
import time

import oracle


class User:
    def __init__(self, i):
        self.i = i


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self, i):
        self.a = i
        self.b = None


counters = [0, 0, 0, 0]
stop = [False]


def worker(k):
    # No GC-tracked allocation in this loop: it must not change the heap while measured.
    while not stop[0]:
        counters[k] += 1
        time.sleep(0.0005)


def main():
    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(4)]
    for t in threads:
        t.start()
    lists = [[i] for i in range(100_000)]
    users = [User(i) for i in range(1000)]
    slotted = [Slotted(i) for i in range(200)]
    facts = {"types": oracle.census(User, Slotted, list), "threads": 1 + len(threads)}
    oracle.report_and_block(facts)
    # Released: show that every worker advances (bounded wait, no fixed sleep).
    before = list(counters)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(c > b for c, b in zip(counters, before)):
        time.sleep(0.001)
    progressed = all(c > b for c, b in zip(counters, before))
    stop[0] = True
    sys.stdout.write(json.dumps({"progress": progressed}) + "\n")
    sys.stdout.flush()
    del lists, users, slotted


main()
