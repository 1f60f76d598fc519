"""The report's object graph is bounded in time (--graph-pause) when the heap is walked frozen
(--streaming): past the bound the target is resumed, the census stays exact, and the report says
the graph was skipped. When the heap is copied (the default for heaps that fit), the graph is
built after the target is resumed and adds nothing to the pause: no bound applies."""
from harness import check, check_eq, type_entry


def test_graph_pause_bound_skips_the_graph(ctx):
    with ctx.start_target("census_fixture.py") as t:
        truth = t.read_line()
        full = ctx.snapshot(t.pid, "--graph-pause", "0")
        check(full.get("retainers"), "unbounded graph produced no retainers")
        check_eq(full["attach"].get("read"), "image", "census_fixture's heap is copied")
        copied = ctx.snapshot(t.pid, "--graph-pause", "1")
        check(copied.get("retainers"), "a copied heap's graph was bounded by --graph-pause")
        snap = ctx.snapshot(t.pid, "--streaming", "--graph-pause", "1")
        check_eq(snap["attach"].get("read"), "streaming", "--streaming walks the heap frozen")
        check(not snap.get("retainers"), "a 1 ms graph bound still produced retainers")
        check(any("object graph skipped" in w for w in snap["warnings"]),
              "no warning says the graph was skipped: %r" % snap["warnings"])
        check_eq([g["objects"] for g in snap["gc"]["generations"]], truth["gc_generations"],
                 "objects per generation with the graph skipped")
        for name in ("__main__.User", "__main__.Slotted", "list"):
            check_eq(type_entry(snap, name)["count"], truth["types"][name]["count"],
                     name + " count with the graph skipped")
        t.check_left_alone("after pypeek with the graph skipped")
        rc, text, err = ctx.run_pypeek(t.pid, "--streaming", "--graph-pause", "1")
        check(rc == 0 and "object graph skipped" in text + err,
              "text report does not say the graph was skipped")
