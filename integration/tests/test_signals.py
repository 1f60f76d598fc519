"""pypeek interrupted or killed while it holds a multi-threaded target stopped (issue 9).

- SIGINT, SIGTERM and SIGHUP at random moments of 200 runs (half of them while the target's
  threads are seen stopped): pypeek exits promptly with a truthful status (0 or 6 when it
  finished first, else killed by that very signal after cleaning up), never crashes or hangs,
  and leaves no thread stopped or traced.
- SIGKILL of pypeek while the target is frozen, 100 times: the kernel's auto-detach resumes
  the target every time (checked in /proc), and every thread of the target makes progress.
- A target that was already stopped (SIGSTOP) before pypeek ran is left stopped, also when
  pypeek is interrupted mid-freeze; SIGCONT then resumes it.
Facts come from /proc and from the target's own counters, never from pypeek."""
import os
import random
import signal
import subprocess
import time

from harness import TestFailure, check
from procstate import any_stopped, task_states, wait_until_frozen  # noqa: F401

SIGNAL_RUNS = 200
KILL_RUNS = 100
EXIT_TIMEOUT = 20  # seconds pypeek may take to exit after a signal before it counts as a hang


def check_released(pid, what, expect_state=None):
    states = task_states(pid)
    # A thread released into a group stop runs briefly before it stops again (T).
    deadline = time.monotonic() + 5
    while expect_state and time.monotonic() < deadline and \
            any(s[0] != expect_state or s[1] for s in states.values()):
        time.sleep(0.001)
        states = task_states(pid)
    check(states, "%s: the target is gone" % what)
    traced = {t: s for t, s in states.items() if s[1] != 0}
    check(not traced, "%s: threads still traced: %s" % (what, traced))
    if expect_state is None:
        stopped = {t: s for t, s in states.items() if s[0] in "tT"}
        check(not stopped, "%s: threads left stopped: %s" % (what, stopped))
    else:
        wrong = {t: s for t, s in states.items() if s[0] != expect_state}
        check(not wrong, "%s: threads should all be %s: %s" % (what, expect_state, wrong))


def counters(t):
    os.kill(t.pid, signal.SIGUSR1)
    return t.read_line(timeout=10)["counters"]


def check_progress(t, what):
    """Every worker thread of the target counts on after pypeek is gone (bounded wait)."""
    before = counters(t)
    deadline = time.monotonic() + 10
    after = before
    while time.monotonic() < deadline:
        after = counters(t)
        if all(a > b for a, b in zip(after, before)):
            return
        time.sleep(0.002)
    raise TestFailure("%s: threads stopped making progress: %s -> %s" % (what, before, after))


def start_pypeek(ctx, pid):
    return subprocess.Popen([ctx.pypeek, "--json", str(pid)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def finish(p, what):
    try:
        _, err = p.communicate(timeout=EXIT_TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise TestFailure("%s: pypeek did not exit within %ds (hang)" % (what, EXIT_TIMEOUT))
    return p.returncode, err.decode(errors="replace")


def test_interrupt_signals_200_runs(ctx):
    rnd = random.Random(int(os.environ.get("PYPEEK_TEST_SEED", "0")) or None)
    sigs = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
    with ctx.start_target("threads_fixture.py") as t:
        t.read_line()
        # How long an uninterrupted run takes: the random delays cover all of it.
        t0 = time.monotonic()
        rc, _, err = ctx.run_pypeek("--json", t.pid)
        check(rc == 0, "uninterrupted run exited %d: %s" % (rc, err))
        span = time.monotonic() - t0
        outcomes = {}
        latency_max = 0.0
        frozen_hits = 0
        for i in range(SIGNAL_RUNS):
            sig = sigs[i % 3]
            what = "run %d (%s)" % (i, signal.Signals(sig).name)
            p = start_pypeek(ctx, t.pid)
            if i % 2:
                time.sleep(rnd.uniform(0, span))
            else:
                frozen_hits += wait_until_frozen(p, t.pid, span * 4)
                time.sleep(rnd.uniform(0, 0.01))
            sent = time.monotonic()
            if p.poll() is None:
                p.send_signal(sig)
            rc, err = finish(p, what)
            latency_max = max(latency_max, time.monotonic() - sent)
            check(rc in (0, 6, -sig), "%s: pypeek exited %d: %s" % (what, rc, err.strip()))
            if rc == -sig and "interrupted" not in err and err:
                raise TestFailure("%s: killed by the signal but stderr says %r" % (what, err))
            outcomes[rc] = outcomes.get(rc, 0) + 1
            check_released(t.pid, what)
        check_progress(t, "after %d interrupted runs" % SIGNAL_RUNS)
        check(frozen_hits >= SIGNAL_RUNS // 4,
              "only %d of %d runs were caught mid-freeze" % (frozen_hits, SIGNAL_RUNS // 2))
        print("    %d runs: exits %s; %d signalled while frozen; slowest exit after the "
              "signal %.0f ms" % (SIGNAL_RUNS, dict(sorted(outcomes.items())), frozen_hits,
                                  latency_max * 1000))


def test_sigkill_mid_freeze_100_times(ctx):
    rnd = random.Random(int(os.environ.get("PYPEEK_TEST_SEED", "0")) or None)
    with ctx.start_target("threads_fixture.py") as t:
        t.read_line()
        killed_frozen = 0
        attempts = 0
        while killed_frozen < KILL_RUNS:
            attempts += 1
            check(attempts <= KILL_RUNS * 2,
                  "only %d of %d runs could be killed mid-freeze" % (killed_frozen, attempts))
            p = start_pypeek(ctx, t.pid)
            frozen = wait_until_frozen(p, t.pid, 30)
            time.sleep(rnd.uniform(0, 0.005))
            if p.poll() is None:
                p.kill()
            rc, err = finish(p, "kill %d" % attempts)
            if rc == -signal.SIGKILL and frozen:
                killed_frozen += 1
            else:
                check(rc in (0, 6, -signal.SIGKILL),
                      "kill %d: pypeek exited %d: %s" % (attempts, rc, err.strip()))
            check_released(t.pid, "after SIGKILL %d" % attempts)
            check_progress(t, "after SIGKILL %d" % attempts)
        print("    %d SIGKILLs mid-freeze (%d runs); the target resumed every time"
              % (killed_frozen, attempts))


def test_stopped_target_is_left_stopped(ctx):
    with ctx.start_target("threads_fixture.py", 20000) as t:
        t.read_line()
        os.kill(t.pid, signal.SIGSTOP)
        deadline = time.monotonic() + 10
        while any(s[0] != "T" for s in task_states(t.pid).values()):
            check(time.monotonic() < deadline, "test set-up: SIGSTOP did not stop the target")
            time.sleep(0.001)
        rc, out, err = ctx.run_pypeek("--json", t.pid)
        check(rc == 0, "pypeek on a stopped target exited %d: %s" % (rc, err.strip()))
        check_released(t.pid, "a stopped target after pypeek", expect_state="T")
        # Interrupted mid-freeze: still left as it was found.
        for i, sig in enumerate([signal.SIGINT, signal.SIGTERM, signal.SIGKILL]):
            p = start_pypeek(ctx, t.pid)
            time.sleep(0.05 * i)
            p.send_signal(sig)
            finish(p, "stopped target, %s" % signal.Signals(sig).name)
            check_released(t.pid, "a stopped target after %s" % signal.Signals(sig).name,
                           expect_state="T")
        os.kill(t.pid, signal.SIGCONT)
        check_progress(t, "after SIGCONT")
