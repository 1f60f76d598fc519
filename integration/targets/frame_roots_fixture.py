"""Frame locals as roots (issue 10): a second thread blocks inside hold_locals() holding a local
list of Held instances that nothing else references. The target states the thread's ids, the
function and local names, and what that local retains (objects reachable from it by
gc.get_referents that neither sys.modules nor any other frame's locals reach, with their
sys.getsizeof), then blocks holding the GIL (oracle.py)."""
import gc
import sys
import threading

import oracle

N = 500


class Held:
    def __init__(self, i):
        self.label = "held-%d" % i
        self.data = [i * 3 + 100000]


def hold_locals(ready, done, ids, box):
    held = [Held(i) for i in range(N)]
    ids.append(threading.get_native_id())
    ids.append(threading.get_ident())
    box.append(held)  # for the target's own walk; emptied before it blocks
    ready.set()
    done.acquire()  # blocks with the GIL released until the test has looked
    return len(held)


def reach(starts, skip_ids=()):
    seen = {}
    stack = list(starts)
    while stack:
        o = stack.pop()
        if id(o) in seen or id(o) in skip_ids:
            continue
        seen[id(o)] = o
        stack.extend(gc.get_referents(o))
        if isinstance(o, dict):
            stack.extend(o.keys())  # str keys are skipped by dict_traverse, held all the same
    return seen


def other_threads_locals(frame_to_skip):
    """The locals of every frame of every other thread but one frame."""
    out = []
    me = threading.get_ident()
    for tid, f in sys._current_frames().items():
        while tid != me and f is not None:
            if f is not frame_to_skip:
                out.extend(f.f_locals.values())
            f = f.f_back
    return out


def measure(ident, held, main_locals):
    """What the worker's local retains once this thread blocks: reachable from it, and not
    from sys.modules, main()'s locals (those alive while blocked) or another thread's frame."""
    frame = sys._current_frames()[ident]
    while frame is not None and frame.f_code.co_name != "hold_locals":
        frame = frame.f_back
    without = reach(list(sys.modules.values()) + other_threads_locals(frame) + main_locals)
    out = {"bytes": 0, "count": 0}
    for i, o in reach([held]).items():
        if i not in without:
            out["bytes"] += sys.getsizeof(o)
            out["count"] += 1
    return out


def main():
    ready, done, ids, box = threading.Event(), threading.Lock(), [], []
    done.acquire()
    worker = threading.Thread(target=hold_locals, args=(ready, done, ids, box), daemon=True)
    worker.start()
    ready.wait()
    gc.collect()
    retained = measure(ids[1], box.pop(), [ready, done, ids, box, worker])
    facts = {"native_id": ids[0], "ident": ids[1], "func": "hold_locals", "local": "held",
             "instances": N, "retained": retained, "version": list(sys.version_info[:2])}
    oracle.report_and_block(facts)
    done.release()
    worker.join()


main()
