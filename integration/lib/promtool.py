"""promtool from Debian's prometheus package, for `promtool check metrics`. Fetched without
installing the service: `apt-get download prometheus` and `dpkg -x` into integration/.cache/
(git-ignored). A system promtool on PATH is used when there is one. When neither works the
caller's test is skipped, loudly, with the reason (the format check only: tests compare the
values without promtool)."""
import glob
import os
import shutil
import subprocess

from harness import ROOT, Skip

CACHE = os.path.join(ROOT, "integration", ".cache", "prometheus")
TREE = os.path.join(CACHE, "root")
PROMTOOL = os.path.join(TREE, "usr", "bin", "promtool")


def _run(argv, cwd):
    p = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise Skip("cannot fetch promtool: `%s` failed: %s" % (" ".join(argv),
                                                                (p.stderr or p.stdout).strip()[-400:]))


def promtool():
    """Path of a working promtool, fetching Debian's package on first use."""
    if os.access(PROMTOOL, os.X_OK):
        return PROMTOOL
    system = shutil.which("promtool")
    if system:
        return system
    if not shutil.which("apt-get") or not shutil.which("dpkg"):
        raise Skip("cannot fetch promtool: apt-get/dpkg not available (install Debian's "
                   "prometheus package, or put promtool on PATH)")
    os.makedirs(CACHE, exist_ok=True)
    debs = glob.glob(os.path.join(CACHE, "prometheus_*.deb"))
    if not debs:
        _run(["apt-get", "download", "prometheus"], CACHE)
        debs = glob.glob(os.path.join(CACHE, "prometheus_*.deb"))
        if not debs:
            raise Skip("cannot fetch promtool: apt-get download left no prometheus_*.deb")
    _run(["dpkg", "-x", sorted(debs)[-1], TREE], CACHE)
    if not os.access(PROMTOOL, os.X_OK):
        raise Skip("cannot fetch promtool: %s has no usr/bin/promtool" % debs[-1])
    return PROMTOOL


def check_metrics(text, tool=None):
    """Runs `promtool check metrics` on text; returns (ok, promtool's output)."""
    p = subprocess.run([tool or promtool(), "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=120)
    return p.returncode == 0, (p.stdout + p.stderr).strip()
