"""Errors users can act on, beyond test_errors.py (issue 9): a kernel thread, permission denied
as an unprivileged user (with the why and the what-to-do), a target already traced by another
tracer, a target that execs or is killed while pypeek reads it. Each checks the exit code, that
stderr says something actionable, and that the target is never left stopped. Facts come from
the kernel (/proc) and the target itself."""
import os
import shutil
import signal
import subprocess
import time

from harness import (EXIT_NO_PROCESS, EXIT_NOT_CPYTHON, EXIT_PERMISSION, Skip, TestFailure,
                     check, check_eq, expect)
from procstate import wait_until_frozen

NOBODY = 65534


def status_field(pid, name):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split(":", 1)[1].strip()
    return None


def kernel_thread_pid():
    """A kernel thread visible here (kthreadd is pid 2 on most systems): Kthread: 1 in its
    status, or no memory at all (no VmRSS) and not a zombie."""
    for pid in [2] + sorted(int(p) for p in os.listdir("/proc") if p.isdigit()):
        try:
            k = status_field(pid, "Kthread")
            if k == "1" or (k is None and status_field(pid, "VmRSS") is None
                            and status_field(pid, "State")[0] not in "ZX"):
                return pid
        except (FileNotFoundError, ProcessLookupError, PermissionError, TypeError):
            continue
    return None


def test_kernel_thread(ctx):
    pid = kernel_thread_pid()
    if pid is None:
        raise Skip("no kernel thread is visible in this PID namespace")
    rc, out, err = ctx.run_pypeek(pid)
    expect(rc, out, err, EXIT_NOT_CPYTHON, ["kernel thread", str(pid)], "kernel thread %d" % pid)


def _setpriv_nobody():
    if os.geteuid() != 0:
        raise Skip("needs root to run pypeek as an unprivileged user against a root target")
    if shutil.which("setpriv") is None:
        raise Skip("setpriv (util-linux) is not installed")
    return ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"]


def test_permission_denied_explains_what_to_do(ctx):
    setpriv = _setpriv_nobody()
    p = subprocess.run(setpriv + [ctx.pypeek, "--version"], capture_output=True)
    if p.returncode != 0:
        raise Skip("uid %d cannot run %s: %s" % (NOBODY, ctx.pypeek, p.stderr.decode().strip()))
    with ctx.start_target("idle_target.py") as t:
        t.read_line()
        check_eq(status_field(t.pid, "Uid").split()[0], "0", "test set-up: target's uid")
        p = subprocess.run(setpriv + [ctx.pypeek, str(t.pid)], capture_output=True, timeout=60)
        err = p.stderr.decode(errors="replace")
        phrases = ["permission denied", "uid 0", "uid %d" % NOBODY, "CAP_SYS_PTRACE",
                   "sudo -u", "--cap-add SYS_PTRACE", "securityContext"]
        if os.path.exists("/proc/sys/kernel/yama/ptrace_scope"):
            with open("/proc/sys/kernel/yama/ptrace_scope") as f:
                if f.read().strip() in ("1", "2", "3"):
                    phrases.append("ptrace_scope")
        expect(p.returncode, p.stdout.decode(), err, EXIT_PERMISSION, phrases,
               "pypeek as uid %d on a root process" % NOBODY)
        p = subprocess.run(setpriv + [ctx.pypeek, "--json", str(t.pid)], capture_output=True,
                           timeout=60)
        expect(p.returncode, p.stdout.decode(), p.stderr.decode(), EXIT_PERMISSION,
               ["CAP_SYS_PTRACE"], "--json as uid %d" % NOBODY)
        t.check_left_alone("after the refused attach")


