"""Object graph (issue 10): full census, retained sizes and reference chains equal the
target's own walk with gc.get_referents and sys.getsizeof."""
import json

from harness import check, check_eq, type_entry

ATOMS = ("str", "bytes", "bytearray", "int", "float")


def retainer(snap, root):
    for r in snap["retainers"]:
        if r["root"] == root:
            return r
    return {"root": root, "retained_bytes": 0, "retained_count": 0, "types": []}


def check_retained(snap, truth):
    """A complete graph whose retained bytes and counts equal the target's own walk, global by
    global; returns each root's retainer entry."""
    check(snap["graph"] is not None and not snap["graph"]["partial"], "no complete graph")
    got = {}
    for root, want in truth["retained"].items():
        got[root] = retainer(snap, root)
        check_eq(got[root]["retained_bytes"], want["bytes"], root + " retained bytes")
        check_eq(got[root]["retained_count"], want["count"], root + " retained objects")
    return got


def check_graph(ctx, python=None):
    kw = {"python": python} if python else {}
    with ctx.start_target("graph_fixture.py", **kw) as t:
        truth = t.read_line()
        snap = ctx.snapshot(t.pid, "--top", "1000")  # every global listed
        held = check_retained(snap, truth)
        for root, want in truth["retained"].items():
            types = {e["type"]: e for e in held[root]["types"]}
            for name, w in want["types"].items():
                if name in ATOMS or name in ("tuple", "list", "cell", "__main__.Rec"):
                    check_eq(types.get(name, {}).get("count", 0), w["count"],
                             "%s: %s reachable only through it" % (root, name))
        # the untracked census holds at least what the fixture's globals hold
        ut = {e["type"]: e for e in snap["objects"]["types"]}
        for name in ATOMS:
            held = sum(w["types"].get(name, {"count": 0})["count"]
                       for w in truth["retained"].values())
            check(ut.get(name, {}).get("untracked_count", 0) >= held,
                  "untracked %s: %s < %d held by the fixture" % (name, ut.get(name), held))
        # chains
        rc, out, err = ctx.run_pypeek("why", "--json", "--limit", "3", t.pid, "Rec")
        check(rc == 0, "pypeek why exited %d: %s" % (rc, err))
        why = json.loads(out)
        check_eq(why["instances"], 2000, "Rec instances")
        check_eq(why["chains"][0]["path"], ["__main__._recs[0]"], "chain to a Rec")
        check_eq(why["roots"][0]["root"], "__main__._recs", "root holding the Recs")
        check_eq(why["roots"][0]["retained_bytes"], truth["retained"]["__main__._recs"]["bytes"],
                 "the root's retained bytes")
        rc, out, err = ctx.run_pypeek("why", "--limit", "1", t.pid, "bytearray")
        check(rc == 0 and "__main__._recs[0] -> __main__.Rec.buf -> bytearray" in out,
              "bytearray chain: %s %s" % (out, err))
        # closures: each handler's cell holds its own payload list (and nothing else)
        rc, out, err = ctx.run_pypeek("why", "--json", "--limit", "100000", t.pid, "cell")
        check(rc == 0, "pypeek why cell exited %d: %s" % (rc, err))
        why = json.loads(out)
        roots = {r["root"]: r for r in why["roots"]}
        check_eq(roots.get("__main__._closures", {}).get("instances"), 200,
                 "cells held through __main__._closures")
        paths = [c["path"] for c in why["chains"] if c["root"] == "__main__._closures"]
        check(["__main__._closures[0]", "function.__closure__", "tuple[0]"] in paths,
              "chain to a closure cell: %s" % paths[:3])
        rc, out, err = ctx.run_pypeek("why", "--limit", "1", t.pid, "Slotted")
        check(rc == 0 and "__main__._slots[0] -> __main__.Slotted (" in out,
              "Slotted chain: %s %s" % (out, err))
        t.release()


def test_graph_matches_target(ctx):
    check_graph(ctx)


