"""_Py_DebugOffsets (3.13+): pypeek validates its cookie and version and compares every offset
it shares with the DWARF layout. On Debian's 3.13, 3.14 and 3.15 they agree (the layout source
says so); on a copy of 3.13 whose _Py_DebugOffsets.interpreter_state.gc was altered, pypeek
warns naming that field and still reads the heap exactly by DWARF. Each census is compared
with the census fixture's own answer (census_check.compare_census)."""
import os
import shutil
import struct
import subprocess

from census_check import compare_census
from elf_notes import build_id
from harness import Skip, Target, TARGETS, check, check_eq
from interpreters import by_name


def census_snapshot(ctx, argv, env):
    with Target(argv + [os.path.join(TARGETS, "census_fixture.py")], env=env) as t:
        truth = t.read_line()
        snap = ctx.snapshot(t.pid)
        return truth, snap


def agrees_on(ctx, name):
    interp = by_name(name)
    argv, env = interp.resolve()
    truth, snap = census_snapshot(ctx, argv, env)
    src = snap["target"]["layout_source"]
    check("offsets agree with _Py_DebugOffsets)" in src,
          "layout source does not say _Py_DebugOffsets was checked: %s" % src)
    check(not any("_Py_DebugOffsets" in w for w in snap.get("warnings", [])),
          "warnings: %s" % snap.get("warnings"))
    compare_census(snap, truth, name)


def test_debug_offsets_agree_debian_3_13(ctx):
    agrees_on(ctx, "debian-3.13")


def test_debug_offsets_agree_debian_3_14(ctx):
    agrees_on(ctx, "debian-3.14")


def test_debug_offsets_agree_debian_3_15(ctx):
    agrees_on(ctx, "debian-3.15")


def test_debug_offsets_absent_before_3_13(ctx):
    argv, env = by_name("debian-3.11").resolve()
    truth, snap = census_snapshot(ctx, argv, env)
    check("_Py_DebugOffsets" not in snap["target"]["layout_source"],
          "3.11 has no _Py_DebugOffsets: %s" % snap["target"]["layout_source"])
    compare_census(snap, truth, "debian-3.11")


def section_file_offset(path, name):
    """(file offset, vaddr) of an ELF64 section."""
    with open(path, "rb") as f:
        data = f.read()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    def sh(i):
        return struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
    strtab = sh(shstrndx)
    for i in range(shnum):
        s = sh(i)
        end = data.index(b"\0", strtab[4] + s[0])
        if data[strtab[4] + s[0]:end].decode() == name:
            return s[4], s[3]
    raise Skip("no %s section in %s" % (name, path))


def test_debug_offsets_mismatch_is_a_warning_naming_the_field(ctx):
    interp = by_name("debian-3.13")
    argv, env = interp.resolve()
    gdb = shutil.which("gdb")
    if not gdb:
        raise Skip("gdb is not installed (needed to locate the field to alter)")
    tree = interp.tree()
    python = argv[-1]
    bid = build_id(python)
    debug = os.path.join(tree, "usr/lib/debug/.build-id", bid[:2], bid[2:] + ".debug")
    out = subprocess.run([gdb, "-batch", "-nx", "-ex",
                          "print (long)&((struct _Py_DebugOffsets *)0)->interpreter_state.gc",
                          debug], capture_output=True, text=True).stdout
    field = int(out.split("=")[-1])
    # a copy of the interpreter (same build-id, so the same debug file) with the field + 8
    patched = os.path.join(tree, "usr/bin/python3.13-pypeek-patched")
    shutil.copy2(python, patched)
    try:
        off, _ = section_file_offset(patched, ".PyRuntime")
        with open(patched, "r+b") as f:
            f.seek(off)
            check_eq(f.read(8), b"xdebugpy", "cookie at the start of .PyRuntime")
            f.seek(off + field)
            value, = struct.unpack("<Q", f.read(8))
            f.seek(off + field)
            f.write(struct.pack("<Q", value + 8))
        truth, snap = census_snapshot(ctx, argv[:-1] + [patched], env)
        warnings = snap.get("warnings", [])
        check(any("_Py_DebugOffsets.interpreter_state.gc is %d" % (value + 8) in w and
                  "says %d" % value in w for w in warnings),
              "no warning naming _Py_DebugOffsets.interpreter_state.gc: %s" % warnings)
        check("agree with _Py_DebugOffsets" not in snap["target"]["layout_source"],
              "layout source claims agreement: %s" % snap["target"]["layout_source"])
        # DWARF wins: the census is still exact
        compare_census(snap, truth, "3.13 with an altered _Py_DebugOffsets")
    finally:
        os.unlink(patched)
