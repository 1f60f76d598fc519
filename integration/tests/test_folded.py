"""`pypeek --format folded` (issue 19): retained bytes as folded stacks, from a live PID and from
a saved snapshot file. Each root's lines sum to what the target's own walk says it retains,
type by type; all lines sum to the retained bytes of the snapshot's roots; both sources give
the same lines."""
import json
import os
import re
import tempfile

from harness import check, check_eq

LINE = re.compile(r"^([^;\n]+);([^;\n]+);([^;\n]+) ([0-9]+)$")


def parse(out, what):
    stacks = []
    for line in out.splitlines():
        m = LINE.match(line)
        check(m, "%s: not a folded stack line: %r" % (what, line))
        stacks.append((m.group(1), m.group(2), m.group(3), int(m.group(4))))
    check(stacks, "%s: no lines" % what)
    return stacks


def check_against(stacks, snap, truth, what):
    roots = [r for r in snap["retainers"] if r["kind"] in ("global", "frame_local")]
    check_eq(sum(s[3] for s in stacks), sum(r["retained_bytes"] for r in roots),
             "%s: sum of the lines vs the snapshot's retained bytes" % what)
    for root, want in truth["retained"].items():
        mine = [s for s in stacks if s[0] == root]
        check_eq(sum(s[3] for s in mine), want["bytes"], "%s: %s retained bytes" % (what, root))
        for name, w in want["types"].items():
            got = [s[3] for s in mine if s[2] == name]
            check_eq(got, [w["bytes"]], "%s: %s;...;%s bytes" % (what, root, name))


def test_folded_live_and_from_file(ctx):
    with ctx.start_target("graph_fixture.py") as t:
        truth = t.read_line()
        with tempfile.TemporaryDirectory(prefix="pypeek-folded-") as d:
            path = os.path.join(d, "snap.json")
            rc, out, err = ctx.run_pypeek("snapshot", t.pid, "-o", path)
            check_eq(rc, 0, "snapshot exit code (stderr %r)" % err.strip())
            with open(path) as f:
                snap = json.load(f)
            rc, from_file, err = ctx.run_pypeek("--format", "folded", path)
            check_eq(rc, 0, "folded from a file: exit code (stderr %r)" % err.strip())
        rc, live, err = ctx.run_pypeek("--format", "folded", t.pid)
        check_eq(rc, 0, "folded live: exit code (stderr %r)" % err.strip())
        t.release()
    check_against(parse(from_file, "from the file"), snap, truth, "from the file")
    check_against(parse(live, "live"), snap, truth, "live")
    check_eq(sorted(parse(live, "live")), sorted(parse(from_file, "file")),
             "live lines vs the saved snapshot's")


def test_folded_hostile_names_stay_one_line(ctx):
    """A global whose name holds ';', a newline and spaces: each stack keeps three frames."""
    with ctx.start_target("dot_names_fixture.py") as t:
        truth = t.read_line()
        rc, out, err = ctx.run_pypeek("--format", "folded", "--top", 100000, t.pid)
        check_eq(rc, 0, "folded exit code (stderr %r)" % err.strip())
        t.release()
    stacks = parse(out, "hostile names")
    want = "__main__." + truth["global"].replace("\\", "\\\\").replace("\n", "\\n")
    want = want.replace(";", "\\x3b")
    check(any(s[0] == want for s in stacks), "no stack for the hostile global %r: %s"
          % (want, sorted({s[0] for s in stacks})[:10]))
