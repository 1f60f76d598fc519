"""debuginfod (issue 6): a real debuginfod server on 127.0.0.1 indexing the matrix's -dbg .deb
files (from integration/pythons' cache); .deb files are read with dpkg-deb (-Z), which needs no bsdtar. With no local debug file (an eu-stripped copy of each
Debian interpreter in a temporary directory) and DEBUGINFOD_URLS pointing at the server, pypeek
fetches the debug file by build-id and its census and GC answers are exact; with the server
stopped it falls back to the built-in records and says so."""
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import pythons_cache as pc
import test_census
import test_gc
from elf_notes import build_id as elf_build_id
from harness import Skip, check, check_eq
from stripped import CleanCache, StrippedInterpreter, record_name, strip_copy, tree_python

MINORS = [s["minor"] for s in pc.DEBIAN]


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, debs):
        self.dir = tempfile.mkdtemp(prefix="pypeek-debuginfod-")
        os.makedirs(os.path.join(self.dir, "debs"))
        for d in debs:
            os.symlink(d, os.path.join(self.dir, "debs", os.path.basename(d)))
        self.port = _free_port()
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen(
            ["debuginfod", "-Z", ".deb=dpkg-deb --fsys-tarfile", "-p", str(self.port),
             "-d", os.path.join(self.dir, "db.sqlite"),
             "-F", "-L", "-t", "0", "-g", "0", os.path.join(self.dir, "debs")],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.url = "http://127.0.0.1:%d" % self.port

    def wait_for(self, build_id, timeout=180):
        """Until the server serves this build-id's debuginfo (its scan is done)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            check(self.proc.poll() is None, "debuginfod exited: %s" % open(self.log.name).read())
            try:
                req = urllib.request.Request("%s/buildid/%s/debuginfo" % (self.url, build_id))
                with urllib.request.urlopen(req, timeout=30) as r:  # GET only; body unread
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError("debuginfod did not serve %s within %ds: %s"
                             % (build_id, timeout, open(self.log.name).read()[-2000:]))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def test_debuginfod_fetch_then_fallback(ctx):
    if shutil.which("debuginfod") is None:
        raise Skip("debuginfod is not installed (Debian package debuginfod; integration/install-deps)")
    trees = []
    for m in MINORS:
        try:
            info, argv, _ = tree_python(m)
        except Skip as s:
            print("  skip 3.%d: %s" % (m, s))
            continue
        debs = glob.glob(os.path.join(pc.cache_dir(), "debs", info["suite"],
                                      "python3.%d-dbg_*.deb" % m))
        if debs:
            trees.append((m, info, argv, debs[0]))
    if not trees:
        raise Skip("no Debian interpreter trees with their -dbg .deb in %s" % pc.cache_dir())
    server = Server([t[3] for t in trees])
    work = tempfile.mkdtemp(prefix="pypeek-dbgfd-")
    try:
        copies = {}
        for m, info, argv, _ in trees:
            d = os.path.join(work, "3.%d" % m)
            os.makedirs(d)
            copies[m] = strip_copy(argv[-1], d, True)
            server.wait_for(elf_build_id(copies[m]))
        census = test_census.test_census_matches_target
        gc_plain = test_gc.test_gc_plain
        for m, info, argv, _ in trees:
            interp = StrippedInterpreter(m, copies[m])
            client_cache = os.path.join(work, "client-cache-3.%d" % m)
            with CleanCache(DEBUGINFOD_URLS=server.url, DEBUGINFOD_CACHE_PATH=client_cache):
                with interp.start("idle_target.py") as t:
                    t.read_line()
                    snap = ctx.snapshot(t.pid)
                    src = snap["target"]["layout_source"]
                    check(src.startswith("debuginfod:" + client_cache),
                          "3.%d: layout_source %s" % (m, src))
                census(ctx.on(interp))
                gc_plain(ctx.on(interp))
        server.stop()
        for m, info, argv, _ in trees:
            interp = StrippedInterpreter(m, copies[m])
            client_cache = os.path.join(work, "client-cache-after-3.%d" % m)
            with CleanCache(DEBUGINFOD_URLS=server.url, DEBUGINFOD_CACHE_PATH=client_cache):
                with interp.start("idle_target.py") as t:
                    t.read_line()
                    snap = ctx.snapshot(t.pid)
                    check_eq(snap["target"]["layout_source"],
                             "record:%s (build-id match)" % record_name(info),
                             "3.%d with the server stopped: layout_source" % m)
                    warns = snap.get("warnings", [])
                    check(any("debuginfod" in w and "built-in layout records" in w
                              for w in warns), "3.%d: no warning about debuginfod: %s" % (m, warns))
                census(ctx.on(interp))
    finally:
        server.cleanup()
        shutil.rmtree(work, ignore_errors=True)