# C types whose references pypeek may say it cannot read in the untracked fixture's heap (its
# graph.untraversed_types): the oracle's own imports (ctypes, json, struct, _io), _ast's node
# singletons, re's int subclasses, typing unions, thread handles and locals, 3.15's lazy
# imports and frozendict, context variables (3.14+: untracked ones hold the warnings context's
# name) and sys's struct sequences (their hidden fields). Any other untraversed type fails the test: the oracle would not follow it.
UNREADABLE_ALLOWED = ("_struct.Struct", "_io.TextIOWrapper", "_json.Scanner", "_ctypes.",
                      "ctypes.", "ast.", "_ast.", "_thread._local", "_thread.lock", "re._constants._NamedIntConstant", "re.RegexFlag",
                      "types.UnionType", "typing.Union", "_thread.RLock", "_thread._ThreadHandle",
                      "lazy_import", "frozendict", "_contextvars.ContextVar", "sys.flags",
                      "sys.float_info", "sys.hash_info", "sys.int_info", "sys.thread_info",
                      "sys.version_info")


def test_untracked_census_exact(ctx):
    """Issue 20: the untracked census (objects the collector does not track that tracked ones
    reach: str, bytes, int, float, atomic tuples and dicts, static types...) equals the
    target's own walk (oracle.untracked_census: gc.get_referents from gc.get_objects(), by id)
    type by type: counts always, bytes wherever pypeek says they are exact. What pypeek cannot
    read (graph.untraversed_types, of a first snapshot) is sent to the target, which follows
    only those objects' generic parts; those types must be known C types, and exactly the ones
    with instances."""
    with ctx.start_target("untracked_fixture.py") as t:
        check(t.read_line()["ready"], "fixture not ready")
        first = ctx.snapshot(t.pid, "--top", "1000000")
        check(first["graph"] is not None and not first["graph"]["partial"], "no complete graph")
        opaque = sorted({e["type"] for e in first["graph"]["untraversed_types"]})
        bad = [n for n in opaque if not n.startswith(UNREADABLE_ALLOWED)]
        check(not bad, "types pypeek cannot read beyond the known C types: %s" % bad)
        t.proc.stdin.write(("\t".join(opaque) + "\n").encode())
        t.proc.stdin.flush()
        truth = t.read_line()
        snap = ctx.snapshot(t.pid, "--top", "1000000")  # every type listed
        g = snap["graph"]
        check(g is not None and not g["partial"], "no complete graph")
        check_eq(sorted({e["type"] for e in g["untraversed_types"]}), truth["opaque"],
                 "untraversed types: those the oracle did not follow, with instances")
        got = {}
        for e in snap["objects"]["types"]:
            if e["untracked_count"]:
                x = got.setdefault(e["type"], [0, 0, True])
                x[0] += e["untracked_count"]
                x[1] += e["untracked_bytes"]
                x[2] = x[2] and e["bytes_exact"]
        want = truth["untracked"]
        diffs, exact = [], 0
        for name in sorted(set(got) | set(want)):
            g_ = got.get(name, [0, 0, True])
            w = want.get(name, [0, 0])
            if g_[0] != w[0]:
                diffs.append("%s: %d untracked, the target says %d" % (name, g_[0], w[0]))
            elif g_[2]:
                exact += 1
                if g_[1] != w[1]:
                    diffs.append("%s: %d bytes (exact), the target says %s" % (name, g_[1], w[1]))
        check(not diffs, "%d of %d untracked types differ:\n  %s"
              % (len(diffs), len(want), "\n  ".join(diffs)))
        total = sum(c for c, _ in want.values())
        check_eq(snap["objects"]["untracked"]["count"], total, "objects.untracked.count")
        version = tuple(int(x) for x in snap["target"]["python_version"].split(".")[:2])
        least = {"str": 1000, "bytes": 620, "int": 1300, "float": 700, "complex": 50,
                 "bytearray": 60, "range": 30, "tuple": 680}
        if version < (3, 14):  # from 3.14 every dict is tracked
            least["dict"] = 590
        for name, n in sorted(least.items()):
            check(want.get(name, [0])[0] >= n, "fixture: %s untracked: %s" % (name, want.get(name)))
        print("    %d untracked objects of %d types (%d sized exactly), all equal"
              % (total, len(want), exact))
        t.release()


