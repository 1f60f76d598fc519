"""Thread stacks: threads parked at the end of known call chains (functions, a generator, a
method) and a main thread blocked holding the GIL; the target records its own
sys._current_frames(). pypeek's frames (function, file, line) must equal them exactly, the
main thread must be the only GIL holder, and every OS thread of /proc/PID/task must be listed
with its comm as name. Run on every matrix interpreter by test_matrix.py."""
import json
import os

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
