"""A busy target (4 threads allocating, freeing and collecting; none blocks a signal, like most
services) under repeated pypeek runs.

- 200 consecutive runs: each exits 0 with a consistent snapshot or 6 cleanly, a majority are
  consistent, none crashes or hangs or leaves the target stopped; afterwards every worker
  thread still makes progress.
- A signal sent to the target while pypeek holds it frozen still runs the target's Python
  handler. CPython runs Python handlers only in the main thread; the busy target's main thread
  sleeps in Event.wait(), a lock that only a signal to the main thread itself interrupts. The
  kernel gives a process-directed signal to the main thread unless it is stopped or has just
  been woken, so a signal that waited out the freeze went to whichever thread pypeek released
  first: a worker, and the handler never ran (52 of 60 signals, before attach/freeze.c
  released the main thread first). The signal is sent only after /proc shows a thread stopped
  while pypeek still runs, and only such confirmed hits count.
Facts come from /proc and from the target's own counters, never from pypeek."""
import json
import os
import signal
import subprocess
import time

from harness import EXIT_INCONSISTENT, TestFailure, check
from procstate import any_stopped, describe_threads
from workers import ANSWER_TIMEOUT, check_progress, counters

RUNS = 200
FROZEN_SIGNALS = 60  # confirmed signals while frozen (each run takes about 0.3 s here)


def progress_line(t):
    """The target's counters as its answer line (workers.counters)."""
    return {"counters": counters(t)}


def test_busy_target_200_runs(ctx):
    with ctx.start_target("busy_fixture.py") as t:
        t.read_line()
        outcomes = {0: 0, EXIT_INCONSISTENT: 0}
        retries = 0
        for i in range(RUNS):
            rc, out, err = ctx.run_pypeek("--json", t.pid, timeout=60)
            check(rc in outcomes, "run %d: pypeek exited %d: %s" % (i, rc, err.strip()))
            outcomes[rc] += 1
            snap = json.loads(out)
            check(snap["attach"]["consistent"] is (rc == 0),
                  "run %d: exit %d but consistent=%r" % (i, rc, snap["attach"]["consistent"]))
            retries += snap["attach"]["retries"]
            t.check_left_alone("run %d" % i)
        print("    busy target: %d consistent, %d exit 6, %d retries in %d runs"
              % (outcomes[0], outcomes[EXIT_INCONSISTENT], retries, RUNS))
        check(outcomes[0] > RUNS // 2, "only %d of %d runs were consistent" % (outcomes[0], RUNS))
        check_progress(t, "after %d runs" % RUNS)


def test_signal_sent_while_frozen_runs_the_handler(ctx):
    with ctx.start_target("busy_fixture.py") as t:
        t.read_line()
        hits = runs = 0
        slowest = 0.0
        lost = []
        while hits < FROZEN_SIGNALS:
            runs += 1
            check(runs <= FROZEN_SIGNALS * 4, "only %d of %d runs were caught frozen"
                  % (hits, runs - 1))
            p = subprocess.Popen([ctx.pypeek, "--json", str(t.pid)], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
            frozen = False
            while p.poll() is None and not frozen:
                frozen = any_stopped(t.pid)
            # Confirmed: a thread was stopped and pypeek had not exited after seeing it.
            confirmed = frozen and p.poll() is None
            os.kill(t.pid, signal.SIGUSR1)
            _, err = p.communicate(timeout=60)
            check(p.returncode in (0, EXIT_INCONSISTENT),
                  "run %d: pypeek exited %d: %s" % (runs, p.returncode, err.decode().strip()))
            t.check_left_alone("run %d" % runs)
            sent = time.monotonic()
            try:
                answer = t.read_line(timeout=ANSWER_TIMEOUT)
            except TestFailure:
                # Not answered: name it, then wake the main thread itself so the next run
                # starts clean (one handler call answers both signals).
                lost.append("run %d (%s): %s" % (runs, "frozen" if confirmed else "pypeek ran",
                                                 describe_threads(t.pid)))
                answer = progress_line(t)
            check("counters" in answer, "unexpected target line %r" % answer)
            if confirmed:
                hits += 1
                slowest = max(slowest, time.monotonic() - sent)
        # Before attach/freeze.c released the main thread first, 52 of 60 were lost; a
        # signal can still land in the window where CPython's main thread has taken it but
        # not yet blocked again (the lock wait is not interrupted), seen once in 48 under load.
        check(len(lost) <= FROZEN_SIGNALS // 20,
              "%d of %d signals sent while frozen never ran the handler:\n%s"
              % (len(lost), runs, "\n".join(lost)))
        print("    %d signals sent while frozen (%d runs): %d not answered, the slowest answer "
              "%.0f ms after pypeek exited" % (hits, runs, len(lost), slowest * 1000))
