"""Writing core files of test targets with gdb's gcore (the target keeps running)."""
import os
import shutil
import subprocess

from harness import Skip, check


def gcore(pid, prefix):
    if not shutil.which("gcore"):
        raise Skip("gcore (gdb) is not installed: integration/install-deps installs gdb")
    p = subprocess.run(["gcore", "-o", prefix, str(pid)], capture_output=True, timeout=120)
    core = "%s.%d" % (prefix, pid)
    check(p.returncode == 0 and os.path.exists(core),
          "gcore %d failed: %s" % (pid, p.stderr.decode(errors="replace")[-500:]))
    return core
