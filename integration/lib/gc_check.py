"""A snapshot's gc section compared with the gc oracle's own answer (gc_fixture.py): shared by
test_gc, the version matrix and the stripped-interpreter tests."""
from harness import check, check_eq


def compare_gc(snap, truth):
    """Every gc fact the oracle measured about itself equals the snapshot's."""
    gc_ = snap["gc"]
    check_eq(gc_["enabled"], truth["gc_enabled"], "gc.isenabled()")
    check_eq(gc_["debug_flags"], truth["gc_debug"], "gc.get_debug()")
    check_eq(gc_["thresholds"], truth["gc_threshold"], "gc.get_threshold()")
    check_eq(gc_["counts"], truth["gc_count"], "gc.get_count()")
    stats = [{k: g[k] for k in ("collections", "collected", "uncollectable")}
             for g in gc_["generations"]]
    # 3.15 adds "candidates" and "duration" to each entry; the three common keys are compared
    want = [{k: g[k] for k in ("collections", "collected", "uncollectable")}
            for g in truth["gc_stats"]]
    check_eq(stats, want, "gc.get_stats()")
    check_eq([g["objects"] for g in gc_["generations"]], truth["gc_generations"],
             "len(gc.get_objects(i))")
    check_eq(gc_["permanent_objects"], truth["gc_permanent"], "gc.get_freeze_count()")
    check_eq(snap["garbage"]["count"], truth["garbage_len"], "len(gc.garbage)")
    got = {t["type"]: {"count": t["count"], "bytes": t["bytes"]} for t in snap["garbage"]["types"]}
    check_eq(got, truth["garbage_types"], "types in gc.garbage")
    # exact: the oracle frees what it allocates after measuring before it blocks
    check(snap["memory"]["pymalloc"] is not None, "no memory.pymalloc")
    check_eq(snap["memory"]["pymalloc"]["allocated_blocks"], truth["allocated_blocks"],
             "sys.getallocatedblocks()")
    check(snap["attach"]["consistent"] is True, "snapshot not consistent")
