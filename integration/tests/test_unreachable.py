"""Unreachable cycles (gc.unreachable): what the next collection frees, found read-only, equals
the interpreter's own answer on an identical heap: the fixture's forked twin runs
gc.set_debug(gc.DEBUG_SAVEALL); gc.collect() and reports the census of gc.garbage."""
import json
import os
import re

from harness import EXIT_BAD_FILE, check, check_eq

FIXTURE_TYPES = ("__main__.Finalized", "__main__.SelfRef", "__main__.Handler",
                 "__main__.Looped", "__main__.GenHolder")


def test_unreachable_cycles_match_collector(ctx):
    with ctx.start_target("unreachable_fixture.py") as t:
        truth = t.read_line()
        twin = truth["twin"]
        snap = ctx.snapshot(t.pid, "--top", "100")
        u = snap["gc"]["unreachable"]
        check(u["available"] is True, "gc.unreachable not computed: %r" % u)
        got = {e["type"]: e for e in u["types"]}
        for name in FIXTURE_TYPES:
            bare = name.split(".", 1)[1]
            want = twin["found"].get(bare, 0)
            check(want > 0, "test set-up: the collector found no %s" % name)
            have = got.get(name, {"count": 0, "bytes": 0, "finalizers": 0})
            check_eq(have["count"], want, "%s among the unreachable" % name)
            kept = twin["types"].get(name)
            if kept and kept["count"] == want:  # all of them still in gc.garbage
                for k in ("bytes", "finalizers"):
                    check_eq(have[k], kept[k], "%s %s among the unreachable" % (name, k))
        check(twin["types"]["__main__.Finalized"]["finalizers"] == twin["found"]["Finalized"],
              "test set-up: not every Finalized kept in gc.garbage with its __del__")
        check("__main__.Reachable" not in got,
              "a reachable cycle (held by a global) reported unreachable: %r"
              % got.get("__main__.Reachable"))
        check("__main__.Frozen" not in got,
              "cycles in the permanent generation (gc.freeze) reported: %r"
              % got.get("__main__.Frozen"))
        check("Frozen" not in twin["found"] and truth["frozen"] >= 60,
              "test set-up: the frozen cycles: %r, %r" % (twin["types"].get("__main__.Frozen"),
                                                          truth["frozen"]))
        check(truth["held"] == 40, "test set-up: the global holds %r pairs" % truth["held"])
        # never more than the collector found: in total and per type (by tp_name, which
        # is the bare class name for Python classes)
        check(u["objects"] <= twin["found_objects"],
              "pypeek reports more than gc.collect() finds: %d objects vs %d"
              % (u["objects"], twin["found_objects"]))
        for name, e in got.items():
            if "." not in name:  # a builtin: its tp_name is its name
                check(e["count"] <= twin["found"].get(name, 0),
                      "%s: %d unreachable, the collector found %d"
                      % (name, e["count"], twin["found"].get(name, 0)))
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
        twin = t.read_line()["twin"]
        snap = ctx.snapshot(t.pid, "--no-graph")
        u = snap["gc"]["unreachable"]
        check(u["available"] is False and u.get("reason"), "no reason given: %r" % u)
        # --streaming: computed when the graph was read (frozen), absent when it was not
        snap = ctx.snapshot(t.pid, "--streaming", "--graph-pause", 0)
        u = snap["gc"]["unreachable"]
        check_eq(snap["attach"]["read"], "streaming", "read mode")
        got = {e["type"]: e["count"] for e in u.get("types", [])}
        check_eq(got.get("__main__.Finalized"), twin["types"]["__main__.Finalized"]["count"],
                 "--streaming: unreachable Finalized")
        rc, text, err = ctx.run_pypeek("--prometheus", "--streaming", t.pid)
        check(rc == 0, "pypeek --prometheus --streaming failed: " + err)
        check("pypeek_gc_unreachable_objects" not in text,
              "--streaming --prometheus reads no graph, yet reports unreachable objects")


def _series(text, name):
    """{type label: value} of one family of a Prometheus exposition."""
    out = {}
    for line in text.splitlines():
        if line.startswith(name + "{"):
            head, value = line.rsplit(" ", 1)
            m = re.search(r'type="((?:[^"\\]|\\.)*)"', head)
            if m:
                out[m.group(1)] = float(value)
    return out


