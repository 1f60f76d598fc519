"""Core files: pypeek's answer from a core (written by gdb's gcore, or by the kernel) equals the
target's own answer; the snapshot of a kernel core equals the live snapshot of the same blocked
target but for what only a live process has (attach, RSS, fds, thread names and states) and
what names the source; stacks from a core equal the target's own and eu-stack's."""
import json
import os
import shutil
import signal
import subprocess
import tempfile

import snapshot_schema
from cores import gcore as _gcore
from elf_notes import build_id as elf_build_id
from eu_stack import eu_stack
from harness import Skip, check, check_eq, type_entry

# Sections of a snapshot that say how it was taken, not what the heap held.
SOURCE_ONLY = ("taken_at", "target", "attach", "memory", "fds", "warnings")
# Timings inside the graph section.
GRAPH_TIMINGS = ("frozen_us", "analysis_us")


def _core_json(ctx, core, *args):
    rc, out, err = ctx.run_pypeek("core", core, "--json", *args)
    check(rc == 0, "pypeek core %s exited %d: %s" % (core, rc, err.strip()))
    return snapshot_schema.validate(json.loads(out), "pypeek core %s --json" % core)


def _check_truth(snap, truth, what):
    check_eq([g["objects"] for g in snap["gc"]["generations"]], truth["gc_generations"],
             what + ": objects per generation")
    check_eq(snap["gc"]["permanent_objects"], truth["gc_permanent"], what + ": frozen objects")
    check_eq(snap["gc"]["counts"], truth["gc_count"], what + ": gc.get_count()")
    check_eq(snap["gc"]["thresholds"], truth["gc_threshold"], what + ": gc.get_threshold()")
    check_eq(snap["garbage"]["count"], truth["garbage_len"], what + ": len(gc.garbage)")
    for name in ("__main__.Record", "__main__.Slotted"):
        entry = type_entry(snap, name)
        check_eq({"count": entry["count"], "bytes": entry["bytes"]}, truth["types"][name],
                 what + ": " + name)
    check_eq(snap["attach"]["threads"], truth["threads"], what + ": threads in the core")
    pm = snap["memory"]["pymalloc"]
    check(pm is not None, what + ": no pymalloc figures")
    check_eq(pm["allocated_blocks"], truth["allocated_blocks"],
             what + ": sys.getallocatedblocks()")


def _heap_part(snap):
    part = {k: v for k, v in snap.items() if k not in SOURCE_ONLY}
    # a core has no thread names or kernel states
    part["threads"] = [{k: v for k, v in th.items() if k not in ("name", "state")}
                       for th in snap.get("threads") or []]
    part["graph"] = {k: v for k, v in (part.get("graph") or {}).items() if k not in GRAPH_TIMINGS}
    part["pymalloc"] = snap["memory"]["pymalloc"]
    gc = dict(part.get("gc") or {})
    gc["unreachable"] = {k: v for k, v in (gc.get("unreachable") or {}).items()
                         if k != "analysis_us"}
    part["gc"] = gc
    return part


def test_gcore_core_matches_target(ctx):
    """gcore dumps the blocked target; the target is killed; pypeek's report from the core
    equals the target's own answers, and every thread's Python frames equal the live snapshot's
    taken just before, unless pypeek says the dumper wrote zeros for that thread's stack (gdb
    13's gcore cannot read stacks that glibc 2.41+ guards with MADV_GUARD_INSTALL)."""
    with tempfile.TemporaryDirectory() as d, ctx.start_target("core_fixture.py", d) as t:
        truth = t.read_line()
        live = ctx.snapshot(t.pid)
        core = _gcore(t.pid, os.path.join(d, "core"))
        t.stop()  # the process is gone: everything below comes from the file
        snap = _core_json(ctx, core)
        check_eq(snap["target"]["source"], "core", "target.source")
        check_eq(snap["target"]["core"]["pid"], truth["pid"], "target.core.pid")
        check_eq(snap["target"]["core"]["size"], os.path.getsize(core), "target.core.size")
        check("fds" not in snap, "a core snapshot has no fds section")
        _check_truth(snap, truth, "gcore core")
        live_frames = {th["tid"]: th["frames"] for th in live["threads"]}
        for th in snap["threads"]:
            zeros = any("thread %d's stack pointer" % th["tid"] in w for w in snap["warnings"])
            if zeros:
                check(th["truncated"], "thread %d: zero stack not marked truncated" % th["tid"])
            else:
                check_eq(th["frames"], live_frames[th["tid"]], "thread %d frames" % th["tid"])
        # The report and why work on it too.
        rc, out, err = ctx.run_pypeek("core", core, "--top", "5")
        check(rc == 0 and "core file" in out and "__main__.records" in out,
              "text report from the core (rc %d): %s %s" % (rc, out[:400], err))
        rc, out, err = ctx.run_pypeek("why", "--core", core, "Record", "--limit", "1")
        check(rc == 0 and "__main__.records[" in out,
              "why --core (rc %d): %s %s" % (rc, out[:400], err))


