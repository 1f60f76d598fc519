"""GC-state fixture: one scenario per run (argv[1]), each stating the interpreter's own gc
answers through oracle.report_and_block.

  plain       some cycles collected, nothing special
  saveall     gc.set_debug(gc.DEBUG_SAVEALL) + cycles of objects with __del__, gc.collect()
  disabled    gc.disable() while cycles accumulate; blocks twice, more cycles in between
  freeze      objects moved to the permanent generation with gc.freeze()
  thresholds  gc.set_threshold(1234, 56, 78)
"""
import gc
import sys

import oracle


class Finalized:
    def __del__(self):
        pass


class Node:
    pass


def make_cycles(n, cls):
    for _ in range(n):
        a, b = cls(), cls()
        a.other, b.other = b, a


def main(scenario):
    keep = [Node() for _ in range(500)]
    if scenario == "plain":
        make_cycles(300, Node)
        gc.collect()
        make_cycles(100, Node)
    elif scenario == "saveall":
        gc.set_debug(gc.DEBUG_SAVEALL)
        make_cycles(40, Finalized)
        make_cycles(10, Node)
        gc.collect()
    elif scenario == "disabled":
        gc.disable()
        make_cycles(200, Node)
        oracle.report_and_block({"round": 1})
        make_cycles(300, Node)
    elif scenario == "freeze":
        frozen = [Node() for _ in range(1000)]
        gc.freeze()
        make_cycles(50, Node)
    elif scenario == "thresholds":
        gc.set_threshold(1234, 56, 78)
        make_cycles(100, Node)
    else:
        raise SystemExit("unknown scenario " + scenario)
    oracle.report_and_block({"round": 2})
    del keep


main(sys.argv[1])
