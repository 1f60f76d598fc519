"""The interpreter trees integration/pythons unpacks: where they are, how to run one.
Used by the fetch script and by the tests (which never touch the network)."""
import json
import os

STAMP = ".pypeek-tree.json"

# Debian interpreters and the suites searched for them, first hit wins. forky (testing) is
# preferred to sid for 3.14/3.15: it changes less often, so the cache stays valid longer.
DEBIAN = [
    {"minor": 9, "suites": ["bullseye"]},
    {"minor": 11, "suites": ["bookworm"]},
    {"minor": 13, "suites": ["trixie"]},
    {"minor": 14, "suites": ["forky", "sid"]},
    {"minor": 15, "suites": ["forky", "sid"]},
]


def spec(version):
    v = str(version)
    minor = int(v.split(".")[1]) if v.startswith("3.") else int(v)
    for s in DEBIAN:
        if s["minor"] == minor:
            return s
    raise SystemExit("pythons: no Debian suite is known for CPython 3.%d" % minor)


def cache_dir():
    d = os.environ.get("PYPEEK_PYTHONS_CACHE") or os.path.expanduser("~/.cache/pypeek-pythons")
    return os.path.abspath(d)


def tree_dir(cache, minor):
    return os.path.join(cache, "trees", "3.%d" % minor)


def tree_info(cache, minor):
    """The stamp of a complete tree (plus its path), or None when missing or incomplete."""
    tree = tree_dir(cache, minor)
    try:
        with open(os.path.join(tree, STAMP)) as f:
            info = json.load(f)
    except (OSError, ValueError):
        return None
    if not os.access(os.path.join(tree, "usr", "bin", "python3.%d" % minor), os.X_OK):
        return None
    info["tree"] = tree
    return info


def make_chrootable(tree):
    """The merged-/usr links a Debian system has (lib64 -> usr/lib64 ...), so the tree's
    binaries find their loader under chroot too."""
    for d in ("bin", "sbin", "lib", "lib64"):
        link = os.path.join(tree, d)
        if not os.path.lexists(link) and os.path.isdir(os.path.join(tree, "usr", d)):
            os.symlink("usr/" + d, link)
    for d in ("tmp", "proc", "pypeek-targets"):
        os.makedirs(os.path.join(tree, d), exist_ok=True)
    os.chmod(os.path.join(tree, "tmp"), 0o1777)


def _real(tree, p):
    """p inside the tree, following absolute symlinks relative to the tree."""
    for _ in range(16):
        if not os.path.islink(p):
            return p
        t = os.readlink(p)
        p = os.path.join(tree, t.lstrip("/")) if t.startswith("/") else \
            os.path.join(os.path.dirname(p), t)
    return p


def command(cache, minor):
    """argv prefix that runs the tree's interpreter through the tree's own loader and libraries
    (no root needed; the process maps only files from the tree)."""
    tree = tree_dir(cache, minor)
    ld = None
    for rel in ("lib64/ld-linux-x86-64.so.2", "usr/lib64/ld-linux-x86-64.so.2",
                "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
                "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"):
        p = _real(tree, os.path.join(tree, rel))
        if os.path.exists(p):
            ld = p
            break
    if ld is None:
        raise FileNotFoundError("no ld-linux-x86-64.so.2 in " + tree)
    libs = ":".join(os.path.join(tree, d) for d in ("lib/x86_64-linux-gnu",
                                                    "usr/lib/x86_64-linux-gnu"))
    return [ld, "--library-path", libs, os.path.join(tree, "usr", "bin", "python3.%d" % minor)]


def environment(cache, minor, base=None):
    env = dict(base or {})
    env["PYTHONHOME"] = os.path.join(tree_dir(cache, minor), "usr")
    env.pop("PYTHONSTARTUP", None)
    return env
