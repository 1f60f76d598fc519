#!/usr/bin/env python3
"""Runs pypeek's integration tests against real CPython processes.

usage: run_tests.py --pypeek PATH [-k SUBSTRING]

Every test_* function of integration/tests/test_*.py runs with a Context. The last line is
"N passed, N failed, N skipped"; the exit code is non-zero if any test failed. Skips are
listed with their reasons and never count as passes."""
import argparse
import importlib.util
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
import harness  # noqa: E402


def discover(pattern):
    tests = []
    tdir = os.path.join(HERE, "tests")
    for fn in sorted(os.listdir(tdir)):
        if not (fn.startswith("test_") and fn.endswith(".py")):
            continue
        spec = importlib.util.spec_from_file_location(fn[:-3], os.path.join(tdir, fn))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for name in sorted(dir(mod)):
            if name.startswith("test_") and callable(getattr(mod, name)):
                full = "%s::%s" % (fn[:-3], name)
                if not pattern or pattern in full:
                    tests.append((full, getattr(mod, name)))
    return tests


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pypeek", required=True)
    ap.add_argument("-k", dest="pattern", default="")
    a = ap.parse_args()
    ctx = harness.Context(os.path.abspath(a.pypeek))
    if os.geteuid() != 0 and not os.path.exists("/proc/sys/kernel/yama/ptrace_scope"):
        pass
    passed, failed, skipped = 0, [], []
    for name, fn in discover(a.pattern):
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
    print("%d passed, %d failed, %d skipped" % (passed, len(failed), len(skipped)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
