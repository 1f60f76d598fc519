"""The census fixture's comparison, shared by the tests that run it on different interpreters:
pypeek's snapshot against the fixture's own answers, then the threads after pypeek."""
from harness import check, check_eq, type_entry


def compare_census(snap, truth, what=""):
    """snap against the census fixture's own answer truth: objects per generation, permanent
    and total objects, and count and bytes of its three types."""
    pre = what + ": " if what else ""
    gens = [g["objects"] for g in snap["gc"]["generations"]]
    check_eq(gens, truth["gc_generations"], pre + "objects per generation")
    check_eq(snap["gc"]["permanent_objects"], truth["gc_permanent"], pre + "permanent objects")
    check_eq(snap["objects"]["total"], sum(truth["gc_generations"]), pre + "total tracked objects")
    for name in ("__main__.User", "__main__.Slotted", "list"):
        check_eq(type_entry(snap, name)["count"], truth["types"][name]["count"],
                 pre + name + " count")
    for name in ("__main__.User", "list"):
        check_eq(type_entry(snap, name)["bytes"], truth["types"][name]["bytes"],
                 pre + name + " bytes")


def check_census(t, snap, truth):
    """Compare snap with the census fixture's answer truth, then release the target (t) and
    check that no thread was left stopped and every worker still makes progress."""
    compare_census(snap, truth)
    check_eq(snap["attach"]["threads"], truth["threads"], "threads stopped")
    check(snap["attach"]["consistent"] is True, "snapshot not consistent")
    t.check_left_alone("after pypeek exited")
    t.release()
    after = t.read_line()
    check(after["progress"] is True, "worker threads made no progress after pypeek")