def test_leaky_service_cache_is_top_retainer(ctx):
    """The sample service: its _cache list retains every LargeObject and its payload, and
    `pypeek why PID LargeObject` prints the chain through it."""
    with ctx.start_target("leaky_service.py", "--hold-after", 15, "--tick", 0.02) as t:
        try:
            truth = t.read_line()
            n = truth["large_objects"]
            snap = ctx.snapshot(t.pid)
            top = snap["retainers"][0]
            check_eq(top["root"], "__main__._cache", "top retained global")
            check_eq(top["len"], n, "_cache items")
            types = {e["type"]: e for e in top["types"]}
            check_eq(types["__main__.LargeObject"]["count"], n, "LargeObjects retained")
            check_eq(types["bytearray"]["count"], n, "payloads retained")
            # the service's own walk of what its cache alone keeps alive
            want = truth["cache_retains"]
            check(want["types"]["bytearray"]["bytes"] > n * 65536, "the payloads: %s" % want)
            check_eq({k: (v["count"], v["bytes"]) for k, v in types.items()},
                     {k: (v["count"], v["bytes"]) for k, v in want["types"].items()},
                     "what _cache retains, by type")
            check_eq(top["retained_bytes"], want["bytes"], "bytes retained by _cache")
            check_eq(top["retained_count"], want["count"], "objects retained by _cache")
            rc, out, err = ctx.run_pypeek("why", "--limit", "2", t.pid, "LargeObject")
            check(rc == 0 and "__main__._cache[0] -> __main__.LargeObject (" in out,
                  "why LargeObject: %s %s" % (out, err))
            rc, out, err = ctx.run_pypeek(t.pid)
            check(rc == 0 and "__main__._cache" in out and "retains" in out, "text report: %s" % err)
            t.release()
            check_eq(t.proc.wait(timeout=60), 0, "the service's exit status after release")
        finally:
            if t.proc.poll() is None:
                t.proc.terminate()
                t.proc.wait(timeout=60)


def frame_root_name(truth):
    """How pypeek names a frame local, from the target's own facts: the native thread id from
    3.11 (PyThreadState.native_thread_id), threading.get_ident() before."""
    tid = ("%d" % truth["native_id"] if truth["version"] >= [3, 11]
           else "ident %d" % truth["ident"])
    return "thread %s frame %s local %s" % (tid, truth["func"], truth["local"])


def test_frame_locals_are_roots(ctx):
    """Objects held only by a blocked thread's local variable are reached from that frame
    local (not "held from C / unknown"), and the local retains what the target's walk says."""
    with ctx.start_target("frame_roots_fixture.py") as t:
        truth = t.read_line()
        root = frame_root_name(truth)
        snap = ctx.snapshot(t.pid)
        check(snap["graph"] is not None and not snap["graph"]["partial"], "no complete graph")
        got = retainer(snap, root)
        check_eq(got.get("kind"), "frame_local", root + " kind")
        check_eq(got["retained_bytes"], truth["retained"]["bytes"], root + " retained bytes")
        check_eq(got["retained_count"], truth["retained"]["count"], root + " retained objects")
        rc, out, err = ctx.run_pypeek("why", "--json", "--limit", "3", t.pid, "Held")
        check(rc == 0, "pypeek why exited %d: %s" % (rc, err))
        why = json.loads(out)
        check_eq(why["instances"], truth["instances"], "Held instances")
        check_eq(why["held_from_unknown"], 0, "Held instances held from C / unknown")
        check_eq(why["roots"][0]["root"], root, "root holding the Held instances")
        check_eq(why["roots"][0]["instances"], truth["instances"], "instances under the root")
        check_eq(why["chains"][0]["path"], [root + "[0]"], "chain to a Held")
        check(why["chains"][0]["from_frame"], "the chain starts at a frame local")
        rc, out, err = ctx.run_pypeek("why", "--limit", "1", t.pid, "Held")
        check(rc == 0 and (root + "[0] -> __main__.Held (") in out, "why text: %s %s" % (out, err))
        t.release()