def test_unreachable_prometheus(ctx):
    import promtool
    with ctx.start_target("unreachable_fixture.py") as t:
        twin = t.read_line()["twin"]
        rc, text, err = ctx.run_pypeek("--prometheus", "--top", 3, t.pid)
        check(rc == 0, "pypeek --prometheus exited %d: %s" % (rc, err.strip()))
        ok, msg = promtool.check_metrics(text)
        check(ok, "promtool rejects the output:\n%s" % msg)
        per_type = _series(text, "pypeek_gc_unreachable_objects")
        check_eq(len(per_type), 4, "unreachable type series with --top 3 (+ type=\"(other)\")")
        # the largest group the collector found (tp_name: bare for the fixture's classes)
        bare, count = max(twin["found"].items(), key=lambda kv: kv[1])
        ours = {n.split(".", 1)[1]: n for n in FIXTURE_TYPES}
        check_eq(per_type.get(ours.get(bare, bare)), count, "the largest group's series")
        check(sum(per_type.values()) <= twin["found_objects"],
              "the series sum to more than the collector frees: %r" % per_type)
        fin = [line for line in text.splitlines()
               if line.startswith("pypeek_gc_unreachable_finalizers{")]
        # with __del__: those kept in gc.garbage, and the generators (tp_finalize) whose
        # close() broke their cycle, freed before gc.garbage
        gens = twin["found"].get("generator", 0) - twin["types"].get("generator",
                                                                      {"count": 0})["count"]
        check(fin and float(fin[0].rsplit(" ", 1)[1])
              == sum(e["finalizers"] for e in twin["types"].values()) + gens,
              "pypeek_gc_unreachable_finalizers vs the twin's: %r" % fin)


def test_unreachable_diff_shows_the_change(ctx):
    import tempfile
    with tempfile.TemporaryDirectory() as d, \
            ctx.start_target("unreachable_fixture.py", "rounds") as t:
        first = t.read_line()["twin"]
        old, new = os.path.join(d, "old.json"), os.path.join(d, "new.json")
        rc, _, err = ctx.run_pypeek("snapshot", t.pid, "-o", old)
        check(rc == 0, "snapshot failed: " + err)
        t.release()
        second = t.read_line()["twin"]
        rc, _, err = ctx.run_pypeek("snapshot", t.pid, "-o", new)
        check(rc == 0, "snapshot failed: " + err)
        rc, out, err = ctx.run_pypeek("diff", old, new, "--json")
        check(rc == 0, "diff failed: " + err)
        u = json.loads(out)["unreachable"]
        types = {e["type"]: e for e in u["types"]}
        for name in FIXTURE_TYPES:
            bare = name.split(".", 1)[1]
            want = second["found"][bare] - first["found"][bare]
            check(want > 0, "test set-up: %s did not grow between the twins" % name)
            check_eq(types.get(name, {}).get("count_delta"), want, "diff: %s unreachable delta" % name)
        rc, text, err = ctx.run_pypeek("diff", old, new)
        check(rc == 0 and "Unreachable cycles awaiting collection" in text,
              "no unreachable section in the text diff: " + text + err)


def test_watch_names_growing_unreachable_cycles(ctx):
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "ticks.log")
        with ctx.start_target("unreachable_fixture.py", "grow", 0.05, log) as t:
            t.read_line()  # its first tick is logged
            rc, out, err = ctx.run_pypeek("watch", t.pid, "--interval", 0.5, "--count", 4,
                                          "--json")
            check(rc == 0, "pypeek watch exited %d: %s" % (rc, err.strip()))
            # the target's own count, logged after the last sample
            with open(log) as f:
                made = [json.loads(x) for x in f if x.endswith("\n")][-1]
        summary = json.loads(out)
        sus = {s["name"]: s for s in summary["suspects"] if s["kind"] == "unreachable"}
        check("__main__.Finalized" in sus, "growing unreachable cycles not named: %s"
              % summary["suspects"])
        s = sus["__main__.Finalized"]
        check(0 < s["first"] < s["last"] <= made["finalized"],
              "Finalized unreachable %d -> %d, the target made %d by then"
              % (s["first"], s["last"], made["finalized"]))
        check(all("unreachable" in e for e in summary["timeline"]), "timeline lacks unreachable")


def test_unreachable_hostile_snapshot_file(ctx):
    """A saved snapshot whose gc.unreachable is corrupt is refused (exit 7, the path named),
    not tallied by diff."""
    import tempfile
    with tempfile.TemporaryDirectory() as d, ctx.start_target("unreachable_fixture.py") as t:
        t.read_line()
        good = os.path.join(d, "good.json")
        rc, _, err = ctx.run_pypeek("snapshot", t.pid, "-o", good)
        check(rc == 0, "snapshot failed: " + err)
        with open(good) as f:
            doc = json.load(f)
        for field, value in (("objects", -1), ("types", {"x": 1}), ("types", [{"type": 3}])):
            bad = json.loads(json.dumps(doc))
            bad["gc"]["unreachable"][field] = value
            path = os.path.join(d, "bad.json")
            with open(path, "w") as f:
                json.dump(bad, f)
            rc, out, err = ctx.run_pypeek("diff", good, path)
            check_eq(rc, EXIT_BAD_FILE, "diff with gc.unreachable.%s = %r (stderr %r)" % (field, value, err))
            check("gc.unreachable" in err, "the error does not name gc.unreachable: %r" % err)
