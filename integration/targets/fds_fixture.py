"""Open-fd fixture (issue 4): the target opens files and sockets, then states its own
/proc/self/fd listing and, for each fd, which of its objects holds it, and blocks holding the GIL.

usage: fds_fixture.py mixed     50 files (text, buffered, unbuffered binary), a TCP listener
                                with one connected pair, a UDP socket, a socketpair, an os.pipe()
                                with no Python wrapper, a directory fd and an eventfd
       fds_fixture.py unclosed  a function opens a file and returns without closing it, 1,000 times
       fds_fixture.py kept      the same, but each file is appended to a list

The owner of an fd is the outermost Python object of a TextIOWrapper -> Buffered* -> FileIO
chain, or a socket.socket, as the interpreter itself sees them (gc.get_objects()).
"""
import fcntl
import gc
import io
import os
import resource
import socket
import stat
import sys
import tempfile

import oracle

WRAPPERS = (io.TextIOWrapper, io.BufferedReader, io.BufferedWriter, io.BufferedRandom)


def inner_of(o):
    if isinstance(o, io.TextIOWrapper):
        return o.buffer
    if isinstance(o, (io.BufferedReader, io.BufferedWriter, io.BufferedRandom)):
        return o.raw
    return None


def owners_by_fd():
    """{fd: [owner facts]} from every GC-tracked file and socket object."""
    objs = [o for o in gc.get_objects() if isinstance(o, WRAPPERS + (io.FileIO, socket.socket))]
    wrapped = set()
    for o in objs:
        inner = inner_of(o)
        if inner is not None:
            wrapped.add(id(inner))
    owners = {}
    for o in objs:
        if id(o) in wrapped:
            continue
        if isinstance(o, socket.socket):
            fd = o.fileno()
            if fd < 0:
                continue
            facts = {"family": o.family.name, "socktype": o.type.name}
        else:
            raw = o
            while not isinstance(raw, io.FileIO):
                raw = inner_of(raw)
                if raw is None:
                    break
            if raw is None or raw.closed:
                continue
            fd = raw.fileno()
            name = raw.name if isinstance(raw.name, str) else None
            facts = {"mode": raw.mode, "name": name, "closefd": raw.closefd}
        facts.update({"address": id(o), "type": oracle.type_name(type(o))})
        owners.setdefault(fd, []).append(facts)
    del objs
    return owners


def sockets_by_fd(socks):
    """Kind and endpoints of our own sockets, from the socket objects themselves."""
    out = {}
    for s in socks:
        kinds = {(socket.AF_INET, socket.SOCK_STREAM): "tcp",
                 (socket.AF_INET6, socket.SOCK_STREAM): "tcp6",
                 (socket.AF_INET, socket.SOCK_DGRAM): "udp",
                 (socket.AF_INET6, socket.SOCK_DGRAM): "udp6"}
        if s.family == socket.AF_UNIX:
            out[s.fileno()] = {"kind": "unix"}
            continue
        info = {"kind": kinds[(s.family, s.type)], "local": "%s:%d" % s.getsockname()}
        try:
            info["remote"] = "%s:%d" % s.getpeername()
        except OSError:
            info["remote"] = None
        out[s.fileno()] = info
    return out


def kind_of(fd, target, socks):
    if target.startswith("socket:"):
        return socks.get(fd, {}).get("kind", "socket")
    if target.startswith("pipe:"):
        return "pipe"
    if target == "anon_inode:[eventfd]":
        return "eventfd"
    if target.startswith("/memfd:"):
        return "memfd"
    if not target.startswith("/"):
        return "anon_inode"
    mode = os.stat(fd).st_mode
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "file"


def fd_listing(socks=()):
    """The target's own view of every open fd."""
    names = os.listdir("/proc/self/fd")  # its own directory fd is closed again below
    sockinfo = sockets_by_fd(socks)
    owners = owners_by_fd()
    out = []
    for fd in sorted(int(n) for n in names):
        try:
            target = os.readlink("/proc/self/fd/%d" % fd)
        except FileNotFoundError:
            continue  # listdir's own fd
        item = {"fd": fd, "target": target, "kind": kind_of(fd, target, sockinfo),
                "owners": owners.get(fd, [])}
        fl = fcntl.fcntl(fd, fcntl.F_GETFL)
        item["access"] = {os.O_RDONLY: "O_RDONLY", os.O_WRONLY: "O_WRONLY",
                          os.O_RDWR: "O_RDWR"}[fl & os.O_ACCMODE]
        item["append"] = bool(fl & os.O_APPEND)
        if item["kind"] == "file":
            item["pos"] = os.lseek(fd, 0, os.SEEK_CUR)
        if fd in sockinfo:
            item.update({k: v for k, v in sockinfo[fd].items() if k != "kind"})
        out.append(item)
    return out


def mixed(tmp):
    files = []
    modes = [("w", {}), ("r", {}), ("a", {}), ("wb", {}), ("rb", {}), ("r+b", {}),
             ("ab", {}), ("wb", {"buffering": 0}), ("rb", {"buffering": 0}), ("xb", {})]
    for i in range(50):
        mode, kw = modes[i % len(modes)]
        path = os.path.join(tmp, "file%02d.txt" % i)
        if "r" in mode:
            with open(path, "w") as f:
                f.write("hello %d\n" % i)
        f = open(path, mode, **kw)
        if "r" in mode and i % 3 == 0:
            f.read(3)  # a non-zero position for some
        files.append(f)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    client = socket.create_connection(listener.getsockname())
    server_side, _ = listener.accept()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    pair = socket.socketpair()
    pipe_r, pipe_w = os.pipe()  # no Python object owns these
    dir_fd = os.open(tmp, os.O_RDONLY | os.O_DIRECTORY)
    extra = [os.eventfd(0)] if hasattr(os, "eventfd") else []
    socks = [listener, client, server_side, udp, pair[0], pair[1]]
    facts = {"fds": fd_listing(socks), "rlimit": list(resource.getrlimit(resource.RLIMIT_NOFILE)),
             "tcp_ports": [listener.getsockname()[1]]}
    oracle.report_and_block(facts)
    return files, socks, pipe_r, pipe_w, dir_fd, extra


def leak_one(path):
    f = open(path, "w")
    f.write("leaked\n")
    # returns without closing: refcounting closes it when f goes away


def keep_one(path, keep):
    f = open(path, "w")
    f.write("kept\n")
    keep.append(f)


def main():
    what = sys.argv[1]
    # stdin is the harness's release pipe (oracle.py), listed like every other fd
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096 and (hard == resource.RLIM_INFINITY or hard >= 4096):
        resource.setrlimit(resource.RLIMIT_NOFILE, (4096, hard))
    tmp = tempfile.mkdtemp(prefix="pypeek-fds-")
    path = os.path.join(tmp, "app.log")
    if what == "mixed":
        held = mixed(tmp)
        del held
        return
    kept = []
    for _ in range(1000):
        if what == "unclosed":
            leak_one(path)
        else:
            keep_one(path, kept)
    facts = {"fds": fd_listing(), "path": path, "kept_ids": [id(f) for f in kept],
             "rlimit": list(resource.getrlimit(resource.RLIMIT_NOFILE))}
    oracle.report_and_block(facts)


main()