def test_deque_items_are_referents(ctx):
    """collections.deque: its items (across blocks, from a mid-block start) are referents
    labelled [i], its size is deque.__sizeof__, and a subclass instance's attributes count."""
    with ctx.start_target("deque_fixture.py") as t:
        truth = t.read_line()
        snap = ctx.snapshot(t.pid, "--top", "1000")  # every global listed
        check_retained(snap, truth)
        check_eq(retainer(snap, "__main__._queue").get("len"),
                 truth["retained"]["__main__._queue"]["items"], "the deque's items")
        dq = type_entry(snap, "collections.deque")
        check(dq is not None and dq["bytes_exact"], "deque sizes exact: %s" % dq)
        rc, out, err = ctx.run_pypeek("why", "--json", "--limit", "2", t.pid, "Item")
        check(rc == 0, "pypeek why exited %d: %s" % (rc, err))
        why = json.loads(out)
        check_eq(why["held_from_unknown"], 0, "Items held from C / unknown")
        check_eq(why["chains"][0]["path"], ["__main__._queue[0]"], "chain to an Item")
        t.release()


def test_suspended_generators_hold_their_frames(ctx):
    """Suspended generators and coroutines refer to their frame's locals and value stack (an
    unstarted one to its arguments, a finished one to nothing): retained sizes equal the
    target's walk, generator sizes are gen.__sizeof__, and chains run through the local."""
    with ctx.start_target("generators_fixture.py") as t:
        truth = t.read_line()
        snap = ctx.snapshot(t.pid, "--top", "1000")
        check_retained(snap, truth)
        for name in ("generator", "coroutine"):
            e = type_entry(snap, name)
            check(e is not None and e["bytes_exact"], "%s sizes exact: %s" % (name, e))
        rc, out, err = ctx.run_pypeek("why", "--json", "--limit", "1", t.pid, "Payload")
        check(rc == 0, "pypeek why exited %d: %s" % (rc, err))
        why = json.loads(out)
        check_eq(why["held_from_unknown"], 0, "Payloads held from C / unknown")
        # the shortest: the loop variable of the first generator (3.9/3.10 through its frame)
        want = (["__main__._gens[0]", "generator.item"] if truth["version"] >= [3, 11]
                else ["__main__._gens[0]", "generator.gi_frame", "frame.item"])
        check_eq(why["chains"][0]["path"], want, "chain to a Payload")
        t.release()




def test_builtin_referents_hold_their_payloads(ctx):
    """Issue 21: subclasses of str/bytes/tuple/float with a dict, property, classmethod,
    staticmethod, weakref callbacks, bound builtin methods, method-wrappers, descriptors,
    mappingproxy, exceptions and tracebacks (and their frames), OrderedDict, defaultdict,
    SimpleNamespace, namedtuple fields, ABCs, _io objects, re.Pattern/Match, functools.partial,
    list/tuple iterators, memoryview and slices refer to what their tp_traverse visits: what each global retains equals the target's own gc.get_referents
    walk, type by type, and none of those types is reported untraversed."""
    with ctx.start_target("referents_fixture.py") as t:
        truth = t.read_line()
        snap = ctx.snapshot(t.pid, "--top", "1000")
        check(snap["graph"] is not None and not snap["graph"]["partial"], "no complete graph")
        for root, want in truth["retained"].items():
            got = retainer(snap, root)
            types = {e["type"]: e for e in got["types"]}
            for name, w in sorted(want["types"].items()):
                check_eq(types.get(name, {}).get("count", 0), w["count"],
                         "%s: %s retained" % (root, name))
                # sizes pypeek estimates (marked ~: 3.11+ frames, _io buffers) are not compared
                exact = (type_entry(snap, name) or {}).get("bytes_exact", False)
                if exact:
                    check_eq(types[name]["bytes"], w["bytes"], "%s: %s bytes" % (root, name))
            check_eq(got["retained_count"], want["count"], root + " retained objects")
        untraversed = {e["type"] for e in snap["graph"]["untraversed_types"]}
        for name in ("__main__.Text", "__main__.Blob", "__main__.Pair", "__main__.Real",
                     "property", "classmethod", "staticmethod", "weakref.ReferenceType", "weakref.ProxyType", "weakref.CallableProxyType",
                     "builtin_function_or_method", "method-wrapper", "member_descriptor",
                     "mappingproxy", "RuntimeError", "ValueError", "KeyError", "traceback",
                     "frame", "collections.OrderedDict", "collections.defaultdict",
                     "types.SimpleNamespace", "_io.BufferedReader", "_io.FileIO",
                     "_collections._tuplegetter", "collections._tuplegetter", "re.Pattern",
                     "re.Match", "functools.partial", "list_iterator", "tuple_iterator",
                     "memoryview", "managedbuffer", "slice", "functools._lru_cache_wrapper", "dict_keys", "dict_values",
                     "dict_items", "dict_keyiterator", "dict_valueiterator", "dict_itemiterator",
                     "set_iterator", "enumerate", "itertools.count", "operator.itemgetter",
                     "operator.attrgetter", "types.GenericAlias", "OSError",
                     "FileNotFoundError", "ImportError", "StopIteration", "SyntaxError",
                     "NameError", "UnicodeDecodeError", "SystemExit", "AttributeError",
                     "ExceptionGroup"):
            check(name not in untraversed, "%s is still untraversed" % name)
        t.release()


