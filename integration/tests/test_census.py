"""Object census on Debian's python3 with its -dbg package: exact equality with the target's
own gc.get_objects()/sys.getsizeof answers."""
import json
import os
import tempfile

from census_check import check_census, check_pymalloc, check_whole_census
from harness import check, check_eq, type_entry


def test_census_matches_target(ctx):
    with ctx.start_target("census_fixture.py") as t:
        truth = t.read_line()
        snap = ctx.snapshot(t.pid)
        check_census(t, snap, truth)


def test_census_streaming_matches_target(ctx):
    """--streaming walks the heap while frozen, with read-ahead on a second thread (guided by
    pool classes read before the freeze) and pymalloc's pool headers copied in the background:
    the same exact census, and the same memory.pymalloc as the copy-then-read default."""
    with ctx.start_target("census_fixture.py") as t:
        truth = t.read_line()
        image = ctx.snapshot(t.pid, "--no-graph")
        snap = ctx.snapshot(t.pid, "--streaming")
        check_eq(snap["attach"]["read"], "streaming", "attach.read")
        pm = snap["memory"]["pymalloc"]
        check(pm is not None and pm["arenas"] > 0, "no pymalloc figures: %s" % pm)
        check_eq(pm["allocated_blocks"], truth["allocated_blocks"], "sys.getallocatedblocks()")
        check_eq(pm, image["memory"]["pymalloc"], "memory.pymalloc, streaming vs image copy")
        check_census(t, snap, truth)


def test_census_nonblocking_equals_frozen(ctx):
    """--nonblocking never stops the target; on a quiescent target (the fixture blocks holding
    the GIL) its census equals frozen mode's, type by type, and the target's own answers."""
    with ctx.start_target("census_fixture.py") as t:
        truth = t.read_line()
        frozen = ctx.snapshot(t.pid)
        nb = ctx.snapshot(t.pid, "--nonblocking")
        check_eq(nb["attach"]["mode"], "nonblocking", "attach.mode")
        check_eq(nb["attach"]["pause_us"], 0, "pause of a nonblocking read")
        check_eq(nb["attach"]["threads"], 0, "threads stopped by a nonblocking read")
        check(nb["attach"]["consistent"] is True, "nonblocking snapshot not consistent")
        check_eq([g["objects"] for g in nb["gc"]["generations"]], truth["gc_generations"],
                 "nonblocking: objects per generation")
        check_eq(nb["gc"]["permanent_objects"], truth["gc_permanent"],
                 "nonblocking: permanent objects")
        for name in ("__main__.User", "__main__.Slotted", "list"):
            check_eq({k: type_entry(nb, name)[k] for k in ("count", "bytes")},
                     truth["types"][name], "nonblocking: " + name)
        by_type = lambda s: {x["type"]: (x["count"], x["bytes"]) for x in s["objects"]["types"]}  # noqa: E731
        check_eq(by_type(nb), by_type(frozen), "nonblocking census (every type) vs frozen")
        check_eq((nb["objects"]["total"], nb["objects"]["bytes"]),
                 (frozen["objects"]["total"], frozen["objects"]["bytes"]),
                 "nonblocking totals vs frozen")
        t.release()
        check(t.read_line()["progress"] is True, "worker threads made no progress")


def test_census_every_type_exact(ctx):
    """Every type of the heap, not three: count and sys.getsizeof sum equal the target's own
    census of gc.get_objects() for every type pypeek sizes exactly (list, tuple, dict, set,
    frozenset, type, deque, generators, coroutines, async generators, 3.9/3.10 frames, classes
    without __sizeof__ ... all present in the fixture), and count for the others."""
    with tempfile.TemporaryDirectory() as d, \
            ctx.start_target("census_all_fixture.py", "plain", os.path.join(d, "stats")) as t:
        census = t.read_line()
        truth = t.read_line()
        snap = ctx.snapshot(t.pid, "--no-graph")
        exact = check_whole_census(snap, census, truth)
        # pymalloc's arenas, pools and bytes against its own walk (sys._debugmallocstats())
        with open(os.path.join(d, "stats")) as f:
            check_pymalloc(snap, f.read())
        print("    %d types, %d of them sized exactly, all equal" % (len(census["types"]), exact))
        t.release()


