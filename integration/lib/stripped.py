"""Stripped copies of the matrix's Debian interpreters, shared by test_stripped.py and
test_debuginfod.py: an eu-stripped copy (with or without its build-id), an Interpreter that
runs it with its tree's loader and stdlib, and an empty layout cache for pypeek."""
import os
import shutil
import subprocess
import tempfile

import pythons_cache as pc
from harness import Skip, check
from interpreters import Interpreter


def tree_python(minor):
    cache = pc.cache_dir()
    info = pc.tree_info(cache, minor)
    if not info:
        raise Skip("Debian CPython 3.%d is not in %s: run integration/pythons fetch 3.%d"
                   % (minor, cache, minor))
    return info, pc.command(cache, minor), pc.environment(cache, minor)


def need_tool(tool, package):
    if shutil.which(tool) is None:
        raise Skip("%s is not installed (Debian package %s)" % (tool, package))


def elf_sections(path):
    p = subprocess.run(["readelf", "-S", "-W", path], capture_output=True, text=True, check=True)
    return {line.split("]", 1)[1].split()[0] for line in p.stdout.splitlines()
            if line.strip().startswith("[") and "]" in line and line.split("]", 1)[1].split()}


def strip_copy(src, dest_dir, keep_build_id):
    """eu-strip's copy of src (no DWARF, no .symtab); without its build-id note and
    .gnu_debuglink too unless keep_build_id."""
    need_tool("eu-strip", "elfutils")
    out = os.path.join(dest_dir, os.path.basename(src))
    subprocess.run(["eu-strip", "--remove-comment", "-o", out, src], check=True)
    if not keep_build_id:
        need_tool("objcopy", "binutils")
        subprocess.run(["objcopy", "--remove-section", ".note.gnu.build-id",
                        "--remove-section", ".gnu_debuglink", out], check=True)
    secs = elf_sections(out)
    check(".debug_info" not in secs and ".symtab" not in secs,
          "test set-up: %s still has DWARF or a symbol table" % out)
    check((".note.gnu.build-id" in secs) == keep_build_id,
          "test set-up: build-id note present=%s" % (".note.gnu.build-id" in secs))
    return out


class StrippedInterpreter(Interpreter):
    """A Debian tree's interpreter run from a stripped copy (the tree's loader, libraries and
    stdlib)."""

    def __init__(self, minor, copy):
        Interpreter.__init__(self, "stripped-3.%d" % minor, "debian", minor)
        self.copy = copy

    def resolve(self):
        _, argv, env = tree_python(self.minor)
        return argv[:-1] + [self.copy], env


class CleanCache:
    """An empty layout cache for pypeek (set in this process's environment, which run_pypeek
    passes on), and the built-in records switch."""

    def __init__(self, **extra):
        self.extra = extra

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="pypeek-xdg-")
        self.saved = {k: os.environ.get(k) for k in ["XDG_CACHE_HOME", "DEBUGINFOD_URLS"] +
                      list(self.extra)}
        os.environ["XDG_CACHE_HOME"] = self.dir
        os.environ.pop("DEBUGINFOD_URLS", None)
        os.environ.update(self.extra)
        return self

    def __exit__(self, *exc):
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(self.dir, ignore_errors=True)


def record_name(info):
    return "%s-%s" % (info["python_version"], info["suite"])
