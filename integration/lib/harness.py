"""Integration-test harness: starts real CPython targets, runs pypeek, compares with the
target's own answers. Tests are functions named test_* in integration/tests/test_*.py taking
a Context. A test fails by raising; it skips by raising Skip (reported loudly, never counted
as passed)."""
import json
import os
import select
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TARGETS = os.path.join(ROOT, "integration", "targets")
DEBIAN_PYTHON = "/usr/bin/python3"
RELEASE_RETRY = 2.0  # seconds after a release with no answer before checking it was lost


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


# pypeek's documented exit codes (README "Exit codes", util/error.h)
EXIT_USAGE, EXIT_NO_PROCESS, EXIT_PERMISSION, EXIT_NOT_CPYTHON = 1, 2, 3, 4
EXIT_NO_DEBUG_INFO, EXIT_INCONSISTENT = 5, 6


def expect(rc, out, err, code, phrases, what):
    """pypeek must exit `code`, print nothing on stdout, and say every phrase on stderr."""
    check_eq(rc, code, "exit code for %s (stderr: %r)" % (what, err.strip()))
    check(out == "", "%s: unexpected output on stdout: %r" % (what, out[:200]))
    for p in phrases:
        check(p.lower() in err.lower(),
              "%s: stderr should mention %r, it says: %r" % (what, p, err.strip()))


class Target:
    """A fixture process. Its first stdout line is its own answer (JSON); it then blocks
    holding the GIL until release()."""

    def __init__(self, argv, env=None, timeout=120):
        self.argv = argv
        full_env = dict(os.environ)
        full_env["PYTHONPATH"] = TARGETS
        full_env["PYTHONDONTWRITEBYTECODE"] = "1"
        if env:
            full_env.update(env)
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=full_env, start_new_session=True)
        self.pid = self.proc.pid
        self.timeout = timeout
        self._buf = b""
        self._released_at = None

    def read_line(self, timeout=None):
        """Next stdout line as JSON; waits on the pipe (no sleeps), fails on EOF/timeout."""
        deadline = time.monotonic() + (timeout or self.timeout)
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TestFailure("target %s gave no answer within the timeout" % self.argv)
            r, _, _ = select.select([fd], [], [], min(left, RELEASE_RETRY))
            if not r:
                self._release_again_if_lost()
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                err = self.proc.stderr.read().decode(errors="replace")
                raise TestFailure("target %s exited before answering: %s" % (self.argv, err))
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        self._released_at = None
        return json.loads(line)

    def release(self):
        os.kill(self.pid, signal.SIGUSR1)
        self._released_at = time.monotonic()

    def _release_again_if_lost(self):
        """The oracle writes its line, then calls pause(): a release that lands between the
        two runs the handler before pause() starts, and pause() waits for good. A target still
        blocked in pause() seconds after a release lost it (a delivered signal ends pause at
        once), so it is sent again; only then, so no later pause is released early."""
        if self._released_at is None or time.monotonic() - self._released_at < RELEASE_RETRY:
            return
        try:
            with open("/proc/%d/task/%d/syscall" % (self.pid, self.pid)) as f:
                nr = f.read().split()[0]
        except (OSError, IndexError):
            return
        if os.uname().machine == "x86_64" and nr == "34":  # __NR_pause
            print("    (release lost: target %d still in pause(); sending it again)" % self.pid)
            self.release()

    def thread_states(self):
        states = {}
        for tid in os.listdir("/proc/%d/task" % self.pid):
            try:
                with open("/proc/%d/task/%s/stat" % (self.pid, tid)) as f:
                    stat = f.read()
                states[int(tid)] = stat[stat.rindex(")") + 2]
            except (FileNotFoundError, ProcessLookupError):
                pass
        return states

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        for s in (self.proc.stdout, self.proc.stderr):
            if s:
                s.close()

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