def test_already_traced_names_the_tracer(ctx):
    if shutil.which("strace") is None:
        raise Skip("strace is not installed (the other tracer of this test)")
    with ctx.start_target("idle_target.py") as t:
        t.read_line()
        tracer = subprocess.Popen(["strace", "-q", "-o", "/dev/null", "-p", str(t.pid)],
                                  stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 20
            while status_field(t.pid, "TracerPid") != str(tracer.pid):
                if tracer.poll() is not None:
                    raise TestFailure("test set-up: strace exited: %s"
                                      % tracer.stderr.read().decode())
                check(time.monotonic() < deadline, "test set-up: strace did not attach")
                time.sleep(0.01)
            rc, out, err = ctx.run_pypeek(t.pid)
            expect(rc, out, err, EXIT_PERMISSION,
                   ["already traced", "process %d (strace)" % tracer.pid], "a traced target")
        finally:
            tracer.send_signal(signal.SIGTERM)
            tracer.wait(timeout=20)
        t.check_left_alone("after pypeek was refused, strace detached")


def test_target_execs_while_being_read(ctx):
    """The target execs `sleep` while pypeek is loading its debug info (after it resolved the
    interpreter, before it stops the threads): exit 2, 'exec'. The exec is timed from the
    start of pypeek; a run where the exec came too early or too late is retried."""
    sleep = shutil.which("sleep")
    outcomes = []
    for delay_ms in (60, 30, 100, 15, 150, 5, 200, 250):
        with ctx.start_target("exec_fixture.py", sleep, delay_ms) as t:
            t.read_line()
            p = subprocess.Popen([ctx.pypeek, str(t.pid)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
            os.kill(t.pid, signal.SIGUSR1)  # exec after delay_ms
            out, err = p.communicate(timeout=120)
            out, err = out.decode(errors="replace"), err.decode(errors="replace")
            exe = os.path.basename(os.readlink("/proc/%d/exe" % t.pid))
            outcomes.append((delay_ms, p.returncode, exe))
            check(p.returncode in (0, EXIT_NO_PROCESS, EXIT_NOT_CPYTHON),
                  "exec after %d ms: pypeek exited %d: %s" % (delay_ms, p.returncode, err.strip()))
            t.check_left_alone("exec after %d ms" % delay_ms)
            if p.returncode == EXIT_NO_PROCESS and exe == "sleep":
                expect(p.returncode, out, err, EXIT_NO_PROCESS, ["exec", str(t.pid)],
                       "a target that exec'd while being read")
                return
    raise Skip("the exec never landed between pypeek's resolve and its freeze: %s"
               % outcomes)


def test_target_killed_mid_read(ctx):
    """SIGKILL of the target while pypeek walks a 2M-object heap with every thread stopped:
    exit 2 ('exited'), no crash, no hang. --streaming: the walk (with read-ahead on its second
    thread, and the object graph) happens while frozen, not on a copy after resuming, so the
    freeze lasts long enough to be hit."""
    hits = 0
    messages = set()
    for attempt in range(6):
        with ctx.start_target("threads_fixture.py", 2000000) as t:
            t.read_line(timeout=300)
            p = subprocess.Popen([ctx.pypeek, "--json", "--streaming", str(t.pid)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            frozen = wait_until_frozen(p, t.pid, 60)
            time.sleep(0.03 * attempt)  # from the attach to deep in the walk
            os.kill(t.pid, signal.SIGKILL)
            try:
                out, err = p.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                raise TestFailure("pypeek hung after its target was killed")
            err = err.decode(errors="replace")
            t.proc.wait()
            check(p.returncode in (0, EXIT_NO_PROCESS),
                  "target killed mid-read: pypeek exited %d: %s" % (p.returncode, err.strip()))
            if p.returncode == EXIT_NO_PROCESS:
                check(out == b"", "target killed mid-read: output on stdout")
                check("exited" in err, "target killed mid-read: stderr says %r" % err)
                messages.add(err.strip().split(":", 1)[1].strip()[:60])
                hits += frozen
        if hits >= 3:
            break
    check(hits >= 1, "the target was never killed while pypeek read it")
    print("    %d kills while frozen, each exit 2: %s" % (hits, sorted(messages)))
