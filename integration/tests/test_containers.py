"""Targets inside containers: the interpreter runs in its own mount and PID namespaces
(unshare --mount --pid --fork) with a Debian tree as its root, either by chroot or, as container
runtimes do, by pivot_root onto a bind mount that exists only in its namespace (then the host
sees /usr/bin/python3.X in its maps, a path that exists only inside). pypeek is given the host
PID and must find the binary and the DWARF through /proc/PID/root and /proc/PID/map_files, with
the census fixture's exact equality."""
import os
import shutil
import tempfile
import time

import pythons_cache as pc
from harness import EXIT_NOT_CPYTHON, TARGETS, Skip, Target, check, check_eq, type_entry
from interpreters import by_name


def start_in_container(interp, mode, script, *args):
    """The fixture in new mount + PID namespaces with the tree as its root (mode "chroot" or
    "pivot_root"); the fixtures folder is bind-mounted at /pypeek-targets inside and /proc is
    the namespace's own. Every mount is private to the namespace."""
    if os.geteuid() != 0:
        raise Skip("containers need root (unshare --mount --pid, chroot)")
    for tool in ("unshare", "chroot", "pivot_root", "mount"):
        if not shutil.which(tool):
            raise Skip("%s is not installed" % tool)
    interp.resolve()  # Skip when the tree is not fetched
    tree = interp.tree()
    pc.make_chrootable(tree)
    os.makedirs(os.path.join(tree, "oldroot"), exist_ok=True)
    inner = "/pypeek-targets"
    run = "/usr/bin/python3.%d %s/%s %s" % (interp.minor, inner, script,
                                           " ".join(str(a) for a in args))
    if mode == "chroot":
        cmd = ("set -e; mount --bind '{T}' '{t}{i}'; "
               "mount -t proc proc '{t}/proc'; exec chroot '{t}' {run}")
    else:
        cmd = ("set -e; mount --bind '{t}' '{t}'; mount --bind '{T}' '{t}{i}'; "
               "mount -t proc proc '{t}/proc'; cd '{t}'; pivot_root . oldroot; exec {run}")
    cmd = cmd.format(t=tree, i=inner, T=TARGETS, run=run)
    env = {"PYTHONPATH": inner, "PYTHONHOME": "/usr"}
    return Target(["unshare", "--mount", "--pid", "--fork", "--kill-child", "sh", "-c", cmd],
                  env=env)


