"""Thread stacks: threads parked at the end of known call chains (functions, a generator, a
method) and a main thread blocked holding the GIL; the target records its own
sys._current_frames(). pypeek's frames (function, file, line) must equal them exactly, the
main thread must be the only GIL holder, and every OS thread of /proc/PID/task must be listed
with its comm as name. Run on every matrix interpreter by test_matrix.py."""
import json
import os

from eu_stack import eu_stack
from harness import check, check_eq


def proc_threads(pid):
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
            out[int(tid)] = f.read().rstrip("\n")
    return out


def check_stacks(threads, truth, pid, what):
    by_tid = {th["tid"]: th for th in threads}
    os_threads = proc_threads(pid)
    check_eq(sorted(t for t in by_tid if t is not None), sorted(os_threads),
             what + ": OS threads listed (/proc/PID/task)")
    check_eq(threads[0]["tid"], truth["main"], what + ": first thread is the main thread")
    for tid, name in os_threads.items():
        check_eq(by_tid[tid]["name"], name, "%s: thread %d name (comm)" % (what, tid))
    for tid, want in truth["threads"].items():
        got = by_tid.get(int(tid))
        check(got is not None, "%s: thread %s (%s) missing" % (what, tid, want["name"]))
        check_eq(got["ident"], want["ident"], "%s: thread %s ident" % (what, tid))
        check_eq(got["frames"], want["frames"], "%s: thread %s (%s) frames" % (what, tid,
                                                                            want["name"]))
        check_eq(got["truncated"], None, "%s: thread %s truncated" % (what, tid))
    holders = [th["tid"] for th in threads if th["holds_gil"]]
    check_eq(holders, [truth["main"]], what + ": GIL holders")
    check_eq([th["tid"] for th in threads if th["gc_running"]], [], what + ": collecting")


def test_stacks_match_current_frames(ctx):
    with ctx.start_target("stacks_fixture.py") as t:
        truth = t.read_line()
        check_eq(len(truth["threads"]), 4, "test set-up: threads recorded")
        rc, out, err = ctx.run_pypeek("stacks", "--json", t.pid)
        check(rc == 0, "pypeek stacks --json exited %d: %s" % (rc, err.strip()))
        check_stacks(json.loads(out)["threads"], truth, t.pid, "stacks --json")
        # the snapshot carries the same (schema-validated), read from the copy or streaming
        snap = ctx.snapshot(t.pid, "--no-graph")
        check_stacks(snap["threads"], truth, t.pid, "snapshot (image copy)")
        snap = ctx.snapshot(t.pid, "--no-graph", "--streaming")
        check_stacks(snap["threads"], truth, t.pid, "snapshot --streaming")


def test_stacks_text(ctx):
    """The text names every recorded frame as 'function (file:line)' in the thread's block,
    and marks the main thread as the GIL holder."""
    with ctx.start_target("stacks_fixture.py") as t:
        truth = t.read_line()
        rc, out, err = ctx.run_pypeek("stacks", t.pid)
        check(rc == 0, "pypeek stacks exited %d: %s" % (rc, err.strip()))
        blocks = {}
        for block in out.split("\n\n")[1:]:
            head = block.split("\n", 1)[0]
            blocks[int(head.split()[1])] = block
        for tid, want in truth["threads"].items():
            block = blocks.get(int(tid), "")
            lines = [ln.strip() for ln in block.split("\n")[1:] if ln.strip()]
            expect = ["%s (%s:%d)" % (f["function"], f["file"], f["line"]) for f in want["frames"]]
            check_eq(lines, expect, "text frames of thread %s" % tid)
            check_eq("holds the GIL" in block.split("\n", 1)[0], int(tid) == truth["main"],
                     "GIL mark of thread %s" % tid)


def test_stacks_native_match_eu_stack(ctx):
    """pypeek's native frames (unwound after the target resumed, from the registers saved in
    the freeze and the copied stacks) equal elfutils' eu-stack, run on the same blocked
    target afterwards: address and function name, frame for frame, for every thread."""
    with ctx.start_target("stacks_fixture.py") as t:
        t.read_line()
        rc, out, err = ctx.run_pypeek("stacks", "--native", "--json", t.pid)
        check(rc == 0, "pypeek stacks --native exited %d: %s" % (rc, err.strip()))
        threads = json.loads(out)["threads"]
        truth = eu_stack(t.pid)
        check_eq(sorted(th["tid"] for th in threads), sorted(truth), "threads unwound")
        for th in threads:
            check(th["native"] is not None, "thread %d: no native frames" % th["tid"])
            got = [(f["address"], f["function"]) for f in th["native"]]
            check_eq(got, truth[th["tid"]], "thread %d native frames" % th["tid"])
            names = [f["function"] for f in th["native"]]
            # the host's python3 has its -dbg package in /usr/lib/debug (where both look);
            # the matrix trees' debug files are elsewhere, so there only equality is asserted
            check(ctx.interpreter is not None or "_PyEval_EvalFrameDefault" in names,
                  "thread %d: no eval loop frame in %s" % (th["tid"], names))


