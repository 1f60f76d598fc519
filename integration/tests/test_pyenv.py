"""The shared-library path: pyenv's builds (--enable-shared) keep the interpreter, _PyRuntime
and the DWARF in libpython3.X.so. The census fixture must give exact equality there too, for
every minor version present; absent interpreters are skipped with the reason printed."""
import os
import re

from census_check import check_census
from harness import check, check_eq
from pyenv import pyenv_python

def mapped_libpython(pid, minor):
    """The libpython the target really mapped, from /proc/PID/maps."""
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            path = line.split(None, 5)[-1].strip()
            if re.search(r"/libpython3\.%d[^/]*\.so" % minor, path):
                return path
    return None


def census_on_pyenv(ctx, minor):
    python = pyenv_python(minor)
    with ctx.start_target("census_fixture.py", python=python) as t:
        truth = t.read_line()
        lib = mapped_libpython(t.pid, minor)
        check(lib is not None, "test set-up: %s did not map a libpython3.%d.so" % (python, minor))
        snap = ctx.snapshot(t.pid)
        check_eq(os.path.realpath(snap["target"]["module"]), os.path.realpath(lib),
                 "module defining _PyRuntime")
        check_census(t, snap, truth)


def test_pyenv_3_9(ctx):
    census_on_pyenv(ctx, 9)


def test_pyenv_3_10(ctx):
    census_on_pyenv(ctx, 10)


def test_pyenv_3_11(ctx):
    census_on_pyenv(ctx, 11)


def test_pyenv_3_12(ctx):
    census_on_pyenv(ctx, 12)


def test_pyenv_3_13(ctx):
    census_on_pyenv(ctx, 13)
