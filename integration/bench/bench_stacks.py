#!/usr/bin/env python3
"""What thread stacks add to the pause (issue 15): run on purpose, not part of `make test`.

usage: integration/bench/bench_stacks.py --pypeek build/pypeek [--threads 64] [--runs 21]

Starts integration/bench/stacks_target.py (N threads parked at the end of a Python call chain,
the main thread blocked holding the GIL) under Debian's /usr/bin/python3 and reads it with
`pypeek --json --no-graph` with and without --no-stacks, alternating, --runs times each. Prints
the median pause (attach.pause_us) of each and of the paired differences, for the default
image copy and for --streaming (where the Python stacks are walked frozen), and the median pause and wall
time of `pypeek stacks` and `pypeek stacks --native`."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def pause_of(pypeek, args):
    t0 = time.monotonic()
    p = subprocess.run([pypeek] + args, capture_output=True, text=True, timeout=300)
    wall = (time.monotonic() - t0) * 1e6
    if p.returncode != 0:
        sys.exit("pypeek %s exited %d: %s" % (" ".join(args), p.returncode, p.stderr))
    doc = json.loads(p.stdout) if p.stdout.startswith("{") else None
    return doc, wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pypeek", default="build/pypeek")
    ap.add_argument("--threads", type=int, default=64)
    ap.add_argument("--runs", type=int, default=21)
    a = ap.parse_args()
    target = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "stacks_target.py"),
                               str(a.threads)], stdout=subprocess.PIPE)
    try:
        ready = json.loads(target.stdout.readline())
        pid = str(target.pid)
        table = []
        for mode in ([], ["--streaming"]):
            with_s, without_s = [], []
            for _ in range(a.runs):
                doc, _ = pause_of(a.pypeek, ["--json", "--no-graph"] + mode + [pid])
                with_s.append(doc["attach"]["pause_us"])
                nthreads = len(doc["threads"])
                doc, _ = pause_of(a.pypeek, ["--json", "--no-graph", "--no-stacks"] + mode + [pid])
                without_s.append(doc["attach"]["pause_us"])
            diffs = [w - wo for w, wo in zip(with_s, without_s)]
            table.append((" ".join(["--json", "--no-graph"] + mode), statistics.median(with_s),
                          statistics.median(without_s), statistics.median(diffs)))
        rows = []
        for args in (["stacks", pid], ["stacks", "--native", pid]):
            walls, pauses = [], []
            for _ in range(max(3, a.runs // 3)):
                p0 = time.monotonic()
                p = subprocess.run([a.pypeek] + args, capture_output=True, text=True)
                walls.append((time.monotonic() - p0) * 1e6)
                head = p.stdout.split("\n", 1)[0]  # "... paused N us"
                pauses.append(int(head.rsplit("paused ", 1)[1].split()[0]))
            rows.append((" ".join(args[:-1]), statistics.median(pauses), statistics.median(walls)))
        print("threads in target: %d (+ main), threads in pypeek's JSON: %d, runs: %d"
              % (ready["threads"], nthreads, a.runs))
        print("%-40s %14s %14s %14s" % ("pause (us), median", "with stacks", "--no-stacks",
                                        "difference"))
        for name, w, wo, d in table:
            print("%-40s %14d %14d %14d" % ("pypeek " + name, w, wo, d))
        for name, pause, wall in rows:
            print("%-40s %12d   wall %d us" % ("pypeek " + name, pause, wall))
    finally:
        target.kill()
        target.wait()


main()
