"""pypeek interrupted or killed while it holds a multi-threaded target stopped (issue 9).

- SIGINT, SIGTERM and SIGHUP in 200 runs: half at random moments of the first RANDOM_SPAN
  seconds of a default run (resolve, freeze, copy, then the walk of the copy), half sent
  to `--streaming` runs on a larger heap (the heap walk runs frozen and checks the
  interrupt flag as it goes) only once /proc shows a thread of the target stopped while pypeek
  still runs; only such confirmed hits count, and at least FROZEN_REQUIRED must happen. The
  walk checks the flag as it goes: the median time from such a signal to pypeek's exit must
  be under a quarter of how long an uninterrupted --streaming run keeps the target stopped
  (seen in /proc; a walk that ignored the flag would run on to its end: half of it, on
  average).
  pypeek exits promptly with a truthful status (0 or 6 when it finished first, else killed by
  that very signal after cleaning up), never crashes or hangs, and leaves no thread stopped or
  traced.
- SIGKILL of pypeek while the target is confirmed frozen, 100 times: the kernel's auto-detach
  resumes the target every time (checked in /proc), and every thread of the target makes
  progress.
- A target that was already stopped (SIGSTOP) before pypeek ran is left stopped, also when
  pypeek is interrupted mid-freeze (which then exits 0 or dies of that signal); SIGCONT then
  resumes it.
Facts come from /proc and from the target's own counters, never from pypeek."""
import os
import random
import signal
import subprocess
import time

from harness import EXIT_INCONSISTENT, TestFailure, check
from procstate import any_stopped, task_states, wait_until_frozen
from workers import check_progress

SIGNAL_RUNS = 200
FROZEN_REQUIRED = SIGNAL_RUNS // 4  # of the SIGNAL_RUNS // 2 runs that try to hit the freeze
STREAMING_HEAP = 600000  # tracked objects: a --streaming run is frozen for about 0.4 s here
RANDOM_SPAN = 1.5  # seconds: a default run on that heap takes several (its graph, resumed)
KILL_RUNS = 100
EXIT_TIMEOUT = 20  # seconds pypeek may take to exit after a signal before it counts as a hang


