"""Integration-test harness: starts real CPython targets, runs pypeek, compares with the
target's own answers. Tests are functions named test_* in integration/tests/test_*.py taking
a Context. A test fails by raising; it skips by raising Skip (reported loudly, never counted
as passed)."""
import json
import os
import re
import select
import signal
import subprocess
import time

import procstate

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TARGETS = os.path.join(ROOT, "integration", "targets")
DEBIAN_PYTHON = "/usr/bin/python3"


class Skip(Exception):
    """The test cannot run here; the reason is printed."""


class TestFailure(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def check_eq(actual, expected, what):
    if actual != expected:
        raise TestFailure("%s: pypeek says %r, the target says %r" % (what, actual, expected))


def _exit_codes():
    """pypeek's exit codes by error name, read from their one source: the PK_ERRORS table of
    util/error.h (X(name, exit code, description))."""
    with open(os.path.join(ROOT, "util", "error.h")) as f:
        text = f.read()
    codes = {m.group(1): int(m.group(2)) for m in re.finditer(r'X\((\w+), (\d+), "', text)}
    if "USAGE" not in codes or "INCONSISTENT" not in codes:
        raise RuntimeError("util/error.h: no PK_ERRORS table found")
    return codes


EXIT = _exit_codes()
EXIT_USAGE, EXIT_NO_PROCESS, EXIT_PERMISSION = EXIT["USAGE"], EXIT["NO_PROCESS"], EXIT["PERMISSION"]
EXIT_NOT_CPYTHON, EXIT_NO_DEBUG_INFO = EXIT["NOT_PYTHON"], EXIT["NO_LAYOUT"]
EXIT_INCONSISTENT, EXIT_BAD_FILE = EXIT["INCONSISTENT"], EXIT["BAD_FILE"]
EXIT_INTERNAL = EXIT["INTERNAL"]


def check_left_alone(pid, what, stopped=False, tracer=0, settle=5.0):
    """pypeek must leave the target as it found it: every thread running or sleeping (not in
    a ptrace or group stop, t/T), or with stopped=True every thread in its group stop (T),
    and none traced by anyone but `tracer`. Facts from /proc/PID/task/*/status. A thread
    released into a group stop runs briefly before it stops again: with stopped=True the
    state is polled for up to `settle` seconds."""
    def wrong(states):
        return {t: s for t, s in states.items()
                if s[1] != tracer or (s[0] != "T" if stopped else s[0] in "tT")}
    states = procstate.task_states(pid)
    deadline = time.monotonic() + settle
    while stopped and states and wrong(states) and time.monotonic() < deadline:
        time.sleep(0.001)
        states = procstate.task_states(pid)
    check(states, "%s: the target is gone" % what)
    bad = wrong(states)
    want = "in a group stop (T)" if stopped else "not stopped (t/T)"
    check(not bad, "%s: threads should all be %s with TracerPid %d; (state, TracerPid): %s"
          % (what, want, tracer, bad))


def expect(rc, out, err, code, phrases, what):
    """pypeek must exit `code`, print nothing on stdout, and say every phrase on stderr."""
    check_eq(rc, code, "exit code for %s (stderr: %r)" % (what, err.strip()))
    check(out == "", "%s: unexpected output on stdout: %r" % (what, out[:200]))
    for p in phrases:
        check(p.lower() in err.lower(),
              "%s: stderr should mention %r, it says: %r" % (what, p, err.strip()))


class Target:
    """A fixture process. Its first stdout line is its own answer (JSON); it then blocks
    holding the GIL in a read of its stdin (targets/oracle.py) until release() writes a byte
    there: nothing is lost or early, whenever either side gets to run."""

    def __init__(self, argv, env=None, timeout=120):
        self.argv = argv
        full_env = dict(os.environ)
        full_env["PYTHONPATH"] = TARGETS
        full_env["PYTHONDONTWRITEBYTECODE"] = "1"
        if env:
            full_env.update(env)
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=full_env,
                                     start_new_session=True)
        self.pid = self.proc.pid
        self.timeout = timeout
        self._buf = b""

    def read_line(self, timeout=None):
        """Next stdout line as JSON; waits on the pipe (no sleeps), fails on EOF/timeout."""
        deadline = time.monotonic() + (timeout or self.timeout)
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TestFailure("target %s gave no answer within %.0fs"
                                  % (self.argv, timeout or self.timeout))
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                err = self.proc.stderr.read().decode(errors="replace")
                raise TestFailure("target %s exited before answering: %s" % (self.argv, err))
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def release(self):
        """Lets the target go on from its current oracle.report_and_block()."""
        self.proc.stdin.write(b"\n")
        self.proc.stdin.flush()

    def check_left_alone(self, what, **kw):
        """check_left_alone() of this target, which must also still be alive."""
        check(self.proc.poll() is None, "%s: the target died (exit %s)"
              % (what, self.proc.returncode))
        check_left_alone(self.pid, what, **kw)

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        for s in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if s:
                try:
                    s.close()
                except BrokenPipeError:  # a release byte the target never read
                    pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Context:
    def __init__(self, pypeek, interpreter=None):
        self.pypeek = pypeek
        # The interpreter start_target uses when the test names none (integration/lib/
        # interpreters.py: the version matrix runs the same tests on each).
        self.interpreter = interpreter

    def on(self, interpreter):
        """This context with targets started by the given interpreter by default."""
        return Context(self.pypeek, interpreter)

    def run_pypeek(self, *args, timeout=120, **kw):
        """Runs pypeek; returns (exit code, stdout, stderr)."""
        p = subprocess.run([self.pypeek] + [str(a) for a in args], capture_output=True,
                           timeout=timeout, **kw)
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")

    def snapshot(self, pid, *args):
        """pypeek --json PID; fails the test unless it exits 0 with JSON that validates
        against schema/pypeek.snapshot-1.json (integration/lib/snapshot_schema.py)."""
        import snapshot_schema
        rc, out, err = self.run_pypeek("--json", pid, *args)
        check(rc == 0, "pypeek --json %s exited %d: %s" % (pid, rc, err.strip()))
        return snapshot_schema.validate(json.loads(out), "pypeek --json %s" % pid)

    def start_target(self, script, *args, python=None, env=None):
        if python is None and self.interpreter is not None:
            return self.interpreter.start(script, *args, env=env)
        python = python or DEBIAN_PYTHON
        if not os.path.exists(python):
            raise Skip("%s is not installed" % python)
        return Target([python, os.path.join(TARGETS, script)] + [str(a) for a in args], env=env)


def type_entry(snapshot, name):
    for t in snapshot["objects"]["types"]:
        if t["type"] == name:
            return t
    return {"type": name, "count": 0, "bytes": 0}
