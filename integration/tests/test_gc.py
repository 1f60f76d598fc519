"""GC health, exactly as the interpreter reports it: gc.isenabled/get_debug/get_threshold/
get_count/get_stats/get_freeze_count, gc.garbage and its types, sys.getallocatedblocks."""
from gc_check import compare_gc
from harness import check, check_eq


def run_scenario(ctx, scenario):
    with ctx.start_target("gc_fixture.py", scenario) as t:
        truth = t.read_line()
        snap = ctx.snapshot(t.pid)
        compare_gc(snap, truth)
        return t, truth, snap


def test_gc_plain(ctx):
    run_scenario(ctx, "plain")


def test_gc_saveall_garbage(ctx):
    with ctx.start_target("gc_fixture.py", "saveall") as t:
        truth = t.read_line()
        snap = ctx.snapshot(t.pid)
        compare_gc(snap, truth)
        check(truth["garbage_len"] >= 80, "fixture made too little garbage: %r" % truth)
        check("__main__.Finalized" in truth["garbage_types"], "no Finalized in gc.garbage")
        rc, text, err = ctx.run_pypeek(t.pid)
        check(rc == 0, "text report failed: " + err)
        check("DEBUG_SAVEALL" in text, "text report does not say DEBUG_SAVEALL is on")
        check("gc.garbage holds" in text, "text report does not mention gc.garbage")


def test_gc_disabled_counts_grow(ctx):
    with ctx.start_target("gc_fixture.py", "disabled") as t:
        first = t.read_line()
        snap1 = ctx.snapshot(t.pid)
        compare_gc(snap1, first)
        check(snap1["gc"]["enabled"] is False, "GC reported enabled")
        rc, text, err = ctx.run_pypeek(t.pid)
        check(rc == 0 and "DISABLED" in text, "text report does not say GC is disabled")
        t.release()
        second = t.read_line()
        snap2 = ctx.snapshot(t.pid)
        compare_gc(snap2, second)
        check(snap2["gc"]["counts"][0] > snap1["gc"]["counts"][0],
              "gen-0 count did not grow while GC was disabled")


def test_gc_freeze(ctx):
    _, truth, snap = run_scenario(ctx, "freeze")
    check(truth["gc_permanent"] >= 1000, "fixture froze too little: %r" % truth["gc_permanent"])


def test_gc_thresholds(ctx):
    _, truth, _ = run_scenario(ctx, "thresholds")
    check_eq(truth["gc_threshold"], [1234, 56, 78], "fixture thresholds")
