"""Native stacks as elfutils' eu-stack prints them: the independent tool pypeek's native
frames are compared with (test_stacks, test_core)."""
import re
import shutil
import subprocess

from harness import Skip, check


def eu_stack(pid, core=None):
    """{tid: [(address, function or None)]} from elfutils' eu-stack -p PID (or --core CORE)."""
    if not shutil.which("eu-stack"):
        raise Skip("eu-stack (elfutils) is not installed: run integration/install-deps")
    args = ["--core", core] if core else ["-p", str(pid)]
    p = subprocess.run(["eu-stack"] + args, capture_output=True, text=True, timeout=120)
    out, tid = {}, None
    for line in p.stdout.splitlines():
        m = re.match(r"TID (\d+):", line)
        if m:
            tid = int(m.group(1))
            out[tid] = []
            continue
        m = re.match(r"#\d+\s+0x([0-9a-f]+)(?:\s+(?:- \d+\s+)?(\S+))?", line)
        if m and tid is not None:
            out[tid].append((int(m.group(1), 16), m.group(2)))
    check(out, "eu-stack %s printed no stack (exit %d): %s" % (" ".join(args), p.returncode,
                                                                p.stderr))
    return out
