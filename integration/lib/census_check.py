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
    check_eq(snap["objects"]["total"], sum(truth["gc_generations"]) + truth["gc_permanent"],
             pre + "total tracked objects (the permanent generation included)")
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


# Types whose sys.getsizeof pypeek claims exact (README), each with instances in
# census_all_fixture.py: every one must be marked exact and equal the target's sum.
CLAIMED_EXACT = ("list", "tuple", "dict", "set", "frozenset", "type", "collections.deque",
                 "generator", "coroutine", "async_generator", "__main__.Rec", "__main__.Slotted")


def merged_types(snap):
    """objects.types by name (types sharing a name summed): [count, bytes, frozen, exact]."""
    got = {}
    for t in snap["objects"]["types"]:
        g = got.setdefault(t["type"], [0, 0, 0, True])
        g[0] += t["count"]
        g[1] += t["bytes"]
        g[2] += t.get("frozen", 0)
        g[3] = g[3] and t["bytes_exact"]
    return got


def check_whole_census(snap, census, truth):
    """Every type of the heap: count and frozen count equal the target's census (census_all_
    fixture.py's first line), bytes too wherever pypeek says they are exact; the totals equal
    the interpreter's gc answers (truth, its second line). Returns the number of types whose
    bytes were compared."""
    want = census["types"]
    got = merged_types(snap)
    bad = []
    exact = 0
    unknown = 0  # frozen objects the interpreter put there itself (3.12): numbered, not typed
    for name in sorted(set(got) | set(want)):
        g = got.get(name, [0, 0, 0, True])
        w = want.get(name, [0, 0, 0])
        extra = g[2] - w[2]
        if census["frozen_unknown"] and extra > 0 and g[0] - w[0] == extra:
            unknown += extra
            continue
        if g[0] != w[0] or g[2] != w[2]:
            bad.append("%s: count %d (%d frozen), the target says %d (%d frozen)"
                       % (name, g[0], g[2], w[0], w[2]))
        elif g[3] and g[0]:
            exact += 1
            if g[1] != w[1]:
                bad.append("%s: %d bytes (claimed exact), the target says %s" % (name, g[1], w[1]))
    check(not bad, "%d of %d types differ:\n  %s" % (len(bad), len(want), "\n  ".join(bad)))
    check_eq(unknown, census["frozen_unknown"],
             "frozen objects beyond the census (the interpreter's own, of unknown types)")
    version = tuple(int(x) for x in snap["target"]["python_version"].split(".")[:2])
    claimed = CLAIMED_EXACT + (("frame",) if version < (3, 11) else ())
    for name in claimed:
        check(got.get(name, [0])[0] > 0, "the fixture has no %s" % name)
        check(got[name][3], "%s sizes are not marked exact" % name)
    gens = [g["objects"] for g in snap["gc"]["generations"]]
    check_eq(gens, truth["gc_generations"], "len(gc.get_objects(i))")
    check_eq(snap["gc"]["permanent_objects"], truth["gc_permanent"], "gc.get_freeze_count()")
    check_eq(snap["objects"]["total"], sum(truth["gc_generations"]) + truth["gc_permanent"],
             "objects.total: every tracked object, frozen ones included")
    check_eq(snap["objects"]["frozen"], truth["gc_permanent"], "objects.frozen")
    check_eq(snap["objects"]["frozen"], census["frozen"], "objects.frozen vs the census")
    pm = snap["memory"]["pymalloc"]
    check(pm is not None, "no memory.pymalloc")
    check_eq(pm["allocated_blocks"], truth["allocated_blocks"], "sys.getallocatedblocks()")
    check(snap["attach"]["consistent"] is True, "snapshot not consistent")
    return exact


def parse_malloc_stats(text):
    """sys._debugmallocstats() output: pymalloc's arenas, their bytes, the pools in use, the
    blocks in them and their bytes, as pymalloc counts them walking its own arenas."""
    out, in_table = {"pools": 0, "pool_blocks": 0}, False
    for line in text.splitlines():
        if line.startswith("class   size"):
            in_table = True
            continue
        if in_table:
            parts = line.split()
            if line.startswith("-----"):
                continue
            if len(parts) == 5 and all(x.isdigit() for x in parts):
                out["pools"] += int(parts[2])
                out["pool_blocks"] += int(parts[3])
                continue
            in_table = False
        value = line.split("=", 1)[-1].strip().replace(",", "")
        if line.startswith("# arenas allocated current"):
            out.setdefault("arenas", int(value))
        elif "bytes/arena" in line:
            out.setdefault("arena_bytes", int(value))
        elif line.startswith("# bytes in allocated blocks"):
            out.setdefault("used_bytes", int(value))
    return out


def check_pymalloc(snap, stats_text):
    """memory.pymalloc against pymalloc's own statistics, taken when blocks were counted."""
    want = parse_malloc_stats(stats_text)
    check(want["pools"] > 0 and "arenas" in want and "used_bytes" in want,
          "sys._debugmallocstats() output not understood: %r" % stats_text[:300])
    pm = snap["memory"]["pymalloc"]
    got = {k: pm[k] for k in ("arenas", "arena_bytes", "pools", "used_bytes")}
    check_eq(got, {k: want[k] for k in got}, "memory.pymalloc vs sys._debugmallocstats()")
    check(pm["allocated_blocks"] >= want["pool_blocks"],
          "allocated_blocks %d < the %d blocks in pymalloc's pools"
          % (pm["allocated_blocks"], want["pool_blocks"]))
