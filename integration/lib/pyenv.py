"""pyenv's CPython builds, where present: an extra for the integration tests, never required.
A test that needs one gets its path or raises Skip saying why it cannot."""
import glob
import os
import re

from harness import Skip

PYENV_ROOT = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
MINORS = (9, 10, 11, 12, 13)


def pyenv_python(minor):
    """bin/python3 of the newest pyenv build 3.<minor>.N made with --enable-shared (its
    interpreter lives in lib/libpython3.<minor>.so); Skip with the reason otherwise."""
    found = []
    for d in glob.glob(os.path.join(PYENV_ROOT, "versions", "3.%d.*" % minor)):
        m = re.fullmatch(r"3\.%d\.(\d+)" % minor, os.path.basename(d))
        if m and os.access(os.path.join(d, "bin", "python3"), os.X_OK):
            found.append((int(m.group(1)), d))
    if not found:
        raise Skip("no pyenv CPython 3.%d under %s/versions" % (minor, PYENV_ROOT))
    d = max(found)[1]
    if not glob.glob(os.path.join(d, "lib", "libpython3.%d*.so*" % minor)):
        raise Skip("%s is not a shared build (no lib/libpython3.%d.so)" % (d, minor))
    return os.path.join(d, "bin", "python3")
