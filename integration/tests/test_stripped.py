"""Stripped interpreters (issue 6): layout records and their validation against the live heap.

- The records in symbols/records are what `pypeek layout dump` makes from each matrix tree's
  DWARF today (the CI check).
- For each Debian interpreter of the matrix, a copy stripped with eu-strip (build-id kept, so
  the record is chosen by build-id) and one with its build-id note and debuglink removed too
  (the same-version fallback) give the exact oracle answers of the census and GC tests.
- A record with one GC offset altered, and another build's record of the same minor version
  (pyenv 3.13.0 against Debian's 3.13.5), are rejected by validation rather than used.
No debug file is reachable for the copies: they live in a temporary directory, and pypeek runs
with an empty layout cache (XDG_CACHE_HOME)."""
import os
import tempfile

import pythons_cache as pc
import test_census
import test_gc
import test_stacks
from census_check import compare_census
from gc_check import compare_gc
from harness import EXIT_NO_DEBUG_INFO, Skip, check, check_eq
from pyenv import pyenv_python
from stripped import CleanCache, StrippedInterpreter, record_name, strip_copy, tree_python

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RECORDS = os.path.join(ROOT, "symbols", "records")
MINORS = [s["minor"] for s in pc.DEBIAN]
ORACLES = (test_census.test_census_matches_target, test_gc.test_gc_plain,
           test_gc.test_gc_saveall_garbage, test_gc.test_gc_freeze,
           test_stacks.test_stacks_match_current_frames)


def test_records_match_dwarf(ctx):
    """The CI check: every matrix tree's record, regenerated from its DWARF, equals the one in
    the repository (and every record in the repository belongs to a tree of the matrix)."""
    present = []
    for minor in MINORS:
        try:
            info, argv, _ = tree_python(minor)
        except Skip as s:
            print("  skip 3.%d: %s" % (minor, s))
            continue
        name = record_name(info) + ".layout"
        rc, out, err = ctx.run_pypeek("layout", "dump", argv[-1])
        check(rc == 0, "pypeek layout dump %s exited %d: %s" % (argv[-1], rc, err))
        path = os.path.join(RECORDS, name)
        check(os.path.exists(path), "no record %s for %s (integration/records.py regenerate)"
              % (path, argv[-1]))
        with open(path) as f:
            check(f.read() == out, "%s differs from `pypeek layout dump %s`: regenerate it with "
                  "integration/records.py regenerate" % (path, argv[-1]))
        present.append(name)
    if not present:
        raise Skip("no Debian interpreter trees")
    if len(present) == len(MINORS):
        extra = sorted(set(os.listdir(RECORDS)) - set(present))
        check(not extra, "records for no interpreter of the matrix: %s" % extra)


def _stripped_oracles(ctx, minor, keep_build_id):
    info, argv, _ = tree_python(minor)
    name = record_name(info)
    with tempfile.TemporaryDirectory(prefix="pypeek-stripped-") as d, CleanCache():
        copy = strip_copy(argv[-1], d, keep_build_id)
        interp = StrippedInterpreter(minor, copy)
        how = "build-id match" if keep_build_id else "same version, validated against the heap"
        with interp.start("idle_target.py") as t:
            t.read_line()
            snap = ctx.snapshot(t.pid)
            check_eq(snap["target"]["layout_source"], "record:%s (%s)" % (name, how),
                     "layout_source")
            check(any("no debug info" in w and name in w for w in snap.get("warnings", [])),
                  "no warning about the record: %s" % snap.get("warnings"))
        if keep_build_id or minor >= 12:
            for oracle_test in ORACLES:
                oracle_test(ctx.on(interp))
        else:
            _oracles_without_pymalloc(ctx.on(interp))
        check(not os.listdir(os.environ["XDG_CACHE_HOME"]),
              "a layout from a record was cached: %s" % os.listdir(os.environ["XDG_CACHE_HOME"]))


