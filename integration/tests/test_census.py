"""Object census on Debian's python3 with its -dbg package: exact equality with the target's
own gc.get_objects()/sys.getsizeof answers."""
from census_check import check_census
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
        check(abs(pm["allocated_blocks"] - truth["allocated_blocks"]) <= 16,
              "sys.getallocatedblocks(): pypeek says %d, the target says %d"
              % (pm["allocated_blocks"], truth["allocated_blocks"]))
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
