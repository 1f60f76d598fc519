"""Error paths and DESIGN.md's exit codes: each case checks the exit code AND that stderr says
something the user can act on. Facts about the target (exited, zombie, not Python, no debug
info) come from the kernel and the target itself, never from pypeek."""
import os
import shutil
import subprocess
import tempfile

from harness import (DEBIAN_PYTHON, EXIT_NO_DEBUG_INFO, EXIT_NO_PROCESS, EXIT_NOT_CPYTHON,
                     EXIT_PERMISSION, EXIT_USAGE, Skip, check, check_eq, check_left_alone,
                     expect)


def reaped_pid():
    """The pid of a child that has exited and been reaped, so no process has it (checked
    in /proc; retried on the unlikely reuse)."""
    for _ in range(10):
        p = subprocess.Popen(["true"])
        p.wait()
        if not os.path.exists("/proc/%d" % p.pid):
            return p.pid
    raise Skip("every reaped pid was reused at once; cannot test a missing process")


def test_no_such_process(ctx):
    pid = reaped_pid()
    rc, out, err = ctx.run_pypeek(pid)
    expect(rc, out, err, EXIT_NO_PROCESS, ["no such process", str(pid)], "a reaped pid")
    rc, out, err = ctx.run_pypeek("--json", pid)
    expect(rc, out, err, EXIT_NO_PROCESS, ["no such process", str(pid)], "--json, a reaped pid")


def test_zombie_is_no_process(ctx):
    # A Python child that exited but is not reaped: waitid(WNOWAIT) waits for the exit
    # without reaping, so it stays a zombie while pypeek looks at it.
    p = subprocess.Popen([DEBIAN_PYTHON, "-c", "pass"])
    try:
        os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)
        with open("/proc/%d/stat" % p.pid) as f:
            stat = f.read()
        check_eq(stat[stat.rindex(")") + 2], "Z", "test set-up: /proc state of the child")
        rc, out, err = ctx.run_pypeek(p.pid)
        expect(rc, out, err, EXIT_NO_PROCESS, ["zombie", str(p.pid)], "a zombie process")
    finally:
        p.wait()


def test_sleep_is_not_cpython(ctx):
    # Popen returns after the exec succeeded, so the child is already `sleep`.
    p = subprocess.Popen(["sleep", "100"])
    try:
        check(os.path.basename(os.readlink("/proc/%d/exe" % p.pid)) == "sleep",
              "test set-up: child is not sleep yet")
        rc, out, err = ctx.run_pypeek(p.pid)
        expect(rc, out, err, EXIT_NOT_CPYTHON, ["not a CPython process", str(p.pid)],
               "a sleep process")
        check_left_alone(p.pid, "sleep after pypeek")
    finally:
        p.kill()
        p.wait()


def _pid1_readable():
    try:
        with open("/proc/1/maps") as f:
            f.read(1)
        return True
    except PermissionError:
        return False


def test_pid1_is_not_cpython(ctx):
    if not _pid1_readable():
        raise Skip("this test cannot read /proc/1/maps itself (pid 1 belongs to the "
                   "sandbox), so pypeek rightly exits 3; test_pid1_unreadable covers that")
    exe = os.path.basename(os.readlink("/proc/1/exe"))
    if exe.startswith("python"):
        raise Skip("pid 1 is a Python process here (%s)" % exe)
    rc, out, err = ctx.run_pypeek(1)
    expect(rc, out, err, EXIT_NOT_CPYTHON, ["not a CPython process"], "pid 1 (%s)" % exe)


def test_pid1_unreadable_is_permission_denied(ctx):
    if _pid1_readable():
        raise Skip("pid 1 is readable here; test_pid1_is_not_cpython covers it")
    rc, out, err = ctx.run_pypeek(1)
    expect(rc, out, err, EXIT_PERMISSION, ["permission denied"], "pid 1 unreadable")


