"""All interpreters of a process, reported separately (3.13+): the subinterpreter fixture's
main interpreter and isolated subinterpreter each state their own gc answers; pypeek's
interpreters[] entry for each must equal what that interpreter says of itself."""
from harness import check, check_eq
from interpreters import by_name


def types_of(entry):
    return {t["type"]: {"count": t["count"], "bytes": t["bytes"]}
            for t in entry["objects"]["types"]}


def compare_interp(entry, truth, names, who):
    check_eq([g["objects"] for g in entry["gc"]["generations"]], truth["gc_generations"],
             who + ": objects per generation")
    check_eq(entry["gc"]["permanent_objects"], truth["gc_permanent"], who + ": permanent")
    check_eq(entry["gc"]["counts"], truth["gc_count"], who + ": gc.get_count()")
    check_eq(entry["gc"]["thresholds"], truth["gc_threshold"], who + ": gc.get_threshold()")
    stats = [{k: g[k] for k in ("collections", "collected", "uncollectable")}
             for g in entry["gc"]["generations"]]
    want = [{k: g[k] for k in ("collections", "collected", "uncollectable")}
            for g in truth["gc_stats"]]
    check_eq(stats, want, who + ": gc.get_stats()")
    got = types_of(entry)
    for n in names:
        check_eq(got.get(n, {"count": 0, "bytes": 0}), truth["types"][n], who + ": " + n)


def subinterpreters_on(ctx, name):
    ctx = ctx.on(by_name(name))
    with ctx.start_target("subinterp_fixture.py") as t:
        truth = t.read_line()
        snap = ctx.snapshot(t.pid, "--top", 100000)
        interps = snap["interpreters"]
        check_eq(len(interps), 2, "interpreters in the process")
        main = [i for i in interps if i["main"]]
        sub = [i for i in interps if i["id"] == truth["sub_id"]]
        check(len(main) == 1 and len(sub) == 1 and main[0] is not sub[0],
              "main and subinterpreter %d not both reported: %r"
              % (truth["sub_id"], [(i["id"], i["main"]) for i in interps]))
        compare_interp(main[0], truth, ("__main__.MainThing", "list"), "main interpreter")
        compare_interp(sub[0], truth["sub"], ("__main__.SubThing", "list"), "subinterpreter")
        # the objects of one are not counted in the other
        check("__main__.SubThing" not in types_of(main[0]), "SubThing counted in main")
        check("__main__.MainThing" not in types_of(sub[0]), "MainThing counted in the sub")
        check(snap["attach"]["consistent"] is True, "snapshot not consistent")
        # threads report the interpreter they run: the runner thread is in the subinterpreter,
        # blocked in os.read at the line the fixture names, below it its main-interpreter
        # frames (Thread.run ...); the main thread holds the main interpreter's GIL
        threads = {th["tid"]: th for th in snap["threads"]}
        runner, main_t = threads[truth["runner_tid"]], threads[truth["main_tid"]]
        check_eq(runner["interpreter"], truth["sub_id"], "runner thread's interpreter")
        check_eq(runner["frames"][0]["line"], truth["sub_block_line"], "runner's innermost line")
        check("Thread.run" in [f["function"] for f in runner["frames"]],
              "runner thread: no main-interpreter frames after the subinterpreter's: %r"
              % runner["frames"])
        check_eq(main_t["interpreter"], main[0]["id"], "main thread's interpreter")
        check_eq([th["tid"] for th in snap["threads"] if th["holds_gil"]], [truth["main_tid"]],
                 "GIL holders")
        t.release()


def test_subinterpreters_debian_3_13(ctx):
    subinterpreters_on(ctx, "debian-3.13")


def test_subinterpreters_debian_3_14(ctx):
    subinterpreters_on(ctx, "debian-3.14")


def test_subinterpreters_debian_3_15(ctx):
    subinterpreters_on(ctx, "debian-3.15")