def test_census_counts_frozen_objects(ctx):
    """Half the heap moved to the permanent generation with gc.freeze(): every type's count
    includes its frozen instances and says how many are frozen, totals too; the text report,
    Prometheus, diff and watch say the same."""
    with tempfile.TemporaryDirectory() as d, \
            ctx.start_target("census_all_fixture.py", "freeze", os.path.join(d, "stats")) as t:
        census = t.read_line()
        truth = t.read_line()
        check(truth["gc_permanent"] > 10000, "fixture froze too little: %r" % truth["gc_permanent"])
        snap = ctx.snapshot(t.pid)
        check_whole_census(snap, census, truth)
        with open(os.path.join(d, "stats")) as f:
            check_pymalloc(snap, f.read())
        # the object graph has the frozen objects as tracked nodes, like the census
        g = snap["graph"]
        check(g is not None and not g["partial"], "no complete object graph")
        check_eq(g["tracked_traversed"] + g["tracked_untraversed"], snap["objects"]["total"],
                 "tracked objects in the object graph (frozen ones among them)")
        rec = [e for e in snap["objects"]["types"] if e["type"] == "__main__.Rec"][0]
        check(0 < rec["frozen"] < rec["count"], "Rec: %s" % rec)
        # text: the frozen total beside the generations, and per type
        rc, text, err = ctx.run_pypeek(t.pid, "--top", 1000)
        check(rc == 0, "text report: " + err)
        line = "frozen (gc.freeze): {:,}".format(truth["gc_permanent"])
        check(line in text, "text report does not say %r" % line)
        row = [x for x in text.splitlines() if x.strip().startswith("__main__.Rec ")]
        check(row and ("({:,} frozen)".format(rec["frozen"]) in row[0]),
              "text row of Rec does not say how many are frozen: %s" % row[:1])
        # Prometheus
        rc, prom, err = ctx.run_pypeek(t.pid, "--prometheus", "--top", 1000)
        check(rc == 0, "--prometheus: " + err)
        values = {x.split("{")[0]: x.rsplit(" ", 1)[1] for x in prom.splitlines()
                  if x.startswith(("pypeek_frozen_objects{", "pypeek_tracked_objects{"))}
        check_eq(int(values.get("pypeek_frozen_objects", -1)), truth["gc_permanent"],
                 "pypeek_frozen_objects")
        check_eq(int(values.get("pypeek_tracked_objects", -1)),
                 sum(truth["gc_generations"]) + truth["gc_permanent"], "pypeek_tracked_objects")
        rec_line = [x for x in prom.splitlines()
                    if x.startswith("pypeek_type_objects{") and 'type="__main__.Rec"' in x]
        check(rec_line and int(rec_line[0].rsplit(" ", 1)[1]) == census["types"]["__main__.Rec"][0],
              "pypeek_type_objects of Rec: %s" % rec_line)
        # watch: totals and the frozen part per sample, nothing grows
        rc, out, err = ctx.run_pypeek("watch", t.pid, "--interval", 0.2, "--count", 2, "--json")
        check(rc == 0, "watch: " + err)
        watch = json.loads(out)
        for s in watch["timeline"]:
            check_eq((s["objects"], s.get("frozen")), (snap["objects"]["total"], truth["gc_permanent"]),
                     "watch timeline: objects, frozen")
        # diff of two snapshots of the frozen heap: nothing changed, the frozen part is said
        a, b = os.path.join(d, "a.json"), os.path.join(d, "b.json")
        for path in (a, b):
            rc, _, err = ctx.run_pypeek("snapshot", t.pid, "-o", path)
            check(rc == 0, "snapshot: " + err)
        rc, out, err = ctx.run_pypeek("diff", "--json", a, b)
        check(rc == 0, "diff: " + err)
        diff = json.loads(out)
        check_eq(diff["objects"]["frozen"]["new"], truth["gc_permanent"], "diff: objects.frozen")
        check_eq(diff["objects"]["total"]["delta"], 0, "diff: objects.total delta")
        check_eq(diff["types"], [], "diff: types that changed")
        rc, out, err = ctx.run_pypeek("diff", a, b)
        check(rc == 0 and "frozen (gc.freeze) {0:,} -> {0:,}".format(truth["gc_permanent"]) in out,
              "diff text does not say the frozen part: %s %s" % (out[:400], err))
        t.release()
