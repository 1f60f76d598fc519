#!/usr/bin/env python3
"""Layout records of the test matrix (symbols/records/*.layout): generated, never typed.

    integration/records.py --pypeek build/pypeek regenerate   # rewrite them from the -dbg files
    integration/records.py --pypeek build/pypeek check        # what the CI test does

Each Debian interpreter tree of integration/pythons gives one record, named
<CPython version>-<Debian suite>.layout, made by `pypeek layout dump` of the tree's python3.X
(its DWARF comes from the tree's usr/lib/debug, unpacked from python3.X-dbg). pyenv builds are
not recorded: they are built on each machine, so their build-ids are local."""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RECORDS = os.path.join(ROOT, "symbols", "records")
sys.path.insert(0, os.path.join(HERE, "lib"))
import pythons_cache as pc  # noqa: E402


def matrix_trees():
    """(minor, record file name, interpreter path) for each Debian tree present."""
    out = []
    cache = pc.cache_dir()
    for s in pc.DEBIAN:
        info = pc.tree_info(cache, s["minor"])
        if not info:
            continue
        binary = os.path.join(info["tree"], "usr", "bin", "python3.%d" % s["minor"])
        name = "%s-%s.layout" % (info["python_version"], info["suite"])
        out.append((s["minor"], name, binary))
    return out


def dump(pypeek, binary):
    p = subprocess.run([pypeek, "layout", "dump", binary], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("pypeek layout dump %s exited %d: %s"
                           % (binary, p.returncode, p.stderr.strip()))
    return p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pypeek", default=os.path.join(ROOT, "build", "pypeek"))
    ap.add_argument("action", choices=("regenerate", "check"))
    a = ap.parse_args()
    trees = matrix_trees()
    if not trees:
        sys.exit("no Debian interpreter trees: run integration/pythons fetch")
    bad = 0
    for minor, name, binary in trees:
        text = dump(a.pypeek, binary)
        path = os.path.join(RECORDS, name)
        if a.action == "regenerate":
            os.makedirs(RECORDS, exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
            print("wrote", path)
        else:
            try:
                with open(path) as f:
                    same = f.read() == text
            except FileNotFoundError:
                same = False
            print("%s %s" % ("ok  " if same else "DIFF", path))
            bad += not same
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