def _kernel_core_dir_ok():
    """Skips unless the kernel writes cores as files into the dumping process's directory."""
    with open("/proc/sys/kernel/core_pattern") as f:
        pattern = f.read().strip()
    if pattern.startswith("|"):
        raise Skip("kernel.core_pattern pipes cores to %s: no core file to read" % pattern[1:])
    if "/" in pattern:
        raise Skip("kernel.core_pattern %s writes cores outside the target's directory"
                   % pattern)


def _wait_blocked(pid, limit=30.0):
    """Until the main thread blocks (x86-64: read(0, ...), the oracle's getchar, or pause(), the
    stacks fixture's), as /proc/PID/syscall shows it: a signal sent earlier could land while it
    is still between its answer and the block."""
    import time
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with open("/proc/%d/syscall" % pid) as f:
            fields = f.read().split()
        if fields[:2] == ["0", "0x0"] or fields[:1] == ["34"]:
            return
        time.sleep(0.001)
    raise AssertionError("target %d never blocked: %s" % (pid, fields))


def _kernel_core(ctx, script, d, before_dump=None):
    """Starts script in directory d (given d as its argument), reads its answer, runs
    before_dump(t), then kills it with SIGABRT and a core limit: (answer, the kernel's core,
    what before_dump returned). Skips where no core file results."""
    import resource
    _kernel_core_dir_ok()
    here = os.getcwd()
    os.chdir(d)  # the target inherits it: a relative core_pattern writes there
    try:
        t = ctx.start_target(script, d)
    finally:
        os.chdir(here)
    with t:
        truth = t.read_line()
        _wait_blocked(t.pid)  # its answer is written just before it blocks
        extra = before_dump(t) if before_dump else None
        resource.prlimit(t.pid, resource.RLIMIT_CORE, (resource.RLIM_INFINITY,) * 2)
        os.kill(t.pid, signal.SIGABRT)
        check_eq(t.proc.wait(timeout=120), -signal.SIGABRT, "the target's end")
    cores = [os.path.join(d, f) for f in os.listdir(d) if f.startswith("core")]
    if not cores:
        raise Skip("the kernel wrote no core into %s (core_pattern, or a container without "
                   "core dumps)" % d)
    return truth, cores[0], extra


def test_kernel_core_matches_target_and_live(ctx):
    """The target, blocked after stating its answers, is snapshotted live, then killed by
    SIGABRT with a core limit: the kernel's core (file-backed text left out, read from the
    files) gives the target's own answers and a snapshot equal to the live one but for what only
    a live process has; compressed as systemd-coredump stores it, the same again."""
    with tempfile.TemporaryDirectory() as d:
        truth, core, live = _kernel_core(ctx, "core_fixture.py", d,
                                         lambda t: ctx.snapshot(t.pid))
        snap = _core_json(ctx, core)
        check_eq(snap["target"]["core"]["signal"], signal.SIGABRT, "target.core.signal")
        _check_truth(snap, truth, "kernel core")
        check_eq(_heap_part(snap), _heap_part(live), "snapshot of the core vs live snapshot")
        if ctx.interpreter is not None:
            return  # unpacking does not depend on the interpreter: checked once, on the host's
        for tool, ext in (("zstd", "zst"), ("xz", "xz"), ("lz4", "lz4")):
            if not shutil.which(tool):
                raise Skip("%s is not installed: integration/install-deps installs it" % tool)
            packed = "%s.%s" % (core, ext)
            with open(core, "rb") as src, open(packed, "wb") as dst:
                subprocess.run([tool, "-1", "-c"], stdin=src, stdout=dst, check=True)
            check_eq(_heap_part(_core_json(ctx, packed)), _heap_part(snap),
                     "the %s-compressed core vs the core" % tool)


