"""Core files that pypeek cannot use: each gives one line on stderr and a documented exit code
(7: the file; 4: a core of a process that is not CPython; 1: live-only options)."""
import os
import shutil
import subprocess
import tempfile

from harness import EXIT_BAD_FILE, EXIT_NOT_CPYTHON, EXIT_USAGE, expect
from cores import gcore as _gcore


def test_bad_core_files(ctx):
    """Each unusable file gives one line and exit 7 (4: a core of a process that is not
    CPython); nothing is printed on stdout."""
    with tempfile.TemporaryDirectory() as d:
        text = os.path.join(d, "text")
        with open(text, "w") as f:
            f.write("not a core\n")
        empty = os.path.join(d, "empty")
        open(empty, "w").close()
        cases = [(text, EXIT_BAD_FILE, ["not an ELF"]), (empty, EXIT_BAD_FILE, ["not an ELF"]),
                 (shutil.which("sh"), EXIT_BAD_FILE, ["not a core"]),
                 (d, EXIT_BAD_FILE, ["not a regular file"]),
                 (os.path.join(d, "missing"), EXIT_BAD_FILE, ["cannot open"])]
        sleeper = subprocess.Popen(["sleep", "600"])
        try:
            cores = {"sleep": _gcore(sleeper.pid, os.path.join(d, "sleep"))}
        finally:
            sleeper.kill()
            sleeper.wait()
        cases.append((cores["sleep"], EXIT_NOT_CPYTHON, ["not of a CPython process"]))
        with open(cores["sleep"], "rb") as f:
            data = f.read()
        truncated = os.path.join(d, "truncated")
        with open(truncated, "wb") as f:
            f.write(data[:200])
        cases.append((truncated, EXIT_BAD_FILE, [truncated]))
        packed = os.path.join(d, "truncated.zst")
        with open(packed, "wb") as f:
            f.write(subprocess.run(["zstd", "-c", cores["sleep"]], capture_output=True,
                                   check=True).stdout[:5000])
        cases.append((packed, EXIT_BAD_FILE, ["libzstd", "truncated"]))
        for path, code, phrases in cases:
            rc, out, err = ctx.run_pypeek("core", path)
            expect(rc, out, err, code, phrases, "pypeek core %s" % path)
        with ctx.start_target("core_fixture.py", d) as t:
            t.read_line()
            core = _gcore(t.pid, os.path.join(d, "py"))
        rc, out, err = ctx.run_pypeek("core", core, "--exe", shutil.which("sh"))
        expect(rc, out, err, EXIT_BAD_FILE, ["--exe", "build-id differs"], "--exe of another build")
        rc, out, err = ctx.run_pypeek("core", core, "--nonblocking")
        expect(rc, out, err, EXIT_USAGE, ["core file"], "--nonblocking with a core")


def test_subcommand_without_operand_is_a_usage_error(ctx):
    """`pypeek snapshot -o F` (no PID) once read past argv's end and crashed: every
    subcommand without its operand is exit 1 with the synopsis."""
    for args in (["snapshot", "-o", "/dev/null"], ["why"], ["watch"], ["snapshot"], ["core"],
                 ["why", "--core", "x"]):
        rc, out, err = ctx.run_pypeek(*args)
        expect(rc, out, err, EXIT_USAGE, ["usage:"], "pypeek " + " ".join(args))
