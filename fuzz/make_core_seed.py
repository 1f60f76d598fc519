#!/usr/bin/env python3
"""Writes fuzz/corpus/fuzz_core_file/minimal.core: the smallest x86-64 ELF core pypeek's reader
accepts (one PT_NOTE with NT_PRSTATUS, NT_PRPSINFO, NT_AUXV and NT_FILE; two PT_LOAD segments,
one of them file-backed and shorter in the file than in memory), as a seed for the fuzzer."""
import os
import struct

PAGE = 4096


def note(name, ntype, desc):
    name = name + b"\0"
    pad = lambda b: b + b"\0" * (-len(b) % 4)  # noqa: E731
    return struct.pack("<III", len(name), len(desc), ntype) + pad(name) + pad(desc)


def main():
    regs = [0] * 27
    regs[19], regs[16] = 0x7FFF0000F000, 0x401000  # rsp, rip
    prstatus = struct.pack("<iiihxxQQiiii", 6, 0, 0, 6, 0, 0, 4242, 1, 4242, 4242)
    prstatus += b"\0" * 64 + struct.pack("<27Q", *regs) + struct.pack("<ixxxx", 0)
    prpsinfo = struct.pack("<bcbbQIIiiii", 0, b"R", 0, 0, 0, 0, 0, 4242, 1, 4242, 4242)
    prpsinfo += b"python3".ljust(16, b"\0") + b"python3 app.py".ljust(80, b"\0")
    auxv = struct.pack("<QQQQ", 9, 0x401000, 0, 0)  # AT_ENTRY, AT_NULL
    files = struct.pack("<QQ", 1, PAGE) + struct.pack("<QQQ", 0x400000, 0x402000, 0)
    files += b"/usr/bin/python3.11\0"
    notes = (note(b"CORE", 1, prstatus) + note(b"CORE", 3, prpsinfo) + note(b"CORE", 6, auxv)
             + note(b"CORE", 0x46494C45, files))
    phnum = 3
    data_off = 64 + phnum * 56
    note_off = data_off
    load1_off = note_off + len(notes)
    load1 = b"\x7fELF" + b"\0" * 60  # a header-like first page, cut short in the file
    load2_off = load1_off + len(load1)
    load2 = bytes(range(256))
    ehdr = struct.pack("<16sHHIQQQIHHHHHH", b"\x7fELF\x02\x01\x01" + b"\0" * 9, 4, 62, 1, 0,
                       64, 0, 0, 64, 56, phnum, 0, 0, 0)
    ph = struct.pack("<IIQQQQQQ", 4, 4, note_off, 0, 0, len(notes), 0, 4)
    ph += struct.pack("<IIQQQQQQ", 1, 5, load1_off, 0x400000, 0, len(load1), PAGE, PAGE)
    ph += struct.pack("<IIQQQQQQ", 1, 6, load2_off, 0x7FFF0000E000, 0, len(load2), 2 * PAGE, PAGE)
    blob = ehdr + ph + notes + load1 + load2
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_core_file",
                       "minimal.core")
    with open(out, "wb") as f:
        f.write(blob)
    print("%s: %d bytes" % (out, len(blob)))


main()
