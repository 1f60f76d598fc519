"""Core files: pypeek's answer from a core (written by gdb's gcore, or by the kernel) equals the
target's own answer, and the snapshot of the core equals the live snapshot of the same blocked
target but for what only a live process has (attach, RSS, fds) and what names the source."""
import json
import os
import shutil
import signal
import subprocess
import tempfile

import snapshot_schema
from cores import gcore as _gcore
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
    check(pm is not None and abs(pm["allocated_blocks"] - truth["allocated_blocks"]) <= 16,
          "%s: sys.getallocatedblocks(): pypeek says %s, the target says %d"
          % (what, pm and pm["allocated_blocks"], truth["allocated_blocks"]))


def _heap_part(snap):
    part = {k: v for k, v in snap.items() if k not in SOURCE_ONLY}
    part["graph"] = {k: v for k, v in (part.get("graph") or {}).items() if k not in GRAPH_TIMINGS}
    part["pymalloc"] = snap["memory"]["pymalloc"]
    return part


def test_gcore_core_matches_target_and_live(ctx):
    """gcore dumps the blocked target; the target is killed; pypeek's report from the core
    equals the target's own answers, and its snapshot equals the live one taken just before."""
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
        check_eq(_heap_part(snap), _heap_part(live), "snapshot of the core vs live snapshot")
        # The report and why work on it too.
        rc, out, err = ctx.run_pypeek("core", core, "--top", "5")
        check(rc == 0 and "core file" in out and "__main__.records" in out,
              "text report from the core (rc %d): %s %s" % (rc, out[:400], err))
        rc, out, err = ctx.run_pypeek("why", "--core", core, "Record", "--limit", "1")
        check(rc == 0 and "__main__.records[" in out,
              "why --core (rc %d): %s %s" % (rc, out[:400], err))


def _kernel_core_dir_ok():
    with open("/proc/sys/kernel/core_pattern") as f:
        pattern = f.read().strip()
    if pattern.startswith("|"):
        raise Skip("kernel.core_pattern pipes cores to %s: no core file to read" % pattern[1:])
    if "/" in pattern:
        raise Skip("kernel.core_pattern %s writes cores outside the target's directory"
                   % pattern)


def test_kernel_core_matches_target(ctx):
    """The target, blocked after stating its answers, is killed by SIGABRT with a core limit:
    the kernel's core (file-backed text left out, read from the files) gives the same answers."""
    import resource
    _kernel_core_dir_ok()
    with tempfile.TemporaryDirectory() as d, ctx.start_target("core_fixture.py", d) as t:
        truth = t.read_line()
        resource.prlimit(t.pid, resource.RLIMIT_CORE, (resource.RLIM_INFINITY,) * 2)
        os.kill(t.pid, signal.SIGABRT)
        check_eq(t.proc.wait(timeout=120), -signal.SIGABRT, "the target's end")
        cores = [os.path.join(d, f) for f in os.listdir(d) if f.startswith("core")]
        if not cores:
            raise Skip("the kernel wrote no core into %s (core_pattern, or a container "
                       "without core dumps)" % d)
        snap = _core_json(ctx, cores[0])
        check_eq(snap["target"]["core"]["signal"], signal.SIGABRT, "target.core.signal")
        _check_truth(snap, truth, "kernel core")
        # As systemd-coredump stores it: compressed, read without unpacking it by hand.
        for tool, ext in (("zstd", "zst"), ("xz", "xz"), ("lz4", "lz4")):
            if not shutil.which(tool):
                raise Skip("%s is not installed: integration/install-deps installs it" % tool)
            packed = "%s.%s" % (cores[0], ext)
            with open(cores[0], "rb") as src, open(packed, "wb") as dst:
                subprocess.run([tool, "-c"], stdin=src, stdout=dst, check=True)
            check_eq(_heap_part(_core_json(ctx, packed)), _heap_part(snap),
                     "the %s-compressed core vs the core" % tool)