def test_holders_and_leak_suspect(ctx):
    """Issue 21: the holders are the dominator tree under a virtual root joined to every root.
    A global retaining most of the heap is a level-0 holder retaining what the target's own
    walk says, and the leak suspect named at the top of the text report; a dict two modules'
    globals share is a level-0 holder of kind object, reached from 2 roots, retaining what the
    target says; level-0 holders never sum to more than the reachable bytes."""
    with ctx.start_target("holders_fixture.py") as t:
        truth = t.read_line()
        snap = ctx.snapshot(t.pid)
        g = snap["graph"]
        check(g is not None and not g["partial"], "no complete graph")
        level0 = [h for h in snap["holders"] if h["parent"] is None]
        big = [h for h in level0 if h["name"] == "__main__._big"]
        check(len(big) == 1 and big[0]["kind"] == "global", "no level-0 holder __main__._big: %s"
              % [h["name"] for h in level0[:10]])
        check_eq(big[0]["retained_bytes"], truth["big"]["bytes"], "__main__._big retained bytes")
        check_eq(big[0]["retained_count"], truth["big"]["count"], "__main__._big retained objects")
        shared = [h for h in level0 if h["kind"] == "object" and h["type"] == "dict"
                  and h["retained_bytes"] == truth["shared"]["bytes"]]
        check(len(shared) == 1, "no level-0 dict holder retaining %d bytes: %s"
              % (truth["shared"]["bytes"], [(h["name"], h["kind"], h["type"], h["retained_bytes"])
                                           for h in level0[:10]]))
        check_eq(shared[0]["retained_count"], truth["shared"]["count"], "shared dict objects")
        check_eq(shared[0]["roots"], 2, "roots reaching the shared dict")
        check(sum(h["retained_bytes"] for h in level0) <= g["reachable_bytes"],
              "level-0 holders overlap")
        # children: each names its parent, and retains no more than it
        for h in snap["holders"]:
            if h["parent"] is not None:
                p = snap["holders"][h["parent"]]
                check(h["depth"] == p["depth"] + 1 and h["retained_bytes"] <= p["retained_bytes"],
                      "holder %s under %s" % (h, p))
        share = truth["big"]["bytes"] / truth["reachable_bytes"]
        check(share >= 0.3, "fixture: _big holds only %.0f%% of the heap" % (100 * share))
        check(snap["leak_suspects"] and snap["leak_suspects"][0]["name"] == "__main__._big",
              "leak suspects: %s" % snap["leak_suspects"])
        rc, out, err = ctx.run_pypeek(t.pid)
        check(rc == 0, "pypeek exited %d: %s" % (rc, err))
        head = out[:out.find("Memory:")]
        check("LEAK SUSPECT" in head and "__main__._big" in head and "__main__.Blob" in head,
              "the report does not open with the leak suspect:\n%s" % head)
        t.release()
