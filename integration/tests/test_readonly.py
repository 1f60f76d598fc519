"""Read-only, shown by the kernel's own account of pypeek's system calls: pypeek runs under
`strace -f` (every thread, the read-ahead one included) against a live target in each way that
reads it (report, --json, --streaming, --nonblocking, snapshot -o, why), and the run fails on
any process_vm_writev, any PTRACE_POKE* or PTRACE_SET*REGS* request, or any file under /proc
opened for writing. The trace must also show the reads (PTRACE_SEIZE, process_vm_readv or
/proc/PID/mem), so a trace that caught nothing cannot pass; and the checker must flag a
command that does open a /proc file for writing."""
import os
import re
import shutil
import subprocess
import tempfile

from harness import Skip, check, check_eq

TRACED = "process_vm_writev,process_vm_readv,ptrace,open,openat,openat2,creat"
WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND")
PTRACE_WRITES = re.compile(r"ptrace\((PTRACE_POKE\w*|PTRACE_SET\w*REGS\w*)")
OPEN = re.compile(r'(?:open|openat|openat2|creat)\((?:[^,]*, )?"(/proc/[^"]*)", ([^)]*)')


def strace(argv, log):
    """Runs argv under strace -f, the traced calls written to log; returns argv's exit code."""
    # LeakSanitizer cannot run under ptrace (the sanitizer build): leaks are checked elsewhere
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = ":".join(o for o in (env.get("ASAN_OPTIONS"), "detect_leaks=0") if o)
    p = subprocess.run(["strace", "-f", "-qq", "-e", "trace=" + TRACED, "-e", "signal=none",
                        "-s", "256", "-o", log, "--"] + argv, capture_output=True, timeout=300,
                       env=env)
    return p.returncode, p.stderr.decode(errors="replace")


def writes_in(log):
    """Every traced call in log that would write to the target or to /proc."""
    bad = []
    with open(log) as f:
        for line in f:
            if "process_vm_writev(" in line or PTRACE_WRITES.search(line):
                bad.append(line.strip())
                continue
            m = OPEN.search(line)
            if m and any(flag in m.group(2) for flag in WRITE_FLAGS):
                bad.append(line.strip())
    return bad


def reads_in(log, pid):
    with open(log) as f:
        text = f.read()
    return {"PTRACE_SEIZE": text.count("PTRACE_SEIZE, %d" % pid),
            "process_vm_readv": text.count("process_vm_readv(%d" % pid),
            "/proc/PID/mem": text.count('"/proc/%d/mem"' % pid) + text.count('"mem"')}


def test_pypeek_never_writes_to_the_target(ctx):
    if shutil.which("strace") is None:
        raise Skip("strace is not installed (Debian package strace)")
    with tempfile.TemporaryDirectory(prefix="pypeek-readonly-") as d:
        log = os.path.join(d, "trace")
        # The checker itself: a command that opens a /proc file for writing is caught.
        strace(["sh", "-c", ": > /proc/self/comm"], log)
        check(writes_in(log), "the checker missed a /proc file opened for writing")
        with ctx.start_target("census_fixture.py") as t:
            t.read_line()
            runs = [[], ["--json"], ["--json", "--streaming"], ["--nonblocking"],
                    ["snapshot", "-o", os.path.join(d, "snap.json")],
                    ["why", "__main__.User"]]
            for args in runs:
                argv = [ctx.pypeek] + (args[:1] + [str(t.pid)] + args[1:]
                                       if args[:1] in (["snapshot"], ["why"])
                                       else [str(t.pid)] + args)
                what = "pypeek " + " ".join(argv[1:])
                rc, err = strace(argv, log)
                check_eq(rc, 0, "%s under strace: exit code (stderr %r)" % (what, err[-300:]))
                bad = writes_in(log)
                check(not bad, "%s writes: %s" % (what, bad[:5]))
                reads = reads_in(log, t.pid)
                check(reads["process_vm_readv"] or reads["/proc/PID/mem"],
                      "%s: the trace shows no read of the target (%s): strace saw nothing"
                      % (what, reads))
                if "--nonblocking" not in args:
                    check(reads["PTRACE_SEIZE"], "%s: the trace shows no PTRACE_SEIZE" % what)
                label = " ".join(a for a in args if not a.startswith("/")) or "(report)"
                print("    %-24s %s, no write" % (label, reads))
            t.check_left_alone("after the traced runs")
