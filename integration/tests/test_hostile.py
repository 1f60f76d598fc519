"""Target memory and strings as hostile input (issue 9), on real interpreters:
- a target that corrupts its own GC list with ctypes (a link back into the list, a consistent
  cycle that avoids the head, a link to unmapped memory): pypeek exits 6, says the GC list is
  inconsistent, marks the JSON "consistent": false, and never hangs or leaves the target
  stopped. The README says "well under a second": pypeek's own CPU time (user + system, all
  retries included) must stay under CPU_BOUND; the wall clock, which a loaded machine
  stretches (1.1 to 3.9 s measured at a load average of 23 on 2 cores, for 0.1 to 0.3 s of
  CPU), under WALL_BOUND, which catches a wait that never ends.
- type names and file names built to attack a terminal (ANSI/OSC escapes, BEL, CR/LF, C1
  controls, DEL), a lone surrogate and a 100 kB name: text output carries no control
  character, JSON output is valid UTF-8 JSON, and each name is the target's own (surrogates as
  U+FFFD; the long one cut at the cap of cpython/types.c, MAX_TP_NAME bytes) with the
  target's own instance count; the file with a hostile name is in the JSON fd list."""
import json
import os
import re
import subprocess
import time

from harness import EXIT_INCONSISTENT, ROOT, check, check_eq

CPU_BOUND = 1.0  # seconds of pypeek's CPU time for a corrupt heap
WALL_BOUND = 10.0  # seconds of wall clock: far above any loaded run, far below a hang's 60 s


def type_name_cap():
    """MAX_TP_NAME of cpython/types.c: the buffer each part of a type name is read into."""
    with open(os.path.join(ROOT, "cpython", "types.c")) as f:
        return int(re.search(r"#define MAX_TP_NAME (\d+)", f.read()).group(1))


def timed_pypeek(ctx, args):
    """(exit code, stdout, stderr, wall seconds) of one pypeek run."""
    t0 = time.monotonic()
    p = subprocess.Popen([ctx.pypeek] + [str(a) for a in args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise
    wall = time.monotonic() - t0
    # communicate() reaped the child: its CPU time is in this process's children's rusage.
    return p.returncode, out.decode(errors="replace"), err.decode(errors="replace"), wall


def corrupt_case(ctx, mode):
    with ctx.start_target("corrupt_gc_fixture.py", mode) as t:
        facts = t.read_line()
        check_eq(facts["corruption"], mode, "fixture mode")
        for args in (["--json"], []):
            before = os.times()
            rc, out, err, took = timed_pypeek(ctx, args + [t.pid])
            after = os.times()
            cpu = (after.children_user - before.children_user +
                   after.children_system - before.children_system)
            what = "%s corruption, pypeek %s" % (mode, " ".join(args) or "(text)")
            check_eq(rc, EXIT_INCONSISTENT, "%s: exit code (stderr %r)" % (what, err.strip()))
            check("gc list" in err.lower(), "%s: stderr should name the GC list: %r"
                  % (what, err.strip()))
            check(cpu < CPU_BOUND, "%s: used %.2fs of CPU (bound %.1fs)" % (what, cpu, CPU_BOUND))
            check(took < WALL_BOUND, "%s: took %.1fs (bound %.0fs)" % (what, took, WALL_BOUND))
            if args:
                snap = json.loads(out)
                check(snap["attach"]["consistent"] is False,
                      "%s: JSON says consistent=%r" % (what, snap["attach"]["consistent"]))
            t.check_left_alone(what)
        print("    %s: exit 6 in %.2fs, %.2fs CPU: %s" % (mode, took, cpu, err.strip()[:100]))


def test_gc_list_link_back_into_the_list(ctx):
    corrupt_case(ctx, "backlink")


def test_gc_list_cycle_not_through_the_head(ctx):
    corrupt_case(ctx, "cycle")


def test_gc_list_link_to_unmapped_memory(ctx):
    corrupt_case(ctx, "unmapped")


def expected_name(module, qualname):
    """What pypeek must call the type: __module__.__qualname__ (bare for builtins), with
    code points UTF-8 cannot carry (lone surrogates) as U+FFFD."""
    name = qualname if module == "builtins" else module + "." + qualname
    return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in name)


def check_no_controls(text, what):
    bad = sorted({"U+%04X" % ord(c) for c in text
                  if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F})
    check(not bad, "%s: raw control characters reach the terminal: %s" % (what, bad))


def test_hostile_type_names_and_file_names(ctx):
    with ctx.start_target("strings_fixture.py") as t:
        truth = t.read_line()
        rc, out, err = ctx.run_pypeek("--json", "--top", "1000", t.pid)
        check_eq(rc, 0, "pypeek --json exit code (stderr %r)" % err.strip())
        raw = out.encode()
        raw.decode("utf-8", errors="strict")  # valid UTF-8 (run_pypeek decoded with replace)
        snap = json.loads(out)
        names = {e["type"]: e for e in snap["objects"]["types"]}
        for key, fact in truth["types"].items():
            want = expected_name(fact["module"], fact["qualname"])
            if key == "long":
                hits = [n for n in names if n.startswith(want[:200]) and len(n) < len(want)]
                check(len(hits) == 1, "the 100 kB name should appear once, cut short: %d hits"
                      % len(hits))
                prefix = fact["module"] + "."
                qual = hits[0][len(prefix):]
                cap = type_name_cap()
                check(hits[0].startswith(prefix) and qual.endswith("...") and
                      qual[:-3] == "L" * (len(qual) - 3),
                      "the long name is not its first characters and '...': %r...%r"
                      % (hits[0][:30], hits[0][-10:]))
                check(cap - 16 <= len(qual.encode()) < cap,
                      "the long qualname is cut at %d bytes; the cap is %d" % (len(qual), cap))
                check_eq(names[hits[0]]["count"], fact["count"], "count of the long-named type")
                continue
            check(want in names, "type %r missing from the JSON census (names: %r)"
                  % (want, [n for n in names if "__main__" in n or "mod" in n]))
            check_eq(names[want]["count"], fact["count"], "count of %r" % want)
        # The file with a newline and an escape in its name.
        check(snap.get("fds", {}).get("items") is not None,
              "the JSON has no fd list (fds.items): the hostile file name goes unchecked")
        fd = truth["file"]["fd"]
        items = [i for i in snap["fds"]["items"] if i.get("fd") == fd]
        check(items, "fd %d (the hostile file name) is not in the JSON fds" % fd)
        check(truth["file"]["path"] in items[0].values(),
              "fd %d: the JSON does not carry the file's name %r: %r"
              % (fd, truth["file"]["path"], items[0]))
        rc, text, err = ctx.run_pypeek("--top", "1000", t.pid)
        check_eq(rc, 0, "pypeek (text) exit code (stderr %r)" % err.strip())
        check_no_controls(text, "text report")
        check_no_controls(err, "stderr")
        longest = max(len(line) for line in text.splitlines())
        check(longest <= 20000, "a text line is %d characters long" % longest)
        check("FAKE: 0 objects" not in text.split("\n"),
              "an embedded newline forged a line of the report")
        t.check_left_alone("after the hostile-strings runs")
