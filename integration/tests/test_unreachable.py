"""Unreachable cycles (gc.unreachable): what the next collection frees, found read-only, equals
the interpreter's own answer on an identical heap: the fixture's forked twin runs
gc.set_debug(gc.DEBUG_SAVEALL); gc.collect() and reports the census of gc.garbage."""
import re

from harness import check, check_eq

FIXTURE_TYPES = ("__main__.Finalized", "__main__.SelfRef", "__main__.Handler",
                 "__main__.Looped")


def test_unreachable_cycles_match_collector(ctx):
    with ctx.start_target("unreachable_fixture.py") as t:
        truth = t.read_line()
        twin = truth["twin"]
        snap = ctx.snapshot(t.pid, "--top", "100")
        u = snap["gc"]["unreachable"]
        check(u["available"] is True, "gc.unreachable not computed: %r" % u)
        got = {e["type"]: e for e in u["types"]}
        for name in FIXTURE_TYPES:
            want = twin["types"].get(name)
            check(want and want["count"] > 0, "test set-up: the twin found no %s" % name)
            have = got.get(name, {"count": 0, "bytes": 0, "finalizers": 0})
            for k in ("count", "bytes", "finalizers"):
                check_eq(have[k], want[k], "%s %s among the unreachable" % (name, k))
        check(twin["types"]["__main__.Finalized"]["finalizers"] > 0,
              "test set-up: Finalized has no __del__ in the twin")
        check("__main__.Reachable" not in got,
              "a reachable cycle (held by a global) reported unreachable: %r"
              % got.get("__main__.Reachable"))
        check("__main__.Frozen" not in got,
              "cycles in the permanent generation (gc.freeze) reported: %r"
              % got.get("__main__.Frozen"))
        check("__main__.Frozen" not in twin["types"] and truth["frozen"] >= 60,
              "test set-up: the frozen cycles: %r, %r" % (twin["types"].get("__main__.Frozen"),
                                                          truth["frozen"]))
        check(truth["held"] == 40, "test set-up: the global holds %r pairs" % truth["held"])
        # never more than the collector: in total and per type
        check(u["objects"] <= twin["objects"] and u["bytes"] <= twin["bytes"],
              "pypeek reports more than gc.collect() frees: %d objects (%d bytes) vs %d (%d)"
              % (u["objects"], u["bytes"], twin["objects"], twin["bytes"]))
        for name, e in got.items():
            want = twin["types"].get(name, {"count": 0})
            check(e["count"] <= want["count"],
                  "%s: %d unreachable, the collector frees only %d" % (name, e["count"],
                                                                        want["count"]))
        check_eq(sum(e["count"] for e in u["types"]), u["objects"], "sum of types vs objects")
        check(u["retained_bytes"] >= u["bytes"], "retained_bytes below bytes: %r" % u)
        # one example cycle for the largest group, closing on itself
        check(u["examples"], "no example cycle")
        ex = u["examples"][0]
        check(ex["type"] == u["types"][0]["type"] and ex["cycle"]
              and ex["cycle"][0].startswith(ex["type"])
              and ex["chain"].endswith("(back to the first)"), "bad example: %r" % ex)
        rc, text, err = ctx.run_pypeek(t.pid)
        check(rc == 0, "text report failed: " + err)
        m = re.search(r"Unreachable cycles awaiting collection: ([\d,]+) objects \(([^)]*)\), "
                      r"([\d,]+) with __del__", text)
        check(m is not None, "no unreachable line in the text report:\n" + text)
        check_eq(int(m.group(1).replace(",", "")), u["objects"], "text: unreachable objects")
        check_eq(int(m.group(3).replace(",", "")), u["finalizers"], "text: with __del__")
        check("collector is disabled" in text, "no warning that the collector is disabled")
        check("example cycle: " + ex["type"] in text, "no example cycle in the text report")


def test_unreachable_absent_without_graph(ctx):
    with ctx.start_target("unreachable_fixture.py") as t:
        t.read_line()
        snap = ctx.snapshot(t.pid, "--no-graph")
        u = snap["gc"]["unreachable"]
        check(u["available"] is False and u.get("reason"), "no reason given: %r" % u)