def start_pypeek(ctx, pid, *args):
    return subprocess.Popen([ctx.pypeek, "--json", str(pid)] + list(args),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stopped_span(ctx, pid):
    """Seconds from the first to the last moment /proc shows a thread of pid stopped during
    one uninterrupted `pypeek --json --streaming` run."""
    p = start_pypeek(ctx, pid, "--streaming")
    first = last = None
    while p.poll() is None:
        if any_stopped(pid):
            last = time.monotonic()
            first = first or last
    _, err = finish(p, "uninterrupted --streaming run")
    check(p.returncode == 0, "uninterrupted --streaming run exited %d: %s"
          % (p.returncode, err.strip()))
    check(first is not None, "test set-up: the --streaming run was never seen stopping the target")
    return last - first


def signal_if_frozen(p, pid, sig, limit, delay=0.0):
    """Waits until /proc shows a thread of pid stopped while pypeek (p) runs, then `delay`
    seconds more, then sends sig to pypeek. (confirmed, when): confirmed only when a thread
    was still stopped and pypeek still running just before the signal went out."""
    wait_until_frozen(p, pid, limit)
    time.sleep(delay)
    confirmed = p.poll() is None and any_stopped(pid)
    sent = time.monotonic()
    if p.poll() is None:
        p.send_signal(sig)
    return confirmed, sent


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
    with ctx.start_target("threads_fixture.py", STREAMING_HEAP) as t:
        t.read_line()
        # How long an uninterrupted run takes: the random delays cover it, up to RANDOM_SPAN.
        t0 = time.monotonic()
        rc, _, err = ctx.run_pypeek("--json", t.pid)
        check(rc == 0, "uninterrupted run exited %d: %s" % (rc, err))
        span = min(time.monotonic() - t0, RANDOM_SPAN)
        frozen_span = sorted(stopped_span(ctx, t.pid) for _ in range(3))[1]
        frozen_latencies = []
        outcomes = {}
        latency_max = {"default": 0.0, "--streaming": 0.0}
        frozen_hits = 0
        for i in range(SIGNAL_RUNS):
            sig = sigs[i % 3]
            what = "run %d (%s)" % (i, signal.Signals(sig).name)
            if i % 2:
                p = start_pypeek(ctx, t.pid)
                time.sleep(rnd.uniform(0, span))
                sent = time.monotonic()
                if p.poll() is None:
                    p.send_signal(sig)
            else:
                p = start_pypeek(ctx, t.pid, "--streaming")
                # A different moment of the freeze each time: the attach, the walk, the end.
                confirmed, sent = signal_if_frozen(p, t.pid, sig, 30,
                                                   rnd.uniform(0, frozen_span * 0.8))
                frozen_hits += confirmed
            rc, err = finish(p, what)
            mode = "default" if i % 2 else "--streaming"
            latency_max[mode] = max(latency_max[mode], time.monotonic() - sent)
            if mode == "--streaming" and confirmed:
                frozen_latencies.append(time.monotonic() - sent)
            check(rc in (0, EXIT_INCONSISTENT, -sig),
                  "%s: pypeek exited %d: %s" % (what, rc, err.strip()))
            if rc == -sig and "interrupted" not in err and err:
                raise TestFailure("%s: killed by the signal but stderr says %r" % (what, err))
            outcomes[rc] = outcomes.get(rc, 0) + 1
            t.check_left_alone(what)
        check_progress(t, "after %d interrupted runs" % SIGNAL_RUNS)
        print("    %d runs: exits %s; %d signalled while confirmed frozen; slowest exit after "
              "the signal %.0f ms (default), %.0f ms (--streaming)"
              % (SIGNAL_RUNS, dict(sorted(outcomes.items())), frozen_hits,
                 latency_max["default"] * 1000, latency_max["--streaming"] * 1000))
        check(frozen_hits >= FROZEN_REQUIRED,
              "only %d runs were signalled while confirmed frozen; %d are required"
              % (frozen_hits, FROZEN_REQUIRED))
        median = sorted(frozen_latencies)[len(frozen_latencies) // 2]
        print("    signalled while frozen: median exit after %.0f ms; an uninterrupted "
              "--streaming run keeps the target stopped %.0f ms" % (median * 1000,
                                                                   frozen_span * 1000))
        check(median < frozen_span / 4,
              "signalled while frozen, pypeek took %.0f ms (median) to exit: the walk does not "
              "check the flag (an uninterrupted --streaming run keeps the target stopped %.0f ms)"
              % (median * 1000, frozen_span * 1000))


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
            frozen, _ = signal_if_frozen(p, t.pid, signal.SIGKILL, 30, rnd.uniform(0, 0.005))
            rc, err = finish(p, "kill %d" % attempts)
            if rc == -signal.SIGKILL and frozen:
                killed_frozen += 1
            else:
                check(rc in (0, EXIT_INCONSISTENT, -signal.SIGKILL),
                      "kill %d: pypeek exited %d: %s" % (attempts, rc, err.strip()))
            t.check_left_alone("after SIGKILL %d" % attempts)
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
        t.check_left_alone("a stopped target after pypeek", stopped=True)
        # Interrupted mid-freeze: still left as it was found. A stopped target holds still, so
        # a run pypeek finished before the signal exits 0; else it dies of the signal.
        for i, sig in enumerate([signal.SIGINT, signal.SIGTERM, signal.SIGKILL]):
            name = signal.Signals(sig).name
            p = start_pypeek(ctx, t.pid)
            time.sleep(0.05 * i)
            p.send_signal(sig)
            rc, err = finish(p, "stopped target, %s" % name)
            check(rc in (0, -sig), "stopped target, %s: pypeek exited %d: %s"
                  % (name, rc, err.strip()))
            if rc == -sig and sig != signal.SIGKILL:
                check(err == "" or "interrupted" in err,
                      "stopped target, %s: killed by the signal but stderr says %r" % (name, err))
            t.check_left_alone("a stopped target after %s" % name, stopped=True)
        os.kill(t.pid, signal.SIGCONT)
        check_progress(t, "after SIGCONT")
