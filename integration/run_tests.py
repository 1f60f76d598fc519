#!/usr/bin/env python3
"""Runs pypeek's integration tests against real CPython processes.

usage: run_tests.py --pypeek PATH [-k SUBSTRING] [--skips-allowed FILE]

Every test_* function of integration/tests/test_*.py runs with a Context. The last line is
"N passed, N failed, N skipped"; the exit code is non-zero if any test failed. Skips are
listed with their reasons and never count as passes.

With --skips-allowed FILE (CI: integration/skips.allowed), the set of skipped tests must match
the file: a skip no line allows fails the run, and so does a line for a test that must skip
but ran (the list is stale). Each line is a test name (shell wildcards allowed), then its
reason; a name prefixed with "?" may skip or run (an extra some machines have, such as pyenv's
builds). Blank lines and lines starting with "#" are ignored."""
import argparse
import fnmatch
import importlib
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.join(HERE, "tests")
# Test modules are imported by name, once: a test module that reuses another's tests
# (test_matrix, test_stripped) gets the same module object as the runner.
sys.path[:0] = [os.path.join(HERE, "lib"), TESTS]
import harness  # noqa: E402 (needs the path above)


def discover(pattern):
    tests = []
    for fn in sorted(os.listdir(TESTS)):
        if not (fn.startswith("test_") and fn.endswith(".py")):
            continue
        mod = importlib.import_module(fn[:-3])
        for name in sorted(dir(mod)):
            if name.startswith("test_") and callable(getattr(mod, name)):
                full = "%s::%s" % (fn[:-3], name)
                if not pattern or pattern in full:
                    tests.append((full, getattr(mod, name)))
    return tests


def read_allowed(path):
    """[(pattern, may_run)] from a skips allow-list file."""
    allowed = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name = line.split(None, 1)[0]
            allowed.append((name.lstrip("?"), name.startswith("?")))
    return allowed


def check_skips(allowed, ran, skipped):
    """Messages for every way the skipped set differs from the allow-list."""
    problems = []
    for name in skipped:
        if not any(fnmatch.fnmatchcase(name, pat) for pat, _ in allowed):
            problems.append("skipped but not allowed to skip: %s" % name)
    for pat, may_run in allowed:
        if may_run:
            continue
        selected = [n for n in ran if fnmatch.fnmatchcase(n, pat)]
        for name in selected:
            if name not in skipped:
                problems.append("must skip here but ran (remove it from the list): %s" % name)
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pypeek", required=True)
    ap.add_argument("-k", dest="pattern", default="")
    ap.add_argument("--skips-allowed", metavar="FILE",
                    help="fail unless the skipped tests are exactly those FILE allows")
    a = ap.parse_args()
    allowed = read_allowed(a.skips_allowed) if a.skips_allowed else None
    ctx = harness.Context(os.path.abspath(a.pypeek))
    passed, failed, skipped, ran = 0, [], [], []
    for name, fn in discover(a.pattern):
        ran.append(name)
        t0 = time.monotonic()
        try:
            fn(ctx)
        except harness.Skip as s:
            skipped.append((name, str(s)))
            print("SKIP %s: %s" % (name, s), flush=True)
            continue
        except Exception:
            failed.append(name)
            print("FAIL %s (%.1fs)\n%s" % (name, time.monotonic() - t0, traceback.format_exc()),
                  flush=True)
            continue
        passed += 1
        print("ok   %s (%.1fs)" % (name, time.monotonic() - t0), flush=True)
    for name, why in skipped:
        print("SKIPPED (not counted as passed): %s: %s" % (name, why))
    problems = []
    if allowed is not None:
        problems = check_skips(allowed, ran, {n for n, _ in skipped})
        for p in problems:
            print("SKIP LIST (%s): %s" % (a.skips_allowed, p))
    print("%d passed, %d failed, %d skipped" % (passed, len(failed), len(skipped)))
    return 1 if failed or problems else 0


if __name__ == "__main__":
    sys.exit(main())
