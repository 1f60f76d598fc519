"""The interpreter matrix: Debian's 3.9, 3.11, 3.13, 3.14, 3.15 (trees unpacked by
integration/pythons, run through each tree's own loader) and pyenv's shared builds 3.8, 3.10,
3.12 when present. Names are fixed so test functions can be generated per interpreter at
import time; whether one is usable is decided when its test runs (Skip with the reason)."""
import os

import pythons_cache as pc
from harness import TARGETS, Skip, Target
from pyenv import pyenv_python

HERE = os.path.dirname(os.path.abspath(__file__))
FETCH = os.path.join(os.path.dirname(HERE), "pythons")


class Interpreter:
    def __init__(self, name, kind, minor):
        self.name, self.kind, self.minor = name, kind, minor

    @property
    def ident(self):
        return self.name.replace("-", "_").replace(".", "_")

    def resolve(self):
        """(argv prefix, extra environment); Skip with the reason when absent."""
        if self.kind == "pyenv":
            return [pyenv_python(self.minor)], {}
        cache = pc.cache_dir()
        if not pc.tree_info(cache, self.minor):
            raise Skip("Debian CPython 3.%d is not in %s: run %s fetch 3.%d"
                       % (self.minor, cache, FETCH, self.minor))
        return pc.command(cache, self.minor), pc.environment(cache, self.minor)

    def tree(self):
        return pc.tree_dir(pc.cache_dir(), self.minor) if self.kind == "debian" else None

    def start(self, script, *args, env=None):
        argv, extra = self.resolve()
        full = dict(extra)
        full.update(env or {})
        return Target(argv + [os.path.join(TARGETS, script)] + [str(a) for a in args], env=full)

    def __repr__(self):
        return self.name


MATRIX = ([Interpreter("debian-3.%d" % s["minor"], "debian", s["minor"]) for s in pc.DEBIAN] +
          [Interpreter("pyenv-3.%d" % m, "pyenv", m) for m in (8, 10, 12)])


def by_name(name):
    for i in MATRIX:
        if i.name == name:
            return i
    raise KeyError(name)
