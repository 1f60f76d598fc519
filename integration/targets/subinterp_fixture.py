"""Subinterpreter fixture (3.13+): the main interpreter and one isolated subinterpreter (its
own GIL, GC state and obmalloc) each build their own objects and state their own gc answers.
The subinterpreter runs in a second thread, measures itself last and then blocks in os.read
(nothing runs in it while blocked); the main interpreter then blocks holding its GIL through
oracle.report_and_block. Released by a byte on stdin (oracle.py); then the subinterpreter is
let go and destroyed."""
import json
import os
import threading

try:
    import _interpreters as interpreters  # 3.13+
except ImportError:  # 3.12
    import _xxsubinterpreters as interpreters

import oracle

SUB_CODE = r'''
import gc, json, os, sys

class SubThing:
    def __init__(self, i):
        self.i = i

things = [SubThing(i) for i in range(700)]
lists = [[i] for i in range(3000)]

def census(*types):
    counts = dict.fromkeys(types, 0)
    sizes = dict.fromkeys(types, 0)
    for o in gc.get_objects():
        t = type(o)
        if t in counts:
            counts[t] += 1
            sizes[t] += sys.getsizeof(o)
    return {(t.__qualname__ if t.__module__ == "builtins" else t.__module__ + "." +
             t.__qualname__): {"count": counts[t], "bytes": sizes[t]} for t in types}

gc.disable()
facts = {"types": census(SubThing, list), "gc_threshold": list(gc.get_threshold()),
         "gc_stats": gc.get_stats()}
text = json.dumps(facts)
del facts
g0 = len(gc.get_objects(0))
g1 = len(gc.get_objects(1))
g2 = len(gc.get_objects(2))
frozen = gc.get_freeze_count()
warm = [(i, i, i) for i in range(16)]
del warm
c0 = gc.get_count()[0]
c1 = gc.get_count()[1]
c2 = gc.get_count()[2]
line = (text[:-1] + ', "gc_generations": [' + str(g0) + ", " + str(g1) + ", " + str(g2) +
        '], "gc_permanent": ' + str(frozen) + ', "gc_count": [' + str(c0) + ", " + str(c1) +
        ", " + str(c2) + "]}\n")
gc.enable()
os.write(TRUTH_FD, line.encode())
os.read(GO_FD, 1)
'''


class MainThing:
    pass


def read_line(fd):
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = os.read(fd, 65536)
        if not chunk:
            raise SystemExit("the subinterpreter exited before answering")
        buf += chunk
    return json.loads(buf)


def main():
    sub = interpreters.create()
    sub_id = sub if isinstance(sub, int) else int(sub)
    truth_r, truth_w = os.pipe()
    go_r, go_w = os.pipe()
    code = SUB_CODE.replace("TRUTH_FD", str(truth_w)).replace("GO_FD", str(go_r))
    runner = threading.Thread(target=interpreters.exec, args=(sub, code))
    runner.start()
    sub_truth = read_line(truth_r)
    main_things = [MainThing() for _ in range(400)]
    facts = {"types": oracle.census(MainThing, list), "sub": sub_truth, "sub_id": sub_id,
             "runner_tid": runner.native_id, "main_tid": threading.main_thread().native_id,
             "sub_block_line": SUB_CODE.split("\n").index("os.read(GO_FD, 1)") + 1}
    oracle.report_and_block(facts)
    os.write(go_w, b"x")
    runner.join()
    interpreters.destroy(sub)
    del main_things


main()
