"""A busy target (4 threads allocating, freeing and collecting): 200 consecutive pypeek runs
each exit 0 with a consistent snapshot or exit 6 cleanly, never crash or hang, and never leave
the target stopped; afterwards every worker thread still makes progress."""
import json
import os
import signal
import time

from harness import check

RUNS = 200


def progress(t):
    os.kill(t.pid, signal.SIGUSR1)
    return t.read_line()["counters"]


def test_busy_target_200_runs(ctx):
    with ctx.start_target("busy_fixture.py") as t:
        t.read_line()
        outcomes = {0: 0, 6: 0}
        retries = 0
        for i in range(RUNS):
            rc, out, err = ctx.run_pypeek("--json", t.pid, timeout=60)
            check(rc in (0, 6), "run %d: pypeek exited %d: %s" % (i, rc, err.strip()))
            outcomes[rc] += 1
            snap = json.loads(out)
            check(snap["attach"]["consistent"] is (rc == 0),
                  "run %d: exit %d but consistent=%r" % (i, rc, snap["attach"]["consistent"]))
            retries += snap["attach"]["retries"]
            states = t.thread_states()
            check(all(s not in "tT" for s in states.values()),
                  "run %d left threads stopped: %s" % (i, states))
            check(t.proc.poll() is None, "target died during run %d" % i)
        print("    busy target: %d consistent, %d exit 6, %d retries in %d runs"
              % (outcomes[0], outcomes[6], retries, RUNS))
        before = progress(t)
        after = progress(t)
        deadline = time.monotonic() + 20  # the GIL is not fair: allow any thread its turn
        while not all(a > b for a, b in zip(after, before)) and time.monotonic() < deadline:
            after = progress(t)
        check(all(a > b for a, b in zip(after, before)),
              "worker threads stopped making progress: %s -> %s" % (before, after))