def test_core_stacks_match_target_and_eu_stack(ctx):
    """Threads parked in known call chains, dumped by the kernel: from the core, pypeek stacks
    gives each thread's Python frames as the target's own sys._current_frames() said, the
    blocked main thread as the only GIL holder, and native frames whose function names equal
    elfutils' eu-stack --core, frame for frame."""
    with tempfile.TemporaryDirectory() as d:
        truth, core, _ = _kernel_core(ctx, "stacks_fixture.py", d)
        rc, out, err = ctx.run_pypeek("stacks", "--core", core, "--native", "--json")
        check(rc == 0, "pypeek stacks --core exited %d: %s" % (rc, err.strip()))
        threads = json.loads(out)["threads"]
        by_tid = {th["tid"]: th for th in threads}
        for tid, want in truth["threads"].items():
            got = by_tid.get(int(tid))
            check(got is not None, "thread %s (%s) missing" % (tid, want["name"]))
            check_eq(got["ident"], want["ident"], "thread %s ident" % tid)
            check_eq(got["frames"], want["frames"], "thread %s (%s) frames" % (tid, want["name"]))
            check_eq(got["truncated"], None, "thread %s truncated" % tid)
        check_eq([th["tid"] for th in threads if th["holds_gil"]], [truth["main"]],
                 "GIL holders")
        native = eu_stack(None, core=core)
        check_eq(sorted(by_tid), sorted(native), "threads unwound (eu-stack --core)")
        for th in threads:
            check(th["native"] is not None, "thread %d: no native frames" % th["tid"])
            check_eq([f["function"] for f in th["native"]], [n for _, n in native[th["tid"]]],
                     "thread %d native function names vs eu-stack --core" % th["tid"])


class _ExecutableServer:
    """debuginfod's HTTP protocol for one file: GET /buildid/ID/executable gives it, anything
    else 404; every path asked for is kept in `asked`. Runs in a thread of this process."""

    def __init__(self, build_id, path):
        import http.server
        import threading
        with open(path, "rb") as f:
            data = f.read()
        asked = self.asked = []
        want = "/buildid/%s/executable" % build_id

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                asked.append(self.path)
                if self.path != want:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


def test_core_executable_found_by_build_id(ctx):
    """The target runs from a copy of the interpreter that is deleted once gcore has dumped it:
    with nothing to find it by, pypeek core exits 4 (it cannot tell the process ran CPython)
    naming the file, its build-id and
    DEBUGINFOD_URLS; with a local debuginfod server that has the executable by build-id (and
    empty pypeek and debuginfod caches), pypeek fetches it, says so with -v, and the answers
    from the core equal the target's own."""
    from harness import DEBIAN_PYTHON, expect
    from stripped import CleanCache
    if ctx.interpreter is not None:
        raise Skip("checked once, with the host's interpreter (a copy of %s)" % DEBIAN_PYTHON)
    if not os.path.exists(DEBIAN_PYTHON):
        raise Skip("%s is not installed" % DEBIAN_PYTHON)
    real = os.path.realpath(DEBIAN_PYTHON)
    build_id = elf_build_id(real)
    with tempfile.TemporaryDirectory() as d:
        copy = os.path.join(d, "bin", os.path.basename(real))
        os.makedirs(os.path.dirname(copy))
        shutil.copy2(real, copy)
        with ctx.start_target("core_fixture.py", d, python=copy) as t:
            truth = t.read_line()
            core = _gcore(t.pid, os.path.join(d, "core"))
            t.stop()
        os.remove(copy)
        with CleanCache():
            rc, out, err = ctx.run_pypeek("core", core, "--json")
        expect(rc, out, err, 4, [copy, build_id, "DEBUGINFOD_URLS", "--exe"],
               "pypeek core with the executable deleted and no debuginfod")
        server = _ExecutableServer(build_id, real)
        try:
            client_cache = os.path.join(d, "debuginfod-client")
            with CleanCache(DEBUGINFOD_URLS=server.url, DEBUGINFOD_CACHE_PATH=client_cache):
                rc, out, err = ctx.run_pypeek("core", core, "--json", "-v")
        finally:
            server.stop()
        check(rc == 0, "pypeek core with a debuginfod server exited %d: %s" % (rc, err.strip()))
        check_eq([p for p in server.asked if p.endswith("/executable")],
                 ["/buildid/%s/executable" % build_id], "executables the server was asked for")
        fetched = os.path.join(client_cache, build_id, "executable")
        check("%s (missing here) is read from %s" % (copy, fetched) in err and server.url in err,
              "-v names the executable fetched: %r" % err)
        snap = snapshot_schema.validate(json.loads(out), "pypeek core --json (fetched exe)")
        check_eq(snap["target"]["source"], "core", "target.source")
        _check_truth(snap, truth, "core with the executable from debuginfod")
