"""Core-file fixture: part of the heap gc.freeze()d, instances of two user classes, a global
list holding the leak, 3 worker threads parked in a known call chain. Changes into the
directory given as argv[1] (where a kernel core would be written), states its own answers and
blocks holding the GIL: the test then dumps it (gcore, or SIGABRT for a kernel core)."""
import gc
import os
import sys
import threading

import oracle

os.chdir(sys.argv[1])
gc.freeze()  # what the interpreter had so far: a pre-fork server's frozen part


class Record:
    def __init__(self, i):
        self.i = i
        self.payload = bytes(100)


class Slotted:
    __slots__ = ("a",)

    def __init__(self, i):
        self.a = i


parked = threading.Event()
ready = []


def park(k):
    ready.append(k)
    parked.wait()


def main():
    threads = [threading.Thread(target=park, args=(k,), daemon=True) for k in range(3)]
    for t in threads:
        t.start()
    while len(ready) < len(threads):
        pass  # busy wait: no sleep, no GC-tracked allocation worth counting
    global records, slotted
    records = [Record(i) for i in range(5000)]
    slotted = [Slotted(i) for i in range(300)]
    facts = {"types": oracle.census(Record, Slotted), "threads": 1 + len(threads)}
    oracle.report_and_block(facts)


main()
