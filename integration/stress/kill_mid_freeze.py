#!/usr/bin/env python3
"""Stress: SIGKILL of a multi-threaded target while pypeek is stopping its threads.

Run on purpose, by hand; not part of `make test` nor of integration/run_tests.py (it takes
minutes and loads the machine). It looks for the hang once seen in
integration/tests/test_attach_errors.py::test_target_killed_mid_read: pypeek never exited after
its target was SIGKILLed while frozen (attach/freeze.c stop_thread waited for the leader only,
and the kernel reports the leader's death after the other traced threads' are reaped).

Each iteration starts integration/targets/threads_fixture.py (a main thread and 8 workers),
waits for its ready line, runs pypeek on it, polls /proc/PID/task/*/stat until any thread is in
tracing stop ('t': pypeek has started freezing), SIGKILLs the target at once, and then gives
pypeek TIMEOUT seconds to exit. Its exit code must be one of the documented ones
(util/error.h): 0 (it finished before the kill landed) or NO_PROCESS ("exited"). On a hang,
pypeek's /proc state (per thread: state, wchan, syscall, kernel stack when readable) is printed
and pypeek is killed. Every wait is a bounded poll loop, never a sleep.

  nice -n 10 python3 integration/stress/kill_mid_freeze.py --pypeek build/pypeek -n 300

Prints one line per anomaly and a summary: iterations, kills while a thread was in 't', hangs,
exit codes. Exit status 1 if any hang or undocumented exit code was seen."""
import argparse
import collections
import glob
import os
import re
import select
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TARGET = os.path.join(ROOT, "integration", "targets", "threads_fixture.py")


def exit_codes():
    """Exit codes by error name, from their one source: util/error.h's PK_ERRORS table."""
    with open(os.path.join(ROOT, "util", "error.h")) as f:
        return {m.group(1): int(m.group(2))
                for m in re.finditer(r'X\((\w+), (\d+), "', f.read())}


def task_states(pid):
    """State letter of every thread of pid ('' if gone)."""
    out = []
    for path in glob.glob("/proc/%d/task/*/stat" % pid):
        try:
            with open(path) as f:
                s = f.read()
        except OSError:
            continue
        out.append(s[s.rfind(")") + 2:][:1])
    return out


def read_ready_line(proc, timeout):
    """The target's first stdout line (every worker running), or None after timeout."""
    deadline = time.monotonic() + timeout
    buf = b""
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        r, _, _ = select.select([proc.stdout], [], [], left)
        if r:
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                return None
            buf += chunk
    return buf


def proc_facts(pid):
    """What /proc says about a (hung) process, thread by thread."""
    lines = []
    for task in sorted(glob.glob("/proc/%d/task/*" % pid)):
        facts = []
        for name in ("stat", "wchan", "syscall", "stack"):
            try:
                with open(os.path.join(task, name)) as f:
                    v = f.read().strip()
            except OSError as e:
                v = "unreadable (%s)" % e.strerror
            if name == "stat":
                v = "state " + v[v.rfind(")") + 2:][:1]
            facts.append("%s: %s" % (name, v.replace("\n", " | ")))
        lines.append("  task %s: %s" % (os.path.basename(task), "; ".join(facts)))
    return "\n".join(lines)


def one(args, codes):
    """One iteration: ('ok'|'hang'|'bad'|'missed'|'no-target', exit code or None, detail)."""
    target = subprocess.Popen([args.python, TARGET, str(args.heap)], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    pk = None
    try:
        if read_ready_line(target, 60) is None:
            return "no-target", None, "the target never said it was ready"
        pk = subprocess.Popen([args.pypeek] + args.pypeek_args + [str(target.pid)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # bounded poll: the first thread in tracing stop, or pypeek done without one seen
        deadline = time.monotonic() + 30
        hit = False
        while time.monotonic() < deadline:
            if "t" in task_states(target.pid):
                os.kill(target.pid, signal.SIGKILL)
                hit = True
                break
            if pk.poll() is not None:
                break
        if not hit:
            os.kill(target.pid, signal.SIGKILL)
        try:
            pk.wait(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            detail = "pypeek %d still running %gs after the kill:\n%s\n  target %d:\n%s" % (
                pk.pid, args.timeout, proc_facts(pk.pid), target.pid, proc_facts(target.pid))
            pk.kill()
            pk.wait()
            return "hang", None, detail
        err = pk.stderr.read().decode(errors="replace").strip()
        rc = pk.returncode
        if not hit:
            return "missed", rc, err
        if rc not in (codes["OK"], codes["NO_PROCESS"]):
            return "bad", rc, err
        if rc == codes["NO_PROCESS"] and "exited" not in err:
            return "bad", rc, err
        return "ok", rc, err
    finally:
        if pk is not None and pk.poll() is None:
            pk.kill()
            pk.wait()
        if target.poll() is None:
            target.kill()
        target.wait()
        target.stdout.close()
        if pk is not None:
            pk.stderr.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pypeek", required=True)
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("-n", "--iterations", type=int, default=300)
    ap.add_argument("--heap", type=int, default=20000, help="tracked objects in the target")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds pypeek has to exit")
    ap.add_argument("--pypeek-args", default="--json",
                    help="pypeek options before the PID, space-separated (--pypeek-args=--json)")
    args = ap.parse_args()
    args.pypeek_args = args.pypeek_args.split()
    codes = exit_codes()
    kinds = collections.Counter()
    rcs = collections.Counter()
    t0 = time.monotonic()
    for i in range(args.iterations):
        kind, rc, detail = one(args, codes)
        kinds[kind] += 1
        rcs[rc] += 1
        if kind in ("hang", "bad", "no-target"):
            print("iteration %d: %s, exit %s: %s" % (i, kind, rc, detail), flush=True)
    print("%d iterations in %.0f s: %d killed with a thread in 't', %d finished before any "
          "thread was seen stopped; hangs %d, undocumented exits %d, target failures %d"
          % (args.iterations, time.monotonic() - t0, kinds["ok"] + kinds["hang"] + kinds["bad"],
             kinds["missed"], kinds["hang"], kinds["bad"], kinds["no-target"]))
    print("exit codes: %s" % ", ".join("%s: %d" % (k, v) for k, v in
                                        sorted(rcs.items(), key=lambda x: str(x[0]))))
    return 1 if kinds["hang"] or kinds["bad"] else 0


if __name__ == "__main__":
    sys.exit(main())