def host_pid_of_python(t, minor, timeout=10):
    """The host PID of the interpreter: the descendant of unshare running .../usr/bin/python3.X
    (the host sees the tree's path after chroot, the inside path after pivot_root)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        todo = [t.pid]
        while todo:
            p = todo.pop()
            try:
                with open("/proc/%d/task/%d/children" % (p, p)) as f:
                    kids = [int(k) for k in f.read().split()]
            except OSError:
                kids = []
            for k in kids:
                try:
                    if os.readlink("/proc/%d/exe" % k).endswith("/usr/bin/python3.%d" % minor):
                        return k
                except OSError:
                    pass
            todo.extend(kids)
        time.sleep(0.05)
    raise AssertionError("no python3.%d under unshare pid %d" % (minor, t.pid))


def census_in_container(ctx, name, mode):
    interp = by_name(name)
    with start_in_container(interp, mode, "census_fixture.py") as t:
        truth = t.read_line()
        pid = host_pid_of_python(t, interp.minor)
        check(truth["pid"] != pid, "test set-up: the target is not in its own PID namespace "
              "(it says pid %d, the host says %d)" % (truth["pid"], pid))
        # An empty layout cache: a warm one (same build-id) would spare pypeek the DWARF
        # lookup this test is about.
        saved = os.environ.get("XDG_CACHE_HOME")
        with tempfile.TemporaryDirectory(prefix="pypeek-xdg-") as xdg:
            os.environ["XDG_CACHE_HOME"] = xdg
            try:
                snap = ctx.snapshot(pid)
            finally:
                if saved is None:
                    del os.environ["XDG_CACHE_HOME"]
                else:
                    os.environ["XDG_CACHE_HOME"] = saved
        module = "/usr/bin/python3.%d" % interp.minor
        if mode == "pivot_root":
            # the host sees only the inside path: the file and its DWARF are reachable only
            # through /proc/PID/root and /proc/PID/map_files
            check(not os.path.exists(os.path.join(interp.tree(), "oldroot", "usr")),
                  "test set-up: the bind mounts leaked out of the namespace")
            check_eq(snap["target"]["module"], module, "module defining _PyRuntime")
            check(snap["target"]["layout_source"].startswith("dwarf:/proc/%d/root/" % pid),
                  "DWARF not found through /proc/PID/root: %s"
                  % snap["target"]["layout_source"])
        else:
            check_eq(os.path.realpath(snap["target"]["module"]),
                     os.path.realpath(os.path.join(interp.tree(), module.lstrip("/"))),
                     "module defining _PyRuntime")
        gens = [g["objects"] for g in snap["gc"]["generations"]]
        check_eq(gens, truth["gc_generations"], "objects per generation")
        check_eq(snap["gc"]["permanent_objects"], truth["gc_permanent"], "permanent objects")
        check_eq(snap["gc"]["counts"], truth["gc_count"], "gc.get_count()")
        for n in ("__main__.User", "__main__.Slotted", "list"):
            check_eq(type_entry(snap, n)["count"], truth["types"][n]["count"], n + " count")
            check_eq(type_entry(snap, n)["bytes"], truth["types"][n]["bytes"], n + " bytes")
        check_eq(snap["attach"]["threads"], truth["threads"], "threads stopped")
        check(snap["attach"]["consistent"] is True, "snapshot not consistent")
        # thread stacks in a container: the main thread is where the fixture blocks
        main = [(f["function"], os.path.basename(f["file"])) for f in snap["threads"][0]["frames"]]
        check_eq(main[:2], [("report_and_block", "oracle.py"), ("main", "census_fixture.py")],
                 "the main thread's innermost frames")
        t.release()  # the release pipe is the stdin unshare, sh and chroot passed on
        after = t.read_line()
        check(after["progress"] is True, "worker threads made no progress after pypeek")


def test_container_chroot_debian_3_13(ctx):
    census_in_container(ctx, "debian-3.13", "chroot")


def test_container_chroot_debian_3_15(ctx):
    census_in_container(ctx, "debian-3.15", "chroot")


def test_container_pivot_root_debian_3_13(ctx):
    census_in_container(ctx, "debian-3.13", "pivot_root")


def test_container_pivot_root_debian_3_15(ctx):
    census_in_container(ctx, "debian-3.15", "pivot_root")


def test_core_of_container_needs_sysroot(ctx):
    """A core of a process that ran under pivot_root names files (/usr/bin/python3.15) that
    exist only in its root: given that root with --sysroot, pypeek's answer from the core is the
    target's own; without it, pypeek says the files cannot be found instead of guessing."""
    from cores import gcore
    interp = by_name("debian-3.15")
    with start_in_container(interp, "pivot_root", "census_fixture.py") as t:
        truth = t.read_line()
        pid = host_pid_of_python(t, interp.minor)
        with tempfile.TemporaryDirectory() as d:
            core = gcore(pid, os.path.join(d, "core"))
            t.stop()
            rc, out, err = ctx.run_pypeek("core", core, "--json", "--no-graph")
            check(rc == EXIT_NOT_CPYTHON and "--sysroot" in err,
                  "core without --sysroot: exit %d, stderr %r" % (rc, err.strip()[-300:]))
            rc, out, err = ctx.run_pypeek("core", core, "--json", "--no-graph", "--sysroot",
                                          interp.tree())
            check(rc == 0, "pypeek core --sysroot exited %d: %s" % (rc, err.strip()))
    import json
    snap = json.loads(out)
    check_eq([g["objects"] for g in snap["gc"]["generations"]], truth["gc_generations"],
             "objects per generation")
    check_eq(snap["gc"]["counts"], truth["gc_count"], "gc.get_count()")
    for n in ("__main__.User", "__main__.Slotted"):
        check_eq(type_entry(snap, n)["count"], truth["types"][n]["count"], n + " count")
        check_eq(type_entry(snap, n)["bytes"], truth["types"][n]["bytes"], n + " bytes")
    # gcore ran on the host: the core names the host's pid of the process
    check_eq(snap["target"]["core"]["pid"], pid, "the pid gcore dumped")
