"""The demo's sample service: after it leaked for a while, pypeek's census of the leaking types
equals the service's own count (it stops leaking and holds the GIL via oracle.py)."""
from harness import check, check_eq, type_entry


def test_leaky_service_census(ctx):
    with ctx.start_target("leaky_service.py", "--hold-after", 15, "--tick", 0.02) as t:
        try:
            check_service(ctx, t)
        finally:
            # On a failure too: SIGTERM lets it close its files and remove its temp dir (the
            # harness's SIGKILL would leave /tmp/leaky_service-* behind).
            if t.proc.poll() is None:
                t.proc.terminate()
                t.proc.wait(timeout=60)


def check_service(ctx, t):
    truth = t.read_line()
    check(truth["large_objects"] > 0 and truth["cycles"] > 0 and truth["closures"] > 0
          and truth["open_files"] > 0, "the service leaked nothing: %s" % truth)
    snap = ctx.snapshot(t.pid)
    gens = [g["objects"] for g in snap["gc"]["generations"]]
    check_eq(gens, truth["gc_generations"], "objects per generation")
    for name, want in truth["types"].items():
        check_eq(type_entry(snap, name)["count"], want["count"], name + " count")
    check_eq(truth["types"]["__main__.LargeObject"]["count"], truth["large_objects"],
             "test set-up: LargeObject census vs len(_cache)")
    check_eq(truth["types"]["__main__.CycleNode"]["count"], 2 * truth["cycles"],
             "test set-up: CycleNode census vs cycles created")
    for name in ("__main__.LargeObject", "__main__.CycleNode"):
        check_eq(type_entry(snap, name)["bytes"], truth["types"][name]["bytes"],
                 name + " bytes")
    t.release()
    # Released, it exits by itself after closing its files and removing its temp dir.
    check_eq(t.proc.wait(timeout=60), 0, "the service's exit status after release")


def test_leaky_service_gc_disabled_shows_del_cycles(ctx):
    """With the collector disabled, every CycleNode pair the service dropped is unreachable:
    pypeek's gc.unreachable names them all, with their __del__."""
    with ctx.start_target("leaky_service.py", "--disable-gc", "--hold-after", 10, "--tick",
                          0.02) as t:
        try:
            truth = t.read_line()
            check(truth["cycles"] > 0 and truth["gc_enabled"] is False,
                  "the service made no cycles, or its collector is on: %s" % truth)
            check_eq(truth["types"]["__main__.CycleNode"]["count"], 2 * truth["cycles"],
                     "test set-up: CycleNode census vs cycles created")
            snap = ctx.snapshot(t.pid)
            u = snap["gc"]["unreachable"]
            nodes = {e["type"]: e for e in u["types"]}.get("__main__.CycleNode")
            check(nodes is not None, "no CycleNode among the unreachable: %s" % u["types"])
            check_eq(nodes["count"], 2 * truth["cycles"], "unreachable CycleNode")
            check_eq(nodes["finalizers"], 2 * truth["cycles"], "unreachable CycleNode with __del__")
            check_eq(nodes["bytes"], truth["types"]["__main__.CycleNode"]["bytes"],
                     "unreachable CycleNode bytes")
            t.release()
            check_eq(t.proc.wait(timeout=60), 0, "the service's exit status after release")
        finally:
            if t.proc.poll() is None:
                t.proc.terminate()
                t.proc.wait(timeout=60)


def test_demo_with_gc_disabled_shows_del_cycles(ctx):
    import os
    import re
    import subprocess
    import sys
    from harness import ROOT, DEBIAN_PYTHON, Skip
    if not os.path.exists(DEBIAN_PYTHON):
        raise Skip("%s is not installed" % DEBIAN_PYTHON)
    p = subprocess.run([sys.executable, os.path.join(ROOT, "integration", "demo.py"), "--pypeek",
                        ctx.pypeek, "--seconds", "1", "--disable-gc"],
                       capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, "demo exited %d: %s" % (p.returncode, p.stderr[-2000:]))
    own = re.search(r"(\d+) cycles with __del__", p.stderr)
    check(own, "the demo did not print the service's own counts: " + p.stderr[-2000:])
    m = re.search(r"Unreachable cycles awaiting collection: ([\d,]+) objects \([^)]*\), "
                  r"([\d,]+) with __del__", p.stdout)
    check(m, "the demo's report has no unreachable cycles:\n" + p.stdout)
    row = re.search(r"__main__\.CycleNode\s+([\d,]+)\s+.*?([\d,]+) with __del__", p.stdout)
    check(row, "no CycleNode row among the unreachable:\n" + p.stdout)
    # the service kept leaking after it logged its count, never collecting
    n, fin = (int(row.group(i).replace(",", "")) for i in (1, 2))
    check(n >= 2 * int(own.group(1)) and fin == n,
          "CycleNode unreachable %d (%d with __del__), the service had dropped %d pairs"
          % (n, fin, int(own.group(1))))