def test_stacks_prometheus(ctx):
    """pypeek_threads is the number of /proc/PID/task entries; pypeek_thread_holds_gil is 1
    for the main thread alone (it blocks holding the GIL) and 0 for the parked workers."""
    import re
    with ctx.start_target("stacks_fixture.py") as t:
        truth = t.read_line()
        rc, out, err = ctx.run_pypeek("--prometheus", t.pid)
        check(rc == 0, "pypeek --prometheus exited %d: %s" % (rc, err.strip()))
        m = re.search(r"^pypeek_threads\{[^}]*\} (\d+)$", out, re.M)
        check(m is not None, "no pypeek_threads sample")
        check_eq(int(m.group(1)), len(proc_threads(t.pid)), "pypeek_threads")
        gil = {int(tid): int(v) for tid, v in
               re.findall(r'^pypeek_thread_holds_gil\{[^}]*tid="(\d+)"\} (\d)$', out, re.M)}
        check_eq(gil, {int(tid): int(int(tid) == truth["main"]) for tid in truth["threads"]},
                 "pypeek_thread_holds_gil")


def test_stacks_merged_view(ctx):
    """The merged view (stacks --native --json): without its Python entries it is the native
    stack minus the eval loop frames; its Python entries are the target's own frames in order;
    and each run of Python frames stands where one _PyEval_EvalFrameDefault was (as many runs
    as eval loop frames, when every Python frame found its eval loop)."""
    with ctx.start_target("stacks_fixture.py") as t:
        truth = t.read_line()
        rc, out, err = ctx.run_pypeek("stacks", "--native", "--json", t.pid)
        check(rc == 0, "pypeek stacks --native exited %d: %s" % (rc, err.strip()))
        for th in json.loads(out)["threads"]:
            want = truth["threads"].get(str(th["tid"]))
            if want is None:
                continue
            merged = th["merged"]
            check(merged is not None, "thread %d: no merged view" % th["tid"])
            evals = [f for f in th["native"]
                     if (f["function"] or "").split(".")[0] == "_PyEval_EvalFrameDefault"]
            natives = [(f["address"], f["function"]) for f in th["native"] if f not in evals]
            check_eq([(f["address"], f["function"]) for f in merged if f["kind"] == "native"],
                     natives, "thread %d: merged view's native frames" % th["tid"])
            py = [{"function": f["function"], "file": f["file"], "line": f["line"]}
                  for f in merged if f["kind"] == "python"]
            check_eq(py, want["frames"], "thread %d: merged view's Python frames" % th["tid"])
            runs = sum(1 for i, f in enumerate(merged)
                       if f["kind"] == "python" and (i == 0 or merged[i - 1]["kind"] != "python"))
            if evals:
                check_eq(runs, len(evals), "thread %d: runs of Python frames" % th["tid"])


def test_stacks_locals(ctx):
    """stacks --locals: the locals of a parked frame (None, bools, small, negative and big
    ints, floats, short and long str and bytes, containers, a function, a cell variable) equal
    the reprs the target computes from its own frame.f_locals by the documented rules."""
    with ctx.start_target("stacks_fixture.py") as t:
        truth = t.read_line()
        rc, out, err = ctx.run_pypeek("stacks", "--locals", "--json", t.pid)
        check(rc == 0, "pypeek stacks --locals exited %d: %s" % (rc, err.strip()))
        by_tid = {th["tid"]: th for th in json.loads(out)["threads"]}
        for tid, want in truth["threads"].items():
            th = by_tid[int(tid)]
            check_eq(th["locals_truncated"], False, "thread %s locals_truncated" % tid)
            if "locals" not in want:
                continue
            frame = th["frames"][1]  # leaf_c, below park
            check_eq(frame["function"], "leaf_c", "thread %s frame 1" % tid)
            got = {lv["name"]: lv["repr"] for lv in frame["locals"]}
            check_eq(got, want["locals"], "thread %s leaf_c locals" % tid)


def test_snapshot_carries_native_stacks(ctx):
    """pypeek snapshot -o FILE has each thread's native frames (unwound after the target
    resumed), equal to eu-stack's; with --streaming (walked frozen) it leaves them out."""
    import tempfile
    import snapshot_schema
    with ctx.start_target("stacks_fixture.py") as t, tempfile.TemporaryDirectory() as d:
        t.read_line()
        docs = {}
        for mode in ((), ("--streaming",)):
            path = os.path.join(d, "snap%d.json" % len(mode))
            rc, out, err = ctx.run_pypeek("snapshot", t.pid, "-o", path, "--no-graph", *mode)
            check(rc == 0, "pypeek snapshot %s exited %d: %s" % (mode, rc, err.strip()))
            with open(path) as f:
                docs[mode] = snapshot_schema.validate(json.load(f), "snapshot " + str(mode))
        truth = eu_stack(t.pid)
        for th in docs[()]["threads"]:
            check(th["native"] is not None, "snapshot: thread %d has no native frames" % th["tid"])
            check_eq([(f["address"], f["function"]) for f in th["native"]], truth[th["tid"]],
                     "snapshot: thread %d native frames" % th["tid"])
        check_eq([th["native"] for th in docs[("--streaming",)]["threads"]],
                 [None] * len(docs[("--streaming",)]["threads"]), "snapshot --streaming: native")