def _oracles_without_pymalloc(ctx):
    """3.9-3.11 from another build's record: pymalloc's counters are file-local statics only
    the build's own symbol table names, so memory.pymalloc is absent (and a warning says so);
    everything else must still equal the target's own answers."""
    test_census.test_census_matches_target(ctx)
    for scenario in ("plain", "saveall", "freeze"):
        with ctx.start_target("gc_fixture.py", scenario) as t:
            truth = t.read_line()
            snap = ctx.snapshot(t.pid)
            check(snap["memory"].get("pymalloc") is None, "pymalloc from another build's record")
            check(any("pymalloc statistics unavailable" in w for w in snap.get("warnings", [])),
                  "no warning about pymalloc: %s" % snap.get("warnings"))
            snap["memory"]["pymalloc"] = {"allocated_blocks": truth["allocated_blocks"]}
            compare_gc(snap, truth)


def _make(minor, keep):
    def test(ctx):
        _stripped_oracles(ctx, minor, keep)
    test.__name__ = "test_stripped_3_%d_%s" % (minor, "build_id" if keep else "same_version")
    return test


for _m in MINORS:
    for _keep in (True, False):
        _t = _make(_m, _keep)
        globals()[_t.__name__] = _t
del _m, _keep, _t


def _fnv(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def resign(text):
    """A record's text with its checksum line recomputed (for deliberately altered records)."""
    body = text[:text.index("\nchecksum ") + 1]
    return body + "checksum %016x\n" % _fnv(body.encode())


def alter_field(text, field, delta):
    lines = []
    for line in text.splitlines():
        parts = line.split()
        if parts[:2] == ["field", field]:
            parts[2] = str(int(parts[2]) + delta)
            line = " ".join(parts)
        lines.append(line)
    return resign("\n".join(lines) + "\n")


def test_altered_gc_offset_is_rejected(ctx):
    """Debian 3.11's own record with gc.generations moved by 8 bytes, offered first with
    --layout-record to the eu-stripped copy: validation rejects it (the list heads do not
    link back), the built-in record of the same build-id is used, and a warning says so. With
    the built-in records switched off it is rejected all the same and pypeek exits 5."""
    info, argv, _ = tree_python(11)
    name = record_name(info)
    with open(os.path.join(RECORDS, name + ".layout")) as f:
        bad = alter_field(f.read(), "gc_generations", 8)
    with tempfile.TemporaryDirectory(prefix="pypeek-altered-") as d, CleanCache():
        rec = os.path.join(d, "altered.layout")
        with open(rec, "w") as f:
            f.write(bad)
        copy = strip_copy(argv[-1], d, True)
        with StrippedInterpreter(11, copy).start("census_fixture.py") as t:
            truth = t.read_line()
            snap = ctx.snapshot(t.pid, "--layout-record", rec)
            check_eq(snap["target"]["layout_source"], "record:%s (build-id match)" % name,
                     "layout_source")
            rejected = [w for w in snap.get("warnings", []) if rec in w and "rejected" in w]
            check(rejected, "no warning that %s was rejected: %s" % (rec, snap.get("warnings")))
            check("link back" in rejected[0] or "generation0" in rejected[0],
                  "rejected for another reason: %s" % rejected[0])
            compare_census(snap, truth, "the built-in record after the altered one")
            os.environ["PYPEEK_BUILTIN_RECORDS"] = "0"
            try:
                rc, out, err = ctx.run_pypeek("--json", t.pid, "--layout-record", rec)
            finally:
                del os.environ["PYPEEK_BUILTIN_RECORDS"]
            check_eq(rc, EXIT_NO_DEBUG_INFO,
                     "exit code with only the altered record (stderr: %s)" % err.strip())
            check("rejected by validation: " + rec in err, "stderr: %s" % err.strip())


def test_other_build_record_is_rejected(ctx):
    """pyenv's CPython 3.13.0 record (gc.generations at +24) offered to Debian's 3.13.5
    (+20), stripped without build-id, built-in records off: rejected by validation, exit 5.
    The reverse (Debian's built-in record against a stripped pyenv build) is the same code."""
    info, argv, _ = tree_python(13)
    try:
        py = pyenv_python(13)
    except Skip as s:
        raise Skip("no pyenv 3.13 to take another build's record from: %s" % s)
    lib = [os.path.join(os.path.dirname(os.path.dirname(py)), "lib", f)
           for f in ("libpython3.13.so.1.0",)]
    if not os.path.exists(lib[0]):
        raise Skip("%s is missing" % lib[0])
    rc, other, err = ctx.run_pypeek("layout", "dump", lib[0])
    check(rc == 0, "layout dump %s: %s" % (lib[0], err))
    mine = open(os.path.join(RECORDS, record_name(info) + ".layout")).read()
    gen = lambda text: [l for l in text.splitlines() if l.startswith("field gc_generations ")]
    if gen(other) == gen(mine):
        raise Skip("pyenv's 3.13 has the same gc.generations offset as Debian's here")
    with tempfile.TemporaryDirectory(prefix="pypeek-other-") as d, \
            CleanCache(PYPEEK_BUILTIN_RECORDS="0"):
        rec = os.path.join(d, "pyenv-3.13.layout")
        with open(rec, "w") as f:
            f.write(other)
        copy = strip_copy(argv[-1], d, False)
        with StrippedInterpreter(13, copy).start("idle_target.py") as t:
            t.read_line()
            rc, out, err = ctx.run_pypeek("--json", t.pid, "--layout-record", rec)
            check_eq(rc, EXIT_NO_DEBUG_INFO, "exit code (stderr: %s)" % err.strip())
            check("rejected by validation: " + rec in err, "stderr: %s" % err.strip())
            for want in ("python3.13-dbg", "DEBUGINFOD_URLS", "--debug-dir"):
                check(want in err, "the message does not name %s: %s" % (want, err.strip()))
        # With the built-in records on, Debian's own 3.13.5 record is used instead.
        os.environ["PYPEEK_BUILTIN_RECORDS"] = "1"
        with StrippedInterpreter(13, copy).start("idle_target.py") as t:
            t.read_line()
            snap = ctx.snapshot(t.pid, "--layout-record", rec)
            check_eq(snap["target"]["layout_source"],
                     "record:%s (same version, validated against the heap)"
                     % record_name(info), "layout_source")
            check(any(rec in w and "rejected" in w for w in snap.get("warnings", [])),
                  "warnings: %s" % snap.get("warnings"))


def test_layout_cache_warm_run_and_corrupt_entry(ctx):
    """The first run on Debian's 3.11 reads DWARF and writes the cache entry for its build-id;
    the second reads the entry (layout_source cache:...) with the same census; a corrupted
    entry is ignored with a warning and rewritten from DWARF."""
    info, argv, env = tree_python(11)
    with CleanCache() as cc:
        interp = StrippedInterpreter(11, argv[-1])
        with interp.start("census_fixture.py") as t:
            truth = t.read_line()
            cold = ctx.snapshot(t.pid)
            check(cold["target"]["layout_source"].startswith("dwarf:"),
                  cold["target"]["layout_source"])
            compare_census(cold, truth, "cold run (DWARF)")
            entries = os.listdir(os.path.join(cc.dir, "pypeek"))
            check_eq(len(entries), 1, "cache entries")
            path = os.path.join(cc.dir, "pypeek", entries[0])
            check(cold["target"]["build_id"] in entries[0], "entry %s" % entries[0])
            warm = ctx.snapshot(t.pid)
            check_eq(warm["target"]["layout_source"], "cache:" + path, "layout_source")
            compare_census(warm, truth, "warm run (cache)")
            check_eq(warm["objects"]["types"], cold["objects"]["types"], "census")
            with open(path, "r+") as f:
                text = f.read()
                f.seek(0)
                f.write(text.replace("field gc_generations", "field gc_generationz", 1))
            third = ctx.snapshot(t.pid)
            check(third["target"]["layout_source"].startswith("dwarf:"),
                  third["target"]["layout_source"])
            check(any("layout cache" in w and "ignored" in w for w in third.get("warnings", [])),
                  "warnings: %s" % third.get("warnings"))
            compare_census(third, truth, "run after the corrupt entry")
            check_eq(third["objects"]["types"], cold["objects"]["types"], "census")
            fourth = ctx.snapshot(t.pid)
            check(fourth["target"]["layout_source"].startswith("cache:"),
                  "the entry was not rewritten")
            compare_census(fourth, truth, "run from the rewritten entry")
            print("  wall_us cold %d warm %d (100k-object census_fixture, Debian 3.11)"
                  % (cold["attach"]["wall_us"], warm["attach"]["wall_us"]))
