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