def test_own_pid_is_refused(ctx):
    # exec keeps the shell's pid, so $$ is pypeek's own pid.
    p = subprocess.run(["sh", "-c", 'exec "$0" "$$"', ctx.pypeek], capture_output=True,
                       timeout=60)
    expect(p.returncode, p.stdout.decode(), p.stderr.decode(), EXIT_USAGE, ["own process"],
           "pypeek's own pid")


def test_usage_errors(ctx):
    rc, out, err = ctx.run_pypeek()
    expect(rc, out, err, EXIT_USAGE, ["PID", "usage"], "no pid")
    rc, out, err = ctx.run_pypeek("--top", "abc", os.getpid())
    expect(rc, out, err, EXIT_USAGE, ["--top", "number"], "--top abc")
    rc, out, err = ctx.run_pypeek("abc")
    expect(rc, out, err, EXIT_USAGE, ["abc", "process id"], "a pid that is not a number")
    rc, out, err = ctx.run_pypeek("--no-such-option", os.getpid())
    expect(rc, out, err, EXIT_USAGE, ["--no-such-option"], "an unknown option")


def _section_names(path):
    p = subprocess.run(["readelf", "-S", "-W", path], capture_output=True, text=True)
    check(p.returncode == 0, "readelf -S %s failed: %s" % (path, p.stderr))
    names = set()
    for line in p.stdout.splitlines():
        line = line.strip()
        if line.startswith("[") and "]" in line:
            rest = line.split("]", 1)[1].split()
            if rest:
                names.add(rest[0])
    return names


def test_no_debug_info(ctx):
    """A copy of Debian's python3.11 with no DWARF, no build-id note and no .gnu_debuglink:
    pypeek cannot find a layout and must say which package to install."""
    real = os.path.realpath(DEBIAN_PYTHON)
    if not os.path.exists(real):
        raise Skip("%s is not installed" % DEBIAN_PYTHON)
    if shutil.which("objcopy") is None or shutil.which("readelf") is None:
        raise Skip("objcopy/readelf (binutils) not installed")
    with tempfile.TemporaryDirectory(prefix="pypeek-nodebug-") as d:
        copy = os.path.join(d, os.path.basename(real))
        subprocess.run(["objcopy", "--remove-section", ".note.gnu.build-id",
                        "--remove-section", ".gnu_debuglink", real, copy], check=True)
        sections = _section_names(copy)
        for s in (".note.gnu.build-id", ".gnu_debuglink", ".debug_info"):
            check(s not in sections, "test set-up: %s still has %s" % (copy, s))
        with ctx.start_target("idle_target.py", python=copy) as t:
            truth = t.read_line()
            # The copy still runs Debian's stdlib (found by its compiled-in prefix).
            check(truth["stdlib"].startswith("/usr/lib/python3.11/"),
                  "test set-up: the copy took its stdlib from %s" % truth["stdlib"])
            check_eq(truth["executable"], copy, "test set-up: sys.executable")
            minor = ".".join(truth["version"].split(".")[:2])
            # The built-in layout records would fit this copy (integration/tests/
            # test_stripped.py); switched off, nothing is left.
            no_records = dict(os.environ, PYPEEK_BUILTIN_RECORDS="0")
            no_records.pop("DEBUGINFOD_URLS", None)
            rc, out, err = ctx.run_pypeek(t.pid, env=no_records)
            expect(rc, out, err, EXIT_NO_DEBUG_INFO,
                   ["debug", "python%s-dbg" % minor, copy, "DEBUGINFOD_URLS", "--debug-dir"],
                   "an interpreter without debug info")
            rc, out, err = ctx.run_pypeek("--json", t.pid, env=no_records)
            expect(rc, out, err, EXIT_NO_DEBUG_INFO, ["python%s-dbg" % minor],
                   "--json, an interpreter without debug info")
            t.check_left_alone("after pypeek failed")
