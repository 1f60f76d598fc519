"""Generators, coroutines, async generators and frame objects: fixed-size objects whose type
has a tp_itemsize (3.11+), where reading ob_size would read a pointer. pypeek must count them
as the target's own gc.get_objects() does, on Debian's python3 and on each pyenv build."""
from harness import DEBIAN_PYTHON, Skip, check, check_eq, type_entry
from pyenv import MINORS, PYENV_ROOT, pyenv_python


def census_matches(ctx, python):
    with ctx.start_target("frames_fixture.py", python=python) as t:
        truth = t.read_line()
        snap = ctx.snapshot(t.pid)
        gens = [g["objects"] for g in snap["gc"]["generations"]]
        check_eq(gens, truth["gc_generations"], "objects per generation")
        for name, want in truth["types"].items():
            check(want["count"] > 0, "test set-up: no %s alive" % name)
            check_eq(type_entry(snap, name)["count"], want["count"], name + " count")
        t.release()


def test_frames_debian(ctx):
    census_matches(ctx, DEBIAN_PYTHON)


def test_frames_pyenv(ctx):
    # One test over all minors, so a missing pyenv skips once; each present one must pass.
    ran = []
    for minor in MINORS:
        try:
            python = pyenv_python(minor)
        except Skip:
            continue
        census_matches(ctx, python)
        ran.append(minor)
    if not ran:
        raise Skip("no pyenv CPython 3.9-3.13 under %s" % PYENV_ROOT)
