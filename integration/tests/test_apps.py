"""Whole-heap accounting on unmodified applications (issue 21): Debian's sphinx-build (autodoc
over stdlib modules), mercurial (hg log -p on a small repository) and http.server under load,
each stopped mid-run by integration/targets/app_oracle.py, which first computes the
interpreter's own reachability from the roots pypeek uses (gc.get_referents from every module
and every frame's locals; static types: their dict, MRO and bases). pypeek's graph must reach
at least 98% of the tracked objects the interpreter reaches, its reachable_bytes must be
within 3% of the interpreter's sys.getsizeof sum, and the level-0 holders it lists must sum to
at least 80% of reachable_bytes (disjoint: never more than all of it)."""
import os
import shutil
import subprocess
import tempfile

from harness import DEBIAN_PYTHON, Skip, Target, TARGETS, check

SPHINX_MODULES = ("json", "argparse", "collections", "email.message", "http.client", "logging",
                  "pathlib", "subprocess", "threading", "urllib.parse", "asyncio.events",
                  "configparser")


def _have(module):
    r = subprocess.run([DEBIAN_PYTHON, "-c", "import " + module], capture_output=True)
    if r.returncode != 0:
        raise Skip("%s has no %s (integration/install-deps installs it)" % (DEBIAN_PYTHON, module))


def _check_accounting(ctx, argv, what):
    with Target([DEBIAN_PYTHON, os.path.join(TARGETS, "app_oracle.py")] + argv,
                timeout=600) as t:
        truth = t.read_line(timeout=600)
        # the whole graph whatever the heap's size: no --graph-pause bound if it streams
        snap = ctx.snapshot(t.pid, "--graph-pause", "0")
        g = snap["graph"]
        check(g is not None and not g["partial"], "%s: no complete graph" % what)
        reached = g["reachable_tracked"] / truth["reach_tracked"]
        print("    %s: tracked objects reached %d of %d (%.2f%%), reachable bytes %d vs %d "
              "(%+.2f%%)" % (what, g["reachable_tracked"], truth["reach_tracked"], 100 * reached,
                             g["reachable_bytes"], truth["reach_bytes"],
                             100.0 * (g["reachable_bytes"] / truth["reach_bytes"] - 1)))
        check(reached >= 0.98, "%s: pypeek reaches %d of the %d tracked objects the interpreter "
              "reaches (%.1f%%; untraversed: %s)" % (what, g["reachable_tracked"],
                                                      truth["reach_tracked"], 100 * reached,
                                                      g["untraversed_types"][:5]))
        check(abs(g["reachable_bytes"] - truth["reach_bytes"]) <= 0.03 * truth["reach_bytes"],
              "%s: reachable_bytes %d, the interpreter's sys.getsizeof sum %d"
              % (what, g["reachable_bytes"], truth["reach_bytes"]))
        level0 = [h for h in snap["holders"] if h["parent"] is None]
        listed = sum(h["retained_bytes"] for h in level0)
        print("    %s: %d level-0 holders listed hold %.1f%% of reachable_bytes; analysis %d us"
              % (what, len(level0), 100.0 * listed / g["reachable_bytes"], g["analysis_us"]))
        check(listed <= g["reachable_bytes"], "%s: level-0 holders sum to %d, more than the %d "
              "reachable (not disjoint)" % (what, listed, g["reachable_bytes"]))
        check(listed >= 0.8 * g["reachable_bytes"], "%s: the %d listed level-0 holders sum to "
              "%d of %d reachable bytes" % (what, len(level0), listed, g["reachable_bytes"]))
        split = g["split"]
        check(split["globals_bytes"] + split["frames_bytes"] + split["shared_bytes"]
              == g["reachable_bytes"], "%s: the split %s does not sum to reachable_bytes %d"
              % (what, split, g["reachable_bytes"]))
        t.release()


def test_sphinx_build_heap_is_accounted(ctx):
    _have("sphinx")
    tmp = tempfile.mkdtemp(prefix="pypeek-sphinx-")
    try:
        src = os.path.join(tmp, "src")
        os.mkdir(src)
        with open(os.path.join(src, "conf.py"), "w") as f:
            f.write('extensions = ["sphinx.ext.autodoc"]\nproject = "oracle"\n')
        with open(os.path.join(src, "index.rst"), "w") as f:
            f.write("Index\n=====\n\n.. toctree::\n\n" +
                    "".join("   %s\n" % m for m in SPHINX_MODULES))
        for m in SPHINX_MODULES:
            with open(os.path.join(src, m + ".rst"), "w") as f:
                f.write("%s\n%s\n\n.. automodule:: %s\n   :members:\n   :undoc-members:\n"
                        % (m, "=" * len(m), m))
        # stopped when the build starts writing: every document read, the environment full
        _check_accounting(ctx, ["--at", "sphinx/builders/__init__.py:write", "sphinx", "-Q",
                                "-b", "html", src, os.path.join(tmp, "out")], "sphinx-build")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_mercurial_heap_is_accounted(ctx):
    _have("mercurial")
    tmp = tempfile.mkdtemp(prefix="pypeek-hg-")
    try:
        env = dict(os.environ, HGUSER="oracle <oracle@example.org>", HGRCPATH="")
        repo = os.path.join(tmp, "repo")
        subprocess.run(["hg", "init", repo], check=True, env=env)
        for i in range(40):
            with open(os.path.join(repo, "f%d.txt" % (i % 7)), "a") as f:
                f.write("line %d\n" % i * (i + 1))
            subprocess.run(["hg", "-R", repo, "commit", "-A", "-q", "-m", "change %d" % i],
                           check=True, env=env)
        # stopped while printing the 30th changeset of `hg log -p`
        _check_accounting(ctx, ["--at", "mercurial/logcmdutil.py:_show:30", "hg", "-R", repo,
                                "log", "-p"], "hg log")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_http_server_heap_is_accounted(ctx):
    tmp = tempfile.mkdtemp(prefix="pypeek-http-")
    try:
        for i in range(20):
            with open(os.path.join(tmp, "page%d.html" % i), "w") as f:
                f.write("<p>%s</p>\n" % ("x" * (100 * i)))
        # stopped at the 200th request, four client threads requesting in a loop
        _check_accounting(ctx, ["--at", "http/server.py:do_GET:200", "http", tmp, "4"],
                          "http.server")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
